#!/bin/sh
# Builds the libFuzzer drivers with clang straight from the sources and runs
# each for a number of seconds (first argument, else $SECONDS_PER_TARGET, else
# $FUZZ_SECONDS, else $SECONDS when run by a plain sh, default 30) from the
# seed corpus in corpus/<name>/. Exits non-zero on a crash, 77 (automake
# SKIP) when clang or its fuzzer runtime is missing.
set -eu

CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP: $CLANG not found (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# bash's SECONDS counts the shell's own run time: only trust it under sh
env_secs=""
[ -n "${BASH_VERSION:-}" ] || env_secs=${SECONDS:-}
secs=${1:-${SECONDS_PER_TARGET:-${FUZZ_SECONDS:-${env_secs:-30}}}}
case "$secs" in
''|*[!0-9]*|0) echo "run.sh: seconds must be a positive integer, not '$secs'" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/config.h"	# the sources include config.h first; they need nothing from it

printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$work/probe.c"
if ! "$CLANG" -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" >/dev/null 2>&1; then
	echo "SKIP: $CLANG cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
	exit 77
fi

CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -I$work -I$top/lib -I$top/daemon/l7 -I$top/daemon/conf"

build() {	# name sources...
	name=$1
	shift
	"$CLANG" $CFLAGS "$@" -o "$work/$name"
}

run() {	# name
	name=$1
	mkdir -p "$work/corpus-$name"
	echo "fuzz_$name: ${secs}s"
	if ! "$work/fuzz_$name" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
		"$work/corpus-$name" "$here/corpus/$name" > "$work/$name.log" 2>&1; then
		tail -n 60 "$work/$name.log"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] || continue
			cp "$a" "$here/" && echo "FAIL: fuzz_$name: input saved as $here/$(basename "$a")"
		done
		return 1
	fi
	grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)' "$work/$name.log" || true
	echo "PASS: fuzz_$name"
}

build fuzz_http1 "$here/fuzz_http1.c" "$top/daemon/l7/l7_http1.c" "$top/lib/buf.c"
run http1
build fuzz_ppin "$here/fuzz_ppin.c" "$top/daemon/l7/l7_proxyproto_in.c"
run ppin
build fuzz_l4http -I"$top/daemon/l4" "$here/fuzz_l4http.c" "$top/daemon/l4/l4_httpck.c"
run l4http
