#!/usr/bin/env bash
# The whole flow through the REST API: first start, log in, CSRF, create a
# pool with two real backends and a route, apply, traffic on both backends;
# conflicts, validation, an invalid candidate refused while the old config
# keeps serving, diff, revisions and restore, deterministic rendering.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"; start_backend b "$PB"
# Start from an empty appliance: no listeners, no pools.
echo '{"version":1}' >"$T/empty.json"
ok "first start initialises the state dir" -- admin_init "$T/empty.json"
ok "the password is printed once, on its own line" -- grep -qE '^admin password: [^ ]{12,}$' "$T/admin-init.out"
ok "the database stores no clear password" -- bash -c "! grep -aq -- '$ADMIN_PASSWORD' '$T/state/tandem.db'"
eq "the state dir is private" 700 "$(stat -c %a "$T/state")"
start_tandemd "$T/tandem.json" || finish
start_admin || finish
ok "a second start prints no password" -- bash -c "! grep -q 'admin password' '$T/admin.out'"

api GET /status; eq "no session: 401" 401 "$STATUS"
ok "errors are JSON with a code and a message" -- jq -e '(.error.code | type == "string" and length > 0) and (.error.message | type == "string")' <<<"$BODY"
api POST /session '{"username":"admin","password":"wrong-password"}'; eq "wrong password: 401" 401 "$STATUS"
api POST /session '{"username":"admin",'; eq "malformed JSON: 400" 400 "$STATUS"
ok "login" -- login
ok "session cookie is HttpOnly, Secure, SameSite=Strict" -- bash -c "curl -sk -D - -o /dev/null -H 'Content-Type: application/json' --data '{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}' '$ADMIN_URL/api/v1/session' | grep -i '^set-cookie:' | grep -i httponly | grep -i secure | grep -qi 'samesite=strict'"
api GET /session; eq "GET /session returns the CSRF token" "$CSRF" "$(jq -r .csrf_token <<<"$BODY")"

saved="$CSRF"; CSRF=""
api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL}"
eq "mutation without X-CSRF-Token: 403" 403 "$STATUS"
CSRF="wrong"; api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL}"
eq "mutation with a wrong X-CSRF-Token: 403" 403 "$STATUS"
CSRF="$saved"

api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL}"; eq "create listener: 201" 201 "$STATUS"
api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL}"; eq "duplicate listener name: 409" 409 "$STATUS"
api POST /listeners '{"name":"bad","address":"127.0.0.1","port":70000}'; eq "port out of range: 422" 422 "$STATUS"
eq "the error names the field" "listeners/bad/port" "$(jq -r .error.field <<<"$BODY")"
api POST /pools '{"name":"app"}'; eq "create pool: 201" 201 "$STATUS"
api POST /pools/app/members "{\"address\":\"127.0.0.1\",\"port\":$PA}"; eq "add member a: 201" 201 "$STATUS"
api POST /pools/app/members "{\"address\":\"127.0.0.1\",\"port\":$PB,\"weight\":1,\"enabled\":true}"; eq "add member b: 201" 201 "$STATUS"
api POST /pools/app/members '{"address":"not-an-ip","port":80}'; eq "bad member address: 422" 422 "$STATUS"
api POST /routes '{"name":"all","listener":"web","pool":"nope","path_prefix":"/"}'; eq "route to a missing pool: 422" 422 "$STATUS"
api POST /routes '{"name":"all","listener":"web","pool":"app","path_prefix":"/"}'; eq "create route: 201" 201 "$STATUS"
api DELETE /pools/app; eq "delete a pool a route uses: 409" 409 "$STATUS"
eq "409 code in_use" in_use "$(jq -r .error.code <<<"$BODY")"
api GET /pools/nope; eq "unknown pool: 404" 404 "$STATUS"

api GET /diff; ok "diff shows the change" -- jq -e '.changed == true' <<<"$BODY"
api POST /apply '{"comment":"first pool"}'; eq "apply: 200" 200 "$STATUS"
eq "apply says applied" applied "$(jq -r .status <<<"$BODY")"
REV1=$(jq -r .revision <<<"$BODY")
wait_port "$PL"
counts=$(backend_counts "http://127.0.0.1:$PL/" 100)
eq "100 requests served by both backends" "a 50
b 50" "$counts"
api GET /diff; ok "after apply the candidate equals the running config" -- jq -e '.changed == false' <<<"$BODY"
api GET /status
ok "status shows tandemd running the revision" -- jq -e ".tandemd.reachable == true and .running_revision == $REV1" <<<"$BODY"

# Deterministic rendering: same revision, same bytes.
cp "$T/tandem.json" "$T/render1.json"
api GET "/revisions/$REV1"; jq -S .config <<<"$BODY" >"$T/rev1.json"
api POST "/revisions/$REV1/restore"; eq "restore a revision into the candidate: 200" 200 "$STATUS"
api POST /apply '{"comment":"same again"}'; eq "re-apply the same content: 200" 200 "$STATUS"
REV2=$(jq -r .revision <<<"$BODY")
ok "same content renders to the same bytes (but the revision number)" -- bash -c "diff <(grep -v '\"revision\"' '$T/render1.json') <(grep -v '\"revision\"' '$T/tandem.json')"
ok "config file keys are sorted" -- bash -c "jq -S . '$T/tandem.json' | diff -q - <(jq . '$T/tandem.json') >/dev/null"

# An invalid candidate (listener on a port already taken) is refused whole.
api POST /listeners "{\"name\":\"clash\",\"address\":\"127.0.0.1\",\"port\":$PA}"; eq "create a clashing listener: 201" 201 "$STATUS"
api POST /routes '{"name":"clash","listener":"clash","pool":"app","path_prefix":"/"}'
api POST /apply '{"comment":"bad"}'; eq "apply of an invalid candidate: 422" 422 "$STATUS"
ok "the refusal names the field" -- jq -e '.errors | length > 0' <<<"$BODY"
ok "the refusal names listeners/clash" -- bash -c "jq -r '.errors[].field, .error.field' <<<'$BODY' | grep -q '^listeners/clash'"
eq "the old config keeps serving" "backend" "$(curl -s --max-time 5 "http://127.0.0.1:$PL/" | awk '{print $1}')"
api GET /revisions
eq "the failed revision is recorded as failed" failed "$(jq -r '.[0].status' <<<"$BODY")"
eq "revisions are listed newest first" "$REV2" "$(jq -r '.[1].number' <<<"$BODY")"
eq "tandemd still runs the last good revision" "$REV2" "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .revision)"
ok "the config file was restored to the last good revision" -- bash -c "jq -e '.revision == $REV2' '$T/tandem.json' >/dev/null"

api DELETE /routes/clash; eq "delete route: 204 or 200" ok "$([ "$STATUS" = 204 ] || [ "$STATUS" = 200 ] && echo ok)"
api DELETE /listeners/clash
api DELETE /session; CSRF_OLD="$CSRF"
api GET /status; eq "after logout: 401" 401 "$STATUS"
finish
