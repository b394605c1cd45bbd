# tests/integration/lib-pair.sh - two (or more) tandem-admin consoles for
# the pairing and config sync tests (53, 54, 56), sourced after lib.sh (and
# lib-ha.sh for PAIR_NS=1). Each console N has its own state dir $T/N, config
# file $T/N.json, control socket $T/N.sock, cookie jar and CSRF token.
#   PAIR_NS=0: consoles on 127.0.0.1 ports of the host.
#   PAIR_NS=1: console N runs in lib-ha.sh's namespace N on 0.0.0.0:8443; the
#              other console calls it at ${IP[N]}:8443, the test's curl at
#              127.0.0.1:8443 inside that namespace (unaffected by a cut).
declare -A APORT AURL PURL APID APW ACSRF
PAIR_NS=${PAIR_NS:-0}
cns() { # cns N CMD...: CMD in console N's namespace (or here)
	local n=$1; shift
	if [ "$PAIR_NS" = 1 ]; then ip netns exec "$PFX$n" "$@"; else "$@"; fi
}

# init_console N CONFIG: first start with --import --exit; sets APW[N].
init_console() {
	"$B/admin-ui/tandem-admin" --state-dir "$T/$1" --config-file "$T/$1.json" \
		--ctl-socket "$T/$1.sock" --import "$2" --exit >>"$T/admin-$1.out" 2>>"$T/admin-$1.log"
	APW[$1]=$(sed -n 's/^admin password: //p' "$T/admin-$1.out" | head -1)
	[ -n "${APW[$1]}" ]
}

# start_console N [EXTRA-ARGS...]: HTTPS console "lb-N" on a free port.
start_console() {
	local n=$1 listen i; shift
	if [ "$PAIR_NS" = 1 ]; then
		APORT[$n]=8443; listen="0.0.0.0:8443"
		AURL[$n]="https://127.0.0.1:8443"; PURL[$n]="https://${IP[$n]}:8443"
		set -- --console-url "${PURL[$n]}" "$@"
	else
		[ -n "${APORT[$n]:-}" ] || APORT[$n]=$(free_port)
		listen="127.0.0.1:${APORT[$n]}"
		AURL[$n]="https://127.0.0.1:${APORT[$n]}"; PURL[$n]=${AURL[$n]}
	fi
	# not through cns: a function run with & is a subshell, and its pid
	# would not be tandem-admin's ("ip netns exec" execs, so that one is)
	local pre=()
	[ "$PAIR_NS" = 1 ] && pre=(ip netns exec "$PFX$n")
	"${pre[@]}" "$B/admin-ui/tandem-admin" --state-dir "$T/$n" --config-file "$T/$n.json" \
		--ctl-socket "$T/$n.sock" --listen "$listen" --node "lb-$n" \
		--www "$SRC/admin-ui/www" "$@" >>"$T/admin-$n.out" 2>>"$T/admin-$n.log" &
	APID[$n]=$!
	PIDS+=($!)
	for i in $(seq 100); do
		cns "$n" ss -Htln "sport = :${APORT[$n]}" 2>/dev/null | grep -q . && break
		sleep 0.05
	done
	cns "$n" ss -Htln "sport = :${APORT[$n]}" 2>/dev/null | grep -q . ||
		{ echo "console $n did not start"; tail "$T/admin-$n.log"; return 1; }
	local pw
	pw=$(sed -n 's/^admin password: //p' "$T/admin-$n.out" | head -1)
	[ -n "$pw" ] && APW[$n]="$pw"
	return 0
}
stop_console() { # stop_console N
	kill -TERM "${APID[$1]}" 2>/dev/null
	wait "${APID[$1]}" 2>/dev/null
}
# capi N METHOD PATH [JSON]: sets STATUS and BODY.
capi() {
	local n="$1" m="$2" p="$3" data="${4:-}"
	local args=(-sk -o "$T/body-$n" -w '%{http_code}' -X "$m" --max-time 30
		-b "$T/cookies-$n" -c "$T/cookies-$n" -H 'Content-Type: application/json')
	[ -n "${ACSRF[$n]:-}" ] && args+=(-H "X-CSRF-Token: ${ACSRF[$n]}")
	[ -n "$data" ] && args+=(--data-binary "$data")
	STATUS=$(cns "$n" curl "${args[@]}" "${AURL[$n]}/api/v1$p")
	BODY=$(cat "$T/body-$n")
}
clogin() { # clogin N
	ACSRF[$1]=""
	capi "$1" POST /session "{\"username\":\"admin\",\"password\":\"${APW[$1]}\"}"
	[ "$STATUS" = 200 ] || return 1
	ACSRF[$1]=$(jq -r .csrf_token <<<"$BODY")
}
# pair A B: A makes a token, B joins with it. 0 when both say paired.
pair() {
	local tok fp
	capi "$1" POST /pair/token
	[ "$STATUS" = 201 ] || { echo "token: $STATUS $BODY"; return 1; }
	tok=$(jq -r .token <<<"$BODY"); fp=$(jq -r .fingerprint <<<"$BODY")
	capi "$2" POST /pair/join "{\"console\":\"${PURL[$1]}\",\"token\":\"$tok\",\"fingerprint\":\"$fp\"}"
	[ "$STATUS" = 200 ] || { echo "join: $STATUS $BODY"; return 1; }
}
# wait_api N PATH JQ SECONDS: until GET PATH on N satisfies JQ.
wait_api() {
	local i
	for i in $(seq $(( ${4:-10} * 10 ))); do
		capi "$1" GET "$2"
		[ "$STATUS" = 200 ] && jq -e "$3" >/dev/null 2>&1 <<<"$BODY" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the pair in lib-ha.sh's namespaces (54, 56): PRIO[a], PRIO[b] set by the test
# write_sync_config NODE: the shared part is the same on both nodes; vrrp.local is the node's.
write_sync_config() {
	local n=$1
	cat >"$T/$n-import.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"$VIP","port":80}],
 "pools":[{"name":"app","members":[{"address":"${IP[be]}","port":9001}]}],
 "routes":[{"name":"all","listener":"web","pool":"app"}],
 "vrrp":{"local":{"router_id":"node-$n","interface":"eth0","address":"${IP[$n]}","priority":${PRIO[$n]}},
         "groups":[{"name":"web","virtual_router_id":54,"advert_interval_ms":$ADV_MS,
                    "unicast_peers":["${IP[a]}","${IP[b]}"],"vips":["$VIP/24"]}]}}
JSON
}
start_td() { # start_td NODE: tandemd in the node's namespace, no peer link
	local n=$1
	SOCK[$n]="$T/$n.sock"
	rm -f "${SOCK[$n]}"
	nsx "$n" "$B/daemon/tandemd" -c "$T/$n.json" -s "${SOCK[$n]}" -w 1 --vrrp-run-dir "$T/run-$n" \
		--cert-dir "$T/$n/certs" \
		>>"$T/tandemd-$n.log" 2>&1 &
	TD_PID[$n]=$!
	for _ in $(seq 100); do [ -S "${SOCK[$n]}" ] && return 0; sleep 0.05; done
	echo "tandemd $n did not start"; tail -n 20 "$T/tandemd-$n.log"; return 1
}
now_ms() { date +%s%3N; }
# sync_time_ms: apply on node $1 with pool weight $2; prints ms until node $3 runs the same revision.
apply_and_time() {
	local from=$1 w=$2 to=$3 rev t0
	capi "$from" PUT /pools/app "{\"members\":[{\"address\":\"${IP[be]}\",\"port\":9001,\"weight\":$w}]}"
	[ "$STATUS" = 200 ] || { echo "PUT on $from: $STATUS $BODY" >&2; return 1; }
	capi "$from" POST /apply "{\"comment\":\"weight $w\"}"
	[ "$STATUS" = 200 ] || { echo "apply on $from: $STATUS $BODY" >&2; return 1; }
	rev=$(jq -r .revision <<<"$BODY"); t0=$(now_ms)
	for _ in $(seq 200); do
		[ "$(status "$to" | jq -r .revision)" = "$rev" ] && { echo "$rev $(( $(now_ms) - t0 ))"; return 0; }
		sleep 0.02
	done
	echo "$rev timeout"
}

# pair_nodes: both nodes imported, tandemd and console up, A MASTER, paired.
pair_nodes() {
	local n
	ha_setup
	for n in a b; do
		write_sync_config $n
		ok "$n: first start imports its config" -- init_console $n "$T/$n-import.json"
		start_td $n || finish
		start_console $n || finish
		ok "$n: login" -- clogin $n
	done
	ok "A (priority ${PRIO[a]}) becomes MASTER" -- wait_role a MASTER 15
	ok "B (priority ${PRIO[b]}) is BACKUP" -- wait_role b BACKUP 15
	ok "pair A and B from the consoles" -- pair a b
}
