#!/usr/bin/env bash
# Builds the CIDR list file fuzz driver (daemon/limit/lim_cidr:
# lim_cidr_text_load) with clang's libFuzzer and runs it for
# SECONDS_PER_TARGET seconds (default 30) from the seed corpus. Exit 77
# (SKIP) without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/cidrfile-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/daemon/limit" \
	"$HERE/fuzz_cidrfile.c" "$SRC/daemon/limit/lim_cidr.c" -o "$OUT/fuzz_cidrfile"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_cidrfile" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=4096 \
	-print_final_stats=1 "$OUT/cidrfile-corpus" "$HERE/corpus/cidrfile"
