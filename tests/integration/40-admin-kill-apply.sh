#!/usr/bin/env bash
# SIGKILL of tandem-admin in the middle of applies never corrupts the
# database: integrity_check passes and every revision is whole (its content
# parses and validates), never half of one.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"

PA=$(free_port); PL=$(free_port)
start_backend a "$PA"
write_config "$T/seed.json" 0 "$PL" "$PA"
admin_init "$T/seed.json" || finish
start_tandemd "$T/tandem.json" || finish

for round in 1 2 3 4 5; do
	start_admin || finish
	login || { echo "login failed"; finish; }
	# Keep applying in the background, kill -9 the admin at a random moment.
	( for i in $(seq 40); do
		api PUT /pools/app/members/127.0.0.1:$PA "{\"address\":\"127.0.0.1\",\"port\":$PA,\"weight\":$(( (i % 200) + 1 ))}"
		api POST /apply "{\"comment\":\"round $round apply $i\"}"
	  done ) >/dev/null 2>&1 &
	LOOP=$!
	sleep "0.$(( RANDOM % 9 + 1 ))"
	kill -KILL "$ADMIN_PID"
	wait "$ADMIN_PID" 2>/dev/null
	kill "$LOOP" 2>/dev/null; wait "$LOOP" 2>/dev/null
	eq "round $round: integrity_check ok" ok "$(sqlite3 "$T/state/tandem.db" 'PRAGMA integrity_check;')"
done
n=$(sqlite3 "$T/state/tandem.db" 'SELECT count(*) FROM revisions;')
ok "applies happened before the kills ($n revisions)" -- test "$n" -gt 2
bad=0
for r in $(sqlite3 "$T/state/tandem.db" 'SELECT number FROM revisions;'); do
	sqlite3 "$T/state/tandem.db" "SELECT content FROM revisions WHERE number = $r;" >"$T/rev.json"
	"$B/daemon/tandemd" --check "$T/rev.json" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "every stored revision is a whole, valid config" 0 "$bad"
# The admin comes back and serves after the kills.
start_admin || finish
ok "login after the kills" -- login
api GET /revisions; eq "revisions readable after the kills" 200 "$STATUS"
finish
