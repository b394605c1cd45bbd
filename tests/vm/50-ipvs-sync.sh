#!/usr/bin/env bash
# Inside the VM: the IPVS connection sync daemon. The VM's root netns is the
# MASTER director (tandemd, l4.sync.role master); netns "bk" is the BACKUP
# director (a second tandemd, same services, role backup); they share the
# sync link s0/eth0. A connection made through the master appears in the
# backup's connection table. The role switches over the control socket
# (tandemctl sync-role), survives a reload, and a daemon stopped by hand is
# restarted by the next reconcile.
. "$(dirname "$0")/lib.sh"

echo 1 >/proc/sys/net/ipv4/ip_forward
for ns in client rs1 bk; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add c0 type veth peer name eth0 netns client
ip link add r1 type veth peer name eth0 netns rs1
ip link add s0 type veth peer name eth0 netns bk
ip addr add 10.0.0.1/24 dev c0; ip addr add 10.0.0.100/32 dev c0; ip link set c0 up
ip addr add 10.0.1.1/24 dev r1; ip link set r1 up
ip addr add 10.0.9.1/24 dev s0; ip link set s0 up
ip -n bk addr add 10.0.9.2/24 dev eth0; ip -n bk link set eth0 up
ip -n client addr add 10.0.0.2/24 dev eth0; ip -n client link set eth0 up
ip -n client route add default via 10.0.0.1
ip -n rs1 addr add 10.0.1.2/24 dev eth0; ip -n rs1 link set eth0 up
ip -n rs1 route add default via 10.0.1.1
ip netns exec rs1 python3 "$SRC/tests/tools/l4-server.py" 10.0.1.2 80 &
SRV=$!
trap 'stop_tandemd; [ -n "${BKPID:-}" ] && kill $BKPID; kill $SRV 2>/dev/null' EXIT

conf() { # conf FILE ROLE IFNAME
	cat >"$1" <<JSON
{"version":1,"l4":{"sync":{"role":"$2","interface":"$3","syncid":7},"services":[
 {"name":"web","protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"rr",
  "reals":[{"address":"10.0.1.2","port":80}]}]}}
JSON
}
conf "$T/m.json" master s0
mkdir -p "$T/bk"; conf "$T/bk/b.json" backup eth0
start_tandemd "$T/m.json" || finish
BKSOCK=/run/tandemd-vm-bk.sock
ip netns exec bk "$B/daemon/tandemd" -c "$T/bk/b.json" -s "$BKSOCK" >>"$T/tandemd-bk.log" 2>&1 &
BKPID=$!
for _ in $(seq 200); do [ -S "$BKSOCK" ] && break; sleep 0.05; done
bctl() { "$B/daemon/tandemctl" -s "$BKSOCK" "$@"; }

ok "master sync daemon running here (ipvsadm --daemon)" -- bash -c "ipvsadm -L --daemon | grep -q 'master sync daemon (mcast=s0, syncid=7,'"
ok "backup sync daemon running in bk" -- bash -c "ip netns exec bk ipvsadm -L --daemon | grep -q 'backup sync daemon (mcast=eth0, syncid=7,'"
eq "status says master, from the config" "master false true" \
	"$(ctl status --json | jq -r '.l4.sync | "\(.role) \(.overridden) \(.master_running)"')"

# A connection through the master (kept open, some traffic) shows up on the backup.
hold_conn client 10.0.0.100
CL=$!
seen=""
for _ in $(seq 60); do
	if ip netns exec bk ipvsadm -Lnc | grep -q '10.0.0.2:[0-9]* *10.0.0.100:80 *10.0.1.2:80'; then seen=yes; break; fi
	sleep 0.1
done
ok "the connection made through the master is in the backup's connection table" -- test "$seen" = yes
ok "and in the master's" -- bash -c "ipvsadm -Lnc | grep -q '10.0.0.100:80 *10.0.1.2:80'"
wait $CL

# Switch over the control socket.
c0=$(stat_l4 nl_changes)
ok "tandemctl sync-role backup" -- ctl sync-role backup
ok "now a backup daemon here, no master" -- bash -c "ipvsadm -L --daemon | grep -q 'backup sync daemon' && ! ipvsadm -L --daemon | grep -q 'master sync daemon'"
eq "the switch took 2 messages (stop master, start backup)" 2 $(( $(stat_l4 nl_changes) - c0 ))
ctl reload >/dev/null
ok "the role set at run time survives a reload" -- bash -c "ipvsadm -L --daemon | grep -q 'backup sync daemon' && ! ipvsadm -L --daemon | grep -q master"
ok "sync-role none stops it" -- ctl sync-role none
ok "no daemon" -- bash -c "[ -z \"\$(ipvsadm -L --daemon)\" ]"
ok "sync-role config returns to master" -- ctl sync-role config
ok "master again" -- bash -c "ipvsadm -L --daemon | grep -q 'master sync daemon (mcast=s0, syncid=7,'"
ipvsadm --stop-daemon master
ctl reload >/dev/null
ok "a daemon stopped by hand is restarted by the next reconcile" -- bash -c "ipvsadm -L --daemon | grep -q 'master sync daemon'"
ok "a bad role is refused" -- bash -c "! ctl sync-role leader 2>/dev/null"
kill $BKPID; wait $BKPID 2>/dev/null; BKPID=""
if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/tandemd-bk.log"; then
	echo "not ok - sanitizer report in tandemd-bk.log"; FAILS=$((FAILS + 1))
fi
finish
