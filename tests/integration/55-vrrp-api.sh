#!/usr/bin/env bash
# 55-vrrp-api.sh - the vrrp section through tandem-admin's REST API:
# groups (shared) and this node's own fields (local) are stored apart,
# validated with tandemd's own rules (errors on the field), rendered into
# the config file; a restore of an older revision never touches the local
# part. Then (root and keepalived only) the candidate is applied to a tandemd
# running in a network namespace: keepalived starts and the group's role
# reaches the dashboard's /status.
. "$(dirname "$0")/lib.sh"

PFX="tva$$-"
NS=""

echo '{"version":1}' >"$T/empty.json"
ok "first start" -- admin_init "$T/empty.json"
# tandemd runs in a namespace when we can make one (keepalived needs an
# interface of its own), else on the host: the API part needs no root.
LIVE=0
if [ "$(id -u)" = 0 ] && command -v keepalived >/dev/null && netns_add "${PFX}n" 2>/dev/null; then
	NS="${PFX}n"; LIVE=1
	ip -n "$NS" link set lo up
	# a veth pair inside the namespace (no dummy module everywhere)
	ip -n "$NS" link add eth0 type veth peer name eth1
	ip -n "$NS" addr add 192.0.2.11/24 dev eth0
	ip -n "$NS" link set eth1 up
	ip -n "$NS" link set eth0 up
	ip netns exec "$NS" "$B/daemon/tandemd" -c "$T/tandem.json" -s "$T/tandemd.sock" \
		--vrrp-run-dir "$T/run" >"$T/tandemd.log" 2>&1 &
	TANDEMD_PID=$!; PIDS+=($TANDEMD_PID)
	for _ in $(seq 100); do [ -S "$T/tandemd.sock" ] && break; sleep 0.05; done
else
	echo "# not root, no keepalived or no netns: the apply part is skipped"
	start_tandemd "$T/tandem.json" || finish
fi
start_admin || finish
ok "login" -- login

api GET /vrrp; eq "GET /vrrp: 200" 200 "$STATUS"
ok "empty: no local fields, no groups" -- jq -e '.groups == [] and .local == {groups: []}' <<<"$BODY"
api GET /candidate
ok "no group, no vrrp section in the candidate" -- jq -e 'has("vrrp") | not' <<<"$BODY"

# ---- validation: tandemd's rules, errors on the field
api POST /vrrp/groups '{"name":"web","virtual_router_id":300,"vips":["192.0.2.10/24"]}'
eq "vrid out of range: 422" 422 "$STATUS"
eq "the error names the field" "vrrp/groups/web/virtual_router_id" "$(jq -r .error.field <<<"$BODY")"
api POST /vrrp/groups '{"name":"web","virtual_router_id":51,"advert_interval_ms":15,"vips":["192.0.2.300"],"color":"red"}'
eq "three mistakes: 422" 422 "$STATUS"
eq "every mistake is listed on its field" \
	"vrrp/groups/web/advert_interval_ms vrrp/groups/web/color vrrp/groups/web/vips" \
	"$(jq -r '[.errors[].field] | sort | join(" ")' <<<"$BODY")"
api POST /vrrp/groups '{"name":"web","virtual_router_id":51,"unicast_peers":["x"],"vips":["192.0.2.10/24"]}'
eq "a peer that is no address: 422" "422 vrrp/groups/web/unicast_peers" "$STATUS $(jq -r .error.field <<<"$BODY")"
api POST /vrrp/groups '{"name":"bad name","virtual_router_id":51,"vips":["192.0.2.10"]}'
eq "a bad name: 422" 422 "$STATUS"

# ---- a group before the local part is set: allowed (apply says what is missing)
api POST /vrrp/groups '{"name":"web","virtual_router_id":51,"advert_interval_ms":50,"unicast_peers":["192.0.2.11","192.0.2.12"],"vips":["192.0.2.10/24"]}'
eq "create group: 201" 201 "$STATUS"
ok "defaults are explicit" -- jq -e '.mode == "unicast" and .preempt == true and .advert_interval_ms == 50' <<<"$BODY"
api POST /vrrp/groups '{"name":"web","virtual_router_id":52,"vips":["192.0.2.20"]}'
eq "duplicate group name: 409" 409 "$STATUS"
api POST /vrrp/groups '{"name":"other","virtual_router_id":52,"mode":"multicast","vips":["192.0.2.10"]}'
eq "a VIP already in another group: 422" "422 vrrp/groups/other/vips" "$STATUS $(jq -r .error.field <<<"$BODY")"
api POST /apply '{"comment":"incomplete"}'
eq "apply without this node's interface and address: 422" 422 "$STATUS"
eq "the refusal is on the group" "vrrp/groups/web" "$(jq -r '[.errors[].field] | unique | join(" ")' <<<"$BODY")"

# ---- this node's fields
api PUT /vrrp/local '{"interface":"eth0","address":"192.0.2.11","priority":300}'
eq "priority out of range: 422 on vrrp/local/priority" "422 vrrp/local/priority" "$STATUS $(jq -r .error.field <<<"$BODY")"
api PUT /vrrp/local '{"interface":"eth0","address":"192.0.2.11","priority":150,"groups":[{"name":"nope","priority":10}]}'
eq "override of a missing group: 422" "422 vrrp/local/groups/nope/name" "$STATUS $(jq -r .error.field <<<"$BODY")"
api PUT /vrrp/local '{"router_id":"lb-a","interface":"eth0","address":"192.0.2.11","priority":150,"groups":[{"name":"web","priority":120}]}'
eq "set local: 200" 200 "$STATUS"
ok "local read back" -- jq -e '.priority == 150 and .interface == "eth0" and .groups == [{"name":"web","priority":120}]' <<<"$BODY"
api GET /candidate
ok "the candidate has the section, local and shared apart" -- jq -e '.vrrp.local.address == "192.0.2.11" and .vrrp.local.groups[0].priority == 120 and .vrrp.groups[0].name == "web" and (.vrrp.groups[0] | has("priority") | not)' <<<"$BODY"

# rename: this node's override follows the group
api PUT /vrrp/groups/web '{"name":"front"}'
eq "rename a group (PUT merges): 200" 200 "$STATUS"
ok "the rest of the group is kept" -- jq -e '.virtual_router_id == 51 and .vips == ["192.0.2.10/24"]' <<<"$BODY"
api GET /vrrp/local
eq "the override follows the rename" front "$(jq -r '.groups[0].name' <<<"$BODY")"
api PUT /vrrp/groups/front '{"name":"web"}'

# ---- apply, then restore an old revision: the local part stays
api POST /apply '{"comment":"vrrp"}'
if [ "$LIVE" = 1 ]; then
	eq "apply: 200" 200 "$STATUS"
else
	# without keepalived tandemd refuses the section (`keepalived -t` fails)
	ok "apply answered" -- test "$STATUS" = 200 -o "$STATUS" = 422
fi
REV=$(jq -r '.revision // empty' <<<"$BODY")
ok "the config file has the rendered section" -- jq -e '.vrrp.groups[0].virtual_router_id == 51 and .vrrp.local.priority == 150' "$T/tandem.json"
api PUT /vrrp/local '{"router_id":"lb-a","interface":"eth0","address":"192.0.2.11","priority":140}'
api POST /revisions/1/restore; eq "restore the first (empty) revision: 200" 200 "$STATUS"
api GET /vrrp
ok "restore replaced the shared groups" -- jq -e '.groups == []' <<<"$BODY"
eq "restore kept this node's priority" 140 "$(jq -r .local.priority <<<"$BODY")"
if [ -n "$REV" ]; then
	api POST "/revisions/$REV/restore"
	api GET /vrrp
	ok "a revision with the section brings the group back" -- jq -e '.groups[0].name == "web"' <<<"$BODY"
fi

if [ "$LIVE" = 1 ]; then
	# the only peer never answers: this node becomes MASTER after the
	# master-down interval (3 x 50 ms + skew)
	role=""
	for _ in $(seq 100); do
		api GET /status
		role=$(jq -r '.tandemd.vrrp.groups[0].role // empty' <<<"$BODY")
		[ "$role" = MASTER ] && break
		sleep 0.1
	done
	eq "the dashboard's /status shows the group's role from tandemd" MASTER "$role"
	ok "status carries the group's priority (the override)" -- jq -e '.tandemd.vrrp.groups[0].priority == 120' <<<"$BODY"
	ok "the MASTER holds the VIP" -- bash -c "ip -n '$NS' -o addr show dev eth0 | grep -q '192.0.2.10/24'"
	api DELETE /vrrp/groups/web; eq "delete group: 204" 204 "$STATUS"
	api GET /vrrp/local
	ok "deleting a group drops this node's override of it" -- jq -e '.groups == []' <<<"$BODY"
	api POST /apply '{"comment":"no vrrp"}'; eq "apply without groups: 200" 200 "$STATUS"
	ok "no group, no section: keepalived is stopped" -- bash -c "for i in \$(seq 50); do '$B/daemon/tandemctl' -s '$T/tandemd.sock' status --json | jq -e '.vrrp.keepalived.running != true' >/dev/null && exit 0; sleep 0.1; done; exit 1"
fi
finish
