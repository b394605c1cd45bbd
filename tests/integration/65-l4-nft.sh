#!/usr/bin/env bash
# L4 rate rules and ban lists in tandemd's own nftables table (doc/l4.md),
# on the host kernel: client -> router (tandemd, table inet tandem) -> server,
# one network namespace each. Checks: over the new-connection limit is
# dropped, under it is not; the concurrent-connection limit; a denied CIDR is
# dropped; a banned address is dropped until its timeout passes; a table that
# was there before is untouched; reloads swap the ruleset without a window
# (a parallel prober from a denied address never gets through, and the base
# chain always holds its jump).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, nftables)"
command -v nft >/dev/null || skip "nft not installed"
command -v python3 >/dev/null || skip "python3 not installed"
PFX="tl4n$$"
for n in c r s; do netns_add "$PFX$n" || skip "cannot create network namespaces"; ip -n "$PFX$n" link set lo up; done
ip -n "${PFX}c" link add eth0 type veth peer name ethc netns "${PFX}r"
ip -n "${PFX}s" link add eth0 type veth peer name eths netns "${PFX}r"
ip -n "${PFX}c" addr add 10.61.1.2/24 dev eth0
for a in 10.61.1.3 10.61.1.4 10.61.1.5 10.61.1.6 10.61.1.130; do ip -n "${PFX}c" addr add $a/24 dev eth0; done
ip -n "${PFX}r" addr add 10.61.1.1/24 dev ethc
ip -n "${PFX}r" addr add 10.61.2.1/24 dev eths
ip -n "${PFX}s" addr add 10.61.2.2/24 dev eth0
for n in c r s; do for l in eth0 ethc eths; do ip -n "$PFX$n" link set $l up 2>/dev/null; done; done
ip -n "${PFX}c" route add default via 10.61.1.1
ip -n "${PFX}s" route add default via 10.61.2.1
nsx r sysctl -qw net.ipv4.ip_forward=1

nsx s python3 "$SRC/tests/tools/l4-server.py" 10.61.2.2 8080 8081 8082 >"$T/server.log" 2>&1 &
PIDS+=($!)
conn() { nsx c python3 "$SRC/tests/tools/l4-conn.py" "$@"; }
for _ in $(seq 50); do [ "$(conn 10.61.1.2 10.61.2.2 8082 1 0.5)" = 1 ] && break; sleep 0.1; done

# Another table, there before tandemd starts.
nsx r nft -f - <<'NFT'
table ip other {
	set keep {
		type ipv4_addr
		elements = { 192.0.2.1 }
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @keep counter accept
	}
}
NFT
nsx r nft list table ip other >"$T/other.before" || { echo "cannot create the other table"; exit 1; }

write_conf() { # write_conf NEW_CONNS
	cat >"$T/c.json.tmp" <<JSON
{"version": 1, "l4": {
  "filter": {"deny": ["10.61.1.128/25", "2001:db8:dead::/48"], "allow": ["10.61.1.5"], "ban_timeout": 600},
  "services": [
    {"name": "web", "protocol": "tcp", "address": "10.61.2.2", "port": 8080,
     "limits": {"new_conns": $1, "per": "minute", "burst": $1}},
    {"name": "db", "protocol": "tcp", "address": "10.61.2.2", "port": 8081,
     "limits": {"concurrent": 2}},
    {"name": "free", "protocol": "tcp", "address": "10.61.2.2", "port": 8082}
  ]}}
JSON
	mv "$T/c.json.tmp" "$T/c.json"
}
write_conf 5
"$B/daemon/tandemctl" check "$T/c.json" >/dev/null || { echo "config refused"; exit 1; }
ip netns exec "${PFX}r" "$B/daemon/tandemd" -c "$T/c.json" -s "$T/tandemd.sock" >"$T/tandemd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/tandemd.sock" ] && break; sleep 0.05; done
ok "tandemd answers" -- ctl stats >/dev/null
ok "our table is loaded" -- nsx r nft list table inet tandem >/dev/null

eq "under the limit: 3 of 3 new connections from 10.61.1.3" 3 "$(conn 10.61.1.3 10.61.2.2 8080 3 0.5)"
n=$(conn 10.61.1.2 10.61.2.2 8080 12 0.5)
ok "over the limit (5/minute): the first 5 of 12 get through, not all ($n)" -- test "$n" -ge 5 -a "$n" -lt 12
eq "another client is still under its own limit" 2 "$(conn 10.61.1.4 10.61.2.2 8080 2 0.5)"
eq "a service without limits is not limited" 12 "$(conn 10.61.1.2 10.61.2.2 8082 12 0.5)"
eq "concurrent limit 2: 2 of 4 held connections" 2 "$(conn 10.61.1.4 10.61.2.2 8081 4 0.5 hold)"
eq "an allowed address is exempt from limits" 4 "$(conn 10.61.1.5 10.61.2.2 8081 4 0.5 hold)"
eq "a denied CIDR is dropped (service without limits)" 0 "$(conn 10.61.1.130 10.61.2.2 8082 3 0.3)"

# Bans: dropped until the timeout passes. The drop checks use a long ban,
# so that a loaded host taking seconds between two commands cannot outrun
# it; the expiry a short one, polled.
ok "ban 10.61.1.6 for 600 s" -- ctl ban 10.61.1.6 600
eq "the banned address is dropped" 0 "$(conn 10.61.1.6 10.61.2.2 8082 2 0.3)"
eq "others are not" 2 "$(conn 10.61.1.4 10.61.2.2 8082 2 0.3)"
ok "the ban set holds it with its timeout" -- bash -c "ip netns exec ${PFX}r nft list set inet tandem ban4 | grep -q '10.61.1.6 timeout 10m'"
# A 3 s ban: the address first gets through again no sooner than 3 s after
# the ban was asked for (an unbanned one gets through at once), and no
# later than 20 s after.
t0=$EPOCHREALTIME
ok "ban 10.61.1.3 for 3 s" -- ctl ban 10.61.1.3 3
until [ "$(conn 10.61.1.3 10.61.2.2 8082 1 0.3)" = 1 ] || [ "$(ms_since "$t0")" -gt 20000 ]; do :; done
back=$(ms_since "$t0")
ok "after its timeout it gets through again ($back ms after the ban)" -- test "$back" -ge 2900 -a "$back" -le 20000
ok "a bad address is refused" -- bash -c "! ctl ban not-an-ip 2>/dev/null"

# Reloads swap the ruleset atomically: probers watch for a window.
sets_before=$(nsx r nft list table inet tandem | grep -o 'set n_[0-9a-f]*')
(end=$((SECONDS + 6)); s=0; while [ $SECONDS -lt $end ]; do
	s=$((s + $(conn 10.61.1.130 10.61.2.2 8082 1 0.1))); done; echo "$s" >"$T/prober.deny") &
P1=$!
(end=$((SECONDS + 6)); bad=0; while [ $SECONDS -lt $end ]; do
	[ "$(ip netns exec ${PFX}r nft list chain inet tandem pre 2>/dev/null | grep -c 'jump c_')" = 1 ] || bad=$((bad + 1)); done
	echo "$bad" >"$T/prober.chain") &
P2=$!
chains=""
for i in $(seq 10); do
	write_conf $((5 + i % 2))
	ctl reload >/dev/null || echo "reload $i failed"
	chains="$chains $(nsx r nft list chain inet tandem pre | grep -o 'c_[0-9a-f]*')"
	sleep 0.3
done
wait $P1 $P2
eq "the ruleset was swapped on the reloads (2 alternating chains)" 2 "$(echo $chains | tr ' ' '\n' | sort -u | wc -l)"
eq "the denied prober never got through during 10 reloads" 0 "$(cat "$T/prober.deny")"
eq "the base chain always held exactly one jump" 0 "$(cat "$T/prober.chain")"
eq "only our chains: the old one is deleted after a swap" 1 "$(nsx r nft list table inet tandem | grep -c 'chain c_')"
ok "there is a connection-count set" -- test -n "$sets_before"
eq "an unchanged service's connection-count set survived the reloads" "$sets_before" \
	"$(nsx r nft list table inet tandem | grep -o 'set n_[0-9a-f]*')"
c0=$(ctl status --json | jq .l4.nft.ops)
ctl reload >/dev/null
eq "an unchanged reload sends no nftables command" "$c0" "$(ctl status --json | jq .l4.nft.ops)"
eq "the other table is untouched" "$(cat "$T/other.before")" "$(nsx r nft list table ip other)"
ok "the log never mentions a flush" -- bash -c "! grep -qi flush '$T/tandemd.log'"
finish
