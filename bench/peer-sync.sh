#!/usr/bin/env bash
# bench/peer-sync.sh [SECONDS] [KEYS_PER_SECOND] - builds bench/peer-sync.c
# with -O2 from the sources (daemon/peer, daemon/limit, lib) and measures the
# limiter sync lag between two peer links on loopback (doc/performance.md
# "Peer link sync lag").
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
if [ -z "${OUT:-}" ]; then
	OUT="$(mktemp -d)"
	trap 'rm -rf "$OUT"' EXIT
fi
printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "bench"\n' >"$OUT/config.h"
L="$SRC/daemon/limit"
P="$SRC/daemon/peer"
cc -O2 -g -I"$OUT" -I"$SRC/lib" -I"$L" -I"$P" -I"$SRC/daemon/l7" $(pkg-config --cflags jansson openssl libpcre2-8) \
	"$HERE/peer-sync.c" "$P/peer_frame.c" "$P/peer_link.c" "$P/peer_pki.c" "$P/peer_sync.c" \
	"$L/lim_counter.c" "$L/lim_cidr.c" "$L/lim_ban.c" "$L/lim_jwt.c" "$L/lim_rule.c" "$L/lim_waf.c" \
	"$L/lim_top.c" "$SRC/daemon/l7/l7_tls.c" "$SRC/lib/arena.c" "$SRC/lib/errs.c" "$SRC/lib/jfield.c" \
	"$SRC/lib/jre.c" "$SRC/lib/log.c" "$SRC/lib/buf.c" \
	$(pkg-config --libs jansson openssl libpcre2-8) -lpthread -lm -o "$OUT/peer-sync"
echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/peer-sync" "${1:-10}" "${2:-10000}"
