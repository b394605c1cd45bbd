#!/usr/bin/env bash
# The rate_rules section through the REST API (doc/api.md "Rate rules"):
# stored in the database (migration 007), validated by tandemd's parser (422
# naming the field, unknown routes refused), rendered into the candidate,
# applied and enforced; one rule added, replaced and deleted; the live view
# (counters and top keys) from tandemd; import round-trips the section.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PL=$(free_port)
start_backend a "$PA"
cat >"$T/base.json" <<JSON
{"version":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"main","listener":"web","pool":"app"}]}
JSON
start_stack "$T/base.json" || finish

api GET /rate-rules
eq "no section yet: {}" "{}" "$(jq -c . <<<"$BODY")"
SECTION='{"deny_cidrs":["192.0.2.0/24"],
 "waf":{"deny_patterns":[{"id":"sqli-1","on":"query","regex":"(?i)union\\s+select"}]},
 "rules":[{"name":"login-ip","match":{"path":"/login"},"key":[{"type":"client_ip"}],"limit":{"requests":2,"period_s":60}},
          {"name":"api-key","match":{"path_prefix":"/api/","routes":["main"]},
           "key":[{"type":"header","name":"X-API-Key","values":["k-1"]}],"on_missing_key":"reject"}]}'
api PUT /rate-rules "$SECTION"
eq "PUT the section: 200" 200 "$STATUS"
api GET /rate-rules
eq "read back in order" '["login-ip","api-key"]' "$(jq -c '[.rules[].name]' <<<"$BODY")"
eq "lists read back" '["192.0.2.0/24"]' "$(jq -c .deny_cidrs <<<"$BODY")"

api PUT /rate-rules '{"rules":[{"name":"bad","limit":{"requests":5,"period_s":0}}]}'
eq "a bad period: 422" 422 "$STATUS"
eq "... on the rule's field" "rate_rules/rules/bad/limit.period_s" "$(jq -r .error.field <<<"$BODY")"
api PUT /rate-rules '{"waf":{"deny_patterns":[{"id":"x","on":"path","regex":"(["}]}}'
eq "a bad regex: 422 on its field" "rate_rules/waf.deny_patterns[0].regex" "$(jq -r .error.field <<<"$BODY")"
api PUT /rate-rules/rules/r2 '{"match":{"routes":["nope"]},"limit":{"requests":1,"period_s":1}}'
eq "an unknown route: 422" 422 "$STATUS"
ok "... naming the route" -- grep -q 'route \\"nope\\"' <<<"$BODY"
api PUT /rate-rules/rules/r2 '{"name":"other","limit":{"requests":1,"period_s":1}}'
eq "a body naming another rule: 422" 422 "$STATUS"
api GET /rate-rules
eq "refused edits changed nothing" '["login-ip","api-key"]' "$(jq -c '[.rules[].name]' <<<"$BODY")"

api PUT /rate-rules/rules/search '{"match":{"path":"/search"},"key":[{"type":"header","name":"X-API-Key"}],"limit":{"requests":50,"period_s":60}}'
eq "PUT a new rule: 200" 200 "$STATUS"
eq "... answered with its name" search "$(jq -r .name <<<"$BODY")"
api PUT /rate-rules/rules/login-ip '{"match":{"path":"/login"},"limit":{"requests":3,"period_s":60}}'
api GET /rate-rules
eq "a replaced rule keeps its place, a new one goes last" '["login-ip","api-key","search"]' "$(jq -c '[.rules[].name]' <<<"$BODY")"
eq "... with its new limit" 3 "$(jq '.rules[0].limit.requests' <<<"$BODY")"
api DELETE /rate-rules/rules/search
eq "DELETE a rule: 204" 204 "$STATUS"
api DELETE /rate-rules/rules/search
eq "DELETE it again: 404" 404 "$STATUS"

api GET /candidate
ok "the candidate carries the section" -- jq -e '.rate_rules.rules | length == 2' <<<"$BODY" >/dev/null
api POST /apply '{}'
eq "apply: 200" 200 "$STATUS"
wait_port "$PL"
U="http://127.0.0.1:$PL"
codes=""
for i in 1 2 3 4; do codes+="$(curl -s -o /dev/null -w '%{http_code}' "$U/login") "; done
eq "applied and enforced: 3 logins, then 429" "200 200 200 429 " "$codes"
eq "the access rule: no key, 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/api/x")"
eq "a WAF pattern: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' "$U/x?q=union%20select")"

api GET /rate-rules/live
eq "live view: 200" 200 "$STATUS"
ok "live view: login-ip counted 4 hits and 1 denial" -- jq -e \
	'.rules[] | select(.name == "login-ip") | .hits == 4 and .denials == 1 and .top_denials[0].key == "ip=127.0.0.1/32"' <<<"$BODY" >/dev/null
ok "live view: WAF hits" -- jq -e '.waf[] | select(.id == "sqli-1") | .hits == 1' <<<"$BODY" >/dev/null
ok "live view: the ban set" -- jq -e '.bans.bans_active == 0' <<<"$BODY" >/dev/null

api PUT /rate-rules '{}'
eq "an admin may clear the section: 200" 200 "$STATUS"
api GET /candidate
eq "... and the candidate has no section" null "$(jq -c .rate_rules <<<"$BODY")"

# import round-trip: a config with a section
jq --argjson s "$(tr -d '\n' <<<"$SECTION")" '. + {rate_rules: $s}' "$T/base.json" >"$T/with.json"
cleanup
rm -rf "$T/state" "$T/tandem.json"
admin_init "$T/with.json" || finish
ok "import: the rendered config carries the section" -- jq -e '.rate_rules.rules[1].name == "api-key" and .rate_rules.waf.deny_patterns[0].id == "sqli-1"' "$T/tandem.json" >/dev/null
ok "import: tandemd accepts the rendered file" -- "$B/daemon/tandemctl" check "$T/tandem.json"
finish
