#!/usr/bin/env bash
# HTTP/2 to pool members is multiplexed (l7_h2sess): many requests share a
# few member connections, up to max_streams_per_connection streams each
# (tests/tools/h2-mux-origin.py counts the connections it accepts and the
# most streams open at once on one); with max_streams_per_connection 1
# every concurrent request needs its own connection. A member's
# RST_STREAM fails only that request; its GOAWAY lets the streams it
# accepted finish and a request above its last stream id is sent again on
# another connection; a member connection that dies fails only its own
# streams. The 30 streams of one client connection are balanced round
# robin over a pool of 3 h2c members, each member's share multiplexed on
# one member connection. gRPC calls (python3-grpcio) share the connection too.
. "$(dirname "$0")/lib.sh"
need_python h2
command -v h2load >/dev/null || skip "h2load (nghttp2-client) is not installed"
command -v nghttp >/dev/null || skip "nghttp (nghttp2-client) is not installed"

PO=$(free_port); PL=$(free_port)
start_h2_origin "$PO" "$T/o"
# the "spread" pool's three h2c members
PS=()
for i in 1 2 3; do
	PS+=($(free_port))
	start_h2_origin "${PS[-1]}" "$T/s$i"
done
wait_ports "$PO" "${PS[@]}" || finish
conf() { # conf MAX_STREAMS
	cat <<JSON
{"version":1,"revision":$1,"workers":1,
 "listeners":[{"name":"h","address":"127.0.0.1","port":$PL,"http2":{"h2c":true}}],
 "pools":[{"name":"m","upstream_protocol":"h2c","max_streams_per_connection":$1,
           "members":[{"address":"127.0.0.1","port":$PO}]},
          {"name":"spread","upstream_protocol":"h2c","max_streams_per_connection":10,
           "members":[{"address":"127.0.0.1","port":${PS[0]}},{"address":"127.0.0.1","port":${PS[1]}},
                      {"address":"127.0.0.1","port":${PS[2]}}]}],
 "routes":[{"name":"all","listener":"h","path_prefix":"/","pool":"m"},
           {"name":"spread","listener":"h","path_prefix":"/spread/","pool":"spread"}]}
JSON
}
conns() { wc -l <"$T/o/conns" 2>/dev/null || echo 0; }

conf 10 >"$T/c.json"
# a malformed pool is refused whole, with the reason
refused "max_streams_per_connection 0 is refused" "$T/c.json" \
	'.pools[0].max_streams_per_connection = 0' 'max_streams_per_connection'
refused "max_streams_per_connection on an HTTP/1.1 pool is refused" "$T/c.json" \
	'.pools[0].upstream_protocol = "http/1.1"' 'applies only to HTTP/2 pools'
refused "\"h2\" without tls is refused" "$T/c.json" '.pools[0].upstream_protocol = "h2"' 'HTTP/2 over TLS'

start_tandemd "$T/c.json" || finish
wait_port "$PL"

# 60 requests at once (3 client connections x 20 streams), each held 600 ms
# by the origin: 10 streams per member connection makes 6 connections
h2load -n 60 -c 3 -m 20 "http://127.0.0.1:$PL/x?sleep=600" >"$T/h2load1.log" 2>&1
ok "60 concurrent requests all answered 200" -- grep -q '60 succeeded' "$T/h2load1.log"
n1=$(conns)
echo "# member connections for 60 concurrent requests, 10 streams each: $n1"
ok "they went over at most ceil(60/10)+1 member connections" -- test "$n1" -ge 1 -a "$n1" -le 7
ok "a member connection carried several streams at once" -- test "$(cat "$T/o/maxopen")" -ge 5
ok "and never more than max_streams_per_connection" -- test "$(cat "$T/o/maxopen")" -le 10

# a second burst reuses the open connections (idle ones stay 10 s)
h2load -n 20 -c 1 -m 20 "http://127.0.0.1:$PL/y?sleep=300" >"$T/h2load2.log" 2>&1
ok "a second burst is answered" -- grep -q '20 succeeded' "$T/h2load2.log"
ok "on the connections already open" -- test "$(conns)" -le "$((n1 + 1))"

# balancing per stream: the 30 streams of ONE client connection (nghttp -m)
# go round robin over the 3 h2c members, each member's share multiplexed on
# its own member connection (10 streams each, held 500 ms)
spread=$(timeout 20 nghttp -v -m 30 "http://127.0.0.1:$PL/spread/x?sleep=500" |
	sed -n 's/.*recv (stream_id=[0-9]*) x-origin: //p' | tally)
echo "# 30 streams of one connection: $spread"
ok "one connection's streams are spread over the 3 h2c members (10 +- 3 each)" -- spread_ok "$spread" 3 7 13
mconns="" mopen=""
for i in 1 2 3; do
	mconns+="$(wc -l <"$T/s$i/conns") "
	mopen+="$(cat "$T/s$i/maxopen" 2>/dev/null || echo 0) "
done
echo "# per member: connections $mconns; most streams open at once $mopen"
all3() { awk -v s="$1" "BEGIN { n = split(s, f); for (i = 1; i <= n; i++) if (!(f[i] $2)) exit 1; exit n != 3 }"; }
ok "each member's share went over one or two member connections" -- all3 "$mconns" '>= 1 && f[i] <= 2'
ok "several streams at once on one of them (multiplexed), on every member" -- all3 "$mopen" '>= 3'

CP=()
bg() { "$@" & CP+=($!); }	# a client in the background, waited for by wait_jobs
wait_jobs() { local j; for j in "${CP[@]}"; do wait "$j" 2>/dev/null; done; CP=(); }

# member RST_STREAM: that request 502, its neighbours fine
for i in $(seq 8); do bg curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PL/n$i?sleep=500" >"$T/rst-ok.$i"; done
sleep 0.1
rst=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/rst?sleep=100")
wait_jobs
eq "a stream the member resets answers 502" "502" "$rst"
eq "the streams beside it are answered" "200 200 200 200 200 200 200 200" "$(cat "$T"/rst-ok.* | tr '\n' ' ' | sed 's/ $//')"

# an HTTP/2 client that gives up (closes its connection): only its upstream
# stream is reset (CANCEL = 8)
before=$(conns)
for i in $(seq 4); do bg curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PL/c$i?sleep=700" >"$T/cancel-ok.$i"; done
sleep 0.1
curl -s -o /dev/null --http2-prior-knowledge --max-time 0.3 "http://127.0.0.1:$PL/cancel?sleep=3000"
wait_jobs
for _ in $(seq 20); do grep -q 'code=8' "$T/o/resets" 2>/dev/null && break; sleep 0.1; done
ok "a client that went away has its upstream stream reset (CANCEL)" -- grep -q 'code=8$' "$T/o/resets"
eq "the streams beside it are answered" "200 200 200 200" "$(cat "$T"/cancel-ok.* | tr '\n' ' ' | sed 's/ $//')"
eq "and the member connection stays" "$before" "$(conns)"

# member GOAWAY: the streams it accepted finish; later ones go elsewhere
for i in $(seq 6); do bg curl -s -o "$T/ga.$i.body" -w '%{http_code}\n' "http://127.0.0.1:$PL/a$i?sleep=800" >"$T/ga.$i"; done
sleep 0.2
bg curl -s -o "$T/goaway.body" "http://127.0.0.1:$PL/goaway?sleep=400"
sleep 0.05
for i in $(seq 6); do bg curl -s -o "$T/gb.$i.body" -w '%{http_code}\n' "http://127.0.0.1:$PL/b$i?sleep=100" >"$T/gb.$i"; done
wait_jobs
eq "requests in flight before the member's GOAWAY are answered" "200 200 200 200 200 200" "$(cat "$T"/ga.? | tr '\n' ' ' | sed 's/ $//')"
eq "requests after it are answered too" "200 200 200 200 200 200" "$(cat "$T"/gb.? | tr '\n' ' ' | sed 's/ $//')"
gconn=$(sed -n 's/.*conn=\([0-9]*\).*/\1/p' "$T/goaway.body")
ok "the GOAWAY request itself is answered" -- test -n "$gconn"
ok "the connection that said GOAWAY took no new request" -- sh -c "! grep -q 'conn=$gconn\$' '$T'/gb.?.body"

# a GOAWAY that does not cover a request: it was never processed and goes
# again on another connection (a POST too: the member says it did nothing)
r=$(curl -s -X POST -d x "http://127.0.0.1:$PL/refuse?sleep=50")
ok "a request above the member's GOAWAY last stream id is sent again and answered" -- \
	sh -c "echo '$r' | grep -q '^path=/refuse'"
ok "on another connection than the one that refused it" -- \
	test -s "$T/o/refused" -a "$(echo "$r" | sed -n 's/.*conn=//p')" != "$(cat "$T/o/refused" 2>/dev/null)"

# a member connection dies mid-flight: only its streams fail (POST: not
# replayed), other connections' streams and later requests are served
conf 4 >"$T/c.json"
ctl reload >/dev/null 2>&1 || kill -HUP "$TANDEMD_PID"
sleep 0.5
for i in $(seq 11); do bg curl -s -o /dev/null -X POST -d x -w '%{http_code}\n' "http://127.0.0.1:$PL/k$i?sleep=1200" >"$T/kill.$i"; done
sleep 0.3
bg curl -s -o /dev/null -w '%{http_code}\n' -X POST -d x "http://127.0.0.1:$PL/die" >"$T/kill.die"
wait_jobs
bad=$(cat "$T"/kill.* | grep -vc '^200$' || true)
good=$(cat "$T"/kill.[0-9]* | grep -c '^200$' || true)
echo "# killed connection: $bad failed, $good answered"
other=$(cat "$T"/kill.* | grep -v '^200$' | grep -vc '^502$' || true)
ok "the dead connection's streams fail with 502" -- test "$bad" -ge 1 -a "$other" = 0
ok "at most one connection's worth of streams fail" -- test "$bad" -le 4
ok "streams on the other connections are answered" -- test "$good" -ge 8
ok "a request after it is served" -- test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/after")" = 200

# max_streams_per_connection 1: every concurrent request has its own connection
conf 1 >"$T/c.json"
ctl reload >/dev/null 2>&1 || kill -HUP "$TANDEMD_PID"
sleep 0.5
before=$(conns)
h2load -n 20 -c 1 -m 20 "http://127.0.0.1:$PL/z?sleep=600" >"$T/h2load3.log" 2>&1
ok "with 1 stream per connection 20 concurrent requests are answered" -- grep -q '20 succeeded' "$T/h2load3.log"
ok "over about 20 new connections" -- test "$(( $(conns) - before ))" -ge 15
finish
