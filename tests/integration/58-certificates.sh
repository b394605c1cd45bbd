#!/usr/bin/env bash
# TLS certificates through the REST API, with test certificates made by the
# openssl command: a good RSA chain, a good ECDSA certificate, a mismatched
# key, a chain out of order, a broken chain, malformed PEM, an expired and a
# soon-expiring certificate; the key never comes back out, the database
# that holds it is private; delete.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command missing"
command -v jq >/dev/null || skip "jq missing"

# CA -> intermediate -> leaf (RSA 2048)
PKI_DAYS=3650 pki_ca ca "IT Root"
pki_req int "IT Intermediate" -out "$C/int.csr"
printf 'basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$C/ca.ext"
ossl x509 -req -in "$C/int.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 1000 -extfile "$C/ca.ext" -out "$C/int.crt"
PKI_KEY=rsa PKI_DAYS=365 pki_leaf rsa int www.example.test "DNS:www.example.test,DNS:example.test"
# ECDSA self-signed, 10 days (inside the 30-day warning)
PKI_DAYS=10 pki_self ec "*.example.test" "DNS:*.example.test"
# expired (2020-2021): "openssl ca" takes explicit dates, x509 -days does not
# take a negative number in OpenSSL 3.0
touch "$C/index.txt"; echo 01 >"$C/serial"
printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n' "$C" "$C" "$C" >"$C/ca.cnf"
pki_req old old.example.test -new -out "$C/old.csr"
ossl ca -batch -config "$C/ca.cnf" -selfsign -keyfile "$C/old.key" -in "$C/old.csr" -startdate 20200101000000Z -enddate 20210101000000Z -out "$C/old.crt"
pki_made ca int rsa ec old

start_stack "" || finish

api GET /certificates; eq "empty list" "200 []" "$STATUS $(jq -c . <<<"$BODY")"

upload_cert web "$C/rsa.crt" "$C/int.crt" "$C/rsa.key"; eq "good RSA chain: 201" 201 "$STATUS"
ok "answer has subject, issuer, SANs, RSA, chain of 2" -- jq -e '.subject == "CN=www.example.test" and .issuer == "CN=IT Intermediate" and .sans == ["DNS:www.example.test","DNS:example.test"] and .key_type == "RSA" and .key_bits == 2048 and .chain_length == 2' <<<"$BODY"
ok "a year ahead: no warning" -- jq -e '.expired == false and .expiring_soon == false and .warnings == [] and .days_to_expiry >= 363' <<<"$BODY"
ok "the key is not in the answer" -- bash -c "! grep -q 'PRIVATE' <<<'$BODY' && jq -e 'has(\"key_pem\") | not' <<<'$BODY' >/dev/null"

upload_cert wild "$C/ec.crt" "$C/ec.key"; eq "good ECDSA: 201" 201 "$STATUS"
ok "ECDSA expiring in 10 days is flagged" -- jq -e '.key_type == "ECDSA" and .expiring_soon == true and (.days_to_expiry | . >= 9 and . <= 10) and (.warnings[0] | test("expires in"))' <<<"$BODY"

upload_cert old "$C/old.crt" "$C/old.key"; eq "expired certificate: accepted (201)" 201 "$STATUS"
ok "and flagged as expired" -- jq -e '.expired == true and (.warnings[0] | test("expired"))' <<<"$BODY"

upload_cert bad "$C/rsa.crt" "$C/int.crt" "$C/ec.key"; eq "mismatched key: 422" 422 "$STATUS"
ok "reason names the key" -- jq -e '.error.field == "certificates/bad/key_pem" and (.error.message | test("does not match"))' <<<"$BODY"
upload_cert bad "$C/rsa.crt" "$C/ca.crt" "$C/int.crt" "$C/rsa.key"; eq "chain out of order: 422" 422 "$STATUS"
ok "reason says out of order" -- jq -e '.error.field == "certificates/bad/cert_pem" and (.error.message | test("out of order"))' <<<"$BODY"
upload_cert bad "$C/rsa.crt" "$C/ca.crt" "$C/rsa.key"; eq "broken chain (missing link): 422" 422 "$STATUS"
ok "reason says it does not verify" -- jq -e '.error.message | test("does not verify")' <<<"$BODY"
sed 's/^M/#/' "$C/rsa.crt" | head -c 600 >"$C/broken.crt"
upload_cert bad "$C/broken.crt" "$C/rsa.key"; eq "malformed PEM: 422" 422 "$STATUS"
ok "reason says malformed or no PEM" -- jq -e '.error.message | test("malformed PEM|no PEM")' <<<"$BODY"
api POST /certificates '{"name":"x","cert_pem":"a"}'; eq "missing key_pem: 422" 422 "$STATUS"
upload_cert web "$C/rsa.crt" "$C/int.crt" "$C/rsa.key"; eq "duplicate name: 409" 409 "$STATUS"

api GET /certificates
ok "list: three certificates by name, flags and no keys" -- jq -e '[.[].name] == ["old","web","wild"] and ([.[] | select(.expired)] | length) == 1 and ([.[] | select(.expiring_soon)] | length) == 1 and all(.[]; has("key_pem") | not) and all(.[]; has("days_to_expiry"))' <<<"$BODY"
api GET /certificates/web; eq "get one: 200" 200 "$STATUS"
ok "get one includes the public chain, not the key" -- jq -e '(.cert_pem | test("BEGIN CERTIFICATE")) and (has("key_pem") | not)' <<<"$BODY"
api GET /certificates/nope; eq "unknown: 404" 404 "$STATUS"

key_line=$(sed -n 2p "$C/rsa.key")
ok "no log holds key material" -- bash -c "! grep -rqF -- '$key_line' '$T'/*.log '$T'/*.out 2>/dev/null"
eq "the database holding the keys is 0600" 600 "$(stat -c %a "$T/state/tandem.db")"

api DELETE /certificates/old; eq "delete: 204" 204 "$STATUS"
api GET /certificates/old; eq "deleted: 404" 404 "$STATUS"
api DELETE /certificates/old; eq "delete again: 404" 404 "$STATUS"
finish
