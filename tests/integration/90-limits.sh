#!/usr/bin/env bash
# Rate rules and WAF checks with real traffic through tandemd (doc/limits.md):
# the issue's examples exactly as written (/login 5 per minute per JWT sub and
# per IP, /search 50 per minute per API key, 1,000 requests per 10 s banned
# for 10 minutes, /api/ without a valid key), the next window admitting again
# (the same rules with a 2 s period), shadow mode, tarpit (the worker keeps
# serving), the JWT cases (valid, expired, wrong signature, alg swapped,
# none), the WAF checks, a 100,000-entry deny list, the access log verdicts,
# the top keys, and config errors with their JSON paths.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl not installed"
PA=$(free_port); PL=$(free_port)
start_backend a "$PA" || { echo "backend did not start"; exit 1; }

# ---- keys and tokens (RS256, as the doc's example) ----
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.key" 2>/dev/null
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() { # jwt HEADER PAYLOAD SIGNER (rsa.key | other.key | hmac:SECRETFILE | none)
	local h p s
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	case "$3" in
	none) s="" ;;
	hmac:*) s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "key:$(cat "${3#hmac:}")" -binary | b64url) ;;
	*) s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/$3" -binary | b64url) ;;
	esac
	printf '%s.%s.%s' "$h" "$p" "$s"
}
now=$(date +%s)
RS='{"alg":"RS256","typ":"JWT"}'
ALICE=$(jwt "$RS" "{\"sub\":\"alice\",\"exp\":$((now + 3600))}" rsa.key)
BOB=$(jwt "$RS" "{\"sub\":\"bob\",\"exp\":$((now + 3600))}" rsa.key)
CAROL=$(jwt "$RS" "{\"sub\":\"carol\",\"exp\":$((now + 3600))}" rsa.key)
EXPIRED=$(jwt "$RS" "{\"sub\":\"alice\",\"exp\":$((now - 3600))}" rsa.key)
WRONGSIG=$(jwt "$RS" "{\"sub\":\"alice\",\"exp\":$((now + 3600))}" other.key)
# alg swapped: HS256 keyed with the RSA public key (the HS/RS confusion attack)
SWAPPED=$(jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"alice\",\"exp\":$((now + 3600))}" "hmac:$T/rsa.pem")
NONE=$(jwt '{"alg":"none","typ":"JWT"}' "{\"sub\":\"alice\",\"exp\":$((now + 3600))}" none)

# ---- the config: the doc's example rules, then the test's own ----
python3 - "$T/deny.json" <<'PY'
import json, sys
# 100,000 /32s in 10.200.0.0/16..10.201.x plus the test's denied client
cidrs = ["10.%d.%d.%d/32" % (200 + i // 65536, (i // 256) % 256, i % 256) for i in range(99998)]
cidrs += ["192.0.2.0/24", "127.0.0.66/32"]
json.dump(cidrs, open(sys.argv[1], "w"))
PY
write_conf() { # write_conf LOGIN_PERIOD_S
	cat >"$T/c.json.tmp" <<JSON
{"version": 1,
 "listeners": [{"name": "web", "address": "127.0.0.1", "port": $PL,
                "access_log": {"path": "$T/access.log"}}],
 "pools": [{"name": "a", "members": [{"address": "127.0.0.1", "port": $PA}]}],
 "routes": [{"name": "main", "listener": "web", "pool": "a"},
            {"name": "upload", "listener": "web", "path_prefix": "/upload", "pool": "a"}],
 "rate_rules": {
  "jwt": [{"name": "auth", "alg": "RS256", "key_file": "$T/rsa.pem", "leeway_s": 30}],
  "allow_cidrs": ["10.9.0.0/16"],
  "deny_cidrs": $(cat "$T/deny.json"),
  "waf": {
    "limits": [{"id": "upload-limits", "routes": ["upload"], "methods": ["POST"],
                "max_body_bytes": 100, "max_headers": 30}],
    "deny_patterns": [{"id": "sqli-1", "on": "query", "regex": "(?i)union\\\\s+select"},
                      {"id": "bad-agent", "on": "header", "header": "User-Agent", "regex": "^sqlmap"}]},
  "rules": [
    {"name": "flood-ban",
     "limit": {"requests": 1000, "period_s": 10},
     "action": {"type": "ban", "duration_s": 600}},

    {"name": "login-user", "match": {"path": "/login", "methods": ["POST"]},
     "key": [{"type": "jwt_claim", "jwt": "auth", "claim": "sub"}],
     "limit": {"requests": 5, "period_s": $1},
     "action": {"type": "reject", "status": 429, "body": "slow down\\n"}},

    {"name": "login-ip", "match": {"path": "/login"},
     "key": [{"type": "client_ip", "ipv6_prefix": 64}],
     "limit": {"requests": 5, "period_s": $1}},

    {"name": "api-key-required", "match": {"path_prefix": "/api/"},
     "key": [{"type": "header", "name": "X-API-Key", "values": ["k-123", "k-456"]}],
     "on_missing_key": "reject", "missing_status": 401},

    {"name": "search-per-key", "match": {"path": "/search"},
     "key": [{"type": "header", "name": "X-API-Key"}],
     "limit": {"requests": 50, "period_s": 60}},

    {"name": "me-jwt", "match": {"path": "/me"},
     "key": [{"type": "jwt_claim", "jwt": "auth", "claim": "sub"}],
     "on_missing_key": "reject", "missing_status": 401},

    {"name": "shadow-probe", "match": {"path": "/shadow"},
     "limit": {"requests": 1, "period_s": 60}, "shadow": true},

    {"name": "slow", "match": {"path": "/slow"},
     "limit": {"requests": 1, "period_s": 60},
     "action": {"type": "tarpit", "delay_ms": 2000, "status": 429}}
  ]}}
JSON
	mv "$T/c.json.tmp" "$T/c.json"
}
write_conf 60
jqe() { jq -e "$@" >/dev/null; }
jqse() { jq -se "$@" >/dev/null; }
ok "the example config is accepted (tandemctl check)" -- "$B/daemon/tandemctl" check "$T/c.json"
start_tandemd "$T/c.json" -w 1 || finish
wait_port "$PL" || { echo "listener did not come up"; finish; }
U="http://127.0.0.1:$PL"
# req IP [curl args...]: prints the status code
req() { local ip=$1; shift; curl -s -o /dev/null -w '%{http_code}' --interface "$ip" --max-time 10 "$@"; }

# ---- /login: 5 per minute per user (JWT sub) and per IP ----
codes=""
for i in 1 2 3 4 5; do codes+="$(req 127.0.0.2 -X POST -H "Authorization: Bearer $ALICE" "$U/login") "; done
eq "login: 5 POSTs of alice within a minute are admitted" "200 200 200 200 200 " "$codes"
curl -s -D "$T/h6" -o "$T/b6" --interface 127.0.0.2 -X POST -H "Authorization: Bearer $ALICE" "$U/login"
eq "login: the 6th of alice gets 429" 429 "$(awk 'NR==1{print $2}' "$T/h6")"
eq "login: with the rule's body" "slow down" "$(cat "$T/b6")"
hdr() { tr -d '\r' <"$1" | awk -v k="$2" -F': ' 'tolower($1) == tolower(k) {print $2}'; }
eq "login: RateLimit-Limit 5" 5 "$(hdr "$T/h6" RateLimit-Limit)"
eq "login: RateLimit-Remaining 0" 0 "$(hdr "$T/h6" RateLimit-Remaining)"
reset=$(hdr "$T/h6" RateLimit-Reset); ra=$(hdr "$T/h6" Retry-After)
ok "login: RateLimit-Reset within the minute ($reset)" -- test "${reset:-0}" -ge 1 -a "${reset:-0}" -le 60
ok "login: Retry-After within the window and its slide ($ra)" -- test "${ra:-0}" -ge 1 -a "${ra:-0}" -le 72
eq "login: bob from the same IP is held by the per-IP rule (6th from 127.0.0.2)" 429 \
	"$(req 127.0.0.2 -X POST -H "Authorization: Bearer $BOB" "$U/login")"
eq "login: bob from another IP is admitted" 200 "$(req 127.0.0.3 -X POST -H "Authorization: Bearer $BOB" "$U/login")"
codes=""
for i in 1 2 3 4 5 6; do codes+="$(req 127.0.0.5 "$U/login") "; done
eq "login: without a token, the per-IP limit alone (5 then 429)" "200 200 200 200 200 429 " "$codes"

# ---- /search: 50 per minute per API key ----
for i in $(seq 51); do printf 'url = "%s/search"\nheader = "X-API-Key: k1"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$U"; done >"$T/search.curl"
res=$(curl -s --interface 127.0.0.6 -K "$T/search.curl" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
eq "search: 50 admitted, the 51st refused for key k1" "200:50 429:1 " "$res"
eq "search: another key is not affected" 200 "$(req 127.0.0.6 -H 'X-API-Key: k2' "$U/search")"

# ---- /api/: a valid API key is required ----
eq "api: without a key: 401" 401 "$(req 127.0.0.1 "$U/api/x")"
eq "api: with an unknown key: 401" 401 "$(req 127.0.0.1 -H 'X-API-Key: k-999' "$U/api/x")"
eq "api: with a listed key: 200" 200 "$(req 127.0.0.1 -H 'X-API-Key: k-123' "$U/api/x")"

# ---- JWT cases (me-jwt: a valid token is required) ----
eq "jwt: valid: 200" 200 "$(req 127.0.0.1 -H "Authorization: Bearer $CAROL" "$U/me")"
eq "jwt: expired: 401" 401 "$(req 127.0.0.1 -H "Authorization: Bearer $EXPIRED" "$U/me")"
eq "jwt: wrong signature: 401" 401 "$(req 127.0.0.1 -H "Authorization: Bearer $WRONGSIG" "$U/me")"
eq "jwt: alg swapped to HS256 keyed with the public key: 401" 401 "$(req 127.0.0.1 -H "Authorization: Bearer $SWAPPED" "$U/me")"
eq "jwt: alg none: 401" 401 "$(req 127.0.0.1 -H "Authorization: Bearer $NONE" "$U/me")"
eq "jwt: no token: 401" 401 "$(req 127.0.0.1 "$U/me")"

# ---- shadow mode: counts and logs, never denies ----
codes=""
for i in 1 2 3; do codes+="$(req 127.0.0.1 "$U/shadow") "; done
eq "shadow: 3 requests over a limit of 1 are all admitted" "200 200 200 " "$codes"

# ---- tarpit: the 2nd /slow waits 2 s, the worker (only one) keeps serving ----
eq "tarpit: the first /slow is admitted" 200 "$(req 127.0.0.1 "$U/slow")"
( curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 "$U/slow" >"$T/slow.out" ) &
SLOW=$!
sleep 0.3
eq "tarpit: meanwhile another request is answered" 200 "$(req 127.0.0.1 --max-time 5 "$U/")"
ok "tarpit: ... while the held one still waits" -- kill -0 "$SLOW"
wait "$SLOW"
read -r scode stime <"$T/slow.out"
eq "tarpit: the held request gets 429" 429 "$scode"
ok "tarpit: after at least the 2 s delay ($stime s)" -- awk -v t="$stime" 'BEGIN{exit !(t >= 1.9)}'

# ---- WAF checks ----
eq "waf: a deny pattern on the query (encoded): 403" 403 "$(req 127.0.0.1 "$U/x?q=1%20UNION%20%20select%202")"
eq "waf: a deny pattern on a header: 403" 403 "$(req 127.0.0.1 -A 'sqlmap/1.7' "$U/x")"
eq "waf: a clean request passes" 200 "$(req 127.0.0.1 "$U/x?q=union")"
eq "waf: a method not allowed on the route: 405" 405 "$(req 127.0.0.1 "$U/upload/a")"
eq "waf: a body over the route's limit: 413" 413 "$(req 127.0.0.1 --data-binary "$(head -c 200 /dev/zero | tr '\0' a)" "$U/upload/a")"
eq "waf: a chunked body where a body limit applies: 411" 411 "$(req 127.0.0.1 -H 'Transfer-Encoding: chunked' --data-binary abc "$U/upload/a")"
eq "waf: a small body passes" 200 "$(req 127.0.0.1 --data-binary abc "$U/upload/a")"
eq "waf: the limits do not apply to other routes" 200 "$(req 127.0.0.1 --data-binary "$(head -c 200 /dev/zero | tr '\0' a)" "$U/other")"

# ---- client lists (100,000-entry deny list) ----
eq "deny list: a listed client gets 403" 403 "$(req 127.0.0.66 "$U/")"
eq "deny list: an unlisted client passes" 200 "$(req 127.0.0.67 "$U/")"

# ---- flood: above 1,000 requests per 10 s, banned for 10 minutes ----
for i in $(seq 2000); do printf 'url = "%s/f"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$U"; done >"$T/flood.curl"
curl -s --interface 127.0.0.9 --max-time 60 -K "$T/flood.curl" >"$T/flood.out" 2>/dev/null
n200=$(grep -c '^200$' "$T/flood.out"); n429=$(grep -c '^429$' "$T/flood.out")
# at least N; more when the flood straddles a window edge (the estimate
# weighs the previous window by its overlap; never 2N within 10 s)
ok "flood: at least 1,000 admitted before the ban ($n200)" -- test "$n200" -ge 1000 -a "$n200" -lt 2000
eq "flood: exactly one request gets the ban's answer" 1 "$n429"
eq "flood: after it the client is closed at accept (no HTTP answer)" 000 "$(req 127.0.0.9 "$U/")"
eq "flood: other clients are served" 200 "$(req 127.0.0.10 "$U/")"
lim=$(ctl limits --json)
ok "flood: the ban is listed (limits: bans_active 1)" -- jqe '.bans.bans_active == 1' <<<"$lim"
ok "stats count the refused accepts and the denials" -- bash -c "ctl(){ '$B/daemon/tandemctl' -s '$T/tandemd.sock' \"\$@\"; }; ctl stats | jq -e '.l7.refused_banned >= 1 and .l7.limit_denied >= 10' >/dev/null"

# ---- the access log: every verdict ----
sleep 0.5	# the logger thread writes asynchronously
ok "log: the 6th login names the deciding rule and each outcome" -- jqse \
	'[.[] | select(.path == "/login" and .status == 429 and .limit.rule == "login-user" and .limit.action == "reject"
	   and (.limit.outcomes | map(.rule + ":" + .outcome) | index("login-user:deny") != null))] | length >= 1' "$T/access.log"
ok "log: an admitted request carries its admits" -- jqse \
	'[.[] | select(.path == "/search" and .status == 200 and (.limit.outcomes | map(.rule + ":" + .outcome) | index("search-per-key:admit") != null))] | length == 51 - 1 + 1' "$T/access.log"
ok "log: shadow mode logs what it would have done" -- jqse \
	'[.[] | select(.path == "/shadow" and .status == 200 and (.limit.outcomes | map(.outcome) | index("shadow-deny") != null))] | length == 2' "$T/access.log"
for c in "expired" "signature does not verify" "alg is not the one the rule pins"; do
	ok "log: the JWT error is logged ($c)" -- jqse --arg c "$c" \
		'[.[] | select(.path == "/me" and .status == 401 and (.limit.outcomes | map(.jwt // "") | any(contains($c))))] | length >= 1' "$T/access.log"
done
ok "log: a WAF deny carries its id and check" -- jqse \
	'[.[] | select(.status == 403 and .limit.waf == "sqli-1" and .limit.waf_check == "pattern")] | length == 1' "$T/access.log"
ok "log: the ban" -- jqse '[.[] | select(.limit.rule == "flood-ban" and .limit.action == "ban")] | length == 1' "$T/access.log"
ok "log: the deny list" -- jqse '[.[] | select(.status == 403 and (.limit.outcomes | map(.outcome) | index("deny-list") != null))] | length == 1' "$T/access.log"

# ---- the live view: counters and top keys ----
ok "limits: top denials of login-user is alice" -- jqe \
	'.rules[] | select(.name == "login-user") | .top_denials[0].key == "jwt=alice" and .top_denials[0].denials == 1' <<<"$lim"
ok "limits: top hits of search-per-key is k1 (51)" -- jqe \
	'.rules[] | select(.name == "search-per-key") | .top_hits[0].key == "header=k1" and .top_hits[0].hits == 51' <<<"$lim"
ok "limits: top hits of flood-ban is the flooder" -- jqe \
	'.rules[] | select(.name == "flood-ban") | .top_hits[0].key == "ip=127.0.0.9/32"' <<<"$lim"
ok "limits: WAF hit counters" -- jqe \
	'([.waf[] | select(.id == "sqli-1" and .hits == 1)] | length == 1) and ([.waf[] | select(.id == "upload-limits" and .hits == 3)] | length == 1)' <<<"$lim"

# ---- the next window admits again: the same rules with a 2 s period ----
write_conf 2
ok "reload with a 2 s period" -- ctl reload
# six in one curl (one connection): well inside one 2 s window
for i in $(seq 6); do printf 'url = "%s/login"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} "\n' "$U" "$ALICE"; done >"$T/login6.curl"
eq "2 s window: 5 admitted, the 6th refused" "200 200 200 200 200 429 " \
	"$(curl -s --interface 127.0.0.12 -K "$T/login6.curl")"
curl -s -D "$T/h7" -o /dev/null --interface 127.0.0.12 -X POST -H "Authorization: Bearer $ALICE" "$U/login"
ra=$(hdr "$T/h7" Retry-After)
ok "2 s window: Retry-After within the window and its slide ($ra)" -- test "${ra:-0}" -ge 1 -a "${ra:-0}" -le 3
sleep "$ra.3"
eq "2 s window: after Retry-After the next window admits again" 200 \
	"$(req 127.0.0.12 -X POST -H "Authorization: Bearer $ALICE" "$U/login")"
lim2=$(ctl limits --json)
ok "a rule kept across the reload keeps its table and counters (search-per-key: 52 hits)" -- jqe \
	'.rules[] | select(.name == "search-per-key") | .hits == 52 and .keys == 2 and .top_hits[0].key == "header=k1"' <<<"$lim2"
ok "a rule whose period changed starts afresh (login-user: the 8 requests since)" -- jqe \
	'.rules[] | select(.name == "login-user") | .hits == 8 and .period_s == 2' <<<"$lim2"

# ---- config errors carry their JSON paths; a refused reload changes nothing ----
cp "$T/c.json" "$T/good.json"
jq '.rate_rules.rules[1].limit.period_s = 0 | .rate_rules.waf.deny_patterns[0].regex = "(unclosed"' \
	"$T/good.json" >"$T/c.json"
out=$(ctl reload 2>&1)
ok "bad config: the period's path" -- grep -q 'rate_rules.rules\[1\].limit.period_s' <<<"$out"
ok "bad config: the regex's path" -- grep -q 'rate_rules.waf.deny_patterns\[0\].regex' <<<"$out"
jq '.rate_rules.waf.limits[0].routes = ["nope"] | .rate_rules.rules[2].match.listeners = ["web2"]' \
	"$T/good.json" >"$T/c.json"
out=$(ctl reload 2>&1)
ok "bad config: an unknown route is named" -- grep -q 'route "nope"' <<<"$out"
ok "bad config: an unknown listener is named" -- grep -q 'listener "web2"' <<<"$out"
eq "bad config: the old rules still serve" 401 "$(req 127.0.0.1 "$U/api/x")"
finish
