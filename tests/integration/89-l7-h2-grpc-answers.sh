#!/usr/bin/env bash
# HTTP/2 request trailers and tandemd's own answers on HTTP/2 and gRPC
# (doc/http2.md): trailers a client sends after its body reach an h2c
# member as HTTP/2 trailers and an HTTP/1.1 member as a chunked trailer
# section; local answers to a gRPC call (no route, deny route, a rate
# rule's 429, no member, upstream timeout) reach a real gRPC client
# (python3-grpcio) as grpc-status codes with their messages; and a rate
# rule's deny and tarpit act on one stream while the other streams of the
# same HTTP/2 connection are served (python3-h2, tests/tools/h2-streams.py).
. "$(dirname "$0")/lib.sh"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# Debian's, where python3-grpcio lives
$PY -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
$PY -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed"
G="$SRC/tests/tools/grpc-echo.py"
H="$SRC/tests/tools/h2-streams.py"

PG=$(free_port); PO=$(free_port); PH=$(free_port); PD=$(free_port); PL=$(free_port)
$PY "$G" server "$PG" "$T/notserving" >"$T/grpc-server.log" 2>&1 &
PIDS+=($!)
$PY "$H" origin "$PO" "$T/conns" >"$T/origin.log" 2>&1 &
PIDS+=($!)
$PY "$H" h1origin "$PH" >"$T/h1origin.log" 2>&1 &
PIDS+=($!)
for p in "$PG" "$PO" "$PH"; do wait_port "$p" || { echo "origin on $p did not start"; finish; }; done
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"h2c","address":"127.0.0.1","port":$PL,"http2":{"h2c":true},
               "timeouts":{"upstream_response_ms":1000},
               "access_log":{"path":"$T/access.log"}}],
 "pools":[{"name":"g","upstream_protocol":"h2c","members":[{"address":"127.0.0.1","port":$PG}]},
          {"name":"o","upstream_protocol":"h2c","members":[{"address":"127.0.0.1","port":$PO}]},
          {"name":"h","members":[{"address":"127.0.0.1","port":$PH}]},
          {"name":"dead","upstream_protocol":"h2c",
           "members":[{"address":"127.0.0.1","port":$PD,"drain":true}]}],
 "routes":[{"name":"echo","listener":"h2c","path_prefix":"/test.Echo/","pool":"g"},
           {"name":"denied","listener":"h2c","path_prefix":"/test.Denied/","action":"deny"},
           {"name":"down","listener":"h2c","path_prefix":"/test.Down/","pool":"dead"},
           {"name":"t-h2","listener":"h2c","path_prefix":"/t-h2","pool":"o"},
           {"name":"t-h1","listener":"h2c","path_prefix":"/t-h1","pool":"h"},
           {"name":"fast","listener":"h2c","path_prefix":"/fast","pool":"o"},
           {"name":"deny","listener":"h2c","path_prefix":"/deny","pool":"o"},
           {"name":"tarpit","listener":"h2c","path_prefix":"/tarpit","pool":"o"}],
 "rate_rules":{"rules":[
   {"name":"grpc-limited","match":{"path":"/test.Echo/Limited"},
    "limit":{"requests":1,"period_s":60}},
   {"name":"deny-stream","match":{"path":"/deny"},
    "key":[{"type":"header","name":"x-key"}],"on_missing_key":"reject","missing_status":429},
   {"name":"tarpit-stream","match":{"path":"/tarpit"},"limit":{"requests":1,"period_s":60},
    "action":{"type":"tarpit","delay_ms":1500,"status":429}}]}}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"

# ---- request trailers ----
eq "HTTP/2 request trailers reach an h2c member as trailers" \
	"200 path=/t-h2 body=5 trailers=x-sum:42,x-tag:two" "$(timeout 20 $PY "$H" trailers "$PL" /t-h2)"
eq "... and an HTTP/1.1 member as a chunked trailer section" \
	"200 trailers=x-sum:42,x-tag:two" "$(timeout 20 $PY "$H" trailers "$PL" /t-h1)"

# ---- gRPC-shaped local answers ----
expect="/test.Nope/X UNIMPLEMENTED 404 Not Found
/test.Denied/X PERMISSION_DENIED 403 Forbidden
/test.Echo/Limited UNIMPLEMENTED Method not found!
/test.Echo/Limited RESOURCE_EXHAUSTED 429 Too Many Requests
/test.Down/X UNAVAILABLE 503 Service Unavailable
/test.Echo/Slow DEADLINE_EXCEEDED 504 Gateway Timeout
/test.Echo/Unary OK"
out=$(timeout 60 $PY "$G" codes "127.0.0.1:$PL" /test.Nope/X /test.Denied/X /test.Echo/Limited \
	/test.Echo/Limited /test.Down/X /test.Echo/Slow /test.Echo/Unary 2>"$T/codes.err" | grep -v '^E[0-9]')
eq "tandemd's own answers to gRPC calls carry grpc-status and grpc-message" "$expect" "$out"
ok "the access log keeps tandemd's HTTP verdict (429) for the limited call" -- \
	jq -se '[.[] | select(.path == "/test.Echo/Limited" and .status == 429)] | length == 1' "$T/access.log"
ok "a plain HTTP/2 request still gets plain HTTP statuses" -- \
	sh -c "timeout 20 $PY '$H' many $PL 1 /deny | grep -qx 'other x 1'"

# ---- deny and tarpit on one stream; the connection's other streams go on ----
eq "the first /tarpit is admitted" "200 x 1" "$(timeout 20 $PY "$H" many "$PL" 1 /tarpit | head -1)"
out=$(timeout 30 $PY "$H" mix "$PL")
eq "deny, tarpit and five good streams on one connection" \
	"deny 429
fast 5/5 before tarpit
tarpit 429" "$out"
finish
