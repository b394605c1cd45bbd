#!/usr/bin/env bash
# tandemd --check, tandemctl check/status/reload/stats, the control socket's
# mode, and a refused reload that leaves the old snapshot serving.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PL=$(free_port); PL2=$(free_port)
start_backend a "$PA"
write_config "$T/c.json" 4 "$PL" "$PA"
echo '{"version":1,"listeners":[{"name":"x","address":"nowhere","port":0}],"bogus":1}' >"$T/bad.json"

ok "tandemd --check accepts a valid file" -- "$B/daemon/tandemd" --check "$T/c.json"
"$B/daemon/tandemd" --check "$T/bad.json" >"$T/check.out" 2>&1; rc=$?
eq "tandemd --check exits 1 on errors" 1 "$rc"
ok "--check names every error by JSON path" -- bash -c "grep -q '\$.listeners\[0\].address' '$T/check.out' && grep -q '\$.listeners\[0\].port' '$T/check.out' && grep -q '\$.bogus: unknown field' '$T/check.out'"
"$B/daemon/tandemctl" check "$T/bad.json" >/dev/null 2>&1; eq "tandemctl check exits 1 on errors" 1 $?

start_tandemd "$T/c.json" || finish
wait_port "$PL"
eq "control socket mode is 0660" 660 "$(stat -c %a "$T/tandemd.sock")"
st=$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json)
eq "status --json reports the revision" 4 "$(jq .revision <<<"$st")"
eq "status --json reports generation 1" 1 "$(jq .generation <<<"$st")"
ok "human status lists the listener" -- bash -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' status | grep -q '127.0.0.1:$PL'"

cp "$T/bad.json" "$T/c.json"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >"$T/reload.out" 2>&1; rc=$?
eq "a bad reload is refused (exit 1)" 1 "$rc"
ok "the refusal carries the errors" -- grep -q 'listeners\[0\].address' "$T/reload.out"
eq "the old config keeps serving" "backend a" "$(curl -s --max-time 5 "http://127.0.0.1:$PL/")"
eq "generation unchanged after the refusal" 1 "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .generation)"

# A listener port already taken is refused whole too (bind fails at prepare).
write_config "$T/c.json" 5 "$PA" "$PA"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >"$T/reload2.out" 2>&1; rc=$?
eq "a reload whose listener cannot bind is refused" 1 "$rc"
eq "still serving on the old port" "backend a" "$(curl -s --max-time 5 "http://127.0.0.1:$PL/")"

write_config "$T/c.json" 6 "$PL2" "$PA"
ok "a good reload is applied" -- "$B/daemon/tandemctl" -s "$T/tandemd.sock" reload
wait_port "$PL2"
eq "the new listener serves" "backend a" "$(curl -s --max-time 5 "http://127.0.0.1:$PL2/")"
eq "revision 6 is running" 6 "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .revision)"
ok "stats count the reloads" -- bash -c "'$B/daemon/tandemctl' -s '$T/tandemd.sock' stats | jq -e '.reloads_ok == 1 and .reloads_failed == 2' >/dev/null"
kill -HUP "$TANDEMD_PID"; sleep 0.3
eq "SIGHUP reloads too" 3 "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .generation)"
echo '{"cmd":"nope"}' | timeout 2 nc -U -q 1 "$T/tandemd.sock" >"$T/nope.out" 2>/dev/null
ok "unknown command answered with ok:false" -- jq -e '.ok == false' "$T/nope.out"
finish
