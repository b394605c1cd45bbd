#!/usr/bin/env bash
# Builds the config-parser fuzz driver with clang's libFuzzer (the conf module
# and daemon/limit, which parses the rate_rules section) and runs it for
# SECONDS_PER_TARGET seconds (default 30) from the seed corpus. Exit 77 (SKIP)
# without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/conf-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/lib" -I"$SRC/daemon/conf" -I"$SRC/daemon/limit" \
	$(pkg-config --cflags jansson openssl libpcre2-8) \
	"$HERE/fuzz_conf.c" "$SRC"/daemon/conf/*.c "$SRC"/daemon/limit/*.c \
	"$SRC/lib/arena.c" "$SRC/lib/errs.c" "$SRC/lib/jfield.c" "$SRC/lib/jre.c" "$SRC/lib/log.c" \
	$(pkg-config --libs jansson libpcre2-8 openssl) -lpthread -o "$OUT/fuzz_conf"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
# Crash inputs land in $OUT (not the caller's working directory).
"$OUT/fuzz_conf" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=4096 \
	-artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/conf-corpus" "$HERE/corpus/conf"
