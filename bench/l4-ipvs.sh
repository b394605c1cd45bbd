#!/usr/bin/env bash
# bench/l4-ipvs.sh - time to program N IPVS services x 4 real servers from an
# empty kernel with tandemd, and to reconcile one change against them,
# compared with `ipvsadm -R` restoring the same set, in the same VM run.
#
#   B=build-test bench/l4-ipvs.sh [N]     (as root; default N=10000)
#
# Runs inside the VM tier's qemu (Debian's kernel; TCG unless KVM is real), so
# absolute numbers are those of an emulated CPU: compare the columns, not the
# numbers with another machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/.." && pwd)"
B="$(cd "${B:?set B to a build directory}" && pwd)"
N="${1:-10000}"
export IPVS_VM_DIR="${IPVS_VM_DIR:-/var/tmp/tandem-ipvs-vm}" IPVS_VM_MEM="${IPVS_VM_MEM:-1536M}"
B="$B" N="$N" IPVS_VM_ENV="B N" exec bash "$SRC/tests/vm/ipvs-vm.sh" run -t 600 -- bash "$HERE/l4-ipvs-inner.sh"
