#!/usr/bin/env bash
# Inside the VM: L4 health checks drive real-server weights. NAT topology as
# in 20-ipvs-traffic (client -> director -> rs1/rs2 netns). A TCP-connect
# check takes a real whose server stopped to weight 0 within interval x fall
# (+ one interval of phase), new connections avoid it, and it comes back after
# rise checks; a send/expect check (Redis PING/+PONG) catches a server that
# accepts connections but answers wrong; health survives a reload.
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
ip -n client route add default via 10.0.0.1
HTTPD=()
start_httpd() { # start_httpd I
	ip netns exec rs$1 $bb httpd -f -p 80 -h "$T/www$1" &
	HTTPD[$1]=$!
}
for i in 1 2; do
	ip -n rs$i addr add 10.0.$i.2/24 dev eth0; ip -n rs$i link set eth0 up
	ip -n rs$i route add default via 10.0.$i.1
	mkdir -p "$T/www$i"; echo "rs$i" >"$T/www$i/index.html"
	start_httpd $i
	ip netns exec rs$i python3 "$SRC/tests/tools/l4-redis.py" 10.0.$i.2 6379 "$T/rs$i.sick" &
done
cleanup_servers() { kill "${HTTPD[@]}" $(jobs -p) 2>/dev/null; }
trap 'stop_tandemd; cleanup_servers' EXIT

conf() { # conf WEB_WEIGHT2
	cat >"$T/c.json" <<JSON
{"version":1,"l4":{"services":[
 {"name":"web","protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"rr",
  "check":{"type":"tcp","interval":0.5,"timeout":0.4,"fall":2,"rise":2},
  "reals":[{"address":"10.0.1.2","port":80,"weight":3},{"address":"10.0.2.2","port":80,"weight":$1}]},
 {"name":"redis","protocol":"tcp","address":"10.0.0.100","port":6379,"scheduler":"rr",
  "check":{"type":"send_expect","send":"PING\\r\\n","expect":"+PONG","interval":0.5,"timeout":0.4,"fall":2,"rise":2},
  "reals":[{"address":"10.0.1.2","port":6379,"weight":1},{"address":"10.0.2.2","port":6379,"weight":1}]}]}}
JSON
}
weight() { # weight VIP:PORT REAL:PORT
	ipvsadm -Ln -t "$1" | awk -v r="$2" '$2 == r { print $4 }'
}
# wait_weight VIP REAL W: until the kernel has weight W (10 s); prints seconds
wait_weight() {
	local t0=$(date +%s%N)
	for _ in $(seq 200); do
		[ "$(weight "$1" "$2")" = "$3" ] && { echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
		sleep 0.05
	done
	echo never; return 1
}
spread() {
	local i out=""
	for i in $(seq "$1"); do
		out+="$(timeout 5 ip netns exec client $bb wget -q -O - http://10.0.0.100/ 2>/dev/null || echo err) "
	done
	echo "rs1=$(grep -o rs1 <<<"$out" | wc -l) rs2=$(grep -o rs2 <<<"$out" | wc -l) err=$(grep -o err <<<"$out" | wc -l)"
}

conf 1
start_tandemd "$T/c.json" || finish
sleep 1.5
eq "all reals up: configured weights" "3 1" "$(weight 10.0.0.100:80 10.0.1.2:80) $(weight 10.0.0.100:80 10.0.2.2:80)"
ok "views agree" -- views_agree nonempty
eq "status shows 4 checked reals, all up" "4 4" \
	"$(ctl status --json | jq -r '[.l4.health|length, (map(select(.up))|length)]|join(" ")')"

# TCP check: stop rs1's server.
kill "${HTTPD[1]}"; wait "${HTTPD[1]}" 2>/dev/null
ms=$(wait_weight 10.0.0.100:80 10.0.1.2:80 0)
ok "rs1 (server stopped) goes to weight 0 within interval x fall + interval + timeout ($ms ms <= 2400)" -- \
	test "$ms" != never -a "${ms:-99999}" -le 2400
eq "new connections avoid it" "rs1=0 rs2=6 err=0" "$(spread 6)"
eq "the other service's real on rs1 is unaffected" 1 "$(weight 10.0.0.100:6379 10.0.1.2:6379)"
ok "tandemd logged DOWN" -- grep -q 'real web/10.0.1.2:80 DOWN' "$T/tandemd.log"

# Health survives a reload that changes something else.
conf 2; ctl reload >/dev/null
eq "after a reload the down real stays at weight 0, the other gets its new weight" "0 2" \
	"$(weight 10.0.0.100:80 10.0.1.2:80) $(weight 10.0.0.100:80 10.0.2.2:80)"
ok "views agree" -- views_agree nonempty

start_httpd 1
ms=$(wait_weight 10.0.0.100:80 10.0.1.2:80 3)
ok "rs1 back: its weight returns after rise ($ms ms)" -- test "$ms" != never
ok "tandemd logged UP" -- grep -q 'real web/10.0.1.2:80 UP' "$T/tandemd.log"

# Send/expect: rs2 still accepts connections but answers -ERR.
touch "$T/rs2.sick"
ms=$(wait_weight 10.0.0.100:6379 10.0.2.2:6379 0)
ok "send/expect: a server answering -ERR to PING goes to weight 0 ($ms ms)" -- test "$ms" != never
eq "its web real (TCP check) stays up" 2 "$(weight 10.0.0.100:80 10.0.2.2:80)"
ok "status gives the reason" -- bash -c "ctl status --json | jq -e '.l4.health[]|select(.id==\"redis/10.0.2.2:6379\")|.up==false and (.last_error|test(\"PONG|closed|reply\"))' >/dev/null"
rm -f "$T/rs2.sick"
ms=$(wait_weight 10.0.0.100:6379 10.0.2.2:6379 1)
ok "answering +PONG again brings it back ($ms ms)" -- test "$ms" != never
c0=$(stat_l4 nl_changes)
sleep 2
eq "steady health sends nothing" "$c0" "$(stat_l4 nl_changes)"
finish
