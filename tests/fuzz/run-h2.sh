#!/usr/bin/env bash
# Builds the two HTTP/2 fuzz drivers with clang's libFuzzer and runs each
# for SECONDS_PER_TARGET seconds (default 30) from its seed corpus:
#   fuzz_h2    client bytes into the front end (l7_h2 + nghttp2 + l7_http1)
#   fuzz_h2up  a member's frames into the upstream translator (l7_h2up)
# Exit 77 (SKIP) without clang or libnghttp2-dev; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
pkg-config --exists libnghttp2 || { echo "SKIP: libnghttp2-dev is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
: >"$OUT/config.h" 2>/dev/null || { mkdir -p "$OUT" && : >"$OUT/config.h"; }
L7="$SRC/daemon/l7"
for t in h2:l7_h2.c h2up:l7_h2up.c; do
	name=${t%%:*}
	mkdir -p "$OUT/$name-corpus"
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$OUT" -I"$SRC/lib" -I"$L7" -I"$SRC/daemon/conf" $(pkg-config --cflags libnghttp2 jansson) \
		"$HERE/fuzz_$name.c" "$L7/${t#*:}" "$L7/l7_h2_common.c" "$L7/l7_http1.c" "$L7/l7_freelist.c" "$L7/l7_mpool.c" "$SRC/lib/buf.c" \
		$(pkg-config --libs libnghttp2) -o "$OUT/fuzz_$name"
	# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
	"$OUT/fuzz_$name" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=8192 -timeout=10 \
		-artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/$name-corpus" "$HERE/corpus/$name"
done
