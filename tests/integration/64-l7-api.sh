#!/usr/bin/env bash
# The L7 options through the REST API: stored per object, validated by the
# same parser as tandemd (422 naming the field), rendered into the config,
# applied and served; a route without a pool (redirect); health state with
# its reason in GET /status; import of a config with L7 fields round-trips.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"; start_backend b "$PB"
start_stack "" || finish

api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL,\"timeouts\":{\"client_idle_ms\":5000},\"request_id\":\"X-Request-Id\"}"
eq "listener with L7 options: 201" 201 "$STATUS"
eq "options read back" 5000 "$(jq .timeouts.client_idle_ms <<<"$BODY")"
api PUT /listeners/web '{"timeouts":{"client_idle_ms":1}}'
eq "invalid timeout: 422" 422 "$STATUS"
eq "the field names the option" "listeners/web/timeouts.client_idle_ms" "$(jq -r .error.field <<<"$BODY")"

api POST /pools "{\"name\":\"app\",\"algorithm\":\"weighted_round_robin\",\"health_check\":{\"type\":\"http\",\"path\":\"/health\",\"interval_ms\":200,\"timeout_ms\":100,\"rise\":1,\"fall\":1},\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PA,\"weight\":3},{\"address\":\"127.0.0.1\",\"port\":$PB,\"backup\":true}]}"
eq "pool with algorithm, health check and a backup: 201" 201 "$STATUS"
eq "member flags read back" true "$(jq '.members[] | select(.port=='"$PB"') | .backup' <<<"$BODY")"
api POST /pools '{"name":"bad","algorithm":"fastest"}'
eq "unknown algorithm: 422" 422 "$STATUS"
eq "... on pools/bad/algorithm" "pools/bad/algorithm" "$(jq -r .error.field <<<"$BODY")"
api PUT /pools/app '{"slow_start_ms":1000}'
eq "PUT keeps the other options" weighted_round_robin "$(jq -r .algorithm <<<"$BODY")"

api POST /routes '{"name":"r-bad","listener":"web","pool":"app","match":{"path_regex":"(["}}'
eq "invalid regex: 422" 422 "$STATUS"
eq "... on the regex" "routes/r-bad/match.path_regex" "$(jq -r .error.field <<<"$BODY")"
api POST /routes '{"name":"r-nopool","listener":"web"}'
eq "forward route without a pool: 422" 422 "$STATUS"
api POST /routes '{"name":"main","listener":"web","pool":"app","response_headers":{"set":{"X-Via":"tandem"}}}'
eq "forward route: 201" 201 "$STATUS"
api POST /routes '{"name":"old","listener":"web","path_prefix":"/old","action":"redirect","redirect":{"status":308,"location":"/new{path}"}}'
eq "redirect route without a pool: 201" 201 "$STATUS"
ok "... read back without a pool" -- jq -e '(has("pool") | not) and .action == "redirect"' <<<"$BODY"

api POST /apply '{"comment":"l7"}'
eq "apply: 200" 200 "$STATUS"
eq "apply says applied" applied "$(jq -r .status <<<"$BODY")"
ok "the rendered config holds the options" -- jq -e '(.pools[0].algorithm == "weighted_round_robin") and ([.routes[] | select(.name=="old") | .redirect.status] == [308])' "$T/tandem.json"
sleep 0.3
out=$(curl -s -i "http://127.0.0.1:$PL/")
ok "served by the primary" -- grep -q '^backend a' <<<"$out"
ok "response header edit applied" -- grep -qi '^X-Via: tandem' <<<"$out"
eq "redirect served" "308 /new/old/x" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PL/old/x" | sed "s|http://127.0.0.1:$PL||")"

api GET /status
ok "status shows health state and reason per member" -- jq -e '[.tandemd.pools[0].members[] | has("state") and has("reason")] | all' <<<"$BODY"
stop_backend a
sleep 0.8
api GET /status
ok "a failed check shows in the API with its reason" -- jq -e '.tandemd.pools[0].members[] | select(.port=='"$PA"') | .state == "down" and (.reason | test("health check failed"))' <<<"$BODY"
eq "the backup serves" "backend b" "$(curl -s "http://127.0.0.1:$PL/" | head -1)"

# import round trip: the same options come back from a rendered file
"$B/admin-ui/tandem-admin" --state-dir "$T/state2" --config-file "$T/t2.json" --ctl-socket "$T/none.sock" \
	--import "$T/tandem.json" --exit >/dev/null 2>&1
ok "import then render gives the same config" -- bash -c "diff <(jq -S 'del(.revision)' '$T/tandem.json') <(jq -S 'del(.revision)' '$T/t2.json')"
finish
