#!/usr/bin/env bash
# A rate rule's ban reaches the L4 tier (doc/limits.md "Bans"): a client
# over the limit is banned; tandemd adds it to the nftables ban set of its
# own table (l4.filter configured), so its next TCP connections are not even
# accepted (the SYN is dropped: the L7 accept-time check never sees them),
# other clients are served, and when the ban expires it gets through again.
# Client and tandemd in two network namespaces on the host kernel.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, nftables)"
command -v nft >/dev/null || skip "nft not installed"
command -v python3 >/dev/null || skip "python3 not installed"
PFX="tlb$$"
for n in c r; do netns_add "$PFX$n" || skip "cannot create network namespaces"; ip -n "$PFX$n" link set lo up; done
ip -n "${PFX}c" link add eth0 type veth peer name ethc netns "${PFX}r"
ip -n "${PFX}c" addr add 10.62.1.2/24 dev eth0
ip -n "${PFX}c" addr add 10.62.1.3/24 dev eth0
ip -n "${PFX}r" addr add 10.62.1.1/24 dev ethc
ip -n "${PFX}c" link set eth0 up
ip -n "${PFX}r" link set ethc up

nsx r "$B/tests/tools/demo-backend" 127.0.0.1:9000 a >"$T/backend.log" 2>&1 &
PIDS+=($!)
cat >"$T/c.json" <<JSON
{"version": 1,
 "listeners": [{"name": "web", "address": "10.62.1.1", "port": 8080}],
 "pools": [{"name": "a", "members": [{"address": "127.0.0.1", "port": 9000}]}],
 "routes": [{"name": "main", "listener": "web", "pool": "a"}],
 "l4": {"filter": {"allow": ["192.0.2.1"], "ban_timeout": 600}},
 "rate_rules": {"rules": [
   {"name": "flood-ban", "limit": {"requests": 5, "period_s": 2},
    "action": {"type": "ban", "duration_s": 4}}]}}
JSON
nsx r "$B/daemon/tandemd" -c "$T/c.json" -s "$T/tandemd.sock" -w 1 >"$T/tandemd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/tandemd.sock" ] && break; sleep 0.05; done
for _ in $(seq 100); do nsx r ss -Htln "sport = :8080" | grep -q . && break; sleep 0.05; done
ok "our nftables table is there (l4.filter)" -- nsx r nft list set inet tandem ban4 >/dev/null
get() { nsx c curl -s -o /dev/null -w '%{http_code}' --interface "$1" --connect-timeout 1 --max-time 3 "http://10.62.1.1:8080/"; }
conn() { nsx c python3 "$SRC/tests/tools/l4-conn.py" "$1" 10.62.1.1 8080 "$2" "$3"; }

# (the ban outlasts the rule's 2 s window, so the client comes back with a
# clean slate; a window straddling an edge may admit a 6th)
n200=0; code=""
for i in $(seq 10); do
	code=$(get 10.62.1.2)
	[ "$code" = 200 ] || break
	n200=$((n200 + 1))
done
ok "5 admitted ($n200), then the ban's answer ($code)" -- test "$n200" -ge 5 -a "$n200" -le 7 -a "$code" = 429
inset=0
for _ in $(seq 50); do
	nsx r nft list set inet tandem ban4 2>/dev/null | grep -q '10.62.1.2' && { inset=1; break; }
	sleep 0.1
done
eq "the address is in the nftables ban set" 1 "$inset"
ok "with the rule's duration as its timeout" -- bash -c "ip netns exec ${PFX}r nft list set inet tandem ban4 | grep -Eq '10.62.1.2 timeout 4s'"
eq "its TCP connections are not accepted (SYN dropped)" 0 "$(conn 10.62.1.2 3 0.5)"
eq "the L7 accept-time check never saw them" 0 "$(ctl stats | jq '.l7.refused_banned')"
eq "another client is served" 200 "$(get 10.62.1.3)"
ok "tandemd counts the mirrored ban" -- bash -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' limits | jq -e '.bans.mirrored == 1 and .bans.bans_active == 1' >/dev/null"
back=""
for _ in $(seq 40); do
	back=$(get 10.62.1.2)
	[ "$back" = 200 ] && break
	sleep 0.25
done
eq "after the ban expires the client gets through again" 200 "$back"
ok "the ban set no longer holds it" -- bash -c "! ip netns exec ${PFX}r nft list set inet tandem ban4 | grep -q '10.62.1.2'"
finish
