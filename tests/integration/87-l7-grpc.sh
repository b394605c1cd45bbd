#!/usr/bin/env bash
# gRPC through the proxy with a real gRPC client and server (python3-grpcio,
# tests/tools/grpc-echo.py): HTTP/2 downstream (h2c, and h2 over TLS by
# ALPN), routed by service path to a pool with "upstream_protocol": "h2c";
# unary (300 KB too), server, client and bidirectional streaming, trailing
# metadata and non-OK status codes with their messages intact; a method
# without a route is UNIMPLEMENTED; the gRPC health check type follows the
# server's SERVING / NOT_SERVING answer.
. "$(dirname "$0")/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# Debian's, where python3-grpcio lives
$PY -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"
G="$SRC/tests/tools/grpc-echo.py"
C="$T/certs"	# tandemd's --cert-dir
pki_self www www.example.test DNS:www.example.test
pki_made www

PG=$(free_port); PL=$(free_port); PS=$(free_port); PU=$(free_port)
$PY "$G" server "$PG" "$T/notserving" >"$T/grpc-server.log" 2>&1 &
PIDS+=($!)
# the member of the "unary" pool: the one method /test.Echo/Unary goes there
$PY "$G" server "$PU" "$T/notserving-u" >"$T/grpc-server-u.log" 2>&1 &
PIDS+=($!)
wait_port "$PG" && wait_port "$PU" || { echo "gRPC server did not start"; finish; }
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
jq '.pools[0].proxy_protocol = "v1"' "$T/c.json" >"$T/bad.json"
"$B/daemon/tandemd" --check "$T/bad.json" >"$T/check.out" 2>&1
ok "h2c with proxy_protocol is refused" -- grep -q 'pools\[0\].upstream_protocol' "$T/check.out"
start_tandemd "$T/c.json" --cert-dir "$T/certs" || finish
wait_port "$PL"

expect="unary echo:hello yes OK
unary-300k intact
fail NOT_FOUND no such thing
down UNAVAILABLE member says no
unknown UNIMPLEMENTED
server-stream 50 part 0 part 49
client-stream got 100 messages, 100000 bytes
bidi ONE TWO THREE"
norm() { sed 's/^unknown UNIMPLEMENTED.*/unknown UNIMPLEMENTED/' | grep -v '^E[0-9]'; }
out=$(timeout 60 $PY "$G" client "127.0.0.1:$PL" 2>"$T/client.err" | norm)
eq "gRPC over h2c: unary, streaming, trailers, status codes" "$expect" "$out"
out=$(timeout 60 $PY "$G" client "127.0.0.1:$PS" "$T/certs/www.crt" www.example.test 2>"$T/client-tls.err" | norm)
eq "gRPC over TLS (ALPN h2): the same answers" "$expect" "$out"
# routing by method: the exact path of one method beats its service's prefix
# route (same priority: the more specific path first, doc/l7.md)
eq "one method by its exact path to its own pool, the service's others to theirs" \
	"/test.Echo/Unary $PU /test.Echo/ServerStream $PG /test.Echo/UnaryX UNIMPLEMENTED" \
	"$(echo $(timeout 30 $PY "$G" who "127.0.0.1:$PL" /test.Echo/Unary /test.Echo/ServerStream 2>&1
		timeout 30 $PY "$G" codes "127.0.0.1:$PL" /test.Echo/UnaryX 2>&1 | cut -d' ' -f1,2))"
ok "gRPC calls are in the access log with their route and member" -- \
	jq -se '[.[] | select(.path == "/test.Echo/Bidi" and .route == "echo" and .status == 200)] | length == 1' "$T/access.log"

state() { "$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq -r '.pools[0].members[0].state'; }
waitstate() { for _ in $(seq 50); do [ "$(state)" = "$1" ] && return 0; sleep 0.1; done; return 1; }
ok "the gRPC health check passes while the server is SERVING" -- waitstate up
touch "$T/notserving"
ok "NOT_SERVING takes the member down" -- waitstate down
ok "the reason names it" -- sh -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' status | grep -q 'not SERVING'"
rm -f "$T/notserving"
ok "SERVING again brings it back" -- waitstate up
finish
