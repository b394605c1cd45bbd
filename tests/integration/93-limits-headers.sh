#!/usr/bin/env bash
# RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset on forwarded
# (admitted) responses for a rule with "ratelimit_headers": "always", over
# HTTP/1.1 and HTTP/2 (h2c); none for a rule left at the default ("deny"),
# which still sends them on its 429 with Retry-After; a backend's own
# RateLimit-* fields are replaced by ours; a bad value is refused with its
# JSON path (doc/limits.md "Response headers").
. "$(dirname "$0")/lib.sh"
PA=$(free_port); PP=$(free_port); PL=$(free_port)
start_backend a "$PA" || { echo "backend did not start"; exit 1; }
# a backend that sends its own RateLimit-* fields
python3 - "$PP" >"$T/backend-py.log" 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("RateLimit-Limit", "999")
        self.send_header("ratelimit-remaining", "998")
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"py\n")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PIDS+=($!)
wait_port "$PP" || { echo "python backend did not start"; exit 1; }

cat >"$T/c.json" <<JSON
{"version": 1,
 "listeners": [{"name": "web", "address": "127.0.0.1", "port": $PL, "http2": {"h2c": true}}],
 "pools": [{"name": "a", "members": [{"address": "127.0.0.1", "port": $PA}]},
           {"name": "py", "members": [{"address": "127.0.0.1", "port": $PP}]}],
 "routes": [{"name": "own", "listener": "web", "path_prefix": "/hown", "pool": "py"},
            {"name": "main", "listener": "web", "pool": "a"}],
 "rate_rules": {"rules": [
   {"name": "told", "match": {"path_prefix": "/h"}, "ratelimit_headers": "always",
    "limit": {"requests": 3, "period_s": 60}},
   {"name": "quiet", "match": {"path_prefix": "/q"},
    "limit": {"requests": 2, "period_s": 60}}]}}
JSON
jq '.rate_rules.rules[0].ratelimit_headers = "sometimes"' "$T/c.json" >"$T/bad.json"
"$B/daemon/tandemd" --check "$T/bad.json" >"$T/check.out" 2>&1
ok "a bad ratelimit_headers is refused with its path" -- \
	grep -q 'rate_rules.rules\[0\].ratelimit_headers.*deny or always' "$T/check.out"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
U="http://127.0.0.1:$PL"
hdr() { tr -d '\r' | sed -n "s/^$1: //Ip"; }

curl -s -D "$T/h1" -o /dev/null "$U/h1"
eq "HTTP/1.1 admitted: RateLimit-Limit" 3 "$(hdr RateLimit-Limit <"$T/h1")"
eq "HTTP/1.1 admitted: RateLimit-Remaining" 2 "$(hdr RateLimit-Remaining <"$T/h1")"
reset=$(hdr RateLimit-Reset <"$T/h1")
ok "HTTP/1.1 admitted: RateLimit-Reset within the 60 s window ($reset)" -- \
	test -n "$reset" -a "$reset" -ge 1 -a "$reset" -le 60
ok "the backend's body is forwarded" -- grep -q '^HTTP/1.1 200' "$T/h1"

curl -s --http2-prior-knowledge -D "$T/h2" -o /dev/null "$U/h2"
ok "HTTP/2 response" -- grep -q '^HTTP/2 200' "$T/h2"
eq "HTTP/2 admitted: ratelimit-limit" 3 "$(hdr RateLimit-Limit <"$T/h2")"
eq "HTTP/2 admitted: ratelimit-remaining" 1 "$(hdr RateLimit-Remaining <"$T/h2")"

curl -s -D "$T/own" -o /dev/null "$U/hown"
eq "the backend's RateLimit-* replaced by ours (one Limit field)" 1 "$(grep -ci '^RateLimit-Limit' "$T/own")"
eq "ours: Limit 3" 3 "$(hdr RateLimit-Limit <"$T/own")"
eq "ours: Remaining 0" 0 "$(hdr RateLimit-Remaining <"$T/own")"
eq "one Remaining field (the backend sent it lower-case)" 1 "$(grep -ci '^RateLimit-Remaining' "$T/own")"
curl -s -D "$T/h4" -o /dev/null "$U/h4"
ok "the 4th is denied with 429" -- grep -q '^HTTP/1.1 429' "$T/h4"
eq "429: RateLimit-Remaining 0" 0 "$(hdr RateLimit-Remaining <"$T/h4")"
ok "429: Retry-After" -- test -n "$(hdr Retry-After <"$T/h4")"

curl -s -D "$T/q1" -o /dev/null "$U/q1"
ok "default rule admitted: 200" -- grep -q '^HTTP/1.1 200' "$T/q1"
eq "default rule admitted: no RateLimit-* fields" 0 "$(grep -ci '^RateLimit-' "$T/q1")"
curl -s --http2-prior-knowledge -D "$T/q2" -o /dev/null "$U/q2"
eq "default rule admitted over HTTP/2: none either" 0 "$(grep -ci '^RateLimit-' "$T/q2")"
curl -s -D "$T/q3" -o /dev/null "$U/q3"
ok "default rule: the 3rd is 429" -- grep -q '^HTTP/1.1 429' "$T/q3"
eq "default rule 429: RateLimit-Limit" 2 "$(hdr RateLimit-Limit <"$T/q3")"
ok "default rule 429: Retry-After" -- test -n "$(hdr Retry-After <"$T/q3")"
eq "no rule matched: no RateLimit-* fields" 0 "$(curl -s -D - -o /dev/null "$U/other" | grep -ci '^RateLimit-')"
finish
