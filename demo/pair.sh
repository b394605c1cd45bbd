# demo/pair.sh - the HA pair on one machine, sourced by ./quickstart
# (doc/ha.md "The pair demo"). Needs root: it makes network namespaces.
#
#   NS prefix (TANDEM_DEMO_NS, default "tandem-"), all in 192.0.2.0/24:
#   tandem-br    bridge br0, one port per namespace below (p-a p-b p-cli p-be1 p-be2)
#   tandem-a     node A 192.0.2.11: tandemd -> keepalived (priority 150), peer link :7400
#   tandem-b     node B 192.0.2.12: tandemd -> keepalived (priority 100), peer link :7400
#   tandem-be1   192.0.2.51:80 demo-backend "demo-a"
#   tandem-be2   192.0.2.52:80 demo-backend "demo-b"
#   tandem-cli   192.0.2.100, the client: curl http://192.0.2.10/ (the VIP)
#
# Every veth lives inside the namespaces; nothing is added to the host's
# network but the two consoles: each node's tandem-admin runs in the host's
# namespace on 127.0.0.1:8443 (A) and :8444 (B) and talks to its tandemd
# over the control socket, a file under STATE (a Unix socket is reached by
# path, whatever the namespace). A real pair runs tandem-admin on each node.
#
# State: STATE/a and STATE/b (each node's database, rendered config, TLS
# files, limiter state file), STATE/pair (the pair's certificates from
# tandemctl pair-init), STATE/run (pid files, logs, the namespace list).
# A second run reuses them; delete STATE to start over.

DEMO_NS="${TANDEM_DEMO_NS:-tandem-}"
DEMO_VIP=192.0.2.10
declare -A DEMO_IP=([a]=192.0.2.11 [b]=192.0.2.12 [cli]=192.0.2.100 [be1]=192.0.2.51 [be2]=192.0.2.52)
declare -A DEMO_PRIO=([a]=150 [b]=100)
declare -A DEMO_CONSOLE=([a]="${TANDEM_DEMO_CONSOLE_A:-8443}" [b]="${TANDEM_DEMO_CONSOLE_B:-8444}")
declare -A DEMO_TD DEMO_ADM
DEMO_BG=()

pair_vars() { # pair_vars STATE BUILD
	PS="$1"; PB="$2"; PR="$1/run"
	CTL="$PB/daemon/tandemctl"
}

pair_nsx() { local n=$1; shift; ip netns exec "$DEMO_NS$n" "$@"; }

# alive PID: running and not a zombie.
pair_alive() {
	[ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# The role of node N's first VRRP group ("" when tandemd does not answer).
pair_role() {
	"$CTL" -s "$PS/$1/tandemd.sock" status --json 2>/dev/null |
		sed -n 's/.*"role": *"\([A-Z]*\)".*/\1/p' | head -n 1
}

pair_net() {
	local n
	: >"$PR/namespaces"
	for n in br a b cli be1 be2; do
		ip netns add "$DEMO_NS$n" || { echo "quickstart: cannot create network namespace $DEMO_NS$n" >&2; return 1; }
		echo "$DEMO_NS$n" >>"$PR/namespaces"
		ip -n "$DEMO_NS$n" link set lo up
		pair_nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	{ ip -n "${DEMO_NS}br" link add br0 type bridge stp_state 0 forward_delay 0 &&
		ip -n "${DEMO_NS}br" link set br0 up; } || return 1
	for n in a b cli be1 be2; do
		{ ip -n "${DEMO_NS}br" link add "p-$n" type veth peer name eth0 netns "$DEMO_NS$n" &&
			ip -n "${DEMO_NS}br" link set "p-$n" master br0 up &&
			ip -n "$DEMO_NS$n" addr add "${DEMO_IP[$n]}/24" dev eth0 &&
			ip -n "$DEMO_NS$n" link set eth0 up; } || return 1
	done
}

# The config imported at a node's first start: the same on both nodes but
# for the node's own VRRP fields (router id, address, priority).
pair_config() { # pair_config NODE
	local n=$1
	cat <<JSON
{"version":1,
 "listeners":[{"name":"web","address":"$DEMO_VIP","port":80}],
 "pools":[{"name":"demo","members":[{"address":"${DEMO_IP[be1]}","port":80},
                                   {"address":"${DEMO_IP[be2]}","port":80}]}],
 "routes":[{"name":"default","listener":"web","pool":"demo"}],
 "vrrp":{"local":{"router_id":"lb-$n","interface":"eth0","address":"${DEMO_IP[$n]}","priority":${DEMO_PRIO[$n]}},
         "groups":[{"name":"web","virtual_router_id":51,"advert_interval_ms":100,
                    "unicast_peers":["${DEMO_IP[a]}","${DEMO_IP[b]}"],"vips":["$DEMO_VIP/24"]}]}}
JSON
}

pair_admin_args() { # pair_admin_args NODE
	ADM_ARGS=(--state-dir "$PS/$1" --config-file "$PS/$1/tandem.json"
		--ctl-socket "$PS/$1/tandemd.sock" --www "$HERE/admin-ui/www")
}

# First start of a node: its database with the demo configuration; the
# password is printed once and kept (0600) so a second run shows it again.
pair_first_start() { # pair_first_start NODE
	local n=$1
	[ -f "$PS/$n/tandem.db" ] && return 0
	mkdir -p "$PS/$n"; chmod 0700 "$PS/$n"
	pair_config "$n" >"$PS/$n/demo-config.json"
	pair_admin_args "$n"
	"$PB/admin-ui/tandem-admin" "${ADM_ARGS[@]}" --import "$PS/$n/demo-config.json" --exit \
		>"$PS/$n/first-start.out" 2>>"$PR/admin-$n.log" || { cat "$PR/admin-$n.log" >&2; return 1; }
	grep '^admin password: ' "$PS/$n/first-start.out" >"$PS/$n/demo-admin-password"
	chmod 0600 "$PS/$n/demo-admin-password"
	rm -f "$PS/$n/first-start.out"
}

pair_start_tandemd() { # pair_start_tandemd NODE
	local n=$1 o=a
	[ "$n" = a ] && o=b
	rm -f "$PS/$n/tandemd.sock"
	ip netns exec "$DEMO_NS$n" "$PB/daemon/tandemd" -c "$PS/$n/tandem.json" -s "$PS/$n/tandemd.sock" \
		--vrrp-run-dir "$PR/vrrp-$n" --cert-dir "$PS/$n/certs" \
		--peer-listen "${DEMO_IP[$n]}:7400" --peer "${DEMO_IP[$o]}:7400" \
		--peer-dir "$PS/pair/lb-$n" --limit-state "$PS/$n/limiter.state" \
		>>"$PR/tandemd-$n.log" 2>&1 &
	DEMO_TD[$n]=$!
	echo "${DEMO_TD[$n]}" >"$PR/tandemd-$n.pid"
	for _ in $(seq 100); do [ -S "$PS/$n/tandemd.sock" ] && return 0; sleep 0.05; done
	echo "quickstart: tandemd on node $n did not start:" >&2; tail -n 20 "$PR/tandemd-$n.log" >&2
	return 1
}

pair_start_admin() { # pair_start_admin NODE
	local n=$1
	pair_admin_args "$n"
	"$PB/admin-ui/tandem-admin" "${ADM_ARGS[@]}" --listen "127.0.0.1:${DEMO_CONSOLE[$n]}" \
		>>"$PR/admin-$n.log" 2>&1 &
	DEMO_ADM[$n]=$!
	echo "${DEMO_ADM[$n]}" >"$PR/admin-$n.pid"
}

# Removes what a demo with this STATE made: its processes (by pid file and
# by namespace) and its namespaces (the veths and the bridge go with them).
pair_teardown() {
	local f p ns
	set +e
	for f in "$PR"/tandemd-?.pid "$PR"/admin-?.pid "$PR"/backend-*.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	for f in "$PR"/tandemd-?.pid "$PR"/admin-?.pid "$PR"/backend-*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		for _ in $(seq 100); do pair_alive "$p" || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		rm -f "$f"
	done
	# keepalived dies with tandemd; whatever is left in a namespace goes too
	if [ -f "$PR/namespaces" ]; then
		while read -r ns; do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		done <"$PR/namespaces"
		rm -f "$PR/namespaces"
	fi
	rm -f "$PR/ready" "$PR/demo.pid"
}

pair_summary() {
	local n
	echo
	for n in a b; do
		printf 'node %s console: https://127.0.0.1:%s/   %s\n' "$n" "${DEMO_CONSOLE[$n]}" \
			"$(cat "$PS/$n/demo-admin-password" 2>/dev/null || echo 'admin password: (shown at first start)')"
	done
	cat <<EOF
(user admin on both; the certificates are self-signed)
traffic:  ip netns exec ${DEMO_NS}cli curl http://$DEMO_VIP/   (the VIP, served by the MASTER)
watch:    ./quickstart watch      (that curl in a loop, with each node's role)
failover: ./quickstart failover   (kill -9 of the MASTER's tandemd; the demo restarts it)
stop:     Ctrl-C, or ./quickstart stop
EOF
}

# pair_demo STATE BUILD [--detach]
pair_demo() {
	pair_vars "$1" "$2"
	local detach="${3:-}" n p
	mkdir -p "$PS" "$PR"; chmod 0700 "$PS"
	if [ -f "$PR/demo.pid" ] && pair_alive "$(cat "$PR/demo.pid")"; then
		echo "quickstart: a pair demo is already running (pid $(cat "$PR/demo.pid")): ./quickstart stop" >&2
		return 1
	fi
	if [ "$detach" = --detach ]; then
		# the same script in the background, in its own session; we wait
		# until it says ready (or dies)
		rm -f "$PR/ready" "$PR/failed"
		TANDEM_DEMO_BUILD="$PB" TANDEM_STATE="$PS" setsid "$HERE/quickstart" demo --foreground-pair </dev/null >"$PR/demo.log" 2>&1 &
		p=$!
		for _ in $(seq 600); do
			[ -f "$PR/ready" ] && { cat "$PR/demo.log"; return 0; }
			pair_alive "$p" || break
			sleep 0.1
		done
		echo "quickstart: the pair demo did not come up:" >&2; cat "$PR/demo.log" >&2
		kill -TERM "$p" 2>/dev/null
		return 1
	fi
	echo $$ >"$PR/demo.pid"
	pair_teardown_stale
	trap 'pair_stop_trap 130' INT
	trap 'pair_stop_trap 143' TERM
	trap pair_stop_trap EXIT
	pair_net || return 1
	[ -f "$PS/pair/ca.pem" ] || "$CTL" pair-init "$PS/pair" lb-a lb-b >/dev/null ||
		{ echo "quickstart: tandemctl pair-init failed" >&2; return 1; }
	for n in be1 be2; do
		p=demo-a; [ "$n" = be2 ] && p=demo-b
		ip netns exec "$DEMO_NS$n" "$PB/tests/tools/demo-backend" "${DEMO_IP[$n]}:80" "$p" >>"$PR/backend-$n.log" 2>&1 &
		echo $! >"$PR/backend-$n.pid"
	done
	for n in a b; do pair_first_start "$n" || return 1; done
	for n in a b; do pair_start_tandemd "$n" || return 1; done
	for n in a b; do pair_start_admin "$n"; done
	say "waiting for a MASTER"
	for _ in $(seq 300); do
		[ "$(pair_role a)" = MASTER ] || [ "$(pair_role b)" = MASTER ] && break
		sleep 0.1
	done
	for _ in $(seq 100); do
		pair_nsx cli curl -s -m 1 -o /dev/null "http://$DEMO_VIP/" && break
		sleep 0.1
	done
	pair_summary
	printf 'roles: A %s, B %s\n' "$(pair_role a)" "$(pair_role b)"
	touch "$PR/ready"
	# A node whose tandemd died is started again after 3 s (as systemd's
	# Restart=on-failure would); a console that died ends the demo.
	while :; do
		for n in a b; do
			pair_alive "${DEMO_TD[$n]}" && continue
			say "node $n: tandemd exited; restarting it in 3 s"
			sleep 3
			pair_start_tandemd "$n" || return 1
			say "node $n: tandemd started again (it loads its peer's state, then takes its priority back)"
		done
		for n in a b; do
			pair_alive "${DEMO_ADM[$n]}" || { echo "quickstart: node $n's console exited (see $PR/admin-$n.log)" >&2; return 1; }
		done
		sleep 1 & wait $!
	done
}

# Namespaces left by a demo that was killed (-9) before it could clean up.
pair_teardown_stale() {
	if [ -f "$PR/namespaces" ]; then
		say "removing what an earlier demo left behind"
		pair_teardown
		echo $$ >"$PR/demo.pid"
	fi
}

pair_stop_trap() { # [EXIT-STATUS]: the signal's, else the script's
	local rc=${1:-$?}
	trap - INT TERM EXIT
	echo
	say "stopping the pair"
	pair_teardown
	say "stopped: namespaces, veths and processes removed"
	exit "$rc"
}

pair_stop() { # pair_stop STATE BUILD
	pair_vars "$1" "$2"
	local p
	if [ -f "$PR/demo.pid" ] && p=$(cat "$PR/demo.pid") && pair_alive "$p"; then
		kill -TERM "$p"
		for _ in $(seq 300); do pair_alive "$p" || break; sleep 0.1; done
	fi
	# the demo's own cleanup ran, or it was killed: sweep what is left
	[ -d "$PR" ] && pair_teardown
	echo "pair demo stopped"
}

pair_failover() { # pair_failover STATE BUILD
	pair_vars "$1" "$2"
	local n m="" p
	for n in a b; do [ "$(pair_role "$n")" = MASTER ] && m=$n; done
	[ -n "$m" ] || { echo "quickstart: no node is MASTER (is the demo running?)" >&2; return 1; }
	p=$(cat "$PR/tandemd-$m.pid")
	kill -KILL "$p"
	echo "killed tandemd on node $m (the MASTER, pid $p) with SIGKILL: its keepalived goes"
	echo "with it and the other node takes the VIP; the demo restarts node $m in 3 s."
}

pair_watch() { # pair_watch STATE BUILD
	pair_vars "$1" "$2"
	[ -f "$PR/ready" ] || { echo "quickstart: the pair demo is not running" >&2; return 1; }
	echo "GET http://$DEMO_VIP/ from ${DEMO_NS}cli every 0.2 s (Ctrl-C ends it)"
	while :; do
		printf '%s  %-22s  A %-7s B %s\n' "$(date +%T.%3N)" \
			"$(pair_nsx cli curl -s -m 1 "http://$DEMO_VIP/" 2>/dev/null | head -n 1 || true)" \
			"$(pair_role a || true)" "$(pair_role b || true)"
		sleep 0.2
	done
}
