#!/usr/bin/env bash
# bench/limiter.sh [SECONDS_PER_CASE] [MAX_KEYS] [table] - builds bench/limiter.c
# with -O2 straight from the sources (daemon/limit and lib) and runs it.
# Prints markdown tables for doc/performance.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
if [ -z "${OUT:-}" ]; then
	OUT="$(mktemp -d)"
	trap 'rm -rf "$OUT"' EXIT
fi
echo '#define PACKAGE_VERSION "bench"' >"$OUT/config.h"
L="$SRC/daemon/limit"
cc -O2 -g -I"$OUT" -I"$SRC/lib" -I"$L" $(pkg-config --cflags jansson openssl libpcre2-8) \
	"$HERE/limiter.c" "$L/lim_counter.c" "$L/lim_cidr.c" "$L/lim_ban.c" "$L/lim_jwt.c" \
	"$L/lim_rule.c" "$L/lim_waf.c" "$L/lim_top.c" "$SRC/lib/arena.c" "$SRC/lib/errs.c" "$SRC/lib/jfield.c" "$SRC/lib/jre.c" \
	$(pkg-config --libs jansson openssl libpcre2-8) -lpthread -o "$OUT/limiter"
echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$OUT/limiter" "${1:-2}" "${2:-10000000}" ${3:+"$3"}
