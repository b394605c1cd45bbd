#!/usr/bin/env bash
# Inside the VM: the HTTP health check with removal after a grace period,
# and the kernel's counters as Tandem reports them. NAT topology as in
# 40-ipvs-health (client -> director -> rs1/rs2 netns, busybox httpd).
#  - counters: after real traffic, tandemctl status --json and the Prometheus
#    endpoint show per service and per real exactly what ipvsadm -Ln --stats
#    --exact shows (connections, packets, bytes);
#  - http check: a real whose /health answers 404 goes to weight 0, leaves
#    IPVS after remove_after, and comes back with its weight after rise;
#  - every scheduler of the config: the kernel holds each one it has (twos
#    only where present; one it lacks is reported in status, not fatal), and
#    tunnel reals of each type (ipip, gue with its port, gre) read back from
#    the kernel as configured.
. "$(dirname "$0")/lib.sh"

nat_topology 2
PIDS=()
for i in 1 2; do
	mkdir -p "$T/www$i"; echo "rs$i" >"$T/www$i/index.html"; echo ok >"$T/www$i/health"
	ip netns exec rs$i $bb httpd -f -p 80 -h "$T/www$i" &
	PIDS+=($!)
done
trap 'stop_tandemd; kill "${PIDS[@]}" 2>/dev/null' EXIT

cat >"$T/c.json" <<'JSON'
{"version":1,"l4":{"services":[
 {"name":"web","protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"rr",
  "check":{"type":"http","method":"GET","path":"/health","expect_status":200,
           "interval":1,"timeout":0.9,"fall":2,"rise":2,"remove_after":2},
  "reals":[{"address":"10.0.1.2","port":80,"weight":2},{"address":"10.0.2.2","port":80,"weight":1}]}]}}
JSON
"$B/daemon/tandemd" -c "$T/c.json" -s "$SOCK" --metrics 127.0.0.1:9145 >>"$T/tandemd.log" 2>&1 &
TANDEMD_PID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && ctl stats >/dev/null 2>&1 && break; sleep 0.05; done
weight() { ipvsadm -Ln -t 10.0.0.100:80 | awk -v r="$1" '$2 == r { print $4 }'; }
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
	local n=$(( $1 * 20 )); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
	return 1
}
ok "the http check passes: both reals up with their weights" -- \
	wait_for 5 bash -c "[ \"\$(ipvsadm -Ln -t 10.0.0.100:80 | awk '\$2==\"10.0.1.2:80\"{print \$4}')\" = 2 ] && ctl() { '$B/daemon/tandemctl' -s '$SOCK' \"\$@\"; } && ctl status --json | jq -e '[.l4.health[] | select(.up and .checks >= 1)] | length == 2' >/dev/null"

# ---- counters: real traffic, then three readers of the same kernel numbers
for i in $(seq 12); do timeout 5 ip netns exec client $bb wget -q -O /dev/null http://10.0.0.100/ || echo "request $i failed"; done
sleep 2.5	# the kernel folds its per-CPU counters every 2 s
# "conns inpkts outpkts inbytes outbytes" per line: the service, then its reals by address
ipvs_stats() {
	ipvsadm -Ln --stats --exact -t 10.0.0.100:80 | awk '/^TCP/ { print "svc", $3, $4, $5, $6, $7 }
	  /^  -> / && $2 != "RemoteAddress:Port" { print $2, $3, $4, $5, $6, $7 }' | sort
}
our_stats() {
	ctl status --json | jq -r '.l4.services[] | select(.name == "web") |
	  ("svc \(.stats.conns) \(.stats.inpkts) \(.stats.outpkts) \(.stats.inbytes) \(.stats.outbytes)"),
	  (.reals[] | "\(.address):\(.port) \(.stats.conns) \(.stats.inpkts) \(.stats.outpkts) \(.stats.inbytes) \(.stats.outbytes)")' | sort
}
metric_stats() {
	curl -s --max-time 5 http://127.0.0.1:9145/metrics | awk '
	  /^tandem_l4_(service|real)_(connections|in_packets|out_packets|in_bytes|out_bytes)_total\{service="web"/ {
	    key = "svc"; if (match($1, /real="[^"]*"/)) key = substr($1, RSTART + 6, RLENGTH - 7)
	    m = $1; sub(/\{.*/, "", m); sub(/^tandem_l4_(service|real)_/, "", m)
	    v[key, m] = $2; keys[key] = 1 }
	  END { for (k in keys) print k, v[k, "connections_total"], v[k, "in_packets_total"],
	        v[k, "out_packets_total"], v[k, "in_bytes_total"], v[k, "out_bytes_total"] }' | sort
}
IPVS=$(ipvs_stats); OURS=$(our_stats); MET=$(metric_stats)
echo "$IPVS" | sed 's/^/# ipvsadm: /'
eq "the service counted the 12 connections" 12 "$(awk '$1 == "svc" { print $2 }' <<<"$IPVS")"
ok "packets and bytes were counted both ways" -- \
	awk '$1 == "svc" && $3 > 12 && $4 > 12 && $5 > 0 && $6 > 0 { f = 1 } END { exit !f }' <<<"$IPVS"
eq "tandemctl status --json = ipvsadm --stats (service and reals)" "$IPVS" "$OURS"
eq "Prometheus = ipvsadm --stats" "$IPVS" "$MET"
ok "tandemctl status (text) shows the service's connections" -- \
	bash -c "ctl() { '$B/daemon/tandemctl' -s '$SOCK' \"\$@\"; }; ctl status | awk '\$1 == \"web\" && \$5 == 12 { f = 1 } END { exit !f }'"
ok "Prometheus: L4 available, reals up with their weights" -- bash -c \
	"curl -s http://127.0.0.1:9145/metrics | grep -qx 'tandem_l4_available 1' &&
	 curl -s http://127.0.0.1:9145/metrics | grep -qx 'tandem_l4_real_weight{service=\"web\",real=\"10.0.1.2:80\"} 2' &&
	 curl -s http://127.0.0.1:9145/metrics | grep -qx 'tandem_l4_real_up{service=\"web\",real=\"10.0.2.2:80\"} 1'"

# ---- http check: /health answers 404 -> weight 0 -> removed after 1.5 s -> back
t0=$(date +%s%N)
rm "$T/www1/health"
ok "404 on /health: rs1 goes to weight 0" -- wait_for 5 bash -c "[ \"\$(ipvsadm -Ln -t 10.0.0.100:80 | awk '\$2==\"10.0.1.2:80\"{print \$4}')\" = 0 ]"
t1=$(date +%s%N)
ok "status gives the HTTP status as the reason" -- bash -c "'$B/daemon/tandemctl' -s '$SOCK' status --json | jq -e '.l4.health[] | select(.id == \"web/10.0.1.2:80\") | .up == false and (.last_error | test(\"404\"))' >/dev/null"
ok "after remove_after rs1 leaves IPVS" -- wait_for 6 bash -c "! ipvsadm -Ln -t 10.0.0.100:80 | grep -q '10.0.1.2:80'"
t2=$(date +%s%N)
ms=$(( (t2 - t1) / 1000000 ))
ok "not before the grace period: removed $ms ms after weight 0 (>= 1500)" -- test "$ms" -ge 1500
ok "rs2 stays" -- test "$(weight 10.0.2.2:80)" = 1
ok "views agree (the removed real is not desired)" -- views_agree nonempty
ok "status says removed" -- bash -c "'$B/daemon/tandemctl' -s '$SOCK' status --json | jq -e '.l4.health[] | select(.id == \"web/10.0.1.2:80\") | .removed == true' >/dev/null"
ok "logged" -- grep -q 'real web/10.0.1.2:80 still DOWN after 2000 ms: removed from IPVS' "$T/tandemd.log"
c0=$(stat_l4 nl_changes)
sleep 2.2
eq "a removed real that stays down sends nothing more" "$c0" "$(stat_l4 nl_changes)"
echo ok >"$T/www1/health"
ok "recovered: rs1 is back with its weight after rise" -- wait_for 5 bash -c "[ \"\$(ipvsadm -Ln -t 10.0.0.100:80 | awk '\$2==\"10.0.1.2:80\"{print \$4}')\" = 2 ]"
ok "views agree" -- views_agree nonempty
ok "logged UP, added back" -- grep -q 'real web/10.0.1.2:80 UP .*added back to IPVS' "$T/tandemd.log"
echo "# the http check phase took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# ---- every scheduler, every tunnel type (a second tandemd on a fresh config)
stop_tandemd
ipvsadm -C
SCHEDS="rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos"
{
	echo '{"version":1,"l4":{"services":['
	p=2000
	for s in $SCHEDS; do
		echo "{\"name\":\"s-$s\",\"protocol\":\"tcp\",\"address\":\"10.0.0.100\",\"port\":$p,\"scheduler\":\"$s\",\"reals\":[{\"address\":\"10.0.1.2\",\"port\":80}]},"
		p=$((p + 1))
	done
	echo '{"name":"tun","protocol":"fwmark","fwmark":9,"scheduler":"wrr","reals":['
	echo ' {"address":"10.0.1.2","forward":"tunnel"},'
	echo ' {"address":"10.0.1.3","forward":"tunnel","tunnel_type":"gue","tunnel_port":6080},'
	echo ' {"address":"10.0.1.4","forward":"tunnel","tunnel_type":"gre"}]}]}}'
} >"$T/s.json"
start_tandemd "$T/s.json" || finish
p=2000; missing=""; have=""
for s in $SCHEDS; do
	if ipvsadm -Ln -t 10.0.0.100:$p 2>/dev/null | grep -q "^TCP .* $s"; then have+="$s "
	else missing+="$s "; fi
	p=$((p + 1))
done
echo "# schedulers in the kernel: $have; not: $missing"
ok "every scheduler Debian's kernel ships is programmed (twos only where present)" -- \
	bash -c "[ '${missing% }' = '' ] || [ '${missing% }' = twos ]"
if [ -n "$missing" ]; then
	ok "a scheduler this kernel lacks is reported in status, not fatal" -- bash -c \
		"'$B/daemon/tandemctl' -s '$SOCK' status --json | jq -e '(.l4.missing | index(\"s-twos\")) != null and (.l4.reconcile.last_error | test(\"10.0.0.100:2013\"))' >/dev/null"
fi
ok "views agree" -- views_agree nonempty
eq "tunnel reals read back from the kernel with their types" "10.0.1.2 ipip -|10.0.1.3 gue 6080|10.0.1.4 gre -|" \
	"$(ctl status --json | jq -j '.l4.services[] | select(.fwmark == 9) | .reals[] | "\(.address) \(.tunnel_type) \(.tunnel_port // "-")|"')"
finish
