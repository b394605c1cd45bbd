#!/usr/bin/env bash
# TLS towards pool members, end to end: nginx with TLS is the origin; the
# CA bundle and the client certificate are uploaded to the store and the
# pool's "tls" is set through the API. Checks: a verified connection works
# and the origin sees the configured SNI, the client certificate (mTLS) and
# a resumed session on the second connection; without server_name the
# member's IP address is verified and no SNI is sent; a wrong CA and a wrong
# name each give 502 with the reason in tandemd's log; "verify": "none" is
# explicit, works, and is warned about at load; an HTTP health check speaks
# TLS (and marks the member down when its certificate does not verify);
# the API refuses a pool without a CA bundle or verify none, and a CA bundle
# a pool uses cannot be deleted.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command missing"
command -v nginx >/dev/null || skip "nginx missing"
command -v jq >/dev/null || skip "jq missing"
jqq() { jq -e "$@" >/dev/null; }

pki_ca origin-ca "IT Origin CA"
pki_ca other-ca "IT Other CA"
pki_ca client-ca "IT LB Client CA"
pki_leaf origin origin-ca origin.test "DNS:origin.test,IP:127.0.0.1"
pki_leaf lbclient client-ca lbclient
pki_made origin lbclient other-ca

# The origin: nginx over TLS, answering with what it saw of our side. No
# keep-alive, so every request is a new connection (session resumption).
PO=$(free_port); PK=$(free_port); PL=$(free_port)
mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1;
pid $T/nginx/nginx.pid; error_log $T/nginx-error.log info;
events { worker_connections 64; }
http {
  access_log off; keepalive_timeout 0;
  client_body_temp_path $T/nginx/tmp; proxy_temp_path $T/nginx/tmp; fastcgi_temp_path $T/nginx/tmp;
  uwsgi_temp_path $T/nginx/tmp; scgi_temp_path $T/nginx/tmp;
  server {
    listen 127.0.0.1:$PO ssl; server_name origin.test;
    ssl_certificate $C/origin.crt; ssl_certificate_key $C/origin.key;
    ssl_client_certificate $C/client-ca.crt; ssl_verify_client optional;
    ssl_session_cache shared:s:1m; ssl_session_tickets on;
    location / { return 200 "sni=[\$ssl_server_name] reused=[\$ssl_session_reused] client=[\$ssl_client_s_dn] verify=[\$ssl_client_verify] alpn=[\$ssl_alpn_protocol]\n"; }
  }
  server {	# keep-alive: our idle TLS connections are reused
    listen 127.0.0.1:$PK ssl; server_name origin.test; keepalive_timeout 60s;
    ssl_certificate $C/origin.crt; ssl_certificate_key $C/origin.key;
    location / { return 200 "conn=[\$connection] reqs=[\$connection_requests]\n"; }
  }
}
EOF
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx.log" 2>&1 &
PIDS+=($!)
wait_port "$PO" || { cat "$T/nginx.log" "$T/nginx-error.log"; skip "nginx did not start"; }

start_stack "" -w 1 --cert-dir "$T/state/certs" || finish

upload_ca origin-ca "$C/origin-ca.crt"; eq "CA bundle origin-ca: 201" 201 "$STATUS"
upload_ca other-ca "$C/other-ca.crt"; eq "CA bundle other-ca: 201" 201 "$STATUS"
upload_cert lbclient "$C/lbclient.crt" "$C/lbclient.key"; eq "client certificate upload: 201" 201 "$STATUS"

api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PO}],\"tls\":{\"server_name\":\"origin.test\"}}"
eq "pool tls without a CA bundle: 422" 422 "$STATUS"
eq "... on the field" "pools/app/tls.ca" "$(jq -r .error.field <<<"$BODY")"
ok "... the message says how to skip verification" -- jqq '.error.message | test("verify")' <<<"$BODY"
api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PO}],\"tls\":{\"ca\":\"origin-ca\",\"verify\":\"maybe\"}}"
eq "pool tls verify maybe: 422" 422 "$STATUS"
api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PO}],\"tls\":{\"ca\":\"origin-ca\",\"server_name\":\"origin.test\",\"client_certificate\":\"lbclient\"}}"
eq "pool with tls: 201" 201 "$STATUS"
ok "tls fields read back" -- jqq '.tls == {"ca":"origin-ca","server_name":"origin.test","client_certificate":"lbclient"}' <<<"$BODY"
api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL}"
api POST /routes '{"name":"all","listener":"web","pool":"app"}'
eq "route: 201" 201 "$STATUS"
api POST /pools "{\"name\":\"ka\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PK}],\"tls\":{\"ca\":\"origin-ca\",\"server_name\":\"origin.test\"}}"
api POST /routes '{"name":"ka","listener":"web","path_prefix":"/ka/","pool":"ka"}'
eq "keep-alive pool and route: 201" 201 "$STATUS"
api PUT /pools/ka '{"tls":{"ca":"nope","server_name":"origin.test"}}'
api POST /apply '{"comment":"unknown CA bundle"}'
eq "apply with an unknown CA bundle: 422" 422 "$STATUS"
ok "... the error names it" -- jqq '[.errors[] | select(.message | test("no CA bundle named \"nope\""))] | length == 1' <<<"$BODY"
api PUT /pools/ka '{"tls":{"ca":"origin-ca","server_name":"origin.test"}}'
api POST /apply '{"comment":"tls to members"}'
eq "apply: 200" 200 "$STATUS"
eq "CA bundle file written for the pool" 640 "$(stat -c %a "$T/state/certs/origin-ca.ca")"
eq "client key written for the pool" 600 "$(stat -c %a "$T/state/certs/lbclient.key")"
api DELETE /ca-bundles/origin-ca
eq "a CA bundle a pool uses cannot be deleted: 409" 409 "$STATUS"
ok "... the refusal names the first pool using it" -- jqq '.error.message | test("pool \"app\" of the candidate")' <<<"$BODY"
api DELETE /certificates/lbclient
eq "a client certificate a pool uses cannot be deleted: 409" 409 "$STATUS"

get() { curl -s --max-time 10 -o "$T/out" -w '%{http_code}' "http://127.0.0.1:$PL/$1"; }
eq "verified TLS to the member: 200" 200 "$(get a)"
ok "the origin saw SNI origin.test" -- grep -q 'sni=\[origin.test\]' "$T/out"
ok "the origin verified our client certificate (mTLS)" -- grep -q 'client=\[CN=lbclient\] verify=\[SUCCESS\]' "$T/out"
ok "ALPN http/1.1 was negotiated" -- grep -q 'alpn=\[http/1.1\]' "$T/out"
ok "the first connection was a full handshake" -- grep -q 'reused=\[\.\]' "$T/out"
eq "second request (a new connection): 200" 200 "$(get b)"
ok "... resumed the session" -- grep -q 'reused=\[r\]' "$T/out"
for i in 1 2 3; do get "ka/$i" >/dev/null; cp "$T/out" "$T/ka$i"; done
ok "a keep-alive member over TLS answers every request" -- bash -c "grep -h -o 'conn=\[[0-9]*\]' '$T/ka1' '$T/ka2' '$T/ka3' | wc -l | grep -qx 3"
ok "... on one reused TLS connection" -- bash -c "grep -q 'reqs=\[3\]' '$T/ka3' && [ \"\$(grep -h -o 'conn=\[[0-9]*\]' '$T/ka1' '$T/ka3' | sort -u | wc -l)\" = 1 ]"
# A member that does not speak TLS fails its handshake: a failed connect,
# so the request goes to the other member (not a 502).
PB=$(free_port)
start_backend plain "$PB" || finish
api PUT /pools/ka "{\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PB},{\"address\":\"127.0.0.1\",\"port\":$PK}]}"
api POST /apply '{"comment":"a plain member in a TLS pool"}'
eq "apply with a plain member in the TLS pool: 200" 200 "$STATUS"
codes=""; for i in 1 2 3 4; do codes+="$(get ka/p$i) "; done
eq "every request is served by the TLS member" "200 200 200 200 " "$codes"
ok "... the plain member's failed handshake is logged as a failed connect" -- \
	grep -q "TLS handshake failed" "$T/tandemd.log"

# No server_name: no SNI, and the member's IP address is what is verified.
api PUT /pools/app '{"tls":{"ca":"origin-ca"}}'
api POST /apply '{"comment":"ip"}'
eq "apply without server_name: 200" 200 "$STATUS"
eq "verified by IP address: 200" 200 "$(get c)"
ok "... no SNI sent" -- grep -q 'sni=\[\]' "$T/out"
ok "... no client certificate when none is configured" -- grep -q 'verify=\[NONE\]' "$T/out"

api PUT /pools/app '{"tls":{"ca":"other-ca","server_name":"origin.test"}}'
api POST /apply '{"comment":"wrong CA"}'
eq "apply with the wrong CA: 200" 200 "$STATUS"
eq "wrong CA: 502" 502 "$(get d)"
ok "... the log says why" -- grep -q 'upstream certificate verify failed: unable to get local issuer certificate' "$T/tandemd.log"

api PUT /pools/app '{"tls":{"ca":"origin-ca","server_name":"wrong.test"}}'
api POST /apply '{"comment":"wrong name"}'
eq "wrong host name: 502" 502 "$(get e)"
ok "... the log says why" -- grep -q 'upstream certificate verify failed: hostname mismatch' "$T/tandemd.log"

api PUT /pools/app '{"tls":{"verify":"none","server_name":"wrong.test"}}'
api POST /apply '{"comment":"verify none"}'
eq "apply with verify none: 200" 200 "$STATUS"
eq "verify none: 200 even with a wrong name" 200 "$(get f)"
ok "... still sending the configured SNI" -- grep -q 'sni=\[wrong.test\]' "$T/out"
ok "verify none is warned about at load" -- grep -q 'pool app: TLS to its members is NOT verified' "$T/tandemd.log"

# Health checks speak TLS with the pool's context.
api PUT /pools/app '{"tls":{"ca":"origin-ca","server_name":"origin.test"},"health_check":{"type":"http","path":"/","interval_ms":300,"timeout_ms":250,"rise":1,"fall":1}}'
eq "pool with an HTTP check: 200" 200 "$STATUS"
api POST /apply '{"comment":"health over tls"}'
eq "apply with an HTTP check over TLS: 200" 200 "$STATUS"
sleep 1.5
eq "member up by a TLS health check: 200" 200 "$(get g)"
ok "... no check failed" -- bash -c "! grep -q 'DOWN (health check' '$T/tandemd.log'"
api PUT /pools/app '{"tls":{"ca":"other-ca","server_name":"origin.test"},"health_check":{"type":"http","path":"/","interval_ms":300,"timeout_ms":250,"rise":1,"fall":1}}'
eq "pool with the wrong CA and an HTTP check: 200" 200 "$STATUS"
api POST /apply '{"comment":"health wrong CA"}'
for _ in $(seq 50); do grep -q 'DOWN (health check: certificate verify failed' "$T/tandemd.log" && break; sleep 0.1; done
ok "a member whose certificate does not verify is marked down by the check" -- \
	grep -q 'DOWN (health check: certificate verify failed' "$T/tandemd.log"
eq "... and gets no requests: 503" 503 "$(get h)"
api PUT /pools/app '{"tls":null,"health_check":null}'
eq "tls null turns TLS off: 200" 200 "$STATUS"
ok "... and the pool has no tls any more" -- jqq 'has("tls") | not' <<<"$BODY"
finish
