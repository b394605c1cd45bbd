#!/bin/bash
# tests/browser/stack.sh - start a throwaway Tandem stack on loopback and run
# the console browser test against it.
#
#   B=build-dir tests/browser/stack.sh          real tandemd + tandem-admin
#   tests/browser/stack.sh --mock               mock-admin.mjs (no C binaries;
#                                               for working on the console only)
#
# Starts two demo backends (tests/tools/demo-backend, or python3's http.server
# when that is not built), tandemd with an empty config and tandem-admin over
# HTTPS with a fresh state dir, runs console.test.mjs with the right
# environment, and stops everything it started. SCREENSHOT defaults to
# $B/tests/browser/dashboard.png (or /tmp/tandem-console.png with --mock).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$here/../.." && pwd)"
mock=0
[ "${1:-}" = "--mock" ] && mock=1

if [ "$mock" = 1 ]; then
	B="${B:-$SRC}"
fi
B="${B:?set B to a build directory (or use --mock)}"
B="$(cd "$B" && pwd)"
export B SRC
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"

if [ "$mock" = 0 ]; then
	for f in daemon/tandemd admin-ui/tandem-admin; do
		[ -x "$B/$f" ] || skip "browser test: $B/$f is not built"
	done
fi

backend() { # backend NAME PORT
	if [ -x "$B/tests/tools/demo-backend" ]; then
		start_backend "$1" "$2"
	else
		mkdir -p "$T/www-$1"
		echo "$1" >"$T/www-$1/index.html"
		(cd "$T/www-$1" && exec python3 -m http.server "$2" --bind 127.0.0.1) >"$T/backend-$1.log" 2>&1 &
		PIDS+=($!)
		wait_port "$2"
	fi
}

# a port free a moment ago may be taken by the time a backend binds it:
# try up to three ports per backend
start_on_free_port() { # start_on_free_port NAME VAR
	local p try
	for try in 1 2 3; do
		p=$(free_port)
		case " ${USED:-} " in *" $p "*) continue ;; esac
		if backend "$1" "$p"; then USED="${USED:-} $p"; printf -v "$2" %s "$p"; return 0; fi
		echo "# $1 did not start on port $p (try $try):"; tail -n 3 "$T/backend-$1.log" 2>/dev/null
	done
	return 1
}
start_on_free_port backend-a PA || { echo "not ok 1 - backend a did not start"; exit 1; }
start_on_free_port backend-b PB || { echo "not ok 1 - backend b did not start"; exit 1; }
PT=$(free_port)
while [ "$PT" = "$PA" ] || [ "$PT" = "$PB" ]; do PT=$(free_port); done

if [ "$mock" = 1 ]; then
	PC=$(free_port)
	node "$here/mock-admin.mjs" --listen "127.0.0.1:$PC" --traffic-port "$PT" \
		>"$T/admin.out" 2>"$T/admin.log" &
	PIDS+=($!)
	wait_port "$PC" || { echo "not ok 1 - mock-admin did not start"; cat "$T/admin.log"; exit 1; }
	ADMIN_URL="http://127.0.0.1:$PC"
	ADMIN_PASSWORD=$(sed -n 's/^admin password: //p' "$T/admin.out" | head -1)
	shot_default=/tmp/tandem-console.png
else
	printf '{"version": 1, "listeners": [], "pools": [], "routes": []}\n' >"$T/initial.json"
	admin_init "$T/initial.json" || { echo "not ok 1 - tandem-admin --import failed"; cat "$T/admin-init.log"; exit 1; }
	# a read-only account with admin's password (users other than the first
	# admin are added in the database: doc/admin.md)
	sqlite3 "$T/state/tandem.db" "INSERT INTO users (username, hash, role, created)
		SELECT 'viewer', hash, 'viewer', created FROM users WHERE username = 'admin'" &&
		export VIEWER_USER=viewer
	start_tandemd "$T/tandem.json" || { echo "not ok 1 - tandemd did not start"; exit 1; }
	start_admin || { echo "not ok 1 - tandem-admin did not start"; exit 1; }
	shot_default="$B/tests/browser/dashboard.png"
fi

export CONSOLE_URL="$ADMIN_URL/"
export ADMIN_PASSWORD
export TRAFFIC_URL="http://127.0.0.1:$PT/"
export BACKEND_A="127.0.0.1:$PA" BACKEND_B="127.0.0.1:$PB"
export BACKEND_A_NAME=backend-a BACKEND_B_NAME=backend-b
export SCREENSHOT="${SCREENSHOT:-$shot_default}"
echo "# console $CONSOLE_URL, traffic $TRAFFIC_URL, backends $BACKEND_A $BACKEND_B"

node "$here/console.test.mjs"
rc=$?
if [ "$mock" = 0 ]; then
	# the Pairing page and the BACKUP's banner: two consoles of their own
	bash "$here/pair-stack.sh" || rc=1
fi
cleanup
check_sanitizer_logs
if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
	for f in "$T"/*.log "$T"/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	echo "# state kept in $T"
	exit 1
fi
rm -rf "$T"
exit 0
