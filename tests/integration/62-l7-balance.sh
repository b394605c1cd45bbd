#!/usr/bin/env bash
# Balancing and health over the wire: smooth weighted round robin, least
# connections, power of two choices, consistent hashing, sticky cookies
# (across a reload), backup members, drain, active health checks (rise and
# fall, with the reason in tandemctl status), passive 5xx ejection, the
# per-member connection limit with its queue, the listener connection
# limit, and retries while a member is killed under load.
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || skip "wrk is not installed"

PA=$(free_port); PB=$(free_port); PC=$(free_port); PL=$(free_port); PM=$(free_port)
start_backend a "$PA"; start_backend b "$PB"; start_backend c "$PC"
member() { echo "{\"address\":\"127.0.0.1\",\"port\":$1${2:+,$2}}"; }
# conf REVISION POOLS... : routes /<pool>/ -> pool; pool "limit" sits on listener "lim"
conf() {
	local rev=$1 pools="" routes="" p; shift
	for p in "$@"; do
		local name=${p%%=*}
		pools+="${pools:+,}{\"name\":\"$name\",${p#*=}}"
		routes+="${routes:+,}{\"name\":\"r-$name\",\"listener\":\"web\",\"path_prefix\":\"/$name/\",\"pool\":\"$name\",\"rewrite_prefix\":\"/\"}"
	done
	cat >"$T/c.json" <<JSON
{"version":1,"revision":$rev,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL},
              {"name":"lim","address":"127.0.0.1","port":$PM,"limits":{"max_connections":2}}],
 "pools":[$pools],
 "routes":[$routes,{"name":"lim","listener":"lim","pool":"rr"}]}
JSON
}
POOLS=(
 "rr=\"members\":[$(member $PA),$(member $PB)]"
 "wrr=\"algorithm\":\"weighted_round_robin\",\"members\":[$(member $PA '"weight":1'),$(member $PB '"weight":3')]"
 "lc=\"algorithm\":\"least_connections\",\"members\":[$(member $PA),$(member $PB)]"
 "p2c=\"algorithm\":\"power_of_two\",\"members\":[$(member $PA),$(member $PB)]"
 "hash=\"algorithm\":\"consistent_hash\",\"hash\":{\"on\":\"header\",\"name\":\"X-User\"},\"members\":[$(member $PA),$(member $PB)]"
 "sticky=\"sticky_cookie\":\"TSTICK\",\"members\":[$(member $PA),$(member $PB)]"
 "backup=\"members\":[$(member $PA),$(member $PB '"backup":true')]"
 "drain=\"members\":[$(member $PA),$(member $PB '"drain":true')]"
 "hc=\"health_check\":{\"type\":\"http\",\"path\":\"/health\",\"interval_ms\":200,\"timeout_ms\":150,\"rise\":2,\"fall\":2},\"members\":[$(member $PA),$(member $PC)]"
 "hcbad=\"health_check\":{\"type\":\"http\",\"path\":\"/status/500\",\"interval_ms\":200,\"timeout_ms\":150,\"rise\":1,\"fall\":1},\"members\":[$(member $PA)]"
 "eject=\"passive\":{\"http_5xx\":3,\"eject_ms\":60000},\"members\":[$(member $PA),$(member $PB)]"
 "limit=\"max_connections_per_member\":1,\"queue\":{\"size\":20,\"timeout_ms\":5000},\"members\":[$(member $PA)]"
 "noq=\"max_connections_per_member\":1,\"members\":[$(member $PA)]"
 "retry=\"members\":[$(member $PA),$(member $PC)]"
)
conf 1 "${POOLS[@]}"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
URL="http://127.0.0.1:$PL"

counts=$(backend_counts "$URL/wrr/" 400 | tr '\n' ' ')
ok "smooth WRR 1:3 over 400 requests: a 100±8, b 300±8 ($counts)" -- \
	awk -v s="$counts" 'BEGIN { split(s, f, " "); exit !(f[1]=="backend" || (f[2] >= 92 && f[2] <= 108 && f[4] >= 292 && f[4] <= 308)) }'
counts=$(backend_counts "$URL/p2c/" 200 | tr '\n' ' ')
ok "power of two choices, idle members: each 100±35 ($counts)" -- \
	awk -v s="$counts" 'BEGIN { split(s, f, " "); exit !(f[2] >= 65 && f[2] <= 135 && f[4] >= 65 && f[4] <= 135) }'
# least connections: three slow requests load one member with 2, the other
# with 1; every short request meanwhile goes to the less loaded one
W=()
for i in 1 2 3; do curl -s --max-time 10 "$URL/lc/sleep?n=3000" >/dev/null & W+=($!); sleep 0.3; done
counts=$(backend_counts "$URL/lc/" 10 | tr '\n' ' ')
wait "${W[@]}"
ok "least connections: 10 requests beside 3 slow ones all go to the less loaded member ($counts)" -- \
	awk -v s="$counts" 'BEGIN { split(s, f, " "); exit !(f[2] == 10) }'

users=$(for u in $(seq 1 40); do echo "u$u $(curl -s -H "X-User: u$u" "$URL/hash/" | head -1)"; done)
again=$(for u in $(seq 1 40); do echo "u$u $(curl -s -H "X-User: u$u" "$URL/hash/" | head -1)"; done)
eq "consistent hash: every key goes to the same member again" "$users" "$again"
nb=$(awk '{print $3}' <<<"$users" | sort -u | wc -l)
eq "consistent hash: 40 keys use both members" 2 "$nb"

curl -s -c "$T/jar" "$URL/sticky/" >/dev/null
first=$(curl -s -b "$T/jar" "$URL/sticky/" | head -1)
same=$(for i in $(seq 10); do curl -s -b "$T/jar" "$URL/sticky/" | head -1; done | sort -u)
eq "sticky cookie keeps a client on one member" "$first" "$same"
conf 2 "${POOLS[@]}"; ctl reload >/dev/null
same=$(for i in $(seq 10); do curl -s -b "$T/jar" "$URL/sticky/" | head -1; done | sort -u)
eq "sticky cookie survives a reload" "$first" "$same"

eq "backup unused while the primary is up" "a 20" "$(backend_counts "$URL/backup/" 20)"
eq "draining member takes no new requests" "a 20" "$(backend_counts "$URL/drain/" 20)"

sleep 1
eq "health checks: both members up" "up up" "$(ctl status --json | jq -r '[.pools[] | select(.name=="hc") | .members[].state] | join(" ")')"
stop_backend c
sleep 1
st=$(ctl status --json | jq -c '.pools[] | select(.name=="hc") | .members[] | select(.port=='"$PC"') | {state, reason}')
ok "health check fall: c down with its reason ($st)" -- bash -c "jq -e '.state == \"down\" and (.reason | test(\"health check failed: connect\"))' <<<'$st' >/dev/null"
eq "down member gets no requests" "a 20" "$(backend_counts "$URL/hc/" 20)"
start_backend c "$PC"
sleep 1.2
eq "health check rise: c up again" "up" "$(ctl status --json | jq -r '.pools[] | select(.name=="hc") | .members[] | select(.port=='"$PC"') | .state')"
st=$(ctl status --json | jq -r '.pools[] | select(.name=="hcbad") | .members[0].reason')
ok "expected status checked ($st)" -- grep -q "status 500" <<<"$st"
eq "pool whose members all fail their check: 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/hcbad/")"

for i in 1 2 3 4 5 6; do curl -s -o /dev/null "$URL/eject/status/503"; done
st=$(ctl status --json | jq -r '[.pools[] | select(.name=="eject") | .members[] | .state + ":" + .reason] | join(" ")')
ok "3 consecutive 5xx eject a member ($st)" -- grep -q "down:ejected: 3 consecutive 5xx" <<<"$st"

start=$(date +%s%N)
W=()
for i in 1 2 3 4; do curl -s -o "$T/q$i" -w '%{http_code}\n' "$URL/limit/sleep?n=300" >"$T/qc$i" & W+=($!); done
wait "${W[@]}"
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "max_connections_per_member 1 with a queue: 4 concurrent requests all served" "200 200 200 200" "$(cat "$T"/qc* | tr '\n' ' ' | sed 's/ $//')"
ok "... one at a time (${took} ms >= 1100)" -- test "$took" -ge 1100
W=()
for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\n' "$URL/noq/sleep?n=500" >"$T/nq$i" & W+=($!); done
wait "${W[@]}"
ok "without a queue the extra requests get 503 ($(cat "$T"/nq* | tr '\n' ' '))" -- grep -q 503 <(cat "$T"/nq*)

exec 5<>/dev/tcp/127.0.0.1/$PM; exec 6<>/dev/tcp/127.0.0.1/$PM
sleep 0.2
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PM/")
eq "listener max_connections 2: a third connection gets 503" 503 "$code"
exec 5>&- 6>&-
sleep 0.2
eq "... and is served once one closes" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PM/")"

# Kill a member under load: idempotent requests are retried elsewhere.
wrk -t2 -c16 -d4s "$URL/retry/sleep?n=20" >"$T/wrk.out" 2>&1 &
WRK=$!
sleep 1.5
kill -9 "${BACKEND_PID[c]}"
wait "$WRK"
cat "$T/wrk.out"
reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
ok "the load ran (${reqs:-0} requests)" -- test "${reqs:-0}" -gt 500
ok "killing a member under load: no socket errors" -- bash -c "! grep -q 'Socket errors' '$T/wrk.out'"
ok "killing a member under load: no failed request" -- bash -c "! grep -q 'Non-2xx' '$T/wrk.out'"
finish
