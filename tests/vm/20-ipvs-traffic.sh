#!/usr/bin/env bash
# Inside the VM: real TCP traffic through services tandemd programmed.
# NAT: client netns -> director (the VM's root netns) -> rs1/rs2 netns;
# rr spreads evenly, wrr by weight, weight 0 takes no new connections, sh is
# sticky per source. DR: client, director and rs3/rs4 on one bridge.
. "$(dirname "$0")/lib.sh"

echo 1 >/proc/sys/net/ipv4/ip_forward
for ns in client rs1 rs2; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add c0 type veth peer name eth0 netns client
ip link add r1 type veth peer name eth0 netns rs1
ip link add r2 type veth peer name eth0 netns rs2
ip addr add 10.0.0.1/24 dev c0; ip addr add 10.0.0.100/32 dev c0; ip link set c0 up
ip addr add 10.0.1.1/24 dev r1; ip link set r1 up
ip addr add 10.0.2.1/24 dev r2; ip link set r2 up
ip -n client addr add 10.0.0.2/24 dev eth0; ip -n client link set eth0 up
ip -n client addr add 10.0.0.3/24 dev eth0
ip -n client route add default via 10.0.0.1
for i in 1 2; do
	ip -n rs$i addr add 10.0.$i.2/24 dev eth0; ip -n rs$i link set eth0 up
	ip -n rs$i route add default via 10.0.$i.1
	mkdir -p "$T/www$i"; echo "rs$i" >"$T/www$i/index.html"
	ip netns exec rs$i $bb httpd -p 80 -h "$T/www$i"
done

nat_config() { # nat_config SCHED W1 W2
	cat >"$T/c.json" <<JSON
{"version":1,"l4":{"services":[
 {"name":"web","protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"$1",
  "reals":[{"address":"10.0.1.2","port":80,"weight":$2},{"address":"10.0.2.2","port":80,"weight":$3}]}]}}
JSON
}
# spread N [SRC]: N requests from the client; prints "rs1=a rs2=b"
spread() {
	local i out=""
	for i in $(seq "$1"); do
		out+="$(timeout 10 ip netns exec client $bb wget -q -O - ${2:+--bind-address} ${2:-} http://10.0.0.100/ 2>/dev/null || echo err) "
	done
	echo "rs1=$(grep -o rs1 <<<"$out" | wc -l) rs2=$(grep -o rs2 <<<"$out" | wc -l)"
}

nat_config rr 1 1
start_tandemd "$T/c.json" || finish
ok "views agree (rr over NAT)" -- views_agree nonempty
eq "rr spreads 8 connections evenly" "rs1=4 rs2=4" "$(spread 8)"

nat_config wrr 3 1; ctl reload >/dev/null
eq "wrr 3:1 spreads 8 connections 6:2" "rs1=6 rs2=2" "$(spread 8)"

nat_config wrr 0 1; ctl reload >/dev/null
eq "weight 0 takes no new connections" "rs1=0 rs2=6" "$(spread 6)"

nat_config sh 1 1; ctl reload >/dev/null
a=$(spread 6); b=$(spread 6)
ok "sh is sticky per source: one real takes every connection ($a)" -- \
	bash -c "[ '$a' = 'rs1=6 rs2=0' ] || [ '$a' = 'rs1=0 rs2=6' ]"
eq "sh gives the same real again" "$a" "$b"
# The kernel folds its per-CPU counters every 2 s (rate estimator): wait for it.
for _ in $(seq 40); do
	conns=$(ctl status --json | jq '[.l4.services[].reals[].stats.conns]|add')
	[ "$conns" -ge 34 ] && break; sleep 0.2
done
eq "the kernel's connection counters reach status" 34 "$conns"
stop_tandemd

echo "== direct routing"
ip link add br0 type bridge; ip link set br0 up
ip addr add 10.0.3.1/24 dev br0; ip addr add 10.0.3.100/32 dev br0
ip netns add dclient; ip -n dclient link set lo up
ip link add d0 type veth peer name eth0 netns dclient; ip link set d0 master br0; ip link set d0 up
ip -n dclient addr add 10.0.3.2/24 dev eth0; ip -n dclient link set eth0 up
for i in 3 4; do
	ip netns add rs$i; ip -n rs$i link set lo up
	ip link add d$i type veth peer name eth0 netns rs$i; ip link set d$i master br0; ip link set d$i up
	ip netns exec rs$i $bb sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	ip -n rs$i addr add 10.0.3.$i/24 dev eth0; ip -n rs$i link set eth0 up
	ip -n rs$i addr add 10.0.3.100/32 dev lo
	mkdir -p "$T/www$i"; echo "rs$i" >"$T/www$i/index.html"
	ip netns exec rs$i $bb httpd -p 80 -h "$T/www$i"
done
cat >"$T/dr.json" <<'JSON'
{"version":1,"l4":{"services":[
 {"name":"dr","protocol":"tcp","address":"10.0.3.100","port":80,"scheduler":"rr",
  "reals":[{"address":"10.0.3.3","port":80,"forward":"dr"},{"address":"10.0.3.4","port":80,"forward":"dr"}]}]}}
JSON
# Same config path, so the same owned record: the NAT service goes.
cp "$T/dr.json" "$T/c.json"
start_tandemd "$T/c.json" || finish
ok "views agree (DR)" -- views_agree nonempty
out=""
for i in 1 2 3 4; do out+="$(timeout 10 ip netns exec dclient $bb wget -q -O - http://10.0.3.100/ 2>/dev/null) "; done
eq "DR rr spreads 4 connections 2:2" "rs3=2 rs4=2" "rs3=$(grep -o rs3 <<<"$out" | wc -l) rs4=$(grep -o rs4 <<<"$out" | wc -l)"
ok "the NAT service of the previous run was deleted (owned record)" -- bash -c "! ipvsadm -Ln | grep -q '10.0.0.100:80'"
finish
