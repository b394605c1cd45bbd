#!/usr/bin/env bash
# Builds the HTTP/2 front-end fuzz driver (l7_h2 + nghttp2 + l7_http1) with
# clang's libFuzzer and runs it for SECONDS_PER_TARGET seconds (default 30)
# from the seed corpus. Exit 77 (SKIP) without clang or libnghttp2-dev;
# non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
pkg-config --exists libnghttp2 || { echo "SKIP: libnghttp2-dev is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/h2-corpus"
: >"$OUT/config.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/lib" -I"$SRC/daemon/l7" -I"$SRC/daemon/conf" \
	$(pkg-config --cflags libnghttp2 jansson) \
	"$HERE/fuzz_h2.c" "$SRC/daemon/l7/l7_h2.c" "$SRC/daemon/l7/l7_h2_common.c" "$SRC/daemon/l7/l7_http1.c" "$SRC/lib/buf.c" \
	$(pkg-config --libs libnghttp2) -o "$OUT/fuzz_h2"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_h2" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=8192 -timeout=10 \
	-artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/h2-corpus" "$HERE/corpus/h2"
