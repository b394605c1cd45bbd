#!/usr/bin/env bash
# tests/vm/tier.sh - the VM tier: IPVS under a real Debian kernel in qemu.
#
# This machine's kernel may have no IPVS, so each tests/vm/NN-*.sh runs in its
# own short-lived VM (ipvs-vm.sh: Debian's stock kernel, the host's root file
# system read-only with a throw-away overlay, no network device). The tests
# use $B's binaries as built on the host. Prints one "PASS/FAIL/SKIP: vm/NAME"
# line per test and exits 0 only when all passed; 77 (SKIP) only when qemu
# truly cannot run here (not root, or qemu cannot be installed).
#
#   B=build-test tests/vm/tier.sh [NAME...]     (as root)
#   VM_LOGDIR=DIR   where each test's output goes (default $B/test-logs/vm)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
B="${B:?set B to a build directory}"
B="$(cd "$B" && pwd)"
LOGDIR="${VM_LOGDIR:-$B/test-logs/vm}"
# Kernel + initramfs are cached here between runs (~60 MB of downloads once).
export IPVS_VM_DIR="${IPVS_VM_DIR:-/var/tmp/tandem-ipvs-vm}"
export IPVS_VM_TIMEOUT="${IPVS_VM_TIMEOUT:-240}"
export IPVS_VM_MEM="${IPVS_VM_MEM:-768M}"
mkdir -p "$LOGDIR"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the VM tier needs root (apt-get, qemu's 9p export of /)"
	exit 77
fi
# Prepare kernel + initramfs once (installs qemu-system-x86, ipvsadm, ...).
if ! bash "$HERE/ipvs-vm.sh" build >"$LOGDIR/build.log" 2>&1; then
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "SKIP: qemu-system-x86_64 cannot be installed here (see $LOGDIR/build.log)"
		exit 77
	fi
	echo "FAIL: vm/build (kernel or initramfs): see $LOGDIR/build.log"
	tail -n 20 "$LOGDIR/build.log"
	exit 1
fi

pass=0 fail=0
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for t in "$HERE"/[0-9]*.sh; do names+=("$(basename "$t" .sh)"); done
fi
for n in "${names[@]}"; do
	t="$HERE/$n.sh"
	log="$LOGDIR/$n.log"
	start=$(date +%s)
	# The command runs chrooted in the host's root (read-only + overlay), so
	# $B and $SRC are the same paths inside.
	B="$B" SRC="$SRC" IPVS_VM_ENV="B SRC" \
		bash "$HERE/ipvs-vm.sh" run -- bash "$t" >"$log" 2>&1
	rc=$?
	el=$(( $(date +%s) - start ))
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS: vm/$n (${el}s)"
	else
		fail=$((fail + 1)); echo "FAIL: vm/$n (exit $rc, ${el}s; log: $log)"
		grep -E '^not ok|FAIL' "$log" | head -n 20 | sed 's/^/    | /'
	fi
done
echo "# vm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
