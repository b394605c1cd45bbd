#!/usr/bin/env bash
# The JSON access log: one valid JSON line per request with the documented
# fields (proxied, local answers, refused requests), written by the logger
# thread; sampling; tandemctl stats counts the lines.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PL=$(free_port); PS=$(free_port)
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
start_tandemd "$T/c.json" || finish
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
finish
