#!/usr/bin/env bash
# 52-ha-limits.sh - the rate limiter across a failover and across a restart
# of both nodes, with real keepalived and two tandemds in network
# namespaces (lib-ha.sh):
#   - continuity: a client uses 90 of its 100 requests per day on A
#     (MASTER); A is killed (-9); on B the client is admitted at most the
#     remaining 10 plus the sync lag allowance (LAG_ALLOWANCE: requests that
#     may fall in the last 20 ms collection interval before the kill) before
#     429;
#   - a client banned on A is refused by B after the failover;
#   - both nodes stopped and started again: the counters and the ban come
#     back from the state file (--limit-state), written at the clean stop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ha.sh"
ha_setup
ha_pair_certs
# (A day's window: the sliding estimate does not decay measurably while the
# test runs, so the counts it asserts do not depend on the clock.)

LAG_ALLOWANCE=${LAG_ALLOWANCE:-5}
PRIO[a]=150; PRIO[b]=100
CLI2=192.0.2.101	# the client that gets banned
ip -n "${PFX}cli" addr add "$CLI2/24" dev eth0
for n in a b; do
	write_node_config "$n"
	jq '.rate_rules = {"rules": [
	      {"name": "flood-ban", "match": {"path": "/flood"},
	       "limit": {"requests": 3, "period_s": 60}, "action": {"type": "ban", "duration_s": 600}},
	      {"name": "api", "match": {"path_prefix": "/api/"},
	       "key": [{"type": "header", "name": "X-API-Key"}],
	       "limit": {"requests": 100, "period_s": 86400},
	       "action": {"type": "reject", "status": 429}}]}' "$T/$n.json" >"$T/$n.json.new" &&
		mv "$T/$n.json.new" "$T/$n.json"
done

# reqs.py SRC PATH N [STOP_AT_429]: N sequential requests with X-API-Key k1
# from SRC; prints "<2xx count> <429 count> <other>" (other: 403s and
# connections closed without an answer).
cat >"$T/reqs.py" <<'PY'
import http.client, sys
src, path, n, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4
ok = lim = other = 0
for _ in range(n):
    try:
        c = http.client.HTTPConnection("192.0.2.10", 80, timeout=5, source_address=(src, 0))
        c.request("GET", path, headers={"X-API-Key": "k1"})
        st = c.getresponse().status
        c.close()
    except (OSError, http.client.HTTPException):
        st = 0
    if st == 200: ok += 1
    elif st == 429: lim += 1
    else: other += 1
    if stop and st == 429: break
print(ok, lim, other)
PY
reqs() { nsx cli "$PY" "$T/reqs.py" "$@"; }

start_node a --limit-state "$T/state-a" || finish
ok "A becomes MASTER" -- wait_role a MASTER 10
start_node b --limit-state "$T/state-b" || finish
ok "B is BACKUP and loaded A's state" -- wait_status b '.vrrp.groups[0].role == "BACKUP" and .peer.synced' 15
ok "A counts in slot 0 (derived from the peer link)" -- grep -q 'limiter: counter slot 0 (from the peer link)' "$T/tandemd-a.log"
ok "B counts in slot 1" -- grep -q 'limiter: counter slot 1 (from the peer link)' "$T/tandemd-b.log"

# ---- 90 of 100 on A; the banned client on A
eq "the client gets 90 answers on A" "90 0 0" "$(reqs "${IP[cli]}" /api/x 90)"
eq "a client over the flood rule gets the ban verdict (429) on A" "3 1 0" "$(reqs "$CLI2" /flood 4)"
read -r got lim other <<<"$(reqs "$CLI2" / 1)"
eq "... and is refused by A from then on" "0 0 1" "$got $lim $other"
kill -KILL "${TD_PID[a]}"; wait "${TD_PID[a]}" 2>/dev/null
ok "B becomes MASTER after kill -9 of A" -- wait_role b MASTER 10
read -r got lim other <<<"$(reqs "${IP[cli]}" /api/x 40 stop)"
echo "# continuity: after 90 on A, B admitted $got more before 429 (remaining 10, allowance $LAG_ALLOWANCE)"
ok "B admits at most the remaining 10 (+ $LAG_ALLOWANCE lag allowance) before 429" -- \
	test "$lim" = 1 -a "$got" -le $((10 + LAG_ALLOWANCE))
ok "B does not refuse early: A's count arrived whole, not doubled" -- test "$got" -ge 10
read -r got lim other <<<"$(reqs "$CLI2" / 3)"
eq "the client banned on A is refused by B" "0 0 3" "$got $lim $other"
eq "another client is served by B" "1 0 0" "$(reqs "${IP[cli]}" / 1)"
ok "B's sync lag is in status" -- wait_status b '.peer.sync.lag_p99_ms | type == "number"' 5

# ---- both nodes stop and start again: state from the files
start_node a --limit-state "$T/state-a" || finish
ok "A is MASTER again after loading B's state" -- wait_role a MASTER 15
for n in a b; do kill -TERM "${TD_PID[$n]}"; wait "${TD_PID[$n]}"; eq "tandemd $n exits 0" 0 $?; done
ok "A wrote its state file at the stop" -- test -s "$T/state-a"
eq "the state file is private" 600 "$(stat -c %a "$T/state-a")"
start_node a --limit-state "$T/state-a" || finish
start_node b --limit-state "$T/state-b" || finish
ok "A loaded its state file" -- grep -q "limiter state: [1-9][0-9]* records loaded from $T/state-a" "$T/tandemd-a.log"
ok "A is MASTER" -- wait_role a MASTER 15
eq "after the restart of both, the client is still at its limit" "0 1 0" "$(reqs "${IP[cli]}" /api/x 1 stop)"
read -r got lim other <<<"$(reqs "$CLI2" / 2)"
eq "and the banned client is still refused" "0 0 2" "$got $lim $other"

# ---- a corrupt state file is refused with a log line; tandemd starts empty
kill -TERM "${TD_PID[b]}"; wait "${TD_PID[b]}"
printf 'garbage' >>"$T/state-b"
start_node b --limit-state "$T/state-b" || finish
ok "B refuses its corrupt state file and says so" -- grep -q "limiter state: refusing $T/state-b: .*starting with empty counters" "$T/tandemd-b.log"
ok "... keeping it aside" -- test -s "$T/state-b.corrupt"
ok "B still starts and loads A's state over the link" -- wait_status b '.peer.synced' 15

for n in a b; do kill -TERM "${TD_PID[$n]}"; wait "${TD_PID[$n]}"; eq "tandemd $n exits 0 on SIGTERM" 0 $?; done
TD_PID=()
finish
