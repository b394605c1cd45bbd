#!/usr/bin/env bash
# 59-quickstart-pair.sh - `./quickstart demo --detach` (the pair demo,
# demo/pair.sh) from this build: both consoles answer on their loopback
# ports with the printed passwords and show the pair (one MASTER, the peer
# link up); the client reaches both backends through the VIP;
# `./quickstart failover` kills the MASTER's tandemd and the client is still
# served (by the other node), the demo restarts the killed node and it takes
# the VIP back; `./quickstart stop` leaves no namespace, veth or process.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "********** needs root (network namespaces) **********"
command -v keepalived >/dev/null || skip "********** keepalived is not installed (apt-get install keepalived) **********"
ip netns add "tqp$$" 2>/dev/null || skip "cannot create network namespaces"
ip netns del "tqp$$"

export TANDEM_DEMO_BUILD="$B" TANDEM_STATE="$T/state" TANDEM_DEMO_NS="tq$$-"
export TANDEM_DEMO_CONSOLE_A TANDEM_DEMO_CONSOLE_B
TANDEM_DEMO_CONSOLE_A=$(free_port); TANDEM_DEMO_CONSOLE_B=$(free_port)
QS="$SRC/quickstart"
NSS="br a b cli be1 be2"
VIP=192.0.2.10

ours_left() { # namespaces, processes and host links the demo may have left
	local n d c
	for n in $NSS; do ip netns list | grep -q "^$TANDEM_DEMO_NS$n\b" && echo "netns $TANDEM_DEMO_NS$n"; done
	for d in /proc/[0-9]*; do
		c=$( { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null ) || continue
		case "$c" in *"$T/state"*) echo "process ${d#/proc/}: $c" ;; esac
	done
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -x -E 'p-(a|b|cli|be1|be2)|br0' | sed 's/^/host link /'
}
q_cleanup() {
	"$QS" stop >/dev/null 2>&1
	cleanup
}
trap q_cleanup EXIT

"$QS" demo --detach >"$T/demo.out" 2>&1
eq "quickstart demo --detach exits 0" 0 $?
cat "$T/demo.out"
ok "it prints both consoles" -- grep -q "node b console: https://127.0.0.1:$TANDEM_DEMO_CONSOLE_B/" "$T/demo.out"
eq "it prints both first-start passwords" 2 "$(grep -c 'admin password: [A-Za-z0-9]\{12,\}' "$T/demo.out")"
ok "it says how to fail over and how to watch" -- grep -q 'failover: ./quickstart failover' "$T/demo.out"

# ---- both consoles, each with its own password
declare -A PW
for n in a b; do PW[$n]=$(sed -n "s|^node $n console: .*admin password: ||p" "$T/demo.out"); done
role() { "$B/daemon/tandemctl" -s "$T/state/$1/tandemd.sock" status --json 2>/dev/null | jq -r '.vrrp.groups[0].role'; }
wait_role() { for _ in $(seq $(( $3 * 10 ))); do [ "$(role "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }
ok "A (priority 150) is MASTER" -- wait_role a MASTER 15
ok "B is BACKUP" -- wait_role b BACKUP 15
for n in a b; do
	ADMIN_URL="https://127.0.0.1:$([ $n = a ] && echo "$TANDEM_DEMO_CONSOLE_A" || echo "$TANDEM_DEMO_CONSOLE_B")"
	ok "console $n: login with its password" -- login "${PW[$n]}"
	api GET /status
	exp=MASTER; [ $n = b ] && exp=BACKUP
	eq "console $n shows its node's role" "$exp" "$(jq -r '.tandemd.vrrp.groups[0].role' <<<"$BODY")"
	for _ in $(seq 50); do api GET /status; [ "$(jq -r .tandemd.peer.state <<<"$BODY")" = up ] && break; sleep 0.2; done
	eq "console $n shows the peer link up" up "$(jq -r .tandemd.peer.state <<<"$BODY")"
done

# ---- the client through the VIP
get() { ip netns exec "${TANDEM_DEMO_NS}cli" curl -s -m 2 "http://$VIP/"; }
for _ in $(seq 10); do get; echo; done >"$T/before.txt"
ok "the client gets answers from backend demo-a through the VIP" -- grep -q 'demo-a' "$T/before.txt"
ok "... and from backend demo-b" -- grep -q 'demo-b' "$T/before.txt"

# ---- failover while a client keeps asking
ip netns exec "${TANDEM_DEMO_NS}cli" bash -c \
	"while :; do r=\$(curl -s -m 1 http://$VIP/) && echo \"ok \$r\" || echo fail; sleep 0.1; done" >"$T/loop.txt" 2>&1 &
LOOP=$!; PIDS+=($LOOP)
sleep 1
"$QS" failover >"$T/failover.out" 2>&1
eq "quickstart failover exits 0" 0 $?
ok "it killed the MASTER, node a" -- grep -q 'node a (the MASTER' "$T/failover.out"
ok "B becomes MASTER" -- wait_role b MASTER 10
n0=$(wc -l <"$T/loop.txt")
for _ in $(seq 50); do [ "$(tail -n +"$((n0 + 1))" "$T/loop.txt" | grep -c '^ok backend')" -ge 5 ] && break; sleep 0.2; done
ok "the client is served through the VIP after the failover" -- \
	test "$(tail -n +"$((n0 + 1))" "$T/loop.txt" | grep -c '^ok backend')" -ge 5
ok "the demo restarts node a and it takes the VIP back (preempt)" -- wait_role a MASTER 30
sleep 1
kill "$LOOP"; wait "$LOOP" 2>/dev/null
echo "# client: $(grep -c '^ok' "$T/loop.txt") answered, $(grep -c '^fail' "$T/loop.txt") failed (each failure is a 1 s timeout) over the two role changes"
ok "the client was served after node a came back" -- bash -c "tail -n 5 '$T/loop.txt' | grep -q '^ok backend'"
ok "fewer than 5 failed requests over both role changes" -- test "$(grep -c '^fail' "$T/loop.txt")" -lt 5

# ---- stop: nothing left
demo_pid=$(cat "$T/state/run/demo.pid")
ok "the detached demo runs in the background (pid $demo_pid)" -- kill -0 "$demo_pid"
"$QS" stop >"$T/stop.out" 2>&1
eq "quickstart stop exits 0" 0 $?
# gone, or a zombie until its new parent (the demo detached itself) reaps it
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
ok "the demo's own process is gone" -- gone "$demo_pid"
cp "$T"/state/run/*.log "$T"/	# for check_sanitizer_logs (finish)
left=$(ours_left)
eq "no namespace, process or veth left behind" "" "$left"
ok "a second stop is harmless" -- "$QS" stop
finish
