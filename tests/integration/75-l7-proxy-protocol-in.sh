#!/usr/bin/env bash
# The PROXY protocol accepted from trusted downstreams (listener
# "accept_proxy"): v1 and v2 (IPv4, IPv6, LOCAL) from a trusted source set
# the client address used for X-Forwarded-For, Forwarded, client_cidrs and
# the access log, for every request of the connection; a trusted source without a
# header, a malformed header, and a header from an untrusted source get 400
# and a close, and the member never sees those requests.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PL=$(free_port)
DEMO_BACKEND_LOG=1 start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "accept_proxy":{"trusted":["127.0.0.1"]},"forwarding":{"forwarded":true},
               "access_log":{"path":"$T/access.log"}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"inside","listener":"web","path_prefix":"/cidr","match":{"client_cidrs":["192.0.2.0/24"]},
            "action":"respond","respond":{"body":"inside\n"}},
           {"name":"all","listener":"web","pool":"a"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"

# send.py SOURCE-ADDRESS HEX-OR-TEXT...: sends the pieces (a 0.2 s pause
# between them, so a header may arrive split), then prints every byte the
# proxy sends until it closes, or "TIMEOUT" when it does not within 5 s.
cat >"$T/send.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
for i, p in enumerate(sys.argv[3:]):
    if i:
        time.sleep(0.2)
    s.sendall(bytes.fromhex(p[4:]) if p.startswith("hex:") else p.encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(5)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    out += b"TIMEOUT"
sys.stdout.write(out.decode("latin-1"))
PY
send() { python3 "$T/send.py" "$@" 2>&1; }
REQ='GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n'
LAST='GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
SIG=0d0a0d0a000d0a515549540a

out=$(send 127.0.0.1 "$PL" 'PROXY TCP4 192.0.2.7 198.51.100.1 40000 80\r\n' "$REQ" "$LAST")
ok "v1 from a trusted source: X-Forwarded-For is the PROXY client (spoofed one dropped)" -- \
	bash -c '[ "$(grep -ci "^X-Forwarded-For: 192.0.2.7" <<<"$1")" = 2 ] && ! grep -q 6.6.6.6 <<<"$1"' _ "$out"
ok "v1: both requests of the connection answered" -- bash -c '[ "$(grep -c "^HTTP/1.1 200" <<<"$1")" = 2 ]' _ "$out"

# v2, header split over two writes: TCP4 10.1.2.3:40000 -> 127.0.0.1:80
out=$(send 127.0.0.1 "$PL" "hex:${SIG}2111000c" "hex:0a010203""7f000001""9c400050" "$LAST")
ok "v2 TCP4 (header split over two reads)" -- grep -qi "^X-Forwarded-For: 10.1.2.3" <<<"$out"
ok "Forwarded names the PROXY client" -- grep -q '^Forwarded: for=10.1.2.3;proto=http' <<<"$out"
# v2 TCP6 with a TLV after the addresses: 2001:db8::5
out=$(send 127.0.0.1 "$PL" "hex:${SIG}21210027""20010db8000000000000000000000005""00000000000000000000000000000001""d4310050""040000" "$LAST")
ok "v2 TCP6 with a TLV" -- grep -qi "^X-Forwarded-For: 2001:db8::5" <<<"$out"
ok "Forwarded (RFC 7239) quotes the IPv6 client" -- grep -q '^Forwarded: for="\[2001:db8::5\]";proto=http' <<<"$out"
out=$(send 127.0.0.1 "$PL" "hex:${SIG}20000000" "$LAST")
ok "v2 LOCAL: the peer stays the client" -- grep -qi "^X-Forwarded-For: 127.0.0.1" <<<"$out"

out=$(send 127.0.0.1 "$PL" 'PROXY TCP4 192.0.2.9 198.51.100.1 1234 80\r\nGET /cidr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
ok "client_cidrs match the PROXY client" -- grep -q "^inside" <<<"$out"
out=$(send 127.0.0.1 "$PL" 'PROXY TCP4 203.0.113.1 198.51.100.1 1234 80\r\nGET /cidr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
ok "client_cidrs: another PROXY client falls through to the pool" -- grep -q "^backend a" <<<"$out"

: >"$T/backend-a.log"
out=$(send 127.0.0.1 "$PL" 'GET /echo?no-header HTTP/1.1\r\nHost: x\r\n\r\n')
ok "trusted source without a PROXY header: 400 and close" -- bash -c 'grep -q "^HTTP/1.1 400" <<<"$1" && ! grep -q TIMEOUT <<<"$1"' _ "$out"
out=$(send 127.0.0.1 "$PL" 'PROXY TCP4 192.0.2.7 198.51.100.1 040000 80\r\nGET /echo?malformed HTTP/1.1\r\nHost: x\r\n\r\n')
ok "malformed PROXY header: 400 and close" -- bash -c 'grep -q "^HTTP/1.1 400" <<<"$1" && ! grep -q TIMEOUT <<<"$1"' _ "$out"
out=$(send 127.0.0.2 "$PL" 'PROXY TCP4 192.0.2.7 198.51.100.1 40000 80\r\nGET /echo?untrusted HTTP/1.1\r\nHost: x\r\n\r\n')
ok "PROXY v1 from an untrusted source: 400 and close" -- bash -c 'grep -q "^HTTP/1.1 400" <<<"$1" && ! grep -q TIMEOUT <<<"$1"' _ "$out"
out=$(send 127.0.0.2 "$PL" "hex:${SIG}2111000c0a0102037f0000019c400050" 'GET /echo?untrusted2 HTTP/1.1\r\nHost: x\r\n\r\n')
ok "PROXY v2 from an untrusted source: 400 and close" -- bash -c 'grep -q "^HTTP/1.1 400" <<<"$1" && ! grep -q TIMEOUT <<<"$1"' _ "$out"
sleep 0.2
ok "the member saw none of the refused requests" -- bash -c "! grep -qE 'no-header|malformed|untrusted' '$T/backend-a.log'"
out=$(send 127.0.0.2 "$PL" "$LAST")
ok "plain HTTP from an untrusted source is served, its own address forwarded" -- grep -qi "^X-Forwarded-For: 127.0.0.2" <<<"$out"

sleep 0.3
ok "the access log names the PROXY client" -- jq -se 'any(.[]; .client == "192.0.2.7" and .status == 200)' "$T/access.log"
ok "the refused requests are logged with 400" -- jq -se '[.[] | select(.status == 400)] | length == 4' "$T/access.log"

# config checks: trusted is required
sed 's/"accept_proxy":{"trusted":\["127.0.0.1"\]}/"accept_proxy":{}/' "$T/c.json" >"$T/bad.json"
ok "--check: accept_proxy without trusted is refused" -- bash -c \
	"'$B/daemon/tandemd' --check '$T/bad.json' 2>&1 | grep -q 'accept_proxy.trusted'"
finish
