#!/usr/bin/env bash
# 51-ha-sync.sh - the pair's state sync over the peer link, with the real
# keepalived in network namespaces (lib-ha.sh): the sync gate (a node that
# starts fresh holds its VRRP priority at 1 until it loaded the peer's full
# state; alone, it still becomes MASTER, and takes its own priority after
# --peer-gate), TLS session tickets issued by one node resume on the other
# after a failover (the ticket key ring is synced; a restarted node takes
# the running node's ring), and a third process without the pair's
# certificate is refused and applies nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ha.sh"
ha_setup
ha_pair_certs

PRIO[a]=100; PRIO[b]=150; GATE[a]=2
write_node_config a
write_node_config b

# ---- A alone: gated, MASTER anyway, its own priority after the gate time
start_node a || finish
ok "A starts gated" -- grep -q 'priorities gated' "$T/tandemd-a.log"
ok "A alone becomes MASTER while gated (an isolated node still serves)" -- wait_role a MASTER 10
ok "after --peer-gate 2 s without its peer A takes its own priority" -- wait_status a '.vrrp.gated == false' 10
ok "... in keepalived.conf" -- grep -q 'priority 100$' "${RUN[a]}/keepalived.conf"
eq "A holds no state of the peer" false "$(status a | jq .peer.synced)"

# ---- B joins with the higher priority: MASTER only after A's full state
start_node b --metrics 127.0.0.1:9145 || finish
ok "B becomes MASTER (preempt)" -- wait_role b MASTER 15
ok "A is BACKUP" -- wait_role a BACKUP 10
ok "B loaded A's full state" -- wait_status b '.peer.synced and .peer.counters.fulls_received >= 1' 5
line() { grep -n -m1 -e "$1" "$T/tandemd-b.log" | cut -d: -f1; }
lg=$(line 'priorities gated'); lu=$(line 'peer: link up'); lo=$(line 'priorities ungated'); lm=$(line '-> MASTER')
echo "# B's log: gated at line $lg, link up $lu, ungated $lo, MASTER $lm"
ok "B: gated, then the link, then ungated, then MASTER" -- test "${lg:-0}" -gt 0 -a "${lg:-0}" -lt "${lu:-0}" -a "${lu:-0}" -lt "${lo:-0}" -a "${lo:-0}" -lt "${lm:-0}"
ok "sync lag is in status" -- wait_status b '.peer.sync.lag_p99_ms | type == "number"' 5
ok "tandemctl status says B loaded its peer's state" -- bash -c "'$CTL' -s '${SOCK[b]}' status | grep -q \"sync: peer's state loaded; lag p99 [0-9]* ms\""
nsx b "$PY" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9145/metrics", timeout=5).read().decode())' >"$T/metrics-b.txt" 2>&1
ok "Prometheus: the link is up" -- grep -qx 'tandem_peer_up{peer="lb-a"} 1' "$T/metrics-b.txt"
ok "Prometheus: the peer's state is loaded and the gate open" -- \
	bash -c "grep -qx 'tandem_peer_synced 1' '$T/metrics-b.txt' && grep -qx 'tandem_vrrp_gated 0' '$T/metrics-b.txt'"
ok "Prometheus: sync lag and records" -- \
	bash -c "grep -q '^tandem_peer_sync_lag_p99_ms [0-9]' '$T/metrics-b.txt' && grep -q '^tandem_peer_records_applied_total [1-9]' '$T/metrics-b.txt'"

# ---- a TLS session issued by B resumes on A after B dies
tls_get -sess_out "$T/sess" >"$T/tls1.out"
ok "the TLS client is served by B" -- grep -q 'node-b' "$T/tls1.out"
ok "B handed out a session ticket" -- test -s "$T/sess"
kill -KILL "${TD_PID[b]}"; wait "${TD_PID[b]}" 2>/dev/null
ok "A becomes MASTER after kill -9 of B" -- wait_role a MASTER 10
tls_get -sess_in "$T/sess" >"$T/tls2.out"
ok "A serves the client" -- grep -q 'node-a' "$T/tls2.out"
ok "A resumed the session B issued (the ticket key ring is synced)" -- grep -q '^Reused' "$T/tls2.out"

# ---- B restarts fresh: it takes A's ring (not its own new key), and the
# old ticket still resumes on it once it is MASTER again
start_node b || finish
ok "restarted B becomes MASTER again after loading A's state" -- wait_role b MASTER 15
tls_get -sess_in "$T/sess" >"$T/tls3.out"
ok "restarted B serves the client" -- grep -q 'node-b' "$T/tls3.out"
ok "restarted B resumes the same old ticket" -- grep -q '^Reused' "$T/tls3.out"

# ---- a third process: no certificate, another pair's, plain bytes
acc=b; [ "$(status a | jq -r .peer.role)" = accept ] && acc=a
ref0=$(status $acc | jq .peer.counters.refused); con0=$(status $acc | jq .peer.counters.connects)
nsx cli timeout 5 openssl s_client -connect "${IP[$acc]}:7400" -tls1_3 </dev/null >"$T/intr1.out" 2>&1
ok "a client without a certificate is refused" -- wait_status $acc ".peer.counters.refused >= $((ref0 + 1))" 5
"$CTL" pair-init "$T/other" lb-a lb-b >/dev/null
nsx cli timeout 5 openssl s_client -connect "${IP[$acc]}:7400" -tls1_3 -cert "$T/other/lb-a/node.pem" \
	-key "$T/other/lb-a/node.key" -CAfile "$T/pair/ca.pem" </dev/null >"$T/intr2.out" 2>&1
ok "a client with another pair's certificate (same node name) is refused" -- wait_status $acc ".peer.counters.refused >= $((ref0 + 2))" 5
printf '\0\0\0\040{"t":"batch","seq":1,"full":true,"records":[{"k":"ban","ip":"192.0.2.100","until":9999999999999}]}' |
	nsx cli timeout 3 "$PY" -c 'import socket,sys; s=socket.create_connection((sys.argv[1],7400)); s.sendall(sys.stdin.buffer.read()); s.settimeout(2); s.recv(100)' "${IP[$acc]}" 2>/dev/null
ok "plain frames without TLS are refused" -- wait_status $acc ".peer.counters.refused >= $((ref0 + 3))" 5
ok "the link stayed up through all of it" -- wait_status $acc ".peer.state == \"up\" and .peer.counters.connects == $con0" 2
eq "nothing was refused inside the link (nothing injected reached it)" 0 "$(status $acc | jq .peer.sync.records_refused)"

for n in a b; do kill -TERM "${TD_PID[$n]}"; wait "${TD_PID[$n]}"; eq "tandemd $n exits 0 on SIGTERM" 0 $?; done
TD_PID=()
finish
