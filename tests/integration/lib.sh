# tests/integration/lib.sh - shared helpers for the integration tests.
# Each test runs the real binaries from $B (a build dir) in a temporary state
# directory on loopback ports, says "ok N - what" / "not ok N - what" per
# check, and exits 0 only when every check passed (77 = SKIP, with a reason).
set -uo pipefail

B="${B:?set B to a build directory}"
SRC="${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
T="$(mktemp -d /tmp/tandem-it.XXXXXX)"
# the tests' Python clients import ctlsock.py from here (no .pyc in the tree)
export PYTHONPATH="$SRC/tests/integration${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
CHECKS=0
FAILS=0
PIDS=()

skip() { echo "SKIP: $*"; exit 77; }
ok() { # ok "description" -- command...  (passes when the command succeeds)
	local desc="$1"; shift
	[ "${1:-}" = "--" ] && shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok $CHECKS - $desc"
	else
		echo "not ok $CHECKS - $desc"
		FAILS=$((FAILS + 1))
	fi
}
eq() { # eq "description" EXPECTED ACTUAL
	CHECKS=$((CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $CHECKS - $1"
	else
		echo "not ok $CHECKS - $1: expected '$2', got '$3'"
		FAILS=$((FAILS + 1))
	fi
}

# Sanitizer reports in any daemon log fail the test.
check_sanitizer_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f"; then
			echo "not ok - sanitizer report in $(basename "$f"):"
			grep -m 20 -A 20 -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$f" | sed 's/^/    /'
			FAILS=$((FAILS + 1))
		fi
	done
}

# alive PID: running (a zombie waiting to be reaped is not).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# stop_procs PID...: SIGTERM to all, SIGKILL to those still running after 5 s.
stop_procs() {
	local p
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for _ in $(seq 50); do
		for p in "$@"; do alive "$p" && break; done
		alive "$p" || break	# (p: the first still running, else the last)
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null
	for p in "$@"; do wait "$p" 2>/dev/null; done
}

# Every process below PID (children, their children, ...).
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{ up[$1] = $2 } END {
		for (p in up) { q = up[p]; while (q != root && q in up && q > 1) q = up[q]; if (q == root) print p } }'
}

# netns_add NAME: a network namespace that the exit trap removes, after
# cleanup stopped every process in it.
NETNS=()
netns_add() { ip netns add "$1" && NETNS+=("$1"); }
# nsx NODE CMD...: CMD in the namespace "$PFX$NODE" (PFX: the test's prefix).
nsx() { local n=$1; shift; ip netns exec "$PFX$n" "$@"; }

# cleanup: stops what this test started, all at once: PIDS, every process
# below this shell (a backgrounded "ip netns exec" or subshell leaves its
# child behind when only its own pid is killed), every process in the
# test's namespaces, and whatever else runs from $T (keepalived, which
# outlives its parent's pid). May be called mid-test; namespaces stay.
cleanup() {
	local all=("${PIDS[@]}") ns d
	all+=($(descendants $$))
	for ns in "${NETNS[@]}"; do all+=($(ip netns pids "$ns" 2>/dev/null)); done
	for d in $(grep -l -s -F -- "$T/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[ "$d" != $$ ] && all+=("$d")
	done
	stop_procs "${all[@]}"
	PIDS=()
}

# netns_cleanup: kills anything still in the test's namespaces, deletes them.
netns_cleanup() {
	local ns
	for ns in "${NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NETNS=()
}

finish() {
	cleanup
	check_sanitizer_logs
	if [ "$FAILS" -eq 0 ] && [ "$CHECKS" -gt 0 ]; then
		echo "# $CHECKS checks passed"
		rm -rf "$T"
		exit 0
	fi
	echo "# $FAILS of $CHECKS checks failed (state kept in $T)"
	for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	exit 1
}
trap 'cleanup; netns_cleanup' EXIT

# free_port: a TCP port on 127.0.0.1 that no socket uses in any state and
# that this test has not handed out before. Below the ephemeral range
# (32768+), so no outgoing connection or its TIME-WAIT takes it between the
# check and the bind (a bind collides with a TIME-WAIT socket of a client
# that did not set SO_REUSEADDR). (Not $RANDOM: every $(free_port) subshell
# would start from the same seed and return the same port.)
free_port() {
	local p
	while :; do
		# 20000-32767: below the kernel's ephemeral range (32768-60999), so
		# outgoing connections of other programs never hold our port.
		p=$(( $(od -An -N2 -tu2 /dev/urandom) % 12768 + 20000 ))
		grep -qx "$p" "$T/ports" 2>/dev/null && continue
		# any state, not only LISTEN: a TIME_WAIT or connected socket on the
		# port (other test runs exhaust the ephemeral range) fails bind too
		ss -Htan "sport = :$p" 2>/dev/null | grep -q . && continue
		echo "$p" >>"$T/ports"
		echo "$p"
		return
	done
}

# ms_since EPOCHREALTIME: whole milliseconds since then.
ms_since() {
	local now=$EPOCHREALTIME
	echo $(( (${now%[.,]*} - ${1%[.,]*}) * 1000 + (10#${now#*[.,]} - 10#${1#*[.,]}) / 1000 ))
}

wait_port() { # wait_port PORT: until something listens (5 s)
	local i
	for i in $(seq 100); do
		ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# start_backend NAME PORT: BACKEND_PID[NAME] is its pid.
declare -A BACKEND_PID
start_backend() {
	"$B/tests/tools/demo-backend" "127.0.0.1:$2" "$1" >"$T/backend-$1.log" 2>&1 &
	BACKEND_PID[$1]=$!
	PIDS+=($!)
	wait_port "$2"
}

stop_backend() { # stop_backend NAME
	kill "${BACKEND_PID[$1]}" 2>/dev/null
	wait "${BACKEND_PID[$1]}" 2>/dev/null
}

# start_tandemd CONFIG [ARGS...]: control socket at $T/tandemd.sock; TANDEMD_PID set.
start_tandemd() {
	"$B/daemon/tandemd" -c "$1" -s "$T/tandemd.sock" "${@:2}" >"$T/tandemd.log" 2>&1 &
	TANDEMD_PID=$!
	PIDS+=($TANDEMD_PID)
	local i
	for i in $(seq 100); do [ -S "$T/tandemd.sock" ] && return 0; sleep 0.05; done
	echo "tandemd did not start:"; cat "$T/tandemd.log"
	return 1
}

ctl() { "$B/daemon/tandemctl" -s "$T/tandemd.sock" "$@"; }	# ctl ARGS: tandemctl on start_tandemd's socket

# refused DESC CONFIG JQ-FILTER PATTERN: an "ok" check that tandemd --check
# refuses CONFIG edited by JQ-FILTER, with a message matching PATTERN (grep).
refused() {
	local n=$((CHECKS + 1))
	jq "$3" "$2" >"$T/bad$n.json" || { ok "$1 (jq failed)" -- false; return; }
	ok "$1" -- sh -c '! "$1" --check "$2" >"$3" 2>&1 && grep -q -- "$4" "$3"' sh \
		"$B/daemon/tandemd" "$T/bad$n.json" "$T/check$n.out" "$4"
}

# member_state POOL: the state of the first member of pool number POOL
# (tandemctl status); wait_member_state POOL STATE: until it is STATE (5 s).
member_state() { ctl status --json | jq -r ".pools[$1].members[0].state"; }
wait_member_state() {
	for _ in $(seq 50); do [ "$(member_state "$1")" = "$2" ] && return 0; sleep 0.1; done
	return 1
}
status_says() { ctl status | grep -q -- "$1"; }	# status_says TEXT: tandemctl status shows TEXT

# start_admin [EXTRA-ARGS...]: HTTPS console on a free port; sets ADMIN_URL,
# ADMIN_PASSWORD (first start only) and ADMIN_PID.
start_admin() {
	ADMIN_PORT=$(free_port)
	ADMIN_URL="https://127.0.0.1:$ADMIN_PORT"
	"$B/admin-ui/tandem-admin" --state-dir "$T/state" --config-file "$T/tandem.json" \
		--ctl-socket "$T/tandemd.sock" --listen "127.0.0.1:$ADMIN_PORT" \
		--www "$SRC/admin-ui/www" "$@" >"$T/admin.out" 2>"$T/admin.log" &
	ADMIN_PID=$!
	PIDS+=($ADMIN_PID)
	wait_port "$ADMIN_PORT" || { echo "tandem-admin did not start"; cat "$T/admin.log"; return 1; }
	local pw
	pw=$(sed -n 's/^admin password: //p' "$T/admin.out" | head -1)
	[ -n "$pw" ] && ADMIN_PASSWORD="$pw"
	return 0
}

# admin_init CONFIG: first start of tandem-admin with --import --exit, so the
# config file exists before tandemd starts. Sets ADMIN_PASSWORD.
admin_init() {
	"$B/admin-ui/tandem-admin" --state-dir "$T/state" --config-file "$T/tandem.json" \
		--ctl-socket "$T/tandemd.sock" --import "$1" --exit >"$T/admin-init.out" 2>"$T/admin-init.log" ||
		{ echo "admin_init: tandem-admin --import $1 failed: $(tail -1 "$T/admin-init.log")" >&2; return 1; }
	ADMIN_PASSWORD=$(sed -n 's/^admin password: //p' "$T/admin-init.out" | head -1)
	[ -n "$ADMIN_PASSWORD" ] && [ -f "$T/tandem.json" ]
}

# start_stack SEED [TANDEMD-ARGS...]: one whole node: tandem-admin imports
# SEED (a config file; "" for an empty config), tandemd starts on the file it
# rendered, the console starts and we log in (admin_init, start_tandemd,
# start_admin, login). Fails at the first step that does.
start_stack() {
	local seed="$1"
	shift
	[ -n "$seed" ] || { seed="$T/empty.json"; echo '{"version":1}' >"$seed"; }
	admin_init "$seed" && start_tandemd "$T/tandem.json" "$@" && start_admin && login
}

# api METHOD PATH [JSON]: calls the REST API with the session cookie and CSRF
# token; sets STATUS and BODY.
CSRF=""
api() {
	local m="$1" p="$2" data="${3:-}"
	local args=(-sk -o "$T/body" -w '%{http_code}' -X "$m"
		-b "$T/cookies" -c "$T/cookies" -H 'Content-Type: application/json')
	[ -n "$CSRF" ] && args+=(-H "X-CSRF-Token: $CSRF")
	[ -n "$data" ] && args+=(--data-binary "$data")
	STATUS=$(curl "${args[@]}" "$ADMIN_URL/api/v1$p")
	BODY=$(cat "$T/body")
}

# login [PASSWORD]: logs in as admin; sets CSRF.
login() {
	CSRF=""
	api POST /session "{\"username\":\"admin\",\"password\":\"${1:-$ADMIN_PASSWORD}\"}"
	[ "$STATUS" = 200 ] || return 1
	CSRF=$(jq -r .csrf_token <<<"$BODY")
}

# backend_counts URL N: sends N requests, prints "name count" lines sorted.
backend_counts() {
	local i
	for i in $(seq "$2"); do curl -s --max-time 5 "$1"; done | sort | uniq -c | awk '{print $3, $1}'
}

# tally: one name a line on stdin -> "name=count " for each, sorted by name.
tally() { sort | uniq -c | awk '{ printf "%s=%d ", $2, $1 }'; }

# spread_ok TALLY N MIN MAX: TALLY (from tally) has exactly N names, each
# counted MIN..MAX times (a balanced share within a tolerance).
spread_ok() {
	awk -v s="$1" -v n="$2" -v lo="$3" -v hi="$4" 'BEGIN { k = split(s, f, /[ =]/); m = 0
		for (i = 1; i < k; i += 2) { m++; if (f[i+1] < lo || f[i+1] > hi) exit 1 }
		exit m != n }'
}

# write_config FILE REVISION LISTEN_PORT MEMBER_PORT...: one listener, one pool, one route.
write_config() {
	local f="$1" rev="$2" lport="$3" members="" p
	shift 3
	for p in "$@"; do members+="${members:+,}{\"address\":\"127.0.0.1\",\"port\":$p}"; done
	cat >"$f" <<JSON
{"version":1,"revision":$rev,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$lport}],
 "pools":[{"name":"app","members":[$members]}],
 "routes":[{"name":"all","listener":"web","pool":"app"}]}
JSON
}

# ---- a throw-away PKI for the TLS tests: EC P-256 keys (PKI_KEY=rsa: RSA
# 2048), certificates valid PKI_DAYS days (30), the files in $C ($T/pki
# unless the test sets another, e.g. the --cert-dir it gives tandemd),
# openssl's chatter in $C/openssl.log. SUBJECT: "/O=x/CN=y", or a bare CN.
C="$T/pki"
ossl() { mkdir -p "$C" && openssl "$@" >>"$C/openssl.log" 2>&1; }
pki_req() { # pki_req NAME SUBJECT ARGS...: openssl req with a new key, $C/NAME.key
	local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) subj="$2"
	[ "${PKI_KEY:-ec}" = rsa ] && key=(-newkey rsa:2048)
	[ "${subj#/}" = "$subj" ] && subj="/CN=$subj"
	ossl req "${key[@]}" -nodes -keyout "$C/$1.key" -subj "$subj" "${@:3}"
}
pki_ca() { # pki_ca NAME SUBJECT: a self-signed CA, $C/NAME.crt and .key
	pki_req "$1" "$2" -x509 -out "$C/$1.crt" -days "${PKI_DAYS:-30}" \
		-addext basicConstraints=critical,CA:TRUE
}
pki_self() { # pki_self NAME SUBJECT [SANS]: a self-signed leaf
	pki_req "$1" "$2" -x509 -out "$C/$1.crt" -days "${PKI_DAYS:-30}" ${3:+-addext "subjectAltName=$3"}
}
pki_leaf() { # pki_leaf NAME CA SUBJECT [SANS]: NAME signed by CA
	pki_req "$1" "$3" -out "$C/$1.csr" &&
	printf '%s\n' "${4:+subjectAltName=$4}" >"$C/$1.ext" &&
	ossl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial \
		-days "${PKI_DAYS:-30}" -extfile "$C/$1.ext" -out "$C/$1.crt"
}
pki_made() { # pki_made NAME...: SKIP, showing openssl's log, unless every $C/NAME.crt was made
	local f
	for f in "$@"; do
		[ -s "$C/$f.crt" ] || { cat "$C/openssl.log" 2>/dev/null; skip "openssl failed to make $f.crt"; }
	done
}

# upload_cert NAME CERTFILE... KEYFILE: POST /certificates, the chain being
# the certificate files one after the other.
upload_cert() {
	local name="$1" key="${*: -1}" certs=("${@:2:$#-2}")
	cat "${certs[@]}" >"$T/upload.crt"
	jq -n --arg name "$name" --rawfile key "$key" --rawfile cert "$T/upload.crt" \
		'{name:$name, cert_pem:$cert, key_pem:$key}' >"$T/upload.json"
	api POST /certificates "@$T/upload.json"
}

upload_ca() { # upload_ca NAME FILE: POST /ca-bundles
	jq -n --arg name "$1" --rawfile pem "$2" '{name:$name, pem:$pem}' >"$T/ca.json"
	api POST /ca-bundles "@$T/ca.json"
}

# ---- HTTP/2 and gRPC peers in Python (tests/tools): Debian's python3 where
# present, as python3-h2 and python3-grpcio are Debian packages.

# need_python MODULE...: sets PY; SKIP naming the package of the first
# module that does not import (h2: python3-h2, grpc: python3-grpcio).
need_python() {
	local m
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	for m in "$@"; do
		$PY -c "import $m" 2>/dev/null || skip "python3-${m/#grpc/grpcio} is not installed"
	done
}

# start_h2_origin PORT DIR [CERT KEY]: tests/tools/h2-mux-origin.py on PORT
# (TLS with CERT and KEY), counting its connections and streams in DIR;
# output in DIR.log. Does not wait: wait_ports does.
start_h2_origin() {
	mkdir -p "$2"
	$PY "$SRC/tests/tools/h2-mux-origin.py" "$1" "$2" ${3:+0 "$3" "$4"} >"$2.log" 2>&1 &
	PIDS+=($!)
}

# start_grpc_echo NAME PORT [CERT KEY]: tests/tools/grpc-echo.py's server on
# PORT (TLS with CERT and KEY); its health answer is NOT_SERVING while
# $T/NAME.notserving exists; output in $T/NAME.log. Does not wait.
start_grpc_echo() {
	$PY "$SRC/tests/tools/grpc-echo.py" server "$2" "$T/$1.notserving" ${3:+"$3" "$4"} \
		>"$T/$1.log" 2>&1 &
	PIDS+=($!)
}

wait_ports() { # wait_ports PORT...: until each listens; false naming one that does not
	local p
	for p in "$@"; do wait_port "$p" || { echo "nothing listens on port $p"; return 1; }; done
}

# grpc_echo_calls DESC UNKNOWN ADDR [CA NAME]: an "eq" check that
# grpc-echo.py's client through tandemd at ADDR (TLS to NAME trusting CA)
# gets every answer right: unary (300 KB too), server, client and bidi
# streams, trailers, non-OK status codes with their messages. UNKNOWN is
# the start of the line expected for a method of another service (the
# routes decide), "" to leave that call unchecked.
grpc_echo_calls() {
	local desc="$1" unknown="$2" addr="$3" expect out
	shift 3
	expect="unary echo:hello yes OK
unary-300k intact
fail NOT_FOUND no such thing
down UNAVAILABLE member says no${unknown:+
$unknown}
server-stream 50 part 0 part 49
client-stream got 100 messages, 100000 bytes
bidi ONE TWO THREE"
	# E0000...: gRPC core's own log lines
	out=$(timeout 60 $PY "$SRC/tests/tools/grpc-echo.py" client "$addr" "$@" 2>>"$T/grpc-client.err" |
		awk -v u="$unknown" '/^E[0-9]/ { next }
			/^unknown / { if (u == "") next; if (index($0, u) == 1) $0 = u }
			{ print }')
	eq "$desc" "$expect" "$out"
}
