#!/usr/bin/env bash
# tandemd alone with a hand-written config: round robin over two real
# backends, keep-alive, Content-Length and chunked bodies both ways, 404 for
# no route, a refused member marked down and skipped, then back up.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"; start_backend b "$PB"
write_config "$T/c.json" 1 "$PL" "$PA" "$PB"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
URL="http://127.0.0.1:$PL"

counts=$(backend_counts "$URL/" 100)
eq "100 requests spread evenly over both backends" "a 50
b 50" "$counts"

# Keep-alive on the client side: 20 requests on one connection.
n=$(curl -s -o /dev/null -w '%{num_connects}\n' "$URL/"{1..20} | awk '{s+=$1} END {print s}')
eq "20 requests over one client connection" 1 "$n"

body=$(curl -s "$URL/bytes?n=3000000" | wc -c)
eq "3 MB Content-Length response streamed through" 3000000 "$body"
body=$(curl -s "$URL/chunked?n=1000" | tail -1)
eq "chunked response relayed to the end" "chunk 999" "$body"
head -c 5000000 /dev/urandom >"$T/up.bin"
sum=$(od -An -v -tu1 "$T/up.bin" | awk '{for(i=1;i<=NF;i++)s+=$i} END {printf "%d", s % 4294967296}')
got=$(curl -s --data-binary @"$T/up.bin" -H 'Content-Type: application/octet-stream' "$URL/upload")
ok "5 MB Content-Length upload arrives whole" -- grep -q "got 5000000 bytes sum $sum" <<<"$got"
got=$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T/up.bin" "$URL/upload")
ok "5 MB chunked upload arrives whole" -- grep -q "got 5000000 bytes sum $sum" <<<"$got"

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Length: 5' -H 'Transfer-Encoding: chunked' --data-binary 'hello' "$URL/")
eq "Content-Length with Transfer-Encoding refused" 400 "$code"
code=$(printf 'GET / HTTP/1.1\r\n\r\n' | timeout 5 nc -q 2 127.0.0.1 "$PL" 2>/dev/null | head -1 | awk '{print $2}')
eq "HTTP/1.1 request without Host refused" 400 "$code"

# A member that refuses connections is marked down and skipped.
stop_backend b
counts=$(backend_counts "$URL/" 30)
eq "with b stopped every request goes to a" "a 30" "$counts"
ok "tandemctl shows b down" -- bash -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' status --json | jq -e '.pools[0].members[] | select(.port == $PB) | .state == \"down\"' >/dev/null"
start_backend b "$PB"
sleep 2.5 # the first back-off is 1 s, doubled once at most by the requests above
counts=$(backend_counts "$URL/" 40 | awk '{print $1}' | tr '\n' ' ')
eq "b serves again after its back-off" "a b " "$counts"

# Both members gone: 503, never a hang.
stop_backend a; stop_backend b
code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$URL/")
ok "no member left: 502 or 503" -- bash -c "[ '$code' = 503 ] || [ '$code' = 502 ]"
finish
