#!/usr/bin/env bash
# Builds the peer link decoder fuzz driver (daemon/peer: frames, batch
# records, and applying them to a limiter store and a ticket key ring) with
# clang's libFuzzer and runs it for SECONDS_PER_TARGET seconds (default 30)
# from the seed corpus. Exit 77 (SKIP) without clang; non-zero on a crash.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
command -v clang >/dev/null || { echo "SKIP: clang is not installed"; exit 77; }
OUT="${FUZZ_OUT:-$SRC/build-fuzz}"
mkdir -p "$OUT/peer-corpus"
echo '#define PACKAGE_VERSION "fuzz"' >"$OUT/config.h"
L="$SRC/daemon/limit"
P="$SRC/daemon/peer"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$OUT" -I"$SRC/lib" -I"$L" -I"$P" -I"$SRC/daemon/l7" $(pkg-config --cflags jansson openssl libpcre2-8) \
	"$HERE/fuzz_peer.c" "$P/peer_frame.c" "$P/peer_sync.c" \
	"$L/lim_rule.c" "$L/lim_counter.c" "$L/lim_cidr.c" "$L/lim_ban.c" "$L/lim_jwt.c" \
	"$L/lim_waf.c" "$L/lim_top.c" "$SRC/daemon/l7/l7_tls_keys.c" "$SRC/lib/arena.c" "$SRC/lib/errs.c" \
	"$SRC/lib/log.c" "$SRC/lib/jfield.c" "$SRC/lib/jre.c" \
	$(pkg-config --libs jansson openssl libpcre2-8) -lpthread -lm -o "$OUT/fuzz_peer"
# New inputs go to a scratch corpus; the seeds in the tree stay as they are.
"$OUT/fuzz_peer" -max_total_time="${SECONDS_PER_TARGET:-30}" -max_len=4096 \
	-print_final_stats=1 "$OUT/peer-corpus" "$HERE/corpus/peer"
