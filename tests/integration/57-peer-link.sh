#!/usr/bin/env bash
# 57-peer-link.sh - the peer link between two tandemds on loopback: the
# pair's certificates from `tandemctl pair-init`, TLS 1.3 with mutual
# authentication, each node's health view carried to the other; a client
# without the pair's certificate (none, or one of another pair) is refused
# while the link stays up; a change is sent as one batch; a reconnect
# resumes without a full sync; a restarted node gets a full resync.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl (the command) is not installed"
CTL="$B/daemon/tandemctl"
PA=$(free_port); PB=$(free_port)

ok "pair-init makes the CA and both nodes' certificates" -- "$CTL" pair-init "$T/pair" lb-a lb-b
ok "the node key is private" -- test "$(stat -c %a "$T/pair/lb-a/node.key")" = 600
ok "the node certificate is signed by the pair's CA" -- openssl verify -CAfile "$T/pair/ca.pem" "$T/pair/lb-a/node.pem"
ok "pair-init refuses to overwrite a pair" -- bash -c "! '$CTL' pair-init '$T/pair' lb-a lb-b 2>/dev/null"

node_config() { # node_config NODE POOL PORT...
	local n=$1 pool=$2 members="" p
	shift 2
	for p in "$@"; do members+="${members:+,}{\"address\":\"127.0.0.1\",\"port\":$p}"; done
	echo "{\"version\":1,\"revision\":1,\"listeners\":[],\"pools\":[{\"name\":\"$pool\",\"members\":[$members]}],\"routes\":[]}" >"$T/$n.json"
}
declare -A NPID
start_peer() { # start_peer NODE LISTEN_PORT PEER_PORT
	"$B/daemon/tandemd" -c "$T/$1.json" -s "$T/$1.sock" --peer-listen "127.0.0.1:$2" \
		--peer "127.0.0.1:$3" --peer-dir "$T/pair/lb-$1" >>"$T/tandemd-$1.log" 2>&1 &
	NPID[$1]=$!; PIDS+=($!)
	for _ in $(seq 100); do [ -S "$T/$1.sock" ] && return 0; sleep 0.05; done
	return 1
}
peer() { "$CTL" -s "$T/$1.sock" status --json | jq -c ".peer$2"; }
wait_peer() { # wait_peer NODE JQ-CONDITION
	for _ in $(seq 100); do peer "$1" "| $2" | grep -qx true && return 0; sleep 0.05; done
	return 1
}

node_config a app-a 9001
node_config b app-b 9002 9003
start_peer a "$PA" "$PB" || finish
start_peer b "$PB" "$PA" || finish
ok "the link comes up on A" -- wait_peer a '.state == "up" and .peer_node == "lb-b"'
ok "the link comes up on B" -- wait_peer b '.state == "up" and .peer_node == "lb-a"'
ok "B holds A's health view" -- wait_peer b '[.peer_health[] | "\(.pool) \(.port)"] == ["app-a 9001"]'
ok "A holds B's health view" -- wait_peer a '[.peer_health[] | "\(.pool) \(.port)"] == ["app-b 9002", "app-b 9003"]'
ok "every batch is acknowledged" -- wait_peer a '.acked == .out_seq and .unacked == 0'
ok "tandemctl status shows the peer" -- bash -c "'$CTL' -s '$T/a.sock' status | grep -q '^PEER lb-b .* state up'"

# The acceptor is the node with the higher listen address.
acc=a; [ "$(peer a .role)" = '"dial"' ] && acc=b
aport=$PA; [ $acc = b ] && aport=$PB
ref0=$(peer $acc .counters.refused)
timeout 5 openssl s_client -connect "127.0.0.1:$aport" -tls1_3 </dev/null >"$T/sc1.out" 2>&1
ok "a client without a certificate is refused" -- wait_peer $acc ".counters.refused == $((ref0 + 1))"
"$CTL" pair-init "$T/other" lb-a lb-x >/dev/null
timeout 5 openssl s_client -connect "127.0.0.1:$aport" -tls1_3 -cert "$T/other/lb-a/node.pem" \
	-key "$T/other/lb-a/node.key" -CAfile "$T/pair/ca.pem" </dev/null >"$T/sc2.out" 2>&1
ok "a client with another pair's certificate (same node name) is refused" -- wait_peer $acc ".counters.refused == $((ref0 + 2))"
ok "the refusal is in the last error" -- bash -c "'$CTL' -s '$T/$acc.sock' status --json | jq -r .peer.last_error | grep -qi 'handshake\|refused'"
ok "the link stayed up" -- wait_peer a '.state == "up" and .counters.connects == 1'
ok "the intruder sent nothing that was applied" -- wait_peer b '[.peer_health[] | .pool] == ["app-a"]'

# A change on A is one batch (not a full sync).
fb=$(peer b .counters.fulls_received); rb=$(peer b .rx_seq)
node_config a app-a 9001 9004
"$CTL" -s "$T/a.sock" reload >/dev/null
ok "B sees A's changed view" -- wait_peer b '[.peer_health[] | .port] == [9001, 9004]'
eq "as the next batch" "$((rb + 1))" "$(peer b .rx_seq)"
eq "without a full sync" "$fb" "$(peer b .counters.fulls_received)"

# A reconnect resumes: no full sync, no batch lost.
ra=$(peer a .counters.resumes); fa=$(peer a .counters.fulls_sent)
ok "peer-reconnect" -- "$CTL" -s "$T/a.sock" peer-reconnect
ok "the link is up again" -- wait_peer a ".state == \"up\" and .counters.connects == 2"
ok "A resumed" -- wait_peer a ".counters.resumes == $((ra + 1))"
eq "A sent no full batch" "$fa" "$(peer a .counters.fulls_sent)"
node_config a app-a 9001 9004 9005
"$CTL" -s "$T/a.sock" reload >/dev/null
ok "batches flow after the resume" -- wait_peer b '[.peer_health[] | .port] == [9001, 9004, 9005]'

# B restarts: new session, no state; it asks and A sends everything.
fa=$(peer a .counters.fulls_sent)
kill -TERM "${NPID[b]}"; wait "${NPID[b]}"
eq "B exits 0" 0 $?
ok "A sees the link down" -- wait_peer a '.state != "up"'
start_peer b "$PB" "$PA" || finish
ok "the link is up again after B's restart" -- wait_peer a '.state == "up"'
ok "A sent B a full batch (B asked for a resync)" -- wait_peer a ".counters.fulls_sent == $((fa + 1))"
ok "restarted B holds A's whole view" -- wait_peer b '[.peer_health[] | .port] == [9001, 9004, 9005]'
ok "A holds restarted B's view" -- wait_peer a '[.peer_health[] | .port] == [9002, 9003]'
finish
