#!/usr/bin/env bash
# 36-upgrade-split-vrrp.sh - binary upgrade under the privilege split with
# keepalived MASTER (doc/tandemd.md "Binary upgrade"): the root supervisor
# execs the new binary in place (same pid, as systemd's main pid must
# stay), keepalived keeps running (same pid, no VRRP transition, the VIP
# never leaves), the new data plane adopts it and knows the role, and a
# client in another namespace talking to the VIP sees no failure; tandemd's
# nftables table is not rebuilt and a ban stays; the ticket keys move on.
#
#   ${PFX}n   node   eth0 192.0.2.11 + VIP 192.0.2.10; tandemd --user nobody;
#             backend on 127.0.0.1
#   ${PFX}c   client eth0 192.0.2.100 (a veth pair between the two)
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "********** needs root (network namespaces, the split) **********"
command -v keepalived >/dev/null || skip "********** keepalived is not installed **********"
id nobody >/dev/null 2>&1 || skip "no user nobody for the data plane"
PFX="tu$$-"
VIP=192.0.2.10
for n in n c; do
	netns_add "$PFX$n" || skip "cannot create a network namespace"
	ip -n "$PFX$n" link set lo up
done
ip -n "${PFX}n" link add eth0 type veth peer name eth0 netns "${PFX}c"
ip -n "${PFX}n" addr add 192.0.2.11/24 dev eth0
ip -n "${PFX}c" addr add 192.0.2.100/24 dev eth0
ip -n "${PFX}n" link set eth0 up
ip -n "${PFX}c" link set eth0 up

chmod 755 "$T"
mkdir -p "$T/nd" "$T/bin"
chown nobody "$T/nd"
cp "$B/daemon/tandemd" "$T/bin/tandemd"
PB=$(free_port)
ip netns exec "${PFX}n" "$B/tests/tools/demo-backend" "127.0.0.1:$PB" be >"$T/backend.log" 2>&1 &
PIDS+=($!)
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"$VIP","port":80}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":$PB}]}],
 "routes":[{"name":"all","listener":"web","pool":"app"}],
 "l4":{"filter":{"deny":["198.51.100.0/24"],"ban_timeout":600}},
 "vrrp":{"local":{"router_id":"n","interface":"eth0","address":"192.0.2.11","priority":150},
         "groups":[{"name":"web","virtual_router_id":52,"advert_interval_ms":100,
                    "unicast_peers":["192.0.2.12"],"vips":["$VIP/24"]}]}}
JSON
SOCK="$T/nd/t.sock"
ip netns exec "${PFX}n" "$T/bin/tandemd" -c "$T/c.json" -s "$SOCK" -w 2 --vrrp-run-dir "$T/nd/run" \
	--user nobody --priv-dir "$T/priv" >"$T/tandemd.log" 2>&1 &
SUP=$!
PIDS+=($SUP)
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
st() { "$B/daemon/tandemctl" -s "$SOCK" status --json 2>/dev/null; }
wait_role() { for _ in $(seq 200); do [ "$(st | jq -r '.vrrp.groups[0].role')" = "$1" ] && return 0; sleep 0.05; done; return 1; }
ok "keepalived reaches MASTER under the supervisor" -- wait_role MASTER
KA=$(st | jq .vrrp.keepalived.pid)
ok "the client reaches the VIP" -- ip netns exec "${PFX}c" curl -s -o /dev/null --max-time 5 "http://$VIP/"

# L4 state the upgrade must leave alone: tandemd's nftables table and a ban
nft_handles() { ip netns exec "${PFX}n" nft -a list table inet tandem | grep -o 'handle [0-9]*' | tr '\n' ' '; }
ok "a ban into the L4 ban set" -- "$B/daemon/tandemctl" -s "$SOCK" ban 192.0.2.77 600
H0=$(nft_handles)
ok "tandemd's nftables table is loaded" -- test -n "$H0"
L0=$(wc -l <"$T/tandemd.log")
( end=$((SECONDS + 8)); while [ $SECONDS -lt $end ]; do
	ip netns exec "${PFX}c" curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' "http://$VIP/"
  done >"$T/codes" ) &
LOAD=$!
for i in 1 2; do
	old=$(st | jq .pid)
	cp "$B/daemon/tandemd" "$T/bin/tandemd.new" && mv "$T/bin/tandemd.new" "$T/bin/tandemd"
	ok "upgrade $i: tandemctl upgrade succeeds" -- "$B/daemon/tandemctl" -s "$SOCK" upgrade 30
	new=$(st | jq .pid)
	ok "upgrade $i: a new data plane serves ($old -> $new)" -- test "$new" != "$old"
	ok "upgrade $i: it runs as nobody" -- test "$(stat -c %U /proc/"$new")" = nobody
	eq "upgrade $i: the supervisor kept its pid (systemd's main pid)" "$SUP" "$(awk '$1 == "PPid:" {print $2}' /proc/"$new"/status)"
	ok "upgrade $i: the supervisor runs the new file" -- bash -c "readlink /proc/$SUP/exe | grep -qv deleted"
	eq "upgrade $i: keepalived kept running (same pid)" "$KA" "$(st | jq .vrrp.keepalived.pid)"
	eq "upgrade $i: the new data plane knows the role" MASTER "$(st | jq -r .vrrp.role)"
	for _ in $(seq 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
	ok "upgrade $i: the old data plane exited after draining" -- bash -c "! kill -0 $old 2>/dev/null"
	eq "upgrade $i: keepalived still runs after the old plane left" "$KA" "$(st | jq .vrrp.keepalived.pid)"
	sleep 1
done
wait "$LOAD"
n=$(wc -l <"$T/codes")
ok "client requests during the upgrades: $n" -- test "$n" -gt 10
eq "every one answered 200" "" "$(grep -v '^200$' "$T/codes" | sort | uniq -c)"
ok "the VIP never left (keepalived logged no state change since)" -- bash -c "! tail -n +$((L0 + 1)) '$T/tandemd.log' | grep -qE 'Entering|removing VIPs|Stopping'"
eq "the nftables table was not rebuilt (same rule and set handles)" "$H0" "$(nft_handles)"
ok "the ban survived the upgrades" -- bash -c "ip netns exec ${PFX}n nft list set inet tandem ban4 | grep -q '192.0.2.77'"
ok "the VIP is still on eth0" -- bash -c "ip -n ${PFX}n -o addr show dev eth0 | grep -q ' $VIP/'"
# The supervisor's answer names the new data plane: the old one hands its
# session ticket key ring to that pid only (doc/tls.md).
eq "each new data plane took the old one's ticket key" 2 "$(grep -c 'took over 1 session ticket key from the old tandemd' "$T/tandemd.log")"
# A reload after the upgrade reaches keepalived through the new plane.
sed -i 's/"priority":150/"priority":160/' "$T/c.json"
ok "reload after the upgrade is applied" -- "$B/daemon/tandemctl" -s "$SOCK" reload
eq "keepalived reloaded, not restarted" "$KA" "$(st | jq .vrrp.keepalived.pid)"
ok "the supervisor's copy has the new priority" -- grep -q 'priority 160' "$T/priv/keepalived.conf"
# A clean stop ends everything.
kill -TERM "$SUP"; wait "$SUP"
eq "SIGTERM to the supervisor: exit 0" 0 $?
for _ in $(seq 50); do kill -0 "$KA" 2>/dev/null || break; sleep 0.1; done
ok "keepalived stopped with it" -- bash -c "! kill -0 $KA 2>/dev/null"
finish
