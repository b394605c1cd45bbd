#!/usr/bin/env bash
# gRPC through the proxy with a real gRPC client and server (python3-grpcio,
# tests/tools/grpc-echo.py): HTTP/2 downstream (h2c, and h2 over TLS by
# ALPN), routed by service path to a pool with "upstream_protocol": "h2c";
# unary (300 KB too), server, client and bidirectional streaming, trailing
# metadata and non-OK status codes with their messages intact; a method
# without a route is UNIMPLEMENTED; the gRPC health check type follows the
# server's SERVING / NOT_SERVING answer.
. "$(dirname "$0")/lib.sh"
need_python grpc
command -v openssl >/dev/null || skip "openssl is not installed"
G="$SRC/tests/tools/grpc-echo.py"
C="$T/certs"	# tandemd's --cert-dir
pki_self www www.example.test DNS:www.example.test
pki_made www

PG=$(free_port); PL=$(free_port); PS=$(free_port); PU=$(free_port)
start_grpc_echo grpc "$PG"
# the member of the "unary" pool: the one method /test.Echo/Unary goes there
start_grpc_echo grpc-u "$PU"
wait_ports "$PG" "$PU" || finish
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"h2c","address":"127.0.0.1","port":$PL,"http2":{"h2c":true},
               "access_log":{"path":"$T/access.log"}},
              {"name":"tls","address":"127.0.0.1","port":$PS,
               "tls":{"certificates":["www"],"alpn":["h2","http/1.1"]}}],
 "pools":[{"name":"g","upstream_protocol":"h2c","members":[{"address":"127.0.0.1","port":$PG}],
           "health_check":{"type":"grpc","interval_ms":300,"timeout_ms":250,"rise":1,"fall":1}},
          {"name":"unary","upstream_protocol":"h2c","members":[{"address":"127.0.0.1","port":$PU}]}],
 "routes":[{"name":"echo","listener":"h2c","path_prefix":"/test.Echo/","pool":"g"},
           {"name":"echo-unary","listener":"h2c","match":{"path_exact":"/test.Echo/Unary"},"pool":"unary"},
           {"name":"echo-tls","listener":"tls","path_prefix":"/test.Echo/","pool":"g"}]}
JSON
refused "h2c with proxy_protocol is refused" "$T/c.json" \
	'.pools[0].proxy_protocol = "v1"' 'pools\[0\].upstream_protocol'
start_tandemd "$T/c.json" --cert-dir "$T/certs" || finish
wait_port "$PL"

# a method without a route: UNIMPLEMENTED (the message follows)
grpc_echo_calls "gRPC over h2c: unary, streaming, trailers, status codes" \
	"unknown UNIMPLEMENTED" "127.0.0.1:$PL"
grpc_echo_calls "gRPC over TLS (ALPN h2): the same answers" \
	"unknown UNIMPLEMENTED" "127.0.0.1:$PS" "$T/certs/www.crt" www.example.test
# routing by method: the exact path of one method beats its service's prefix
# route (same priority: the more specific path first, doc/l7.md)
eq "one method by its exact path to its own pool, the service's others to theirs" \
	"/test.Echo/Unary $PU /test.Echo/ServerStream $PG /test.Echo/UnaryX UNIMPLEMENTED" \
	"$(echo $(timeout 30 $PY "$G" who "127.0.0.1:$PL" /test.Echo/Unary /test.Echo/ServerStream 2>&1
		timeout 30 $PY "$G" codes "127.0.0.1:$PL" /test.Echo/UnaryX 2>&1 | cut -d' ' -f1,2))"
ok "gRPC calls are in the access log with their route and member" -- \
	jq -se '[.[] | select(.path == "/test.Echo/Bidi" and .route == "echo" and .status == 200)] | length == 1' "$T/access.log"

ok "the gRPC health check passes while the server is SERVING" -- wait_member_state 0 up
touch "$T/grpc.notserving"
ok "NOT_SERVING takes the member down" -- wait_member_state 0 down
ok "the reason names it" -- status_says 'not SERVING'
rm -f "$T/grpc.notserving"
ok "SERVING again brings it back" -- wait_member_state 0 up
finish
