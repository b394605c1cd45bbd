#!/usr/bin/env bash
# The access log to syslog: a unix datagram socket the test listens on
# stands for /dev/log. One RFC 3164 datagram per request with the facility
# and tag of the config and the JSON line as message; sampling; a restarted
# syslog daemon (new socket) is reconnected to; bad settings are refused.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PL=$(free_port); PS=$(free_port)
start_backend a "$PA"
# sink.py SOCKET OUT: receives datagrams on SOCKET, one per line in OUT
cat >"$T/sink.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a") as f:
    while True:
        d = s.recv(65536)
        f.write(d.decode("utf-8", "replace").replace("\n", "\\n") + "\n")
        f.flush()
PY
start_sink() {
	python3 "$T/sink.py" "$T/log.sock" "$T/syslog.txt" &
	SINK=$!
	PIDS+=($SINK)
	for _ in $(seq 100); do [ -S "$T/log.sock" ] && return 0; sleep 0.05; done
	return 1
}
start_sink
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "access_log":{"syslog":"$T/log.sock","facility":"local3","tag":"edge"}},
              {"name":"sampled","address":"127.0.0.1","port":$PS,
               "access_log":{"syslog":"$T/log.sock","tag":"sampled","sample_percent":25}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"main","listener":"web","pool":"a"},{"name":"s","listener":"sampled","pool":"a"}]}
JSON
start_tandemd "$T/c.json" || finish
wait_port "$PL"
for i in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:$PL/bytes?n=$i"; done
for i in $(seq 400); do printf 'url = "http://127.0.0.1:%s/"\noutput = "/dev/null"\n' "$PS"; done >"$T/urls"
curl -s -K "$T/urls"
sleep 0.5
edge=$(grep -c ' edge\[' "$T/syslog.txt")
eq "one datagram per request" 10 "$edge"
line=$(grep -m1 ' edge\[' "$T/syslog.txt")
ok "RFC 3164 framing: <local3.info>Mmm dd hh:mm:ss edge[pid]: ($line)" -- \
	grep -qE "^<158>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} edge\[$TANDEMD_PID\]: \{" <<<"$line"
ok "every message is a JSON access log line (one per path sent)" -- bash -c \
	"grep ' edge\[' '$T/syslog.txt' | sed 's/^[^{]*//' | jq -se '[.[] | select(.listener == \"web\" and .status == 200) | .path] | unique | length == 10'"
n=$(grep -c '^<134>.* sampled\[' "$T/syslog.txt")
ok "sample_percent 25 over 400 requests (local0 by default) sends 100±40 ($n)" -- test "$n" -ge 60 -a "$n" -le 140

# the syslog daemon restarts: a new socket at the same path
kill "$SINK"; wait "$SINK" 2>/dev/null; rm -f "$T/log.sock"
start_sink
for i in $(seq 5); do curl -s -o /dev/null "http://127.0.0.1:$PL/after"; done
sleep 0.5
eq "after a syslog restart the lines arrive again" 5 "$(grep -c 'edge\[.*"/after"' "$T/syslog.txt")"

for bad in '"path":"/tmp/x.log","syslog":"/dev/log"' '"syslog":"/dev/log","facility":"local9"' \
	   '"syslog":"dev/log"' '"syslog":"/dev/log","tag":"a b"' '"path":"/tmp/x.log","tag":"x"'; do
	sed "s|\"access_log\":{\"syslog\":\"$T/log.sock\",\"facility\":\"local3\",\"tag\":\"edge\"}|\"access_log\":{$bad}|" \
		"$T/c.json" >"$T/bad.json"
	ok "--check refuses access_log {$bad}" -- bash -c \
		"! '$B/daemon/tandemd' --check '$T/bad.json' >'$T/check.out' 2>&1 && grep -q 'listeners\[0\].access_log' '$T/check.out'"
done
finish
