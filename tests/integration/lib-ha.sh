# tests/integration/lib-ha.sh - the HA pair in network namespaces for the
# peer-sync tests (51-54), sourced after lib.sh. Only 192.0.2.0/24, nothing
# linked to the host's namespace; everything made here is removed on exit
# by lib.sh's trap (the namespaces with every process in them).
#
#   ${PFX}br   bridge br0 with ports p-a p-b p-cli p-be
#   ${PFX}a    node A  eth0 192.0.2.11   tandemd -> keepalived, peer link :7400
#   ${PFX}b    node B  eth0 192.0.2.12   tandemd -> keepalived, peer link :7400
#   ${PFX}be   backend eth0 192.0.2.50   demo-backend :9001 "node-a", :9002 "node-b"
#   ${PFX}cli  client  eth0 192.0.2.100
#
# 51-54 run tandemd as root without the privilege split; 50 (which covers
# the split) uses ha_setup only, with its own node helpers.

[ "$(id -u)" = 0 ] || skip "********** needs root (network namespaces) **********"
command -v keepalived >/dev/null || skip "********** keepalived is not installed (apt-get install keepalived) **********"
command -v openssl >/dev/null || skip "openssl (the command) is not installed"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is not installed"

PFX="${PFX:-th$$-}"
VIP=192.0.2.10
ADV_MS=${ADV_MS:-50}
declare -A IP=([a]=192.0.2.11 [b]=192.0.2.12 [cli]=192.0.2.100 [be]=192.0.2.50)
declare -A BPORT=([a]=9001 [b]=9002)
declare -A TD_PID SOCK RUN PRIO GATE
CTL="$B/daemon/tandemctl"

# ha_setup: the namespaces, the bridge and the two demo backends.
ha_setup() {
	for n in br a b cli be; do
		netns_add "$PFX$n" || { echo "cannot create netns $PFX$n"; exit 1; }
		ip -n "$PFX$n" link set lo up
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "${PFX}br" link add br0 type bridge stp_state 0 forward_delay 0
	ip -n "${PFX}br" link set br0 up
	for n in a b cli be; do
		ip -n "${PFX}br" link add "p-$n" type veth peer name eth0 netns "$PFX$n"
		ip -n "${PFX}br" link set "p-$n" master br0 up
		ip -n "$PFX$n" addr add "${IP[$n]}/24" dev eth0
		ip -n "$PFX$n" link set eth0 up
	done
	for n in a b; do
		nsx be "$B/tests/tools/demo-backend" "${IP[be]}:${BPORT[$n]}" "node-$n" >"$T/backend-$n.log" 2>&1 &
		PIDS+=($!)
	done
}

# ha_pair_certs: the pair's certificates ($T/pair) and a TLS listener's
# certificate ($T/certs/www.{crt,key}).
ha_pair_certs() {
	"$CTL" pair-init "$T/pair" lb-a lb-b >/dev/null || { echo "pair-init failed"; exit 1; }
	C="$T/certs" pki_self www www.example.test || { echo "cannot make a test certificate"; exit 1; }
}

# write_node_config NODE: an HTTP listener on VIP:80 and a TLS one on
# VIP:443 to the node's own backend, and the VIP group (priority PRIO[n]).
write_node_config() {
	local n=$1
	cat >"$T/$n.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"$VIP","port":80},
              {"name":"tls","address":"$VIP","port":443,"tls":{"certificates":["www"]}}],
 "pools":[{"name":"app","members":[{"address":"${IP[be]}","port":${BPORT[$n]}}]}],
 "routes":[{"name":"all","listener":"web","pool":"app"},{"name":"all-tls","listener":"tls","pool":"app"}],
 "vrrp":{"local":{"router_id":"node-$n","interface":"eth0","address":"${IP[$n]}","priority":${PRIO[$n]}},
         "groups":[{"name":"web","virtual_router_id":52,"advert_interval_ms":$ADV_MS,
                    "unicast_peers":["${IP[a]}","${IP[b]}"],"vips":["$VIP/24"]}]}}
JSON
}

other() { [ "$1" = a ] && echo b || echo a; }
start_node() { # start_node NODE [EXTRA-ARGS...]
	local n=$1; shift
	SOCK[$n]="$T/$n.sock"; RUN[$n]="$T/run-$n"
	rm -f "${SOCK[$n]}"
	ip netns exec "$PFX$n" "$B/daemon/tandemd" -c "$T/$n.json" -s "${SOCK[$n]}" -w 1 \
		--vrrp-run-dir "${RUN[$n]}" --cert-dir "$T/certs" \
		--peer-listen "${IP[$n]}:7400" --peer "${IP[$(other "$n")]}:7400" \
		--peer-dir "$T/pair/lb-$n" ${GATE[$n]:+--peer-gate "${GATE[$n]}"} "$@" \
		>>"$T/tandemd-$n.log" 2>&1 &
	TD_PID[$n]=$!
	for _ in $(seq 100); do [ -S "${SOCK[$n]}" ] && return 0; sleep 0.05; done
	echo "tandemd $n did not start"; tail -n 20 "$T/tandemd-$n.log"; return 1
}
status() { "$CTL" -s "${SOCK[$1]}" status --json 2>/dev/null; }
role() { status "$1" | jq -r '.vrrp.groups[0].role' 2>/dev/null; }
wait_role() { # wait_role NODE ROLE SECONDS
	for _ in $(seq $(( $3 * 20 ))); do [ "$(role "$1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}
wait_status() { # wait_status NODE JQ-CONDITION SECONDS
	for _ in $(seq $(( ${3:-10} * 20 ))); do status "$1" | jq -e "$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
# https GET / on the VIP from the client: ARGS to openssl s_client.
tls_get() {
	printf 'GET / HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n' |
		nsx cli timeout 10 openssl s_client -connect "$VIP:443" -servername www.example.test \
			-ign_eof "$@" 2>&1
}
