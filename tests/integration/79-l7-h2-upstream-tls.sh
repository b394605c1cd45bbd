#!/usr/bin/env bash
# HTTP/2 over TLS to pool members ("upstream_protocol": "h2" with the
# pool's "tls"; ALPN h2): a real gRPC server over TLS (python3-grpcio)
# answers unary and streaming calls with trailers and status codes intact
# and passes the gRPC health check over TLS; an HTTP health check of an h2
# pool speaks h2 too; concurrent requests share a
# few TLS member connections (tests/tools/h2-mux-origin.py over TLS); a
# TLS member that does not select h2 fails the health check with that
# reason and its requests fail; malformed combinations are refused whole.
. "$(dirname "$0")/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# Debian's, where python3-grpcio lives
$PY -c 'import grpc, h2' 2>/dev/null || skip "python3-grpcio or python3-h2 is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"
command -v h2load >/dev/null || skip "h2load (nghttp2-client) is not installed"
pki_ca up-ca "IT Member CA"
pki_leaf member up-ca member.test "DNS:member.test,IP:127.0.0.1"
pki_made member
mkdir -p "$T/certs" "$T/o" "$T/o2"
cp "$C/up-ca.crt" "$T/certs/up-ca.ca"

PG=$(free_port); PO=$(free_port); PN=$(free_port); PH=$(free_port); PL=$(free_port)
$PY "$SRC/tests/tools/grpc-echo.py" server "$PG" "$T/notserving" "$C/member.crt" "$C/member.key" \
	>"$T/grpc-server.log" 2>&1 &
PIDS+=($!)
$PY "$SRC/tests/tools/h2-mux-origin.py" "$PO" "$T/o" 0 "$C/member.crt" "$C/member.key" >"$T/origin.log" 2>&1 &
PIDS+=($!)
$PY "$SRC/tests/tools/h2-mux-origin.py" "$PH" "$T/o2" 0 "$C/member.crt" "$C/member.key" >"$T/origin2.log" 2>&1 &
PIDS+=($!)
# a TLS member that speaks HTTP/1.1 only
openssl s_server -quiet -accept "127.0.0.1:$PN" -cert "$C/member.crt" -key "$C/member.key" \
	-alpn http/1.1 -www >"$T/s_server.log" 2>&1 &
PIDS+=($!)
for p in "$PG" "$PO" "$PN" "$PH"; do wait_port "$p" || { echo "member on $p did not start"; finish; }; done

TLS='{"ca":"up-ca","server_name":"member.test"}'
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,"workers":1,
 "listeners":[{"name":"h","address":"127.0.0.1","port":$PL,"http2":{"h2c":true}}],
 "pools":[{"name":"g","upstream_protocol":"h2","tls":$TLS,
           "members":[{"address":"127.0.0.1","port":$PG}],
           "health_check":{"type":"grpc","interval_ms":500,"timeout_ms":450,"rise":1,"fall":1}},
          {"name":"o","upstream_protocol":"h2","tls":$TLS,"max_streams_per_connection":10,
           "members":[{"address":"127.0.0.1","port":$PO}]},
          {"name":"n","upstream_protocol":"h2","tls":$TLS,
           "members":[{"address":"127.0.0.1","port":$PN}],
           "health_check":{"type":"grpc","interval_ms":500,"timeout_ms":450,"rise":1,"fall":1}},
          {"name":"hh","upstream_protocol":"h2","tls":$TLS,
           "members":[{"address":"127.0.0.1","port":$PH}],
           "health_check":{"type":"http","path":"/healthz","expect_body":"path=/healthz",
                           "interval_ms":500,"timeout_ms":450,"rise":1,"fall":1}}],
 "routes":[{"name":"echo","listener":"h","path_prefix":"/test.Echo/","pool":"g"},
           {"name":"n","listener":"h","path_prefix":"/n/","pool":"n"},
           {"name":"o","listener":"h","path_prefix":"/","pool":"o"}]}
JSON

# malformed combinations are refused, and the whole file with them
jq '.pools[1].upstream_protocol = "h2c"' "$T/c.json" >"$T/bad1.json"
jq '.pools[0].upstream_protocol = "http/1.1"' "$T/c.json" >"$T/bad2.json"
jq 'del(.pools[1].tls)' "$T/c.json" >"$T/bad3.json"
for i in 1 2 3; do "$B/daemon/tandemd" --check "$T/bad$i.json" >"$T/check$i.out" 2>&1 && echo "bad$i accepted"; done
ok "h2c with tls is refused (use h2)" -- grep -q 'pools\[1\].tls.*h2c is cleartext' "$T/check1.out"
ok "a grpc check over TLS on an HTTP/1.1 pool is refused" -- grep -q 'grpc health check over TLS' "$T/check2.out"
ok "h2 without tls is refused" -- grep -q 'pools\[1\].upstream_protocol.*HTTP/2 over TLS' "$T/check3.out"

start_tandemd "$T/c.json" --cert-dir "$T/certs" || finish
wait_port "$PL"

expect="unary echo:hello yes OK
unary-300k intact
fail NOT_FOUND no such thing
down UNAVAILABLE member says no
server-stream 50 part 0 part 49
client-stream got 100 messages, 100000 bytes
bidi ONE TWO THREE"
out=$(timeout 60 $PY "$SRC/tests/tools/grpc-echo.py" client "127.0.0.1:$PL" 2>"$T/client.err" |
	grep -v '^unknown\|^E[0-9]')
eq "gRPC to a member over TLS (h2): unary, streaming, trailers, status codes" "$expect" "$out"

state() { ctl status --json | jq -r ".pools[$1].members[0].state"; }
waitstate() { for _ in $(seq 50); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }
ok "the gRPC health check over TLS passes" -- waitstate 0 up
touch "$T/notserving"
ok "and follows NOT_SERVING" -- waitstate 0 down
rm -f "$T/notserving"
ok "a TLS member that does not select h2 fails the health check" -- waitstate 2 down
ok "with that reason" -- sh -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' status | grep -q 'did not select h2'"
for _ in $(seq 30); do [ "$(wc -l <"$T/o2/conns" 2>/dev/null || echo 0)" -ge 3 ] && break; sleep 0.1; done
ok "an HTTP health check speaks h2 to an h2 pool's member (checked 3 times: still up)" -- \
	sh -c "[ \$(wc -l <'$T/o2/conns') -ge 3 ] && [ \"\$('$B/daemon/tandemctl' -s '$T/tandemd.sock' status --json | jq -r '.pools[3].members[0].state')\" = up ]"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/n/x")
ok "its requests fail (503: no member up)" -- test "$code" = 503 -o "$code" = 502

h2load -n 200 -c 2 -m 20 "http://127.0.0.1:$PL/x" >"$T/h2load.log" 2>&1
ok "200 requests over h2 to a TLS member answered" -- grep -q '200 succeeded' "$T/h2load.log"
n=$(wc -l <"$T/o/conns")
echo "# TLS member connections for 40 concurrent streams, 10 each: $n"
ok "over at most ceil(40/10)+1 TLS connections" -- test "$n" -ge 1 -a "$n" -le 5
ok "the answers came from the member" -- test "$(curl -s "http://127.0.0.1:$PL/check")" != ""
finish
