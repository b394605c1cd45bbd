#!/usr/bin/env bash
# Builds the console-to-console message fuzz driver (admin-ui/adm_pairmsg.c:
# the sync client's HTTP response reader and the pairing/sync message
# checks) with clang's libFuzzer and runs it for SECONDS_PER_TARGET seconds
# (default 30) from the seed corpus. Exit 77 (SKIP) without clang; non-zero
# on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/pair-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/lib" -I"$SRC/admin-ui" $(pkg-config --cflags jansson) \
	"$HERE/fuzz_pair.c" "$SRC/admin-ui/adm_pairmsg.c" $(pkg-config --libs jansson) -o "$OUT/fuzz_pair"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_pair" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=4096 \
	-print_final_stats=1 "$OUT/pair-corpus" "$HERE/corpus/pair"
