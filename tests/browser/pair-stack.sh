#!/bin/bash
# tests/browser/pair-stack.sh - the stack for pair.test.mjs, run by stack.sh
# after the console test: two real tandem-admin consoles (lb-a, lb-b) on
# loopback. When root with keepalived and network namespaces, node A's
# tandemd runs in a namespace of its own with one VIP group: alone, it
# becomes MASTER, so console B (paired with A, no tandemd of its own) must
# show the read-only banner. Otherwise the banner part is skipped.
# Exit: 0 pass, 1 fail.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$here/../.." && pwd)"
B="${B:?set B to a build directory}"
B="$(cd "$B" && pwd)"
export B SRC
. "$SRC/tests/integration/lib.sh"
. "$SRC/tests/integration/lib-pair.sh"
NS=""
pair_cleanup() {
	cleanup
	[ -n "$NS" ] && { ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL; ip netns del "$NS"; }
}
trap pair_cleanup EXIT

echo '{"version":1}' >"$T/empty.json"
EXPECT_BANNER=0
if [ "$(id -u)" = 0 ] && command -v keepalived >/dev/null && ip netns add "tbp$$" 2>/dev/null; then
	NS="tbp$$"
	ip -n "$NS" link set lo up
	ip -n "$NS" link add eth0 type veth peer name eth1
	ip -n "$NS" addr add 192.0.2.11/24 dev eth0
	ip -n "$NS" link set eth1 up
	ip -n "$NS" link set eth0 up
	cat >"$T/a-import.json" <<JSON
{"version":1,"listeners":[],"pools":[],"routes":[],
 "vrrp":{"local":{"interface":"eth0","address":"192.0.2.11","priority":150},
         "groups":[{"name":"web","virtual_router_id":57,"advert_interval_ms":100,
                    "unicast_peers":["192.0.2.11","192.0.2.12"],"vips":["192.0.2.10/24"]}]}}
JSON
	init_console a "$T/a-import.json" || { echo "not ok 1 - console a init"; exit 1; }
	ip netns exec "$NS" "$B/daemon/tandemd" -c "$T/a.json" -s "$T/a.sock" -w 1 --vrrp-run-dir "$T/run-a" \
		>"$T/tandemd-a.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 200); do
		"$B/daemon/tandemctl" -s "$T/a.sock" status --json 2>/dev/null | jq -e '.vrrp.role == "MASTER"' >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$B/daemon/tandemctl" -s "$T/a.sock" status --json 2>/dev/null | jq -e '.vrrp.role == "MASTER"' >/dev/null 2>&1 &&
		EXPECT_BANNER=1
else
	init_console a "$T/empty.json" || { echo "not ok 1 - console a init"; exit 1; }
fi
init_console b "$T/empty.json" || { echo "not ok 1 - console b init"; exit 1; }
start_console a || exit 1
start_console b || exit 1
echo "# pair: consoles ${AURL[a]} ${AURL[b]}, A MASTER: $EXPECT_BANNER"
CONSOLE_URL="${AURL[a]}/" ADMIN_PASSWORD="${APW[a]}" CONSOLE_B_URL="${AURL[b]}/" \
	ADMIN_B_PASSWORD="${APW[b]}" EXPECT_BANNER=$EXPECT_BANNER node "$here/pair.test.mjs"
rc=$?
cleanup
check_sanitizer_logs
if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
	for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	echo "# state kept in $T"
	exit 1
fi
rm -rf "$T"
exit 0
