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
	cns "$n" "$B/admin-ui/tandem-admin" --state-dir "$T/$n" --config-file "$T/$n.json" \
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
