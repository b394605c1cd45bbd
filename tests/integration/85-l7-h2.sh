#!/usr/bin/env bash
# HTTP/2 downstream, cleartext prior knowledge (h2c) on a listener with
# "http2": {"h2c": true}: nghttp and h2load get correct answers (GET, POST
# body, chunked response), streams are routed and logged like HTTP/1.1
# requests, HTTP/1.1 still works on the same port; the limits: header list
# size (431), concurrent streams (REFUSED_STREAM), and the floods (rapid
# reset, PING, SETTINGS, empty DATA, PRIORITY, CONTINUATION) each end in GOAWAY
# ENHANCE_YOUR_CALM and a close while another client is served before,
# during and after; the streams of one connection are balanced round robin
# over a pool's members. The abuse client is tests/tools/h2-abuse.py (python3-h2).
. "$(dirname "$0")/lib.sh"
command -v nghttp >/dev/null || skip "nghttp is not installed (nghttp2-client)"
command -v h2load >/dev/null || skip "h2load is not installed (nghttp2-client)"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# Debian's, where python3-h2 lives
$PY -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed"
ABUSE="$SRC/tests/tools/h2-abuse.py"

PA=$(free_port); PB=$(free_port); PC=$(free_port); PL=$(free_port)
start_backend a "$PA"
start_backend b "$PB"
start_backend c "$PC"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,"access_log":{"path":"$T/access.log"},
               "http2":{"h2c":true,"max_header_list_bytes":8192}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"b","members":[{"address":"127.0.0.1","port":$PB}]},
          {"name":"rr","members":[{"address":"127.0.0.1","port":$PA},{"address":"127.0.0.1","port":$PB},
                                  {"address":"127.0.0.1","port":$PC}]}],
 "routes":[{"name":"main","listener":"web","pool":"a"},
           {"name":"bee","listener":"web","path_prefix":"/b/","pool":"b"},
           {"name":"spread","listener":"web","path_prefix":"/rr/","pool":"rr"},
           {"name":"teapot","listener":"web","path_prefix":"/tea","action":"respond",
            "respond":{"status":418,"body":"short and stout\n"}}]}
JSON
# the limits are validated like every listener field
jq '.listeners[0].http2.max_concurrent_streams = 0' "$T/c.json" >"$T/bad.json"
"$B/daemon/tandemd" --check "$T/bad.json" >"$T/check.out" 2>&1
ok "a bad http2 limit is refused with its path" -- grep -q 'listeners\[0\].http2.max_concurrent_streams' "$T/check.out"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
U="http://127.0.0.1:$PL"

eq "nghttp GET over h2c" "backend a" "$(timeout 10 nghttp "$U/" | head -1)"
eq "routed by path like HTTP/1.1" "backend b" "$(timeout 10 nghttp "$U/b/x" | head -1)"
eq "a local respond route answers the stream" "short and stout" "$(timeout 10 nghttp "$U/tea" | head -1)"
eq "chunked response body without its framing" "chunk 0 chunk 1 chunk 2" \
	"$(timeout 10 nghttp "$U/chunked?n=3" | tr '\n' ' ' | sed 's/ $//')"
# balancing per stream: the 30 streams of ONE connection (nghttp -m: one
# connection, all streams at once) go round robin over the pool's 3 members
spread=$(timeout 20 nghttp -m 30 "$U/rr/x" | sed -n 's/^backend //p' | tally)
echo "# 30 streams of one connection: $spread"
ok "one connection's streams are spread over the 3 members (10 +- 3 each)" -- spread_ok "$spread" 3 7 13
head -c 300000 /dev/urandom >"$T/body.bin"
sum=$($PY -c 'import sys; print(sum(open(sys.argv[1],"rb").read()) % 2**32)' "$T/body.bin")
eq "POST body streamed upstream (flow control)" "backend a got 300000 bytes sum $sum" \
	"$(timeout 10 nghttp -d "$T/body.bin" "$U/post" | head -1)"
eq "a 1 MB response" "1000000" "$(timeout 10 nghttp "$U/bytes?n=1000000" | wc -c)"
ok "the member sees the forwarding headers" -- sh -c "timeout 10 nghttp '$U/echo' | grep -q '^X-Forwarded-For: 127.0.0.1'"
out=$(timeout 60 h2load -n 2000 -c 10 -m 10 "$U/" 2>&1)
ok "h2load: 2000 requests, 10 connections x 10 streams, all 2xx" -- \
	grep -q 'status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out"
eq "HTTP/1.1 on the same listener" "backend a" "$(curl -s "$U/" | head -1)"

eq "header list over max_header_list_bytes: 431" "431" "$($PY "$ABUSE" big-header "$PL" 9000)"
eq "a header list below it passes" "200" "$($PY "$ABUSE" big-header "$PL" 4000)"
eq "streams over max_concurrent_streams (100) are refused" "ok 100 refused 20" \
	"$($PY "$ABUSE" streams "$PL" 120)"

# each flood runs round after round (a new connection each) while another
# client is served: on its own connection kept from before the flood, and on
# new connections, while at least one whole round runs (h2-abuse.py during)
for mode in rapid-reset ping settings empty-data priority continuation; do
	rm -f "$T/flood"*
	$PY "$ABUSE" during "$PL" "$T/flood" >"$T/good.out" 2>&1 &
	good=$!
	out=$(timeout 40 $PY "$ABUSE" flood "$PL" "$mode" 2000 "$T/flood" 2>&1)
	wait "$good"
	echo "# $mode: $(cut -d' ' -f1 "$T/flood") flood rounds"
	eq "$mode: every round gets GOAWAY ENHANCE_YOUR_CALM and a close" "goaway 11 closed" "$(echo $out)"
	eq "$mode: another client is served before, during and after the flood" \
		"before 200 during 200 after 200" "$(echo $(cat "$T/good.out"))"
done
eq "after the floods, new clients are served" "200 backend a" "$($PY "$ABUSE" get "$PL" /)"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" stats >"$T/stats.json" 2>&1
ok "the floods are counted" -- jq -e ".l7.h2_abuse_closed >= 6 and .l7.h2_streams > 2000" "$T/stats.json"
sleep 0.3
ok "streams are in the access log" -- jq -se '[.[] | select(.path == "/b/x" and .member == "b/127.0.0.1:'"$PB"'")] | length == 1' "$T/access.log"
# every stream gives its I/O buffers back when it ends (doc/l7.md): with the
# clients gone, the worker's gauge is back to 0
bufs=""
for _ in $(seq 50); do
	bufs=$("$B/daemon/tandemctl" -s "$T/tandemd.sock" stats 2>/dev/null | jq -r '.l7.io_buffers')
	[ "$bufs" = 0 ] && break
	sleep 0.2
done
eq "no I/O buffer held once the h2 clients are gone" "0" "$bufs"
[ "$bufs" = 0 ] || { "$B/daemon/tandemctl" -s "$T/tandemd.sock" stats | jq -c .l7; ss -tanp | grep -c tandemd; ss -tan | grep -v LISTEN | grep -E ":$PL\b" ; }
finish
