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
need_python grpc h2
command -v openssl >/dev/null || skip "openssl is not installed"
command -v h2load >/dev/null || skip "h2load (nghttp2-client) is not installed"
pki_ca up-ca "IT Member CA"
pki_leaf member up-ca member.test "DNS:member.test,IP:127.0.0.1"
pki_made member
mkdir -p "$T/certs"
cp "$C/up-ca.crt" "$T/certs/up-ca.ca"

PG=$(free_port); PO=$(free_port); PN=$(free_port); PH=$(free_port); PL=$(free_port)
start_grpc_echo grpc "$PG" "$C/member.crt" "$C/member.key"
start_h2_origin "$PO" "$T/o" "$C/member.crt" "$C/member.key"
start_h2_origin "$PH" "$T/o2" "$C/member.crt" "$C/member.key"
# a TLS member that speaks HTTP/1.1 only
openssl s_server -quiet -accept "127.0.0.1:$PN" -cert "$C/member.crt" -key "$C/member.key" \
	-alpn http/1.1 -www >"$T/s_server.log" 2>&1 &
PIDS+=($!)
wait_ports "$PG" "$PO" "$PN" "$PH" || finish

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
refused "h2c with tls is refused (use h2)" "$T/c.json" \
	'.pools[1].upstream_protocol = "h2c"' 'pools\[1\].tls.*h2c is cleartext'
refused "a grpc check over TLS on an HTTP/1.1 pool is refused" "$T/c.json" \
	'.pools[0].upstream_protocol = "http/1.1"' 'grpc health check over TLS'
refused "h2 without tls is refused" "$T/c.json" \
	'del(.pools[1].tls)' 'pools\[1\].upstream_protocol.*HTTP/2 over TLS'

start_tandemd "$T/c.json" --cert-dir "$T/certs" || finish
wait_port "$PL"

# the unknown service's method goes to pool o (path_prefix "/"): unchecked
grpc_echo_calls "gRPC to a member over TLS (h2): unary, streaming, trailers, status codes" "" \
	"127.0.0.1:$PL"

ok "the gRPC health check over TLS passes" -- wait_member_state 0 up
touch "$T/grpc.notserving"
ok "and follows NOT_SERVING" -- wait_member_state 0 down
rm -f "$T/grpc.notserving"
ok "a TLS member that does not select h2 fails the health check" -- wait_member_state 2 down
ok "with that reason" -- status_says 'did not select h2'
h2_checks() { wc -l <"$T/o2/conns" 2>/dev/null || echo 0; }
for _ in $(seq 30); do [ "$(h2_checks)" -ge 3 ] && break; sleep 0.1; done
ok "an HTTP health check speaks h2 to an h2 pool's member (checked 3 times: still up)" -- \
	test "$(h2_checks)" -ge 3 -a "$(member_state 3)" = up
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/n/x")
ok "its requests fail (503: no member up)" -- test "$code" = 503 -o "$code" = 502

h2load -n 200 -c 2 -m 20 "http://127.0.0.1:$PL/x" >"$T/h2load.log" 2>&1
ok "200 requests over h2 to a TLS member answered" -- grep -q '200 succeeded' "$T/h2load.log"
n=$(wc -l <"$T/o/conns")
echo "# TLS member connections for 40 concurrent streams, 10 each: $n"
ok "over at most ceil(40/10)+1 TLS connections" -- test "$n" -ge 1 -a "$n" -le 5
ok "the answers came from the member" -- test "$(curl -s "http://127.0.0.1:$PL/check")" != ""
finish
