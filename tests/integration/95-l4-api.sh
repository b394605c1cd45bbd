#!/usr/bin/env bash
# 95-l4-api.sh - the l4 section through tandem-admin's REST API (doc/api.md
# "L4"): virtual services with their real servers (TCP/UDP, IPv4/IPv6,
# fwmark, schedulers and flags, persistence, NAT/DR/tunnel, thresholds,
# health checks) and the settings (filter, sync daemon) are validated with
# tandemd's own rules (errors on the field), rendered into the config and
# applied. This host's kernel has no IPVS: status, /status and /l4/status
# say L4 is inactive with the reason, while L7 keeps serving and the
# nftables filter (which needs no IPVS) is programmed. A candidate that
# tandemd refuses is answered 422 on the field while the old config keeps
# serving. tandemd runs in a network namespace of its own, so its nftables
# table never touches the host.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace for tandemd's nftables table)"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
command -v nft >/dev/null || skip "nft is not installed"
NS="tl4a$$"
netns_add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
nsx() { ip netns exec "$NS" "$@"; }

BPORT=$(free_port); LPORT=$(free_port); MPORT=$(free_port)
nsx "$B/tests/tools/demo-backend" "127.0.0.1:$BPORT" be1 >"$T/backend.log" 2>&1 &
PIDS+=($!)
write_config "$T/init.json" 0 "$LPORT" "$BPORT"
ok "first start" -- admin_init "$T/init.json"
nsx "$B/daemon/tandemd" -c "$T/tandem.json" -s "$T/tandemd.sock" --metrics "127.0.0.1:$MPORT" >"$T/tandemd.log" 2>&1 &
TANDEMD_PID=$!; PIDS+=($TANDEMD_PID)
for _ in $(seq 100); do [ -S "$T/tandemd.sock" ] && break; sleep 0.05; done
start_admin || finish
ok "login" -- login
l7() { nsx curl -s --max-time 5 "http://127.0.0.1:$LPORT/"; }
for _ in $(seq 50); do [ "$(l7)" = "backend be1" ] && break; sleep 0.1; done
eq "L7 serves" "backend be1" "$(l7)"

# ---- a kernel without IPVS: reported, never a crash
api GET /status
ok "/status: tandemd reachable, L4 inactive with the reason" -- \
	jq -e '.tandemd.reachable and .tandemd.l4.available == false and (.tandemd.l4.reason | test("IPVS"))' <<<"$BODY"
api GET /l4/status
ok "/l4/status: inactive, the reason names IPVS" -- jq -e '.reachable and .available == false and (.reason | test("IPVS not available|IPVS not permitted"))' <<<"$BODY"
api GET /l4
ok "GET /l4: empty" -- jq -e '.services == [] and .settings == {}' <<<"$BODY"
api GET /candidate
ok "nothing set, no l4 section" -- jq -e 'has("l4") | not' <<<"$BODY"

# ---- validation: tandemd's rules, every mistake on its field
api POST /l4/services '{"name":"pg","protocol":"tcp","address":"192.0.2.10","port":5432,"scheduler":"bogus","persistence_netmask":40,"color":"red","reals":[{"address":"10.0.1.2","port":5432,"weight":70000},{"address":"10.0.1.3","port":5432,"forward":"tunnel","tunnel_type":"vxlan"},{"address":"10.0.1.4","port":5432,"upper_threshold":10,"lower_threshold":20}]}'
eq "bad service: 422" 422 "$STATUS"
eq "every mistake is listed on its field" \
	"l4/services/pg/color l4/services/pg/persistence_netmask l4/services/pg/reals/10.0.1.2:5432/weight l4/services/pg/reals/10.0.1.3:5432/tunnel_type l4/services/pg/reals/10.0.1.4:5432/lower_threshold l4/services/pg/scheduler" \
	"$(jq -r '[.errors[].field] | unique | join(" ")' <<<"$BODY")"
api POST /l4/services '{"name":"dns","protocol":"udp","address":"2001:db8::53","port":53,"scheduler":"rr","flags":["sh-port"],"check":{"type":"tcp"},"reals":[]}'
eq "sh flag on rr, TCP check on UDP: 422" \
	"422 l4/services/dns/check/type l4/services/dns/flags" "$STATUS $(jq -r '[.errors[].field] | unique | join(" ")' <<<"$BODY")"
api POST /l4/services '{"name":"bad name","protocol":"tcp","address":"192.0.2.10","port":1}'
eq "a bad name: 422" "422 l4/services/bad name/name" "$STATUS $(jq -r .error.field <<<"$BODY")"
api GET /l4/services
eq "nothing stored" "[]" "$(jq -c . <<<"$BODY")"

# ---- every kind of service
api POST /l4/services '{"name":"pg","protocol":"tcp","address":"192.0.2.10","port":5432,"scheduler":"wrr","persistence_timeout":300,"persistence_netmask":24,"check":{"type":"send_expect","send":"PING\r\n","expect":"+PONG","interval":1,"fall":2,"rise":1},"limits":{"new_conns":100,"per":"minute","concurrent":50},"reals":[{"address":"10.0.1.3","port":5432,"forward":"dr","upper_threshold":1000,"lower_threshold":800},{"address":"10.0.1.2","port":5432,"weight":3}]}'
eq "create tcp service: 201" 201 "$STATUS"
ok "stored as sent, reals by address" -- jq -e '.scheduler == "wrr" and .persistence_netmask == 24 and .reals[0].address == "10.0.1.2" and .reals[0].weight == 3 and .reals[1].forward == "dr" and .reals[1].upper_threshold == 1000 and .check.expect == "+PONG" and .limits.new_conns == 100' <<<"$BODY"
api POST /l4/services '{"name":"dns6","protocol":"udp","address":"2001:db8:0::53","port":53,"scheduler":"sh","flags":["sh-port","sh-fallback"],"reals":[{"address":"2001:db8:1::2","port":53}]}'
eq "create IPv6 udp service with flags: 201" 201 "$STATUS"
eq "addresses canonical" "2001:db8::53" "$(jq -r .address <<<"$BODY")"
api POST /l4/services '{"name":"marked","protocol":"fwmark","fwmark":7,"family":"ipv4","scheduler":"mh","flags":["mh-port"],"reals":[{"address":"10.0.2.2","forward":"tunnel","tunnel_type":"gue","tunnel_port":6080}]}'
eq "create fwmark service with a GUE tunnel real: 201" 201 "$STATUS"
ok "a fwmark real has no port" -- jq -e '.reals[0] | has("port") | not' <<<"$BODY"
api POST /l4/services '{"name":"pg2","protocol":"tcp","address":"192.0.2.10","port":5432,"reals":[]}'
eq "same address and port as pg: 422 on the new service" "422 l4/services/pg2" "$STATUS $(jq -r .error.field <<<"$BODY")"
api POST /l4/services '{"name":"pg","protocol":"tcp","address":"192.0.2.11","port":5432}'
eq "a taken name: 409" 409 "$STATUS"

# ---- reals one at a time
api POST /l4/services/pg/reals '{"address":"10.0.1.4","port":5432,"weight":2}'
eq "add a real: 201" "201 2" "$STATUS $(jq -r .weight <<<"$BODY")"
api POST /l4/services/pg/reals '{"address":"10.0.1.4","port":5432}'
eq "the same real again: 409" 409 "$STATUS"
api PUT /l4/services/pg/reals/10.0.1.4:5432 '{"upper_threshold":5,"lower_threshold":9}'
eq "lower above upper: 422 on the real's field" "422 l4/services/pg/reals/10.0.1.4:5432/lower_threshold" "$STATUS $(jq -r .error.field <<<"$BODY")"
api PUT /l4/services/pg/reals/10.0.1.4:5432 '{"weight":0}'
eq "drain a real (weight 0): 200" "200 0" "$STATUS $(jq -r .weight <<<"$BODY")"
api GET /l4/services/pg/reals
eq "three reals" 3 "$(jq length <<<"$BODY")"
api DELETE /l4/services/pg/reals/10.0.1.4:5432; eq "delete a real: 204" 204 "$STATUS"
api GET /l4/services/pg/reals/10.0.1.4:5432; eq "gone: 404" 404 "$STATUS"
api PUT /l4/services/pg '{"scheduler":"lc"}'
ok "PUT merges: scheduler changed, reals kept" -- jq -e '.scheduler == "lc" and (.reals | length) == 2 and .persistence_timeout == 300' <<<"$BODY"
api PUT /l4/services/pg '{"persistence_timeout":null,"persistence_netmask":null}'
ok "a field sent as null goes back to its default" -- jq -e '(has("persistence_timeout") | not) and (has("persistence_netmask") | not)' <<<"$BODY"

# ---- settings: filter and sync daemon
api PUT /l4/settings '{"filter":{"deny":["198.51.100.7/24","10.0.0.300"]},"sync":{"role":"leader"},"speed":1}'
eq "unknown settings field: 422" "422 l4/settings/speed" "$STATUS $(jq -r .error.field <<<"$BODY")"
api PUT /l4/settings '{"filter":{"deny":["10.0.0.300"]},"sync":{"role":"leader","interface":"lo"}}'
eq "bad deny entry and sync role: 422 on both" "422 l4/settings/filter/deny l4/settings/sync/role" \
	"$STATUS $(jq -r '[.errors[].field] | unique | join(" ")' <<<"$BODY")"
api PUT /l4/settings '{"reconcile_interval":30,"filter":{"allow":["127.0.0.1"],"deny":["198.51.100.0/24"],"ban_timeout":60},"sync":{"role":"none","syncid":7,"interface":"lo"}}'
eq "set settings: 200" 200 "$STATUS"
ok "settings read back" -- jq -e '.reconcile_interval == 30 and .filter.deny == ["198.51.100.0/24"] and .sync.syncid == 7' <<<"$BODY"

api GET /candidate
ok "the candidate has the l4 section" -- jq -e '(.l4.services | map(.name)) == ["dns6","marked","pg"] and .l4.filter.ban_timeout == 60 and .l4.reconcile_interval == 30' <<<"$BODY"

# ---- apply: L4 inactive, L7 unaffected, nftables programmed
api POST /apply '{"comment":"l4"}'
eq "apply: 200" 200 "$STATUS"
REV=$(jq -r '.revision // empty' <<<"$BODY")
ok "the config file has the section" -- jq -e '(.l4.services | length) == 3' "$T/tandem.json"
ST=$(nsx "$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json)
ok "tandemctl status: 3 configured, L4 inactive with the reason" -- \
	jq -e '.l4.configured == 3 and .l4.available == false and (.l4.reason | test("IPVS"))' <<<"$ST"
ok "tandemctl status (text) says L4 is inactive" -- bash -c "ip netns exec '$NS' '$B/daemon/tandemctl' -s '$T/tandemd.sock' status | grep -qi 'inactive'"
eq "L7 still serves" "backend be1" "$(l7)"
ok "the filter is programmed without IPVS (nftables)" -- bash -c "ip netns exec '$NS' nft list table inet tandem | grep -q '198.51.100.0/24'"
api GET /status
ok "/status: configured 3, inactive" -- jq -e '.tandemd.l4.configured == 3 and .tandemd.l4.available == false' <<<"$BODY"
M=$(nsx curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics")
ok "Prometheus: L4 unavailable, 3 services configured, L7 metrics still there" -- \
	bash -c "grep -qx 'tandem_l4_available 0' <<<'$M' && grep -qx 'tandem_l4_services_configured 3' <<<'$M' && grep -q '^tandem_member_up' <<<'$M'"
api POST /l4/bans '{"address":"203.0.113.9","timeout":60}'
eq "ban an address now: 200" 200 "$STATUS"
ok "the ban is in tandemd's ban set" -- bash -c "ip netns exec '$NS' nft list set inet tandem ban4 | grep -q '203.0.113.9'"
api POST /l4/bans '{"address":"nope"}'
eq "ban of a non-address: 422 on the field" "422 l4/bans/address" "$STATUS $(jq -r .error.field <<<"$BODY")"
api POST /l4/sync-role '{"role":"leader"}'
eq "unknown sync role: 422 on the field" "422 l4/sync-role/role" "$STATUS $(jq -r .error.field <<<"$BODY")"
ok "tandemd is alive" -- kill -0 "$TANDEMD_PID"

# ---- a candidate tandemd refuses: 422 on the field, the old config keeps serving
sqlite3 "$T/state/tandem.db" "UPDATE l4_services SET spec = json_set(spec, '$.scheduler', 'nope') WHERE name = 'pg'"
api POST /apply '{"comment":"bad"}'
eq "apply of a bad scheduler: 422" 422 "$STATUS"
ok "the refusal names the field" -- jq -e '[.errors[].field] | index("l4/services/pg/scheduler") != null' <<<"$BODY"
eq "tandemd still runs the old revision" "$REV" "$(nsx "$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq -r .revision)"
eq "L7 still serves" "backend be1" "$(l7)"
ok "the config file is the old one" -- jq -e '.l4.services[2].scheduler == "lc"' "$T/tandem.json"
api PUT /l4/services/pg '{"scheduler":"wlc"}'; eq "fix it: 200" 200 "$STATUS"

# ---- restore: services replaced, this node's sync settings kept
api PUT /l4/settings '{"sync":{"role":"none","syncid":9,"interface":"lo"}}'
api POST /revisions/1/restore; eq "restore the first revision (no l4): 200" 200 "$STATUS"
api GET /l4
ok "restore replaced the services and the filter, kept this node's sync" -- \
	jq -e '.services == [] and (.settings | has("filter") | not) and .settings.sync.syncid == 9' <<<"$BODY"
api DELETE /l4/services/pg; eq "delete a missing service: 404" 404 "$STATUS"
finish
