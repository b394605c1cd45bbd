#!/usr/bin/env bash
# testssl.sh (Debian package testssl.sh) against a TLS listener with an RSA
# and an ECDSA certificate: protocols, cipher categories, forward secrecy,
# server preference and every vulnerability check. Any finding worse than
# OK fails the test; certificate trust findings on the self-signed test
# certificates are the only exception (the certificate checks, -S, are not
# run at all: trust is not what this listener's policy decides).
. "$(dirname "$0")/lib.sh"
TESTSSL=$(command -v testssl || command -v testssl.sh) || skip "testssl.sh not installed"
command -v openssl >/dev/null || skip "openssl command missing"
jqq() { jq -e "$@" >/dev/null; }
command -v jq >/dev/null || skip "jq missing"

C="$T/certs"	# tandemd's --cert-dir
PKI_DAYS=365 PKI_KEY=rsa pki_self rsa localhost DNS:localhost
PKI_DAYS=365 pki_self ec localhost DNS:localhost
pki_made rsa ec

PA=$(free_port); PL=$(free_port)
start_backend a "$PA" || finish
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"tls","address":"127.0.0.1","port":$PL,
   "tls":{"certificates":["rsa","ec"],"alpn":["http/1.1"]}}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"tls","pool":"app"}]}
JSON
start_tandemd "$T/c.json" -w 1 --cert-dir "$T/certs" || finish
wait_port "$PL" || finish

# -p protocols, -s cipher categories, -f forward secrecy, -P server
# preference, -U vulnerabilities: about 40 s here.
timeout 300 "$TESTSSL" --quiet --color 0 --warnings off --connect-timeout 10 --openssl-timeout 10 \
	--ip 127.0.0.1 -p -s -f -P -U --jsonfile "$T/testssl.json" "127.0.0.1:$PL" >"$T/testssl.out" 2>&1
ok "testssl.sh ran and wrote its findings" -- jqq 'length > 20' "$T/testssl.json"
# ids whose "offered/not offered" is the point: each must be there and OK
for id in SSLv2 SSLv3 TLS1_2 TLS1_3 cipherlist_NULL cipherlist_aNULL cipherlist_EXPORT cipherlist_LOW \
	cipher_order heartbleed ROBOT POODLE_SSL SWEET32 BEAST LUCKY13 RC4 FREAK LOGJAM; do
	ok "$id: OK" -- jqq --arg id "$id" '[.[] | select(.id == $id and .severity == "OK")] | length == 1' "$T/testssl.json"
done
eq "TLS 1.0 not offered" "not offered" "$(jq -r '.[] | select(.id == "TLS1") | .finding' "$T/testssl.json")"
eq "TLS 1.1 not offered" "not offered" "$(jq -r '.[] | select(.id == "TLS1_1") | .finding' "$T/testssl.json")"
eq "no 3DES/IDEA" "not offered" "$(jq -r '.[] | select(.id == "cipherlist_3DES_IDEA") | .finding' "$T/testssl.json")"
eq "no average-strength (CBC, non-PFS) ciphers" "not offered" "$(jq -r '.[] | select(.id == "cipherlist_AVERAGE") | .finding' "$T/testssl.json")"
# everything else: nothing worse than OK (WARN about the local openssl's
# missing GOST engine is testssl's own environment, not a finding)
jq -r '.[] | select((.severity | IN("OK", "INFO")) | not)
	| select(.id != "engine_problem")
	| select(.id | test("^(cert_chain_of_trust|cert_trust|cert_revocation|DNS_CAArecord)") | not)
	| "\(.severity) \(.id): \(.finding)"' "$T/testssl.json" >"$T/findings.txt"
ok "no finding worse than OK (trust of the self-signed certificate excepted)" -- test ! -s "$T/findings.txt"
[ -s "$T/findings.txt" ] && sed 's/^/    /' "$T/findings.txt"
finish
