#!/usr/bin/env bash
# The L7 routing tier over the wire: virtual hosts (exact, wildcard), path
# exact / prefix / regex, method, header, query and client network matches;
# redirect, respond and deny actions; request and response header edits;
# prefix rewrite; forwarding headers and request ids; listener limits; and a
# reload whose new route serves the next request of a kept-alive connection.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"; start_backend b "$PB"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
   "limits":{"max_uri_bytes":200,"max_header_bytes":2048},
   "forwarding":{"trusted_proxies":["10.0.0.0/8"]},
   "request_id":"X-Request-Id"}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"b","members":[{"address":"127.0.0.1","port":$PB}]}],
 "routes":[
  {"name":"default","listener":"web","pool":"a"},
  {"name":"exact-host","listener":"web","host":"shop.example.com","pool":"b"},
  {"name":"wild","listener":"web","host":"*.example.org","pool":"b"},
  {"name":"exact-path","listener":"web","match":{"path_exact":"/exact"},"pool":"b","priority":50},
  {"name":"regex","listener":"web","match":{"path_regex":"^/users/[0-9]+$"},"pool":"b","priority":50},
  {"name":"post-only","listener":"web","path_prefix":"/m","match":{"methods":["POST"]},"pool":"b"},
  {"name":"hdr-present","listener":"web","path_prefix":"/h1","match":{"headers":[{"name":"X-Beta","present":true}]},"pool":"b"},
  {"name":"hdr-equals","listener":"web","path_prefix":"/h2","match":{"headers":[{"name":"X-Tier","equals":"gold"}]},"pool":"b"},
  {"name":"hdr-regex","listener":"web","path_prefix":"/h3","match":{"headers":[{"name":"User-Agent","regex":"^bot/"}]},"pool":"b"},
  {"name":"query","listener":"web","path_prefix":"/q","match":{"query":[{"name":"v","equals":"2"}]},"pool":"b"},
  {"name":"cidr-other","listener":"web","path_prefix":"/net","match":{"client_cidrs":["10.0.0.0/8"]},"pool":"b"},
  {"name":"redir","listener":"web","path_prefix":"/old","action":"redirect","redirect":{"status":301,"location":"https://{host}/new{path}?{query}"}},
  {"name":"fixed","listener":"web","path_prefix":"/ping","action":"respond","respond":{"status":200,"body":"pong\n","content_type":"text/plain"},"response_headers":{"set":{"X-Fixed":"1"}}},
  {"name":"denied","listener":"web","path_prefix":"/admin","action":"deny","deny":{"status":403}},
  {"name":"edit","listener":"web","path_prefix":"/edit","pool":"a",
   "request_headers":{"set":{"X-Set":"s"},"add":{"X-Add":"a"},"remove":["X-Drop"]},
   "response_headers":{"set":{"X-Resp":"r"},"remove":["X-Backend"]}},
  {"name":"rewrite","listener":"web","path_prefix":"/api/","rewrite_prefix":"/v2/","pool":"a"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"
URL="http://127.0.0.1:$PL"
who() { curl -s --max-time 5 "$@" | head -1; }

eq "default route" "backend a" "$(who "$URL/")"
eq "exact host" "backend b" "$(who -H 'Host: shop.example.com' "$URL/")"
eq "exact host with port and any case" "backend b" "$(who -H 'Host: SHOP.example.com:80' "$URL/")"
eq "wildcard host" "backend b" "$(who -H 'Host: x.y.example.org' "$URL/")"
eq "wildcard needs a label" "backend a" "$(who -H 'Host: example.org' "$URL/")"
eq "exact path" "backend b" "$(who "$URL/exact")"
eq "exact path does not match longer" "backend a" "$(who "$URL/exact/x")"
eq "exact path ignores the query" "backend b" "$(who "$URL/exact?x=1")"
eq "regex path" "backend b" "$(who "$URL/users/42")"
eq "regex path miss" "backend a" "$(who "$URL/users/4x")"
eq "method miss" "backend a" "$(who "$URL/m")"
eq "method match" "backend b" "$(curl -s -X POST "$URL/m" | head -1)"
eq "header present" "backend b" "$(who -H 'X-Beta: 1' "$URL/h1")"
eq "header absent: no match" "backend a" "$(who "$URL/h1")"
eq "header equals" "backend b" "$(who -H 'X-Tier: gold' "$URL/h2")"
eq "header equals miss" "backend a" "$(who -H 'X-Tier: silver' "$URL/h2")"
eq "header regex" "backend b" "$(who -A 'bot/1.0' "$URL/h3")"
eq "header regex miss" "backend a" "$(who -A 'curl' "$URL/h3")"
eq "query equals" "backend b" "$(who "$URL/q?a=1&v=2")"
eq "query miss" "backend a" "$(who "$URL/q?v=3")"
eq "client not in the route's networks" "backend a" "$(who "$URL/net")"

hdrs=$(curl -s -D - -o /dev/null -H 'Host: h.test' "$URL/old/x?y=1")
ok "redirect 301" -- grep -q '^HTTP/1.1 301' <<<"$hdrs"
ok "redirect Location from the template" -- grep -qi '^Location: https://h.test/new/old/x?y=1' <<<"$hdrs"
out=$(curl -s -i "$URL/ping")
ok "fixed response body" -- grep -q '^pong' <<<"$out"
ok "fixed response header" -- grep -qi '^X-Fixed: 1' <<<"$out"
eq "deny" 403 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/admin/x")"
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "$URL/ping" "$URL/admin" "$URL/" | awk '{s+=$1} END {print s}')
eq "local answers keep the connection" 1 "$n"

echo_out=$(curl -s -i -H 'X-Drop: 1' -H 'X-Set: old' "$URL/edit/echo")
ok "request header set" -- grep -qi '^X-Set: s' <<<"$echo_out"
ok "request header set replaces" -- bash -c "! grep -qi '^X-Set: old' <<<'$echo_out'"
ok "request header add" -- grep -qi '^X-Add: a' <<<"$echo_out"
ok "request header remove" -- bash -c "! grep -qi '^X-Drop' <<<'$echo_out'"
ok "response header set" -- grep -qi '^X-Resp: r' <<<"$echo_out"
ok "response header remove" -- bash -c "! grep -qi '^X-Backend' <<<'$echo_out'"
eq "prefix rewrite" "GET /v2/echo?k=1 HTTP/1.1" "$(curl -s "$URL/api/echo?k=1" | sed -n 2p)"

echo_out=$(curl -s -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Request-Id: forged' -H 'Host: f.test:81' "$URL/echo")
ok "X-Forwarded-For is the client (untrusted value dropped)" -- grep -qx 'X-Forwarded-For: 127.0.0.1' <<<"$echo_out"
ok "X-Forwarded-Proto" -- grep -qx 'X-Forwarded-Proto: http' <<<"$echo_out"
ok "X-Forwarded-Host" -- grep -qx 'X-Forwarded-Host: f.test:81' <<<"$echo_out"
ok "request id generated, untrusted one replaced" -- grep -qE '^X-Request-Id: [0-9a-f]{24}$' <<<"$echo_out"

long=$(printf '/%0300d' 0)
eq "URI over max_uri_bytes: 414" 414 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$long")"
eq "head over max_header_bytes: 431" 431 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(printf '%03000d' 0)" "$URL/")"

# A reload: the next request of a kept-alive connection takes the new route.
cat >"$T/reload.py" <<'PY'
import socket, sys, subprocess, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def get():
    s.sendall(b"GET /fresh HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < n:
        body += s.recv(4096)
    return body.decode().splitlines()[0]
print(get())
subprocess.run(sys.argv[2:], check=True)
time.sleep(0.5)
print(get())
PY
sed 's/"routes":\[/"routes":[{"name":"fresh","listener":"web","path_prefix":"\/fresh","pool":"b"},/; s/"revision":1/"revision":2/' "$T/c.json" >"$T/c2.json"
cp "$T/c2.json" "$T/c.next"
out=$(python3 "$T/reload.py" "$PL" bash -c "cp '$T/c2.json' '$T/c.json' && '$B/daemon/tandemctl' -s '$T/tandemd.sock' reload >/dev/null" | tr '\n' ' ')
eq "new route serves the next request on a kept-alive connection" "backend a backend b " "$out"
finish
