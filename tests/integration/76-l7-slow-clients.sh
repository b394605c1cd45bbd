#!/usr/bin/env bash
# Slow-client resilience with Debian's slowhttptest: slowloris (request
# heads trickled in) and slow body (R-U-Dead-Yet) against one listener at
# the same time, while another client keeps asking: every one of its
# requests must get a 200 in time. The head timeout must have cut the
# slowloris connections (408s counted).
. "$(dirname "$0")/lib.sh"
command -v slowhttptest >/dev/null || skip "slowhttptest is not installed (apt-get install slowhttptest)"

PA=$(free_port); PL=$(free_port); PM=$(free_port)
start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,"metrics":{"address":"127.0.0.1:$PM"},
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "timeouts":{"client_header_ms":3000}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"web","pool":"a"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"
U="http://127.0.0.1:$PL/"
LEN=14
slowhttptest -H -c 400 -r 200 -i 2 -l "$LEN" -u "$U" -p 3 >"$T/slowloris.out" 2>&1 &
SL=$!
slowhttptest -B -c 200 -r 100 -i 2 -s 65536 -l "$LEN" -u "$U" -p 3 >"$T/slowbody.out" 2>&1 &
SB=$!
PIDS+=($SL $SB)
sleep 2	# let both ramp up
total=0 good=0
end=$((SECONDS + LEN - 4))
while [ "$SECONDS" -lt "$end" ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$U")
	total=$((total + 1))
	[ "$code" = 200 ] && good=$((good + 1))
	sleep 0.1
done
wait "$SL" "$SB"
sed -i 's/\x1b\[[0-9;]*m//g' "$T/slowloris.out" "$T/slowbody.out"	# its colours
ok "the probe client asked at least 20 times ($total)" -- test "$total" -ge 20
eq "every probe request got a 200 within 3 s" "$total" "$good"
ok "slowloris connected, and its connections were closed by us" -- bash -c \
	"grep -qiE 'connected: *[1-9]' '$T/slowloris.out' && grep -qiE 'closed: *[1-9]' '$T/slowloris.out'"
ok "slow body held its connections open" -- grep -qiE 'connected: *[1-9][0-9]' "$T/slowbody.out"
ok "slowhttptest itself saw the service available" -- bash -c \
	"! grep -qi 'service available: *NO' '$T/slowloris.out' '$T/slowbody.out'"
curl -s "http://127.0.0.1:$PM/" >"$T/m.txt"
n408=$(awk '$1 == "tandem_listener_responses_total{listener=\"web\",class=\"4xx\"}" { print $2 }' "$T/m.txt")
ok "the head timeout answered slowloris connections (4xx: ${n408:-none})" -- test "${n408:-0}" -ge 100
finish
