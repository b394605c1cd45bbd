#!/usr/bin/env bash
# 53-pairing.sh - pairing two consoles (doc/ha.md "Pairing"): A makes a
# one-time token; B joins with A's address, the token and A's certificate
# fingerprint. A wrong fingerprint is refused before the token leaves B; a
# wrong, used or expired token is refused by A; the peer link's
# certificates land on both nodes (one CA, each node's own name); no key
# is logged or returned by the operator's API; unpairing from either side
# reaches the other, or leaves it marked broken when it was down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-pair.sh"
command -v jq >/dev/null || skip "jq is not installed"
command -v openssl >/dev/null || skip "openssl (the command) is not installed"

start_console a || finish
start_console b || finish
start_console c --pair-token-ttl 2 || finish
for n in a b c; do ok "login on $n" -- clogin $n; done

capi a GET /pair
ok "A alone: not paired, shows its fingerprint and name" -- \
	jq -e '.paired == false and .node == "lb-a" and (.fingerprint | length == 64) and .peer == null' <<<"$BODY"
FP_A=$(jq -r .fingerprint <<<"$BODY")
eq "the fingerprint is the console certificate's" \
	"$(openssl x509 -in "$T/a/tls/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" "$FP_A"

capi a POST /pair/token
eq "token: 201" 201 "$STATUS"
TOK=$(jq -r .token <<<"$BODY")
ok "the token answer carries the fingerprint, console and node" -- \
	jq -e --arg fp "$FP_A" --arg u "${AURL[a]}" '.fingerprint == $fp and .console == $u and .node == "lb-a" and .expires_at > 0' <<<"$BODY"
capi a GET /pair
ok "GET /pair shows that a token is live, never the token" -- \
	jq -e '.token.expires_at > 0' <<<"$BODY"
ok "the token itself is not in GET /pair" -- bash -c "! grep -q '$TOK' <<<'$BODY'"
eq "the database holds only the token's hash" "$(printf %s "$TOK" | sha256sum | cut -d' ' -f1)" \
	"$(sqlite3 -cmd '.timeout 5000' "$T/a/tandem.db" 'SELECT token_hash FROM pair_tokens')"

# ---- wrong fingerprint: refused by B before the token is sent
BAD_FP=$(printf '%064d' 0)
capi b POST /pair/join "{\"console\":\"${AURL[a]}\",\"token\":\"$TOK\",\"fingerprint\":\"$BAD_FP\"}"
eq "wrong fingerprint: 502 fingerprint_mismatch" "502 fingerprint_mismatch" "$STATUS $(jq -r .error.code <<<"$BODY")"
ok "A never saw the token (no pairing attempt logged)" -- bash -c "! grep -q 'pairing attempt' '$T/admin-a.log'"
capi b POST /pair/join "{\"console\":\"${AURL[a]}\",\"token\":\"$TOK\",\"fingerprint\":\"nope\"}"
eq "a malformed fingerprint: 422 on pair/fingerprint" "422 pair/fingerprint" "$STATUS $(jq -r .error.field <<<"$BODY")"
capi b POST /pair/join "{\"console\":\"not an address\",\"token\":\"$TOK\",\"fingerprint\":\"$FP_A\"}"
eq "a console that is no address: 422 on pair/console" "422 pair/console" "$STATUS $(jq -r .error.field <<<"$BODY")"

# ---- wrong token: refused by A
capi b POST /pair/join "{\"console\":\"${AURL[a]}\",\"token\":\"0123456789abcdef0123456789abcdef\",\"fingerprint\":\"${FP_A^^}\"}"
eq "wrong token: 403 token_refused (fingerprint in upper case accepted)" "403 token_refused" "$STATUS $(jq -r .error.code <<<"$BODY")"
ok "the message says the token is unknown" -- jq -e '.error.message | test("unknown")' <<<"$BODY"

# ---- the right one
capi b POST /pair/join "{\"console\":\"${AURL[a]}\",\"token\":\"$TOK\",\"fingerprint\":\"$FP_A\"}"
eq "join: 200" 200 "$STATUS"
ok "B is paired with lb-a at A's console, pinned to A's fingerprint" -- \
	jq -e --arg fp "$FP_A" --arg u "${AURL[a]}" '.paired and .peer.node == "lb-a" and .peer.console == $u and .peer.fingerprint == $fp' <<<"$BODY"
capi a GET /pair
FP_B=$(openssl x509 -in "$T/b/tls/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
ok "A is paired with lb-b, pinned to B's fingerprint; the token is gone" -- \
	jq -e --arg fp "$FP_B" '.paired and .peer.node == "lb-b" and .peer.fingerprint == $fp and .token == null' <<<"$BODY"
ok "no key in either answer" -- bash -c "! grep -qi '\"key\\|node_key\\|out_key' <<<'$BODY'"
ok "both consoles see each other up within 5 s" -- wait_api a /pair '.peer.up' 5
ok "... and B too" -- wait_api b /pair '.peer.up' 5

# the token was used once
capi c POST /pair/join "{\"console\":\"${AURL[a]}\",\"token\":\"$TOK\",\"fingerprint\":\"$FP_A\"}"
eq "a third console with the used token: refused" 409 "$STATUS"
ok "... because A is paired now" -- jq -e '.error.code == "peer_refused" and (.error.message | test("already paired"))' <<<"$BODY"

# ---- the peer link's certificates
for n in a b; do
	ok "$n: the peer link's files are in place, the key 0600" -- \
		bash -c "[ -f '$T/$n/peer/ca.pem' ] && [ -f '$T/$n/peer/node.pem' ] && [ \"\$(stat -c %a '$T/$n/peer/node.key')\" = 600 ]"
	ok "$n: its certificate is for lb-$n and verifies against the pair's CA" -- \
		bash -c "openssl verify -CAfile '$T/$n/peer/ca.pem' '$T/$n/peer/node.pem' >/dev/null &&
			openssl x509 -in '$T/$n/peer/node.pem' -noout -subject | grep -q 'CN *= *lb-$n'"
done
ok "one CA for both" -- cmp -s "$T/a/peer/ca.pem" "$T/b/peer/ca.pem"
ok "the CA key is not kept on A" -- bash -c "! find '$T/a' -name 'ca.key' | grep -q ."
ok "node key and certificate match on B" -- bash -c \
	"[ \"\$(openssl pkey -in '$T/b/peer/node.key' -pubout 2>/dev/null)\" = \"\$(openssl x509 -in '$T/b/peer/node.pem' -noout -pubkey)\" ]"
# secrets are never logged
KEY_AB=$(sqlite3 -cmd '.timeout 5000' "$T/b/tandem.db" 'SELECT out_key FROM pair')
KEY_BA=$(sqlite3 -cmd '.timeout 5000' "$T/a/tandem.db" 'SELECT out_key FROM pair')
eq "the pair's keys exist (64 hex each)" "64 64" "${#KEY_AB} ${#KEY_BA}"
eq "each node stores only the hash of the key it receives" \
	"$(printf %s "$KEY_AB" | sha256sum | cut -d' ' -f1)" "$(sqlite3 -cmd '.timeout 5000' "$T/a/tandem.db" 'SELECT in_key_hash FROM pair')"
ok "no token, key or private key in any log" -- \
	bash -c "! grep -q -e '$TOK' -e '$KEY_AB' -e '$KEY_BA' -e 'PRIVATE KEY' '$T'/admin-*.log '$T'/admin-*.out"

# ---- the console-to-console endpoints need the pair's key
code=$(curl -sk -o /dev/null -w '%{http_code}' "${AURL[a]}/api/v1/pair/peer/state")
eq "peer state without the key: 401" 401 "$code"
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY_BA" "${AURL[a]}/api/v1/pair/peer/state")
eq "with the key A gave out (B's, not A's): 401" 401 "$code"
code=$(curl -sk -o "$T/st" -w '%{http_code}' -H "Authorization: Bearer $KEY_AB" "${AURL[a]}/api/v1/pair/peer/state")
eq "with B's key: 200" 200 "$code"
ok "... the state names A" -- jq -e '.node == "lb-a" and .running.number == 0' "$T/st"

# ---- expiry (console C: tokens live 2 s)
capi c POST /pair/token
TOK_C=$(jq -r .token <<<"$BODY"); FP_C=$(jq -r .fingerprint <<<"$BODY")
sleep 3
start_console d || finish
ok "login on d" -- clogin d
capi d POST /pair/join "{\"console\":\"${AURL[c]}\",\"token\":\"$TOK_C\",\"fingerprint\":\"$FP_C\"}"
eq "an expired token: 403" 403 "$STATUS"
ok "... says expired" -- jq -e '.error.message | test("expired")' <<<"$BODY"

# ---- unpair from B: A learns it
capi b DELETE /pair
eq "unpair on B: 200" 200 "$STATUS"
ok "... A was told" -- jq -e '.peer_notified == true and .peer == "lb-a"' <<<"$BODY"
capi a GET /pair
ok "A is no longer paired" -- jq -e '.paired == false' <<<"$BODY"
ok "the peer link's files are gone on both" -- bash -c "! [ -e '$T/a/peer/node.key' ] && ! [ -e '$T/b/peer/node.key' ]"

# ---- pair again, unpair from A while B is down: B marks the pair broken
ok "pair again" -- pair a b
stop_console b
capi a DELETE /pair
eq "unpair on A with B down: 200" 200 "$STATUS"
ok "... B could not be told" -- jq -e '.peer_notified == false' <<<"$BODY"
start_console b || finish
ok "login on b" -- clogin b
ok "B marks the pair broken within 5 s" -- wait_api b /pair '.peer.state == "broken" and .paired' 5
ok "... and says why" -- jq -e '.peer.reason | test("no longer knows")' <<<"$BODY"
capi b DELETE /pair
eq "B can unpair its broken pair" 200 "$STATUS"
ok "then B and A can pair again" -- pair b a
finish
