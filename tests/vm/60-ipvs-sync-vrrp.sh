#!/usr/bin/env bash
# Inside the VM: the IPVS sync daemon's role follows VRRP, with real
# keepalived (the host's binary; the VM runs the host's root file system).
# Two directors in netns lba and lbb (tandemd -> keepalived, l4.sync.role
# "vrrp", unicast VRRP), a client and a DR real server, all on one bridge.
# After each transition `ipvsadm -L --daemon` in each director says which
# sync daemons run:
#   A MASTER -> master daemon only; B BACKUP -> backup daemon only;
#   a connection through A is in B's connection table;
#   B's link down -> FAULT, still the backup daemon; link up -> BACKUP;
#   A stopped cleanly (keepalived STOP) -> A's daemon stopped; B MASTER with
#   on_master "both" -> master and backup daemons; A back -> MASTER, master
#   daemon; B BACKUP -> backup daemon only again.
. "$(dirname "$0")/lib.sh"

command -v keepalived >/dev/null || { echo "not ok - keepalived is not installed (quickstart installs it)"; exit 1; }
VIP=10.0.3.100
declare -A IP=([lba]=10.0.3.11 [lbb]=10.0.3.12 [cl]=10.0.3.2 [rs]=10.0.3.3)
declare -A PRIO=([lba]=150 [lbb]=100) ONM=([lba]=master [lbb]=both) PID
ip link add br0 type bridge stp_state 0 forward_delay 0; ip link set br0 up
for ns in lba lbb cl rs; do
	ip netns add $ns; ip -n $ns link set lo up
	ip link add "v-$ns" type veth peer name eth0 netns $ns
	ip link set "v-$ns" master br0 up
	ip -n $ns addr add "${IP[$ns]}/24" dev eth0; ip -n $ns link set eth0 up
done
for ns in lba lbb; do ip netns exec $ns $bb sysctl -qw net.ipv4.ip_forward=1; done
# DR: the real server holds the VIP on lo and does not answer ARP for it.
ip netns exec rs $bb sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
ip -n rs addr add $VIP/32 dev lo
ip netns exec rs python3 "$SRC/tests/tools/l4-server.py" 0.0.0.0 80 &
SRV=$!
cleanup60() {
	local p
	for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	kill $SRV 2>/dev/null
	for ns in lba lbb cl rs; do ip netns pids $ns 2>/dev/null | xargs -r kill -KILL; done
}
trap cleanup60 EXIT

for ns in lba lbb; do
	cat >"$T/$ns.json" <<JSON
{"version":1,
 "vrrp":{"local":{"router_id":"$ns","interface":"eth0","address":"${IP[$ns]}","priority":${PRIO[$ns]}},
         "groups":[{"name":"web","virtual_router_id":60,"advert_interval_ms":300,
                    "unicast_peers":["${IP[lba]}","${IP[lbb]}"],"vips":["$VIP/24"]}]},
 "l4":{"sync":{"role":"vrrp","vrrp_group":"web","on_master":"${ONM[$ns]}","interface":"eth0","syncid":5},
       "services":[{"name":"web","protocol":"tcp","address":"$VIP","port":80,"scheduler":"rr",
                    "reals":[{"address":"${IP[rs]}","port":80,"forward":"dr"}]}]}}
JSON
done
start() { # start NS
	local s=/run/tandemd-vm-$1.sock
	rm -f $s
	ip netns exec $1 "$B/daemon/tandemd" -c "$T/$1.json" -s $s -w 1 --vrrp-run-dir "$T/run-$1" \
		>>"$T/tandemd-$1.log" 2>&1 &
	PID[$1]=$!
	for _ in $(seq 200); do [ -S $s ] && return 0; sleep 0.05; done
	echo "tandemd $1 did not start"; tail -n 20 "$T/tandemd-$1.log"; return 1
}
st() { "$B/daemon/tandemctl" -s /run/tandemd-vm-$1.sock status --json 2>/dev/null; }
wait_role() { # wait_role NS ROLE: the VRRP role, up to 20 s
	for _ in $(seq 200); do [ "$(st $1 | jq -r '.vrrp.groups[0].role')" = "$2" ] && return 0; sleep 0.1; done
	echo "    # $1 is $(st $1 | jq -r '.vrrp.groups[0].role'), not $2"; return 1
}
# daemons NS: what the kernel runs there, as "master backup" / "master" / "backup" / "none"
daemons() {
	local d; d=$(ip netns exec $1 ipvsadm -L --daemon)
	local m="" k=""
	grep -q "master sync daemon (mcast=eth0, syncid=5," <<<"$d" && m=master
	grep -q "backup sync daemon (mcast=eth0, syncid=5," <<<"$d" && k=backup
	echo "$m${m:+${k:+ }}$k" | sed 's/^$/none/'
}
wait_daemons() { # wait_daemons NS WANT (up to 5 s: the hook runs as the role changes)
	for _ in $(seq 50); do [ "$(daemons $1)" = "$2" ] && return 0; sleep 0.1; done
	echo "    # $1 runs: $(daemons $1); ipvsadm -L --daemon:"; ip netns exec $1 ipvsadm -L --daemon | sed 's/^/    #   /'
	return 1
}

start lba || finish
ok "A (priority 150) becomes MASTER" -- wait_role lba MASTER
ok "A runs the master sync daemon only (ipvsadm -L --daemon)" -- wait_daemons lba master
eq "A's status: role master, from VRRP (MASTER)" "master vrrp MASTER web" \
	"$(st lba | jq -r '.l4.sync | "\(.role) \(.source) \(.vrrp_role) \(.vrrp_group)"')"
start lbb || finish
ok "B (priority 100) is BACKUP" -- wait_role lbb BACKUP
ok "B runs the backup sync daemon only" -- wait_daemons lbb backup
ok "A still runs the master daemon only" -- wait_daemons lba master

# A connection through the VIP (A) reaches B's connection table.
hold_conn cl $VIP
CL=$!
seen=""
for _ in $(seq 80); do
	ip netns exec lbb ipvsadm -Lnc | grep -q "${IP[cl]}:[0-9]* *$VIP:80 *${IP[rs]}:80" && { seen=yes; break; }
	sleep 0.1
done
ok "a connection made through MASTER A is in BACKUP B's connection table (synced)" -- test "$seen" = yes
ok "... and in A's" -- bash -c "ip netns exec lba ipvsadm -Lnc | grep -q '$VIP:80 *${IP[rs]}:80'"
wait $CL

# FAULT: B's link goes down (keepalived sees the carrier go).
ip -n lbb link set eth0 down
ok "B's link down: B is FAULT" -- wait_role lbb FAULT
ok "FAULT keeps the backup daemon" -- wait_daemons lbb backup
ip -n lbb link set eth0 up
ok "B's link up: B is BACKUP again" -- wait_role lbb BACKUP
ok "still the backup daemon" -- wait_daemons lbb backup

# STOP: A stops cleanly (keepalived stopped: every group STOP); B takes over.
kill -TERM "${PID[lba]}"; wait "${PID[lba]}"; rc=$?
eq "A exits 0 on SIGTERM" 0 $rc
ok "A's log: STOP switched its sync daemon off" -- grep -q "l4: VRRP STOP: IPVS sync daemon role master -> none" "$T/tandemd-lba.log"
ok "A's node runs no sync daemon after the STOP" -- wait_daemons lba none
ok "B becomes MASTER" -- wait_role lbb MASTER
ok "B (on_master both) runs the master and the backup daemon" -- wait_daemons lbb "master backup"
eq "B's status says so" "both vrrp MASTER true true" \
	"$(st lbb | jq -r '.l4.sync | "\(.role) \(.source) \(.vrrp_role) \(.master_running) \(.backup_running)"')"

# A comes back, takes the VIP back (preempt): the roles swap back.
start lba || finish
ok "A is MASTER again (preempt)" -- wait_role lba MASTER
ok "A runs the master daemon" -- wait_daemons lba master
ok "B is BACKUP again" -- wait_role lbb BACKUP
ok "B runs the backup daemon only" -- wait_daemons lbb backup

# A role set over the control socket wins over VRRP until "config".
"$B/daemon/tandemctl" -s /run/tandemd-vm-lbb.sock sync-role none >/dev/null
ok "sync-role none on B stops its daemon (the control socket wins)" -- wait_daemons lbb none
"$B/daemon/tandemctl" -s /run/tandemd-vm-lbb.sock sync-role config >/dev/null
ok "sync-role config: B follows VRRP again (backup)" -- wait_daemons lbb backup

for ns in lba lbb; do
	kill -TERM "${PID[$ns]}"; wait "${PID[$ns]}" 2>/dev/null; unset "PID[$ns]"
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/tandemd-$ns.log"; then
		echo "not ok - sanitizer report in tandemd-$ns.log"; FAILS=$((FAILS + 1))
	fi
done
if [ "$FAILS" -ne 0 ]; then for ns in lba lbb; do echo "--- tandemd-$ns.log"; tail -n 30 "$T/tandemd-$ns.log"; done; fi
finish
