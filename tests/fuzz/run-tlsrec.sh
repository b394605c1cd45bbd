#!/usr/bin/env bash
# Builds the TLS record layer's fuzz driver (daemon/l7/l7_tlsrec.c: record
# framing, length limits, AEAD open, TLS 1.3 inner plaintext) with clang's
# libFuzzer and runs it for SECONDS_PER_TARGET seconds (default 30) from
# the seed corpus. Exit 77 (SKIP) without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/tlsrec-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/daemon/l7" -I"$SRC/lib" $(pkg-config --cflags openssl) \
	"$HERE/fuzz_tlsrec.c" "$SRC/daemon/l7/l7_tlsrec.c" \
	$(pkg-config --libs openssl) -o "$OUT/fuzz_tlsrec"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_tlsrec" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=8192 \
	-print_final_stats=1 "$OUT/tlsrec-corpus" "$HERE/corpus/tlsrec"
