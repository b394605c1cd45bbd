#!/usr/bin/env bash
# 35-binary-upgrade.sh - a binary upgrade loses nothing (doc/tandemd.md
# "Binary upgrade"). tandemd runs from a copy of the binary; while wrk keeps
# keep-alive connections busy and a curl loop opens a new connection per
# request, the copy is replaced (as a package upgrade does) and
# `tandemctl upgrade` run, three times. Checked: every request answered
# 200, no socket error, a 4 s request in flight on the old process
# completes, each old process exits once drained, the new one serves from
# the new file. Then a broken new binary: the upgrade fails, the old one
# keeps serving.
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || skip "wrk is not installed"

PA=$(free_port); PL=$(free_port)
start_backend a "$PA"
write_config "$T/c.json" 1 "$PL" "$PA"
mkdir -p "$T/bin"
cp "$B/daemon/tandemd" "$T/bin/tandemd"
# started like start_tandemd, from the copy
"$T/bin/tandemd" -c "$T/c.json" -s "$T/tandemd.sock" -w 2 >"$T/tandemd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/tandemd.sock" ] && break; sleep 0.05; done
wait_port "$PL" || finish
pid_now() { ctl status --json | jq .pid; }

wrk -t1 -c4 -d12s "http://127.0.0.1:$PL/" >"$T/wrk.out" 2>&1 &
WRK=$!
# a new connection per request; every status but 200 is a failure
( end=$((SECONDS + 11)); while [ $SECONDS -lt $end ]; do
	curl -s -o /dev/null --max-time 10 -w '%{http_code}\n' "http://127.0.0.1:$PL/"
  done >"$T/curl.codes" ) &
CURL=$!
sleep 1
curl -s -o "$T/slow.body" --max-time 20 -w '%{http_code}' "http://127.0.0.1:$PL/sleep?n=4000" >"$T/slow.code" &
SLOW=$!
sleep 0.5

OLD=()
for i in 1 2 3; do
	old=$(pid_now)
	OLD+=("$old")
	# a new file at the same path, like dpkg's unpack (the running
	# process keeps its deleted inode)
	cp "$B/daemon/tandemd" "$T/bin/tandemd.new" && mv "$T/bin/tandemd.new" "$T/bin/tandemd"
	ok "upgrade $i: tandemctl upgrade succeeds" -- ctl upgrade 30
	new=$(pid_now)
	ok "upgrade $i: a new process serves the control socket ($old -> $new)" -- test "$new" != "$old" -a -n "$new"
	ok "upgrade $i: it runs the new file" -- bash -c "readlink /proc/$new/exe | grep -qv deleted"
	sleep 2
done
wait "$SLOW"
eq "the 4 s request in flight on the first old process completed" 200 "$(cat "$T/slow.code")"
wait "$WRK"; wait "$CURL"
cat "$T/wrk.out"
reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
ok "keep-alive load ran (over 1000 requests)" -- test "${reqs:-0}" -gt 1000
ok "keep-alive: no socket errors (no reset, no refused connection)" -- bash -c "! grep -q 'Socket errors' '$T/wrk.out'"
ok "keep-alive: no non-2xx responses" -- bash -c "! grep -q 'Non-2xx' '$T/wrk.out'"
n=$(wc -l <"$T/curl.codes")
ok "new connections: $n requests made" -- test "$n" -gt 20
eq "new connections: every one answered 200" "" "$(grep -v '^200$' "$T/curl.codes" | sort | uniq -c)"
for p in "${OLD[@]}"; do
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	ok "old process $p exited after draining" -- bash -c "! kill -0 $p 2>/dev/null"
done
ok "the old processes logged their drain" -- test "$(grep -c 'drained; the old tandemd exits' "$T/tandemd.log")" -ge 3
ok "each new one took over the listener's sockets" -- test "$(grep -c 'taken over from the old tandemd (2 sockets)' "$T/tandemd.log")" -ge 3
eq "still serving after the upgrades" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/")"

# A new binary that cannot start: the upgrade fails, nothing changes.
cur=$(pid_now)
printf '#!/bin/sh\nexit 3\n' >"$T/bin/tandemd.new" && chmod 755 "$T/bin/tandemd.new" &&
	mv "$T/bin/tandemd.new" "$T/bin/tandemd"
ctl upgrade >"$T/bad.out" 2>&1
eq "a failing new binary: tandemctl upgrade exits 1" 1 $?
ok "and says why" -- grep -q 'upgrade failed: the new tandemd exited before taking over' "$T/bad.out"
eq "the same process serves" "$cur" "$(pid_now)"
eq "and answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PL/")"
cp "$B/daemon/tandemd" "$T/bin/tandemd.new" && mv "$T/bin/tandemd.new" "$T/bin/tandemd"
ok "after a failure the next upgrade works" -- ctl upgrade
# stop whatever serves now and the one that drains, if still there
PIDS+=("$cur" "$(pid_now)")
finish
