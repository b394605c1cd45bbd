# tests/integration/lib-pair.sh - two (or three) tandem-admin consoles on
# loopback for the pairing and config sync tests (53, 54, 56), sourced after
# lib.sh. Each console N has its own state dir $T/N, config file $T/N.json,
# control socket $T/N.sock, cookie jar and CSRF token.
declare -A APORT AURL APID APW ACSRF

# start_console N [EXTRA-ARGS...]: HTTPS console "lb-N" on a free port.
start_console() {
	local n=$1; shift
	[ -n "${APORT[$n]:-}" ] || APORT[$n]=$(free_port)
	AURL[$n]="https://127.0.0.1:${APORT[$n]}"
	"$B/admin-ui/tandem-admin" --state-dir "$T/$n" --config-file "$T/$n.json" \
		--ctl-socket "$T/$n.sock" --listen "127.0.0.1:${APORT[$n]}" --node "lb-$n" \
		--www "$SRC/admin-ui/www" "$@" >>"$T/admin-$n.out" 2>>"$T/admin-$n.log" &
	APID[$n]=$!
	PIDS+=($!)
	wait_port "${APORT[$n]}" || { echo "console $n did not start"; tail "$T/admin-$n.log"; return 1; }
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
	STATUS=$(curl "${args[@]}" "${AURL[$n]}/api/v1$p")
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
	capi "$2" POST /pair/join "{\"console\":\"${AURL[$1]}\",\"token\":\"$tok\",\"fingerprint\":\"$fp\"}"
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
