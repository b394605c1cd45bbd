#!/usr/bin/env bash
# tests/run.sh [TIER...] - build and run Tandem's test tiers, then print one
# closing line "N passed, N failed[, N skipped]". Exit 1 on any failure.
#
# Tiers (default: all, in this order):
#   unit         cmocka unit tests (build-test, --enable-werror)
#   integration  real binaries in temporary state dirs (tests/integration/*.sh)
#   vm           IPVS under Debian's kernel in qemu (tests/vm/; root; SKIP only
#                when qemu cannot run here)
#   browser      headless Chromium drives the console (tests/browser/)
#   fuzz         libFuzzer drivers for a fixed time each (tests/fuzz/run.sh)
#   asan         unit + integration + vm again under ASan/UBSan (build-asan)
#   pkg          .deb and .rpm from the dist tarball, installed into a Debian 12
#                root and started under systemd-nspawn (tests/pkg/run.sh)
#   distcheck    make distcheck
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
TIERS=("$@")
[ ${#TIERS[@]} -eq 0 ] && TIERS=(unit integration vm browser fuzz asan pkg distcheck)
LOGDIR="${TANDEM_TEST_LOGS:-$HERE/build-test/test-logs}"
PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
result() { # result NAME RC LOGFILE
	case "$2" in
	0) PASSED=$((PASSED + 1)); echo "PASS: $1" ;;
	77) SKIPPED=$((SKIPPED + 1)); echo "SKIP: $1 ********** SKIPPED: $(grep -m1 -i skip "$3" 2>/dev/null || echo 'see log') **********" ;;
	*) FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); echo "FAIL: $1 (exit $2; log: $3)"; tail -n 40 "$3" 2>/dev/null | sed 's/^/    | /' ;;
	esac
}

build() { # build DIR CONFIGURE-ARGS...
	local dir="$1"; shift
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || return 1
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && ../configure -q "$@") || return 1
	fi
	make -s -C "$dir" -j"$(nproc)" >"$LOGDIR/make-$(basename "$dir").log" 2>&1 ||
		{ grep -E -m 30 'error|Error' "$LOGDIR/make-$(basename "$dir").log"; return 1; }
}

# unit_tier DIR LABEL: make check, one result per test program.
unit_tier() {
	local dir="$1" label="$2" trs
	# Results of an earlier run would be reported as this run's: a test
	# program since removed, or every test when this build fails.
	rm -f "$dir"/tests/unit/*.trs
	make -s -C "$dir" -j"$(nproc)" check >/dev/null 2>&1
	for trs in "$dir"/tests/unit/*.trs; do
		[ -f "$trs" ] || continue
		local name log rc=1
		name="$label/$(basename "$trs" .trs)"
		log="${trs%.trs}.log"
		grep -q '^:test-result: PASS' "$trs" && rc=0
		grep -q '^:test-result: SKIP' "$trs" && rc=77
		result "$name" "$rc" "$log"
	done
	ls "$dir"/tests/unit/*.trs >/dev/null 2>&1 || result "$label/build" 1 /dev/null
}

# integration_tier BUILDDIR LABEL: every tests/integration/NN-*.sh.
integration_tier() {
	local bdir="$1" label="$2" t
	mkdir -p "$LOGDIR/$label"
	for t in tests/integration/[0-9]*.sh; do
		local name log rc
		name="$label/$(basename "$t" .sh)"
		log="$LOGDIR/$label/$(basename "$t" .sh).log"
		B="$bdir" SRC="$HERE" timeout 600 bash "$t" >"$log" 2>&1
		rc=$?
		result "$name" "$rc" "$log"
	done
}

# vm_tier BUILDDIR LABEL: tests/vm/tier.sh, one result per VM test (a
# sanitizer report in a tandemd log fails that test).
vm_tier() {
	local bdir="$1" label="$2" rc verdict name n
	mkdir -p "$LOGDIR/$label"
	B="$bdir" VM_LOGDIR="$LOGDIR/$label" timeout 900 bash tests/vm/tier.sh >"$LOGDIR/$label/tier.log" 2>&1
	rc=$?
	if [ "$rc" -eq 77 ] || ! grep -q -E '^(PASS|FAIL): vm/' "$LOGDIR/$label/tier.log"; then
		result "$label" "$rc" "$LOGDIR/$label/tier.log"
		return
	fi
	while read -r verdict name _; do
		n="${name#vm/}"
		[ "$verdict" = PASS: ] && result "$label/$n" 0 "$LOGDIR/$label/$n.log" ||
			result "$label/$n" 1 "$LOGDIR/$label/$n.log"
	done < <(grep -E '^(PASS|FAIL): vm/' "$LOGDIR/$label/tier.log")
}

mkdir -p "$LOGDIR"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}"

RUN_START=$SECONDS
for tier in "${TIERS[@]}"; do
	TIER_START=$SECONDS
	case "$tier" in
	unit|integration|browser|pkg|vm)
		if [ ! -f build-test/.built ] || [ -n "$(find . -path ./build\* -prune -o -newer build-test/.built \( -name '*.c' -o -name '*.h' -o -name '*.am' -o -name '*.ac' -o -name '*.sql' \) -print -quit)" ]; then
			say "build (werror)"
			if build build-test --enable-werror; then touch build-test/.built; else result build-test 1 /dev/null; continue; fi
		fi ;;
	esac
	case "$tier" in
	unit) say "tier: unit"; unit_tier build-test unit ;;
	integration) say "tier: integration"; integration_tier "$HERE/build-test" integration ;;
	vm) say "tier: vm (IPVS in qemu)"; vm_tier "$HERE/build-test" vm ;;
	browser)
		say "tier: browser"
		mkdir -p "$LOGDIR/browser"
		B="$HERE/build-test" SRC="$HERE" timeout 600 bash tests/browser/tier.sh >"$LOGDIR/browser/console.log" 2>&1
		result browser/console $? "$LOGDIR/browser/console.log" ;;
	fuzz)
		say "tier: fuzz"
		mkdir -p "$LOGDIR/fuzz"
		# Each driver is one single-threaded process: two scripts at a time
		# keep both cores busy and halve the tier's wall time.
		fuzz_pids=() fuzz_names=()
		for f in tests/fuzz/run*.sh; do
			[ -f "$f" ] || continue
			while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-$(nproc)}" ]; do wait -n; done
			SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}" timeout 900 bash "$f" >"$LOGDIR/fuzz/$(basename "$f" .sh).log" 2>&1 &
			fuzz_pids+=($!) fuzz_names+=("$(basename "$f" .sh)")
		done
		for i in "${!fuzz_pids[@]}"; do
			wait "${fuzz_pids[$i]}"
			result "fuzz/${fuzz_names[$i]}" $? "$LOGDIR/fuzz/${fuzz_names[$i]}.log"
		done ;;
	asan)
		say "tier: asan (build with --enable-sanitizers)"
		if build build-asan --enable-werror --enable-sanitizers; then
			unit_tier build-asan asan-unit
			integration_tier "$HERE/build-asan" asan-integration
			vm_tier "$HERE/build-asan" asan-vm
		else
			result asan/build 1 /dev/null
		fi ;;
	pkg)
		say "tier: pkg"
		mkdir -p "$LOGDIR/pkg"
		B="$HERE/build-test" timeout 900 bash tests/pkg/run.sh >"$LOGDIR/pkg/pkg.log" 2>&1
		result pkg/packages $? "$LOGDIR/pkg/pkg.log" ;;
	distcheck)
		say "tier: distcheck"
		build build-test --enable-werror >/dev/null 2>&1
		make -C build-test distcheck >"$LOGDIR/distcheck.log" 2>&1
		result distcheck $? "$LOGDIR/distcheck.log" ;;
	*) echo "unknown tier: $tier" >&2; exit 2 ;;
	esac
	say "tier $tier: $((SECONDS - TIER_START)) s (total $((SECONDS - RUN_START)) s)"
done

echo
[ ${#FAILED_NAMES[@]} -gt 0 ] && echo "failed: ${FAILED_NAMES[*]}"
if [ "$SKIPPED" -gt 0 ]; then
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
