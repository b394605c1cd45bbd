#!/usr/bin/env bash
# TLS termination end to end with real OpenSSL: certificates uploaded
# through the API, a TLS listener configured through the API (its fields
# round-trip), apply writes the files for tandemd with tight modes; then
# openssl s_client and curl against tandemd: SNI picks the certificate
# (exact, wildcard, default), RSA or ECDSA by the client's signature
# algorithms, ALPN as configured, session tickets resume, a rotated ticket
# key still resumes, a key rotated out does not, tickets resume across a
# binary upgrade (not when the new process got no keys), curl reaches the backend
# with X-Forwarded-Proto https, garbage and plain HTTP on the TLS port are
# closed cleanly; an unknown certificate name refuses the apply; the ticket
# key lifetime from the config (settings API): scheduled rotations keep the
# previous key, a bad lifetime refuses the reload, rotation through the API
# (a viewer is refused).
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command missing"
jqq() { jq -e "$@" >/dev/null; }
command -v jq >/dev/null || skip "jq missing"
command -v python3 >/dev/null || skip "python3 missing"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"

pki_ca ca "IT TLS Root"
# client certificates: their own CA; "client1" signed by it
pki_ca cca "IT Client CA"
pki_leaf client1 cca "/O=Tandem/CN=client1"
PKI_KEY=rsa pki_leaf www-rsa ca www.example.test "DNS:www.example.test"
pki_leaf www-ec ca www.example.test "DNS:www.example.test"
pki_leaf api ca api.example.test "DNS:api.example.test,DNS:*.api.example.test"
pki_made www-rsa www-ec api cca client1

PA=$(free_port); PL=$(free_port)
start_backend a "$PA" || finish

start_stack "" -w 1 --cert-dir "$T/state/certs" || finish

for n in www-rsa www-ec api; do upload_cert "$n" "$C/$n.crt" "$C/$n.key"; eq "upload $n: 201" 201 "$STATUS"; done
api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PA}]}"
eq "pool: 201" 201 "$STATUS"
api POST /listeners "{\"name\":\"tls\",\"address\":\"127.0.0.1\",\"port\":$PL,\"tls\":{\"certificates\":[\"www-rsa\",\"www-ec\",\"nope\"],\"alpn\":[\"http/1.1\"]}}"
eq "TLS listener: 201" 201 "$STATUS"
ok "tls fields read back" -- jqq '.tls.certificates == ["www-rsa","www-ec","nope"] and .tls.alpn == ["http/1.1"]' <<<"$BODY"
api POST /routes '{"name":"all","listener":"tls","pool":"app"}'
eq "route: 201" 201 "$STATUS"
api PUT /listeners/tls '{"tls":{"certificates":["www-rsa"],"alpn":["spdy/3"]}}'
eq "unknown ALPN protocol: 422" 422 "$STATUS"
eq "... on the field" "listeners/tls/tls.alpn[0]" "$(jq -r .error.field <<<"$BODY")"
api POST /apply '{"comment":"unknown certificate"}'
eq "apply with an unknown certificate name: 422" 422 "$STATUS"
ok "... the error names it" -- jqq '[.errors[] | select(.message | test("no certificate named \"nope\""))] | length == 1' <<<"$BODY"
api PUT /listeners/tls '{"tls":{"certificates":["www-rsa","www-ec","api"],"alpn":["http/1.1"]}}'
eq "fix the listener: 200" 200 "$STATUS"
api GET /listeners/tls
ok "GET returns the new tls fields" -- jqq '.tls.certificates == ["www-rsa","www-ec","api"]' <<<"$BODY"
api POST /apply '{"comment":"tls"}'
eq "apply: 200" 200 "$STATUS"

eq "certificate directory is 0750" 750 "$(stat -c %a "$T/state/certs")"
eq "key files are 0600" "600 600 600" "$(stat -c %a "$T/state/certs/www-rsa.key" "$T/state/certs/www-ec.key" "$T/state/certs/api.key" | xargs)"
eq "chain files are 0640" "640" "$(stat -c %a "$T/state/certs/api.crt")"
eq "key file owner is the admin's user" "$(id -un)" "$(stat -c %U "$T/state/certs/api.key")"
ok "key file holds the uploaded key" -- cmp -s <(openssl pkey -in "$C/api.key") <(openssl pkey -in "$T/state/certs/api.key")

S="openssl s_client -connect 127.0.0.1:$PL"
sc() { echo | timeout 10 $S "$@" 2>&1; }
subj() { sc "$@" | sed -n 's/^subject=//p' | head -1 | tr -d ' '; }
eq "SNI www.example.test: its certificate" "CN=www.example.test" "$(subj -servername www.example.test)"
eq "SNI x.api.example.test: the wildcard certificate" "CN=api.example.test" "$(subj -servername x.api.example.test)"
eq "SNI API.EXAMPLE.TEST.: case and trailing dot ignored" "CN=api.example.test" "$(subj -servername API.EXAMPLE.TEST.)"
eq "unknown SNI: the default (first) certificate" "CN=www.example.test" "$(subj -servername other.test)"
eq "no SNI: the default certificate" "CN=www.example.test" "$(subj -noservername)"
ok "ECDSA signature algorithms: the ECDSA certificate" -- bash -c "echo | $S -servername www.example.test -sigalgs ECDSA+SHA256 2>&1 | grep -q 'Peer signature type: ECDSA'"
ok "RSA signature algorithms: the RSA certificate" -- bash -c "echo | $S -servername www.example.test -sigalgs 'rsa_pss_rsae_sha256:RSA+SHA256' 2>&1 | grep -q 'Server public key is 2048 bit'"
ok "TLS 1.2 with ECDHE-RSA works" -- bash -c "echo | $S -servername www.example.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 2>&1 | grep -q 'Cipher is ECDHE-RSA-AES128-GCM-SHA256'"
# (SECLEVEL=0: OpenSSL 3's client refuses TLS 1.1 itself at its default level)
ok "TLS 1.1 is refused" -- bash -c "! (echo | $S -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 | grep -q 'Cipher is ECDHE')"
ok "ALPN http/1.1 negotiated" -- bash -c "echo | $S -alpn h2,http/1.1 2>&1 | grep -q 'ALPN protocol: http/1.1'"
ok "ALPN h2 only: none negotiated (not configured)" -- bash -c "echo | $S -alpn h2 2>&1 | grep -q 'No ALPN negotiated'"

# Sessions: the ticket arrives after the handshake, so each client sends a
# request and reads the answer (Connection: close) before it leaves.
REQ=$'GET /echo/s HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n'
sess() { # sess OUT|IN FILE [TLS-VERSION-FLAG]
	printf '%s' "$REQ" | timeout 10 $S -servername www.example.test -ign_eof ${3:-} "-sess_${1}" "$2" 2>&1
}
for v in -tls1_3 -tls1_2; do
	sess out "$T/s$v" "$v" >"$T/first$v.txt"
	ok "$v: a full handshake and an answer" -- grep -q "^GET /echo/s" "$T/first$v.txt"
	ok "$v: the ticket resumes" -- bash -c "printf '%s' \"\$0\" | timeout 10 $S -servername www.example.test -ign_eof $v -sess_in '$T/s$v' 2>&1 | grep -q '^Reused'" "$REQ"
done
sess out "$T/s-rot" -tls1_3 >/dev/null
"$B/daemon/tandemctl" -s "$T/tandemd.sock" tls-rotate-keys >"$T/rotate.out" 2>&1
ok "tandemctl tls-rotate-keys" -- grep -q "ticket key rotated" "$T/rotate.out"
ok "a ticket under the previous key still resumes" -- bash -c "printf '%s' \"\$0\" | timeout 10 $S -servername www.example.test -ign_eof -tls1_3 -sess_in '$T/s-rot' 2>&1 | grep -q '^Reused'" "$REQ"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" tls-rotate-keys >/dev/null 2>&1
"$B/daemon/tandemctl" -s "$T/tandemd.sock" tls-rotate-keys >/dev/null 2>&1
ok "a ticket under a key rotated out: full handshake" -- bash -c "printf '%s' \"\$0\" | timeout 10 $S -servername www.example.test -ign_eof -tls1_3 -sess_in '$T/s-rot' 2>&1 | grep -q '^New'" "$REQ"

out=$(curl -s --max-time 10 --cacert "$C/ca.crt" --resolve "www.example.test:$PL:127.0.0.1" "https://www.example.test:$PL/echo/hello")
ok "curl over TLS (verified chain) reaches the backend" -- grep -q "^GET /echo/hello" <<<"$out"
ok "the backend sees X-Forwarded-Proto: https" -- grep -qi "^X-Forwarded-Proto: https" <<<"$out"
big=$(curl -s --max-time 10 --cacert "$C/ca.crt" --resolve "www.example.test:$PL:127.0.0.1" \
	"https://www.example.test:$PL/echo/[1-20]" | grep -c '^GET /echo/')
eq "20 requests over one keep-alive TLS connection" 20 "$big"

python3 - "$PL" >"$T/bad.txt" 2>&1 <<'PY'
import socket, sys
def probe(data):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(data)
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            got += d
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        pass	# closed with our unread bytes in its buffer: a reset is a close too
    s.close()
    return "closed " + ("http" if b"HTTP/" in got else "nohttp")
# a record header claiming a handshake, then garbage
print("garbage", probe(b"\x16\x03\x01\x00\x30" + b"\xff" * 48))
print("plain", probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
PY
ok "malformed ClientHello: the connection is closed" -- grep -q "^garbage closed nohttp" "$T/bad.txt"
ok "plain HTTP to the TLS port: closed, no HTTP answer" -- grep -q "^plain closed nohttp" "$T/bad.txt"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" stats >"$T/stats.json"
ok "stats count handshakes, resumptions and failures" -- jqq '.l7.tls_handshakes >= 10 and .l7.tls_resumed >= 3 and .l7.tls_handshake_failures >= 2' "$T/stats.json"
ok "still serving after the bad clients" -- bash -c "curl -s --max-time 10 --cacert '$C/ca.crt' --resolve 'www.example.test:$PL:127.0.0.1' 'https://www.example.test:$PL/echo/after' | grep -q 'GET /echo/after'"

# Binary upgrade: the new tandemd takes the whole ticket key ring over
# (doc/tls.md "Ticket keys across a binary upgrade"): tickets under the
# current key (TLS 1.3 and 1.2) and under the previous one resume there.
resumes() { # resumes FILE [TLS-VERSION-FLAG]: Reused or New
	printf '%s' "$REQ" | timeout 10 $S -servername www.example.test -ign_eof ${2:-} -sess_in "$1" 2>&1 |
		grep -o -m1 -E '^(Reused|New)'
}
sess out "$T/s-prev" -tls1_3 >/dev/null
made=$(ctl --json tls-rotate-keys | jq -r .current_created)
sess out "$T/s-up13" -tls1_3 >/dev/null
sess out "$T/s-up12" -tls1_2 >/dev/null
old=$(ctl status --json | jq .pid)
ok "tandemctl upgrade" -- ctl upgrade 10
new=$(ctl status --json | jq .pid)
ok "a new tandemd serves ($old -> $new)" -- test -n "$new" -a "$new" != "$old"
eq "TLS 1.3 ticket from before the upgrade resumes" Reused "$(resumes "$T/s-up13" -tls1_3)"
eq "TLS 1.2 ticket from before the upgrade resumes" Reused "$(resumes "$T/s-up12" -tls1_2)"
eq "a ticket under the previous key resumes too" Reused "$(resumes "$T/s-prev" -tls1_3)"
ok "the new tandemd took the 3 keys, current one as made (schedule kept)" -- \
	grep -q "took over 3 session ticket keys from the old tandemd (current key made at unix time $made)" "$T/tandemd.log"
# Without the keys the upgrade still happens, with new keys: a tandemd
# started by hand with --upgrade is not the process an upgrade started, so
# the old one refuses it the keys and its tickets make a full handshake.
sess out "$T/s-man" -tls1_3 >/dev/null
eq "(the ticket resumes before)" Reused "$(resumes "$T/s-man" -tls1_3)"
"$B/daemon/tandemd" -c "$T/tandem.json" -s "$T/tandemd.sock" -w 1 --cert-dir "$T/state/certs" --upgrade \
	>"$T/tandemd-man.log" 2>&1 &
MAN=$!
PIDS+=($MAN)
# (the control socket is the new process's last step of the takeover)
for _ in $(seq 150); do [ "$(ctl status --json 2>/dev/null | jq .pid)" = "$MAN" ] && break; sleep 0.1; done
eq "manual --upgrade: this process serves" "$MAN" "$(ctl status --json | jq .pid)"
ok "... warned that it has no ticket keys of the old one" -- grep -q 'no session ticket keys from the old tandemd; new keys' "$T/tandemd-man.log"
ok "... which refused them" -- grep -q 'refused upgrade-keys: ticket keys go only to the tandemd this upgrade started' "$T/tandemd-man.log"
eq "... and the ticket makes a full handshake" New "$(resumes "$T/s-man" -tls1_3)"
eq "... on a working listener" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$C/ca.crt" --resolve "www.example.test:$PL:127.0.0.1" "https://www.example.test:$PL/echo/up")"

api GET /listeners/tls
ok "no API answer holds a key" -- bash -c "! grep -q PRIVATE <<<'$BODY'"
key_line=$(sed -n 2p "$C/api.key")
ok "no log holds key material" -- bash -c "! grep -rqF -- '$key_line' '$T'/*.log '$T'/*.out 2>/dev/null"

# Ticket key lifetime from the config, set through the settings API
# (doc/tls.md "Ticket key lifetime"); rotation on demand through the API.
tk() { ctl status --json | jq -c ".tls.ticket_keys | $1"; }
wait_rotated() { # wait_rotated CREATED: until the current key is newer (20 s at most)
	local i
	for i in $(seq 100); do [ "$(tk .current_created)" -gt "$1" ] && return 0; sleep 0.2; done
	return 1
}
eq "lifetime: the command line's by default" '[43200,"command line"]' "$(tk '[.lifetime_s,.lifetime_from]')"
api PUT /settings '{"tls":{"ticket_key_lifetime":4}}'
eq "settings: a lifetime of 4 s is refused (422)" 422 "$STATUS"
ok "... on settings/tls.ticket_key_lifetime, with the range" -- jqq '.error.field == "settings/tls.ticket_key_lifetime" and (.error.message | test("0 .* or 5-604800"))' <<<"$BODY"
sess out "$T/s-life" -tls1_3 >/dev/null
k0=$(tk .current_created)
api PUT /settings '{"tls":{"ticket_key_lifetime":5}}'
eq "settings: lifetime 5 s (200)" 200 "$STATUS"
api POST /apply '{"comment":"ticket key lifetime 5 s"}'
eq "apply: 200" 200 "$STATUS"
eq "tandemd runs the config's lifetime" '[5,"config"]' "$(tk '[.lifetime_s,.lifetime_from]')"
ctl status >"$T/status.txt"
ok "tandemctl status shows it" -- grep -q '^ticket keys [1-3]  current made 20[0-9-]*T[0-9:]*Z  lifetime 5s (from the config)$' "$T/status.txt"
ok "the old key was older than 5 s: rotated by the schedule" -- wait_rotated "$k0"
eq "a ticket from before the reload and the rotation resumes" Reused "$(resumes "$T/s-life" -tls1_3)"
k1=$(tk .current_created)
sess out "$T/s-k1" -tls1_3 >/dev/null
ok "the next scheduled rotation" -- wait_rotated "$k1"
k2=$(tk .current_created)
ok "... came after the lifetime ($k1 -> $k2)" -- test "$k2" -ge $((k1 + 5))
eq "... and the ticket under the previous key resumes" Reused "$(resumes "$T/s-k1" -tls1_3)"
cp "$T/tandem.json" "$T/tandem.json.good"
jq '.tls.ticket_key_lifetime = 3' "$T/tandem.json.good" >"$T/tandem.json"
ok "a reload with a lifetime of 3 s is refused" -- bash -c "! '$B/daemon/tandemctl' -s '$T/tandemd.sock' reload >'$T/reload-bad.out' 2>&1"
ok "... naming the field and the range" -- grep -q 'tls.ticket_key_lifetime: must be 0 (rotate only on command) or 5-604800 seconds' "$T/reload-bad.out"
cp "$T/tandem.json.good" "$T/tandem.json"
eq "... and the lifetime of 5 s keeps serving" '[5,"config"]' "$(tk '[.lifetime_s,.lifetime_from]')"
api PUT /settings '{"tls":{"ticket_key_lifetime":0}}'
api POST /apply '{"comment":"ticket keys only on command"}'
eq "lifetime 0: applied" 200 "$STATUS"
eq "... no scheduled rotation" '[0,null]' "$(tk '[.lifetime_s,.next_rotation]')"
api GET /tls/ticket-keys
ok "GET /tls/ticket-keys: the store without secrets" -- jqq '(keys == ["current_created","keys","lifetime_from","lifetime_s","next_rotation"]) and .lifetime_s == 0' <<<"$BODY"
kc=$(jq .current_created <<<"$BODY")
while [ "$(date +%s)" -le "$kc" ]; do sleep 0.2; done	# a new key gets a later second
sess out "$T/s-api" -tls1_3 >/dev/null
api POST /tls/rotate-keys
eq "POST /tls/rotate-keys: 200" 200 "$STATUS"
ok "... the new key's creation time, 3 keys, no key material" -- jqq "(keys == [\"current_created\",\"keys\",\"lifetime_from\",\"lifetime_s\",\"next_rotation\"]) and .current_created > $kc and .keys == 3" <<<"$BODY"
eq "... tandemd's status agrees" "$(jq .current_created <<<"$BODY")" "$(tk .current_created)"
eq "... a ticket under the previous key resumes" Reused "$(resumes "$T/s-api" -tls1_3)"
ok "... the rotation is logged with the user" -- grep -q 'user "admin" rotated the session ticket key' "$T/admin.log"
ADMIN_CSRF=$CSRF; CSRF=""
api POST /tls/rotate-keys
eq "without the CSRF token: 403 csrf" "403 csrf" "$STATUS $(jq -r .error.code <<<"$BODY")"
# A viewer (the admin's password hash under another name and role).
sqlite3 "$T/state/tandem.db" "INSERT INTO users (username, hash, role, created) SELECT 'ro', hash, 'viewer', created FROM users WHERE username = 'admin'"
cp "$T/cookies" "$T/cookies.admin"
api POST /session "{\"username\":\"ro\",\"password\":\"$ADMIN_PASSWORD\"}"
eq "viewer login" 200 "$STATUS"
CSRF=$(jq -r .csrf_token <<<"$BODY")
kv=$(tk .current_created)
api POST /tls/rotate-keys
eq "viewer: POST /tls/rotate-keys is 403 forbidden" "403 forbidden" "$STATUS $(jq -r .error.code <<<"$BODY")"
eq "... nothing rotated" "$kv" "$(tk .current_created)"
api GET /tls/ticket-keys
eq "viewer: GET /tls/ticket-keys is 200" 200 "$STATUS"
cp "$T/cookies.admin" "$T/cookies"; CSRF=$ADMIN_CSRF
api PUT /settings '{"tls":null}'
api POST /apply '{"comment":"ticket key lifetime from the command line"}'
eq "the setting removed: the command line's lifetime again" '[43200,"command line"]' "$(tk '[.lifetime_s,.lifetime_from]')"

# Client certificate authentication against an uploaded CA bundle.
upload_ca leaf "$C/www-ec.crt"
eq "a leaf certificate as CA bundle: 422" 422 "$STATUS"
ok "... the reason says it is not a CA" -- jqq '.error.field == "ca-bundles/leaf/pem" and (.error.message | test("not a CA"))' <<<"$BODY"
upload_ca clients "$C/cca.crt"
eq "CA bundle upload: 201" 201 "$STATUS"
ok "... with its subjects" -- jqq '.subjects == ["CN=IT Client CA"] and .count == 1' <<<"$BODY"
api PUT /listeners/tls '{"tls":{"certificates":["www-rsa","www-ec"],"client_auth":{"mode":"required","ca":"clients"}}}'
eq "listener with client_auth: 200" 200 "$STATUS"
ok "client_auth reads back" -- jqq '.tls.client_auth == {"mode":"required","ca":"clients"}' <<<"$BODY"
api POST /apply '{"comment":"client auth"}'
eq "apply with client_auth: 200" 200 "$STATUS"
eq "CA bundle file written" 640 "$(stat -c %a "$T/state/certs/clients.ca")"
api DELETE /ca-bundles/clients
eq "a CA bundle in use cannot be deleted: 409" 409 "$STATUS"
ok "... the refusal names the listener" -- jqq '.error.code == "in_use" and (.error.message | test("listener \"tls\""))' <<<"$BODY"
api GET /ca-bundles
ok "the CA bundle list has its expiry fields" -- jqq '.[0].name == "clients" and (.[0].days_to_expiry | type) == "number" and .[0].expired == false' <<<"$BODY"
CURL=(curl -s --max-time 10 --cacert "$C/ca.crt" --resolve "www.example.test:$PL:127.0.0.1")
ok "required: no client certificate, no answer" -- bash -c "! ${CURL[*]} https://www.example.test:$PL/echo/nocert | grep -q GET"
out=$("${CURL[@]}" --cert "$C/client1.crt" --key "$C/client1.key" -H "X-Client-Subject: CN=forged" "https://www.example.test:$PL/echo/cert")
ok "required: a verified client certificate gets through" -- grep -q "^GET /echo/cert" <<<"$out"
eq "the backend gets the verified subject, not the client's header" "X-Client-Subject: CN=client1,O=Tandem" "$(grep -i '^X-Client-Subject' <<<"$out")"
api PUT /listeners/tls '{"tls":{"certificates":["www-rsa","www-ec"],"client_auth":{"mode":"optional","ca":"clients","subject_header":"X-SSL-Subject"}}}'
api POST /apply '{"comment":"client auth optional"}'
eq "apply with optional client_auth: 200" 200 "$STATUS"
out=$("${CURL[@]}" -H "X-SSL-Subject: CN=forged" "https://www.example.test:$PL/echo/opt")
ok "optional: no client certificate still gets through" -- grep -q "^GET /echo/opt" <<<"$out"
ok "... and a forged subject header is removed" -- bash -c "! grep -qi '^X-SSL-Subject' <<<'$out'"

# The certificate is deleted from the listener: its files go at the next apply.
api PUT /listeners/tls '{"tls":{"certificates":["www-ec"]}}'
api POST /apply '{"comment":"one certificate"}'
eq "apply with one certificate: 200" 200 "$STATUS"
ok "files of certificates no longer named are removed" -- bash -c "[ ! -e '$T/state/certs/api.key' ] && [ ! -e '$T/state/certs/www-rsa.key' ] && [ ! -e '$T/state/certs/clients.ca' ] && [ -e '$T/state/certs/www-ec.key' ]"
eq "the new config serves the ECDSA certificate by default" "CN=www.example.test" "$(subj -noservername)"
api PUT /listeners/tls '{"tls":{"certificates":["www-ec"],"session_resumption":false}}'
api POST /apply '{"comment":"no resumption"}'
eq "apply with session_resumption false: 200" 200 "$STATUS"
sess out "$T/s-off13" -tls1_3 >/dev/null
ok "session_resumption false: TLS 1.3 gets no ticket" -- test ! -s "$T/s-off13"
sess out "$T/s-off12" -tls1_2 >/dev/null
ok "session_resumption false: TLS 1.2 gets neither a ticket nor a session id" -- test ! -s "$T/s-off12"
finish
