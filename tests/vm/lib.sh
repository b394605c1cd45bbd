# tests/vm/lib.sh - helpers for tests that run INSIDE the IPVS VM (as root,
# in the VM's root network namespace, which is the director). Same TAP-ish
# output as the integration tests: "ok N - what" / "not ok N - what".
set -uo pipefail

B="${B:?set B to a build directory}"
SRC="${SRC:?}"
T="$(mktemp -d /tmp/tandem-vm.XXXXXX)"
SOCK=/run/tandemd-vm.sock	# unix sockets need a local fs (not 9p)
CHECKS=0
FAILS=0
TANDEMD_PID=""
bb=busybox

ok() { # ok "description" -- command...
	local desc="$1"; shift
	[ "${1:-}" = "--" ] && shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then echo "ok $CHECKS - $desc"; else echo "not ok $CHECKS - $desc"; FAILS=$((FAILS + 1)); fi
}
eq() { # eq "description" EXPECTED ACTUAL
	CHECKS=$((CHECKS + 1))
	if [ "$2" = "$3" ]; then echo "ok $CHECKS - $1"
	else echo "not ok $CHECKS - $1: expected '$2', got '$3'"; FAILS=$((FAILS + 1)); fi
}

ctl() { "$B/daemon/tandemctl" -s "$SOCK" "$@"; }

start_tandemd() { # start_tandemd CONFIG
	"$B/daemon/tandemd" -c "$1" -s "$SOCK" >>"$T/tandemd.log" 2>&1 &
	TANDEMD_PID=$!
	local i
	for i in $(seq 200); do
		[ -S "$SOCK" ] && ctl stats >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "tandemd did not start:"; cat "$T/tandemd.log"; return 1
}

stop_tandemd() {
	[ -n "$TANDEMD_PID" ] || return 0
	kill -TERM "$TANDEMD_PID" 2>/dev/null
	wait "$TANDEMD_PID" 2>/dev/null
	TANDEMD_PID=""
}

# Our view, normalised to the lines ipvs_view prints:
#   "TCP 10.0.0.1:80 rr" / "  -> 10.0.1.2:80 Masq 1"
our_view() {
	ctl status --json | jq -r '
	  def fwd: {"nat":"Masq","dr":"Route","tunnel":"Tunnel","local":"Local"}[.];
	  def ep($a; $p): if ($a|test(":")) then "[\($a)]:\($p)" else "\($a):\($p)" end;
	  .l4.services[] |
	  (if .protocol == "fwmark" then "FWM \(.fwmark)\(if .family=="ipv6" then " IPv6" else "" end) \(.scheduler)"
	   else "\(.protocol|ascii_upcase) \(ep(.address; .port)) \(.scheduler)" end),
	  (.reals[] | "  -> \(ep(.address; .port)) \(.forward|fwd) \(.weight)")' | sort
}

# ipvsadm's view (an independent reader of the kernel), same format.
ipvs_view() {
	ipvsadm -Ln | awk '
	  /^(TCP|UDP|SCTP) / { print $1, $2, $3; next }
	  /^FWM / { if ($3 == "IPv6") print $1, $2, "IPv6", $4; else print $1, $2, $3; next }
	  /^  -> / && $2 != "RemoteAddress:Port" { print "  ->", $2, $3, $4 }' | sort
}

# Compares the two views; prints a diff when they disagree.
views_agree() {
	our_view >"$T/ours" 2>&1
	ipvs_view >"$T/theirs" 2>&1
	if ! diff -u "$T/theirs" "$T/ours" >"$T/view.diff"; then
		sed 's/^/    # /' "$T/view.diff"; return 1
	fi
	[ -s "$T/ours" ] || [ -z "${1:-}" ]
}

# nat_topology N: the NAT test network. Client netns "client" (10.0.0.2,
# default via the director's c0 10.0.0.1, which also holds the VIP
# 10.0.0.100) and N real-server netns rsI (10.0.I.2 behind the director's rI
# 10.0.I.1); the director forwards.
nat_topology() {
	local i
	echo 1 >/proc/sys/net/ipv4/ip_forward
	ip netns add client; ip -n client link set lo up
	ip link add c0 type veth peer name eth0 netns client
	ip addr add 10.0.0.1/24 dev c0; ip addr add 10.0.0.100/32 dev c0; ip link set c0 up
	ip -n client addr add 10.0.0.2/24 dev eth0; ip -n client link set eth0 up
	ip -n client route add default via 10.0.0.1
	for i in $(seq "$1"); do
		ip netns add rs$i; ip -n rs$i link set lo up
		ip link add r$i type veth peer name eth0 netns rs$i
		ip addr add 10.0.$i.1/24 dev r$i; ip link set r$i up
		ip -n rs$i addr add 10.0.$i.2/24 dev eth0; ip -n rs$i link set eth0 up
		ip -n rs$i route add default via 10.0.$i.1
	done
}

# hold_conn NS ADDR: in the background ($! is it), a TCP connection from
# netns NS to ADDR:80 that sends a little every 0.1 s for 4 s and stays open
# 3 s more (the sync daemon sends an entry after a few packets).
hold_conn() {
	ip netns exec "$1" python3 - "$2" <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
for _ in range(40):
    s.sendall(b"x" * 10)
    time.sleep(0.1)
time.sleep(3)
PY
}

stat_l4() { ctl stats | jq -r ".l4.$1"; }

finish() {
	stop_tandemd
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/tandemd.log" 2>/dev/null; then
		echo "not ok - sanitizer report in tandemd.log"; FAILS=$((FAILS + 1))
	fi
	if [ "$FAILS" -eq 0 ] && [ "$CHECKS" -gt 0 ]; then
		echo "# $CHECKS checks passed"; exit 0
	fi
	echo "# $FAILS of $CHECKS checks failed"
	echo "--- tandemd.log"; tail -n 40 "$T/tandemd.log" 2>/dev/null
	exit 1
}
trap 'stop_tandemd' EXIT
