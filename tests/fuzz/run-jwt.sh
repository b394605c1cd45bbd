#!/usr/bin/env bash
# Builds the JWT fuzz driver (daemon/limit/lim_jwt.c) with clang's libFuzzer
# and runs it for SECONDS_PER_TARGET seconds (default 30) from the seed
# corpus. Exit 77 (SKIP) without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/jwt-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/daemon/limit" -I"$SRC/tests/unit" $(pkg-config --cflags jansson openssl) \
	"$HERE/fuzz_jwt.c" "$SRC/daemon/limit/lim_jwt.c" "$SRC/tests/unit/jwt_testkeys.c" \
	$(pkg-config --libs jansson openssl) -o "$OUT/fuzz_jwt"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_jwt" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=9000 \
	-print_final_stats=1 "$OUT/jwt-corpus" "$HERE/corpus/jwt"
