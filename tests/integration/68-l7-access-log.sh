#!/usr/bin/env bash
# The JSON access log: one valid JSON line per request with the documented
# fields (proxied, local answers, refused requests), written by the logger
# thread; sampling; tandemctl stats counts the lines. And the Prometheus
# text on a loopback address (--metrics).
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PL=$(free_port); PS=$(free_port); PM=$(free_port)
start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,"request_id":"X-Request-Id",
               "access_log":{"path":"$T/access.log"}},
              {"name":"sampled","address":"127.0.0.1","port":$PS,
               "access_log":{"path":"$T/sampled.log","sample_percent":25}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"main","listener":"web","pool":"a"},
           {"name":"old","listener":"web","path_prefix":"/old","action":"redirect","redirect":{"location":"/new"}},
           {"name":"s","listener":"sampled","pool":"a"}]}
JSON
start_tandemd "$T/c.json" --metrics "127.0.0.1:$PM" || finish
wait_port "$PL"
for i in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:$PL/bytes?n=100"; done
curl -s -o /dev/null "http://127.0.0.1:$PL/old/x"
curl -s -o /dev/null -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' --data-binary abc "http://127.0.0.1:$PL/bad"
curl -s -o /dev/null -H 'User-Agent: "quoted"' "http://127.0.0.1:$PL/q?x=%22y%22"
for i in $(seq 400); do printf 'url = "http://127.0.0.1:%s/"\noutput = "/dev/null"\n' "$PS"; done >"$T/urls"
curl -s -K "$T/urls"
sleep 0.5
eq "one line per request" 13 "$(wc -l <"$T/access.log")"
ok "every line is one JSON object" -- bash -c "jq -c . '$T/access.log' | wc -l | grep -qx 13"
first=$(head -1 "$T/access.log")
ok "a proxied line has the documented fields ($first)" -- jq -e '.time and .client == "127.0.0.1" and .listener == "web" and .route == "main" and .method == "GET" and .path == "/bytes?n=100" and .status == 200 and .bytes_out > 100 and (.member | test("^a/127.0.0.1:")) and .connect_ms >= 0 and .first_byte_ms >= 0 and .total_ms >= 0 and (.request_id | length == 24)' <<<"$first"
ok "a redirect is logged with its route and status" -- jq -se '[.[] | select(.route == "old" and .status == 302 and .member == "")] | length == 1' "$T/access.log"
ok "a refused request is logged with its status" -- jq -se '[.[] | select(.status == 400)] | length == 1' "$T/access.log"
n=$(wc -l <"$T/sampled.log")
ok "sample_percent 25 over 400 requests logs 100±40 ($n)" -- test "$n" -ge 60 -a "$n" -le 140
eq "tandemctl stats counts the lines" "$((13 + n))" "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" stats --json 2>/dev/null | jq '.l7.access_log_lines // .access_log_lines')"

wait_port "$PM"
curl -s "http://127.0.0.1:$PM/metrics" >"$T/metrics.txt"
ok "metrics: worker totals" -- grep -qE '^tandem_l7_requests_total [0-9]+$' "$T/metrics.txt"
ok "metrics: active connections gauge" -- grep -q '^# TYPE tandem_l7_connections_active gauge' "$T/metrics.txt"
ok "metrics: per-member counters" -- grep -qE "^tandem_member_requests_total\{pool=\"a\",member=\"a/127.0.0.1:$PA\"\} [1-9][0-9]*$" "$T/metrics.txt"
ok "metrics: member up" -- grep -qE "^tandem_member_up\{pool=\"a\",member=\"a/127.0.0.1:$PA\"\} 1$" "$T/metrics.txt"
code=$("$B/daemon/tandemd" -c "$T/c.json" -s "$T/t2.sock" --metrics 0.0.0.0:$(free_port) >"$T/t2.log" 2>&1; echo $?)
ok "metrics refuse a non-loopback address" -- grep -q "not a loopback address" "$T/t2.log"
finish
