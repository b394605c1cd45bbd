#!/usr/bin/env bash
# OCSP stapling from a stored response, end to end: a CA made here answers
# OCSP requests offline with `openssl ocsp`; the responses are uploaded
# through PUT /certificates/{name}/ocsp. Checks: `openssl s_client -status`
# sees no response before, "good" after the upload (tandemd reloaded at
# once), and none after DELETE; the API refuses, with the reason, a response
# about another certificate, a revoked one, an expired one, one signed by
# another CA and bytes that are not an OCSP response; a bad response file
# found by tandemd at a reload (SIGHUP) is logged with the reason and not
# stapled, and the next apply writes the stored one back.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command missing"
command -v jq >/dev/null || skip "jq missing"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3) || skip "python3 missing"
"$PY" -c 'from cryptography.x509 import ocsp' 2>/dev/null || skip "python3-cryptography missing"
jqq() { jq -e "$@" >/dev/null; }

pki_ca ca "IT OCSP CA"
pki_ca rogue "IT Rogue CA"
pki_leaf www ca www.ocsp.test DNS:www.ocsp.test
pki_leaf other ca other.ocsp.test DNS:other.ocsp.test
pki_made www other rogue

# The CA's database for `openssl ocsp`: www valid; then www revoked.
idx() { # idx FILE STATUS(V|R) CERT
	local ser end rev=""
	ser=$(openssl x509 -in "$3" -noout -serial | cut -d= -f2)
	end=$(date -u -d "$(openssl x509 -in "$3" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
	[ "$2" = R ] && rev=$(date -u +%y%m%d%H%M%SZ)
	printf '%s\t%s\t%s\t%s\tunknown\t/CN=x\n' "$2" "$end" "$rev" "$ser" >"$1"
}
idx "$C/index-good" V "$C/www.crt"
idx "$C/index-revoked" R "$C/www.crt"
idx "$C/index-other" V "$C/other.crt"
ossl ocsp -issuer "$C/ca.crt" -cert "$C/www.crt" -reqout "$C/req-www.der" -no_nonce
ossl ocsp -issuer "$C/ca.crt" -cert "$C/other.crt" -reqout "$C/req-other.der" -no_nonce
respond() { # respond OUT INDEX REQ SIGNER
	ossl ocsp -index "$C/$2" -rsigner "$C/$4.crt" -rkey "$C/$4.key" -CA "$C/ca.crt" -reqin "$C/$3" \
		-respout "$C/$1" -ndays 1
}
respond good.der index-good req-www.der ca
respond revoked.der index-revoked req-www.der ca
respond other.der index-other req-other.der ca
respond forged.der index-good req-www.der rogue
# expired: nextUpdate yesterday (openssl ocsp cannot date a response back)
"$PY" - "$C/ca.crt" "$C/ca.key" "$C/www.crt" "$C/expired.der" <<'EOF' 2>>"$C/openssl.log"
import sys, datetime
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives import hashes, serialization
ca = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
key = serialization.load_pem_private_key(open(sys.argv[2], 'rb').read(), None)
leaf = x509.load_pem_x509_certificate(open(sys.argv[3], 'rb').read())
now = datetime.datetime.utcnow()
b = ocsp.OCSPResponseBuilder().add_response(
    cert=leaf, issuer=ca, algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.GOOD,
    this_update=now - datetime.timedelta(days=2), next_update=now - datetime.timedelta(days=1),
    revocation_time=None, revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, ca)
open(sys.argv[4], 'wb').write(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
EOF
for f in good revoked other forged expired; do
	ok "test response $f.der made" -- test -s "$C/$f.der" || { cat "$C/openssl.log"; finish; }
done
ok "openssl agrees the good response is good" -- bash -c "openssl ocsp -respin '$C/good.der' -CAfile '$C/ca.crt' -issuer '$C/ca.crt' -cert '$C/www.crt' 2>&1 | grep -q ': good'"

PB=$(free_port); PL=$(free_port)
start_backend a "$PB" || finish
start_stack "" -w 1 --cert-dir "$T/state/certs" || finish

upload_cert www "$C/www.crt" "$C/ca.crt" "$C/www.key"; eq "certificate with its chain: 201" 201 "$STATUS"
api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PB}]}"
api POST /listeners "{\"name\":\"tls\",\"address\":\"127.0.0.1\",\"port\":$PL,\"tls\":{\"certificates\":[\"www\"]}}"
api POST /routes '{"name":"all","listener":"tls","pool":"app"}'
api POST /apply '{"comment":"tls"}'
eq "apply: 200" 200 "$STATUS"

status() { echo | timeout 10 openssl s_client -connect "127.0.0.1:$PL" -servername www.ocsp.test -status 2>&1; }
ok "before any upload: no OCSP response stapled" -- bash -c "$(declare -f status); PL=$PL; status | grep -q 'OCSP response: no response sent'"

put() { # put FILE: PUT the response (base64)
	jq -n --arg b "$(base64 -w0 "$1")" '{der_base64:$b}' >"$T/ocsp.json"
	api PUT /certificates/www/ocsp "@$T/ocsp.json"
}
refused() { # refused NAME FILE PATTERN
	put "$2"
	eq "$1: 422" 422 "$STATUS"
	ok "... on the field, saying why ($3)" -- jqq --arg p "$3" '.error.field == "certificates/www/ocsp" and (.error.message | test($p))' <<<"$BODY"
}
refused "a response about another certificate" "$C/other.der" "not about this certificate"
refused "a revoked certificate's response" "$C/revoked.der" "revoked"
refused "an expired response" "$C/expired.der" "expired"
refused "a response signed by another CA" "$C/forged.der" "signature does not verify"
refused "bytes that are not an OCSP response" "$C/www.crt" "not a DER-encoded OCSP response"
api PUT /certificates/www/ocsp '{"der_base64":"%%%"}'
eq "not base64: 422" 422 "$STATUS"
api PUT /certificates/nope/ocsp '{"der_base64":"AAAA"}'
eq "unknown certificate: 404" 404 "$STATUS"
ok "nothing was stored by the refusals" -- test ! -e "$T/state/certs/www.ocsp"

put "$C/good.der"
eq "the good response: 200" 200 "$STATUS"
ok "... tandemd reloaded at once" -- jqq '.reloaded == true' <<<"$BODY"
api GET /certificates/www
ok "the certificate shows its OCSP response's dates" -- jqq '.ocsp.next_update > now and .ocsp.expired == false' <<<"$BODY"
out=$(status)
ok "s_client -status: a successful response is stapled" -- grep -q 'OCSP Response Status: successful' <<<"$out"
ok "... saying the certificate is good" -- grep -q 'Cert Status: good' <<<"$out"
eq "the file for tandemd is the uploaded response" "$(sha256sum <"$C/good.der")" "$(sha256sum <"$T/state/certs/www.ocsp")"

# tandemd checks again at every load: a bad file is refused, with the reason.
cp "$C/expired.der" "$T/state/certs/www.ocsp"
kill -HUP "$TANDEMD_PID"
for _ in $(seq 50); do grep -q 'OCSP response refused' "$T/tandemd.log" && break; sleep 0.1; done
ok "SIGHUP with an expired response file: refused with the reason" -- \
	grep -q 'certificate "www": OCSP response refused, not stapled: the response expired' "$T/tandemd.log"
# the workers adopt the new generation within a loop pass or so
for _ in $(seq 20); do status | grep -q 'OCSP response: no response sent' && break; sleep 0.2; done
ok "... and not stapled" -- bash -c "$(declare -f status); PL=$PL; status | grep -q 'OCSP response: no response sent'"
cp "$C/other.der" "$T/state/certs/www.ocsp"
kill -HUP "$TANDEMD_PID"
for _ in $(seq 50); do grep -q 'not stapled: the response is not about' "$T/tandemd.log" && break; sleep 0.1; done
ok "SIGHUP with another certificate's response: refused with the reason" -- \
	grep -q 'not stapled: the response is not about this certificate' "$T/tandemd.log"
api POST /apply '{"comment":"rewrite files"}'
eq "apply: 200" 200 "$STATUS"
ok "the apply wrote the stored response back and it is stapled" -- \
	bash -c "$(declare -f status); PL=$PL; status | grep -q 'Cert Status: good'"

api DELETE /certificates/www/ocsp
eq "DELETE the response: 200" 200 "$STATUS"
ok "... file removed" -- test ! -e "$T/state/certs/www.ocsp"
ok "... no longer stapled" -- bash -c "$(declare -f status); PL=$PL; status | grep -q 'OCSP response: no response sent'"
api GET /certificates/www/ocsp
eq "GET after DELETE: 404" 404 "$STATUS"
finish
