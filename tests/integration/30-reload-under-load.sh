#!/usr/bin/env bash
# Reloads while a load runs lose no request: wrk keeps four keep-alive
# connections busy while the config is reloaded 100 times (pool membership
# changes; every worker adopts each generation between requests).
. "$(dirname "$0")/lib.sh"
command -v wrk >/dev/null || skip "wrk is not installed"

PA=$(free_port); PB=$(free_port); PL=$(free_port)
start_backend a "$PA"; start_backend b "$PB"
write_config "$T/c.json" 1 "$PL" "$PA" "$PB"
start_tandemd "$T/c.json" || finish
wait_port "$PL"

wrk -t1 -c4 -d14s "http://127.0.0.1:$PL/" >"$T/wrk.out" 2>&1 &
WRK=$!
sleep 0.5
fails=0
for i in $(seq 2 101); do
	if [ $((i % 2)) = 0 ]; then write_config "$T/c.json" "$i" "$PL" "$PA"; else write_config "$T/c.json" "$i" "$PL" "$PA" "$PB"; fi
	"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null || fails=$((fails + 1))
	sleep 0.05
done
wait "$WRK"
cat "$T/wrk.out"
eq "every reload applied" 0 "$fails"
eq "generation advanced by 100" 101 "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .generation)"
reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
ok "the load ran (over 1000 requests)" -- test "${reqs:-0}" -gt 1000
ok "no socket errors" -- bash -c "! grep -q 'Socket errors' '$T/wrk.out'"
ok "no non-2xx responses" -- bash -c "! grep -q 'Non-2xx' '$T/wrk.out'"
finish
