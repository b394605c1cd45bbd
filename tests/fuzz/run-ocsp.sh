#!/usr/bin/env bash
# Builds the OCSP response checker's fuzz driver (daemon/l7/l7_ocsp.c) with
# clang's libFuzzer and runs it for SECONDS_PER_TARGET seconds (default 30)
# from the seed corpus. Exit 77 (SKIP) without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/ocsp-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/daemon/l7" -I"$SRC/lib" $(pkg-config --cflags openssl) \
	"$HERE/fuzz_ocsp.c" "$SRC/daemon/l7/l7_ocsp.c" "$SRC/lib/log.c" \
	$(pkg-config --libs openssl) -lpthread -o "$OUT/fuzz_ocsp"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_ocsp" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=8192 \
	-print_final_stats=1 "$OUT/ocsp-corpus" "$HERE/corpus/ocsp"
