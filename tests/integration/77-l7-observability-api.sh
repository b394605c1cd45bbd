#!/usr/bin/env bash
# The new L7 fields through the REST API: a listener's access_log to
# syslog with sampling and accept_proxy with its trusted list, and the
# metrics address (PUT /settings). Validated like tandemd (422 naming the
# field), rendered into the config, applied, served; import round-trips.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

PA=$(free_port); PL=$(free_port); PM=$(free_port)
start_backend a "$PA"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(65536).decode() + "\n"); f.flush()' "$T/log.sock" "$T/syslog.txt" &
PIDS+=($!)
start_stack "" || finish

api POST /listeners "{\"name\":\"web\",\"address\":\"127.0.0.1\",\"port\":$PL,\"accept_proxy\":{\"trusted\":[\"127.0.0.1\"]},\"access_log\":{\"syslog\":\"$T/log.sock\",\"tag\":\"api\",\"sample_percent\":100}}"
eq "listener with accept_proxy and a syslog access log: 201" 201 "$STATUS"
eq "accept_proxy read back" '["127.0.0.1"]' "$(jq -c .accept_proxy.trusted <<<"$BODY")"
eq "access_log read back" api "$(jq -r .access_log.tag <<<"$BODY")"
api PUT /listeners/web '{"accept_proxy":{"trusted":["nope"]}}'
eq "bad trusted entry: 422" 422 "$STATUS"
eq "... on the field" "listeners/web/accept_proxy.trusted[0]" "$(jq -r .error.field <<<"$BODY")"
api PUT /listeners/web '{"access_log":{"syslog":"/dev/log","facility":"local9"}}'
eq "bad facility: 422 on the field" "listeners/web/access_log.facility" "$(jq -r .error.field <<<"$BODY")"
api POST /pools "{\"name\":\"app\",\"members\":[{\"address\":\"127.0.0.1\",\"port\":$PA}]}"
api POST /routes '{"name":"main","listener":"web","pool":"app"}'
eq "route: 201" 201 "$STATUS"

api GET /settings
eq "settings: metrics unset" null "$(jq -c .metrics <<<"$BODY")"
api PUT /settings '{"metrics":{"address":"0.0.0.0:9145"}}'
eq "a non-loopback metrics address: 422" 422 "$STATUS"
eq "... on settings/metrics.address" "settings/metrics.address" "$(jq -r .error.field <<<"$BODY")"
api PUT /settings '{"tuning":1}'
eq "an unknown setting: 422" 422 "$STATUS"
api PUT /settings '{"workers":0}'
eq "workers 0: 422 on settings/workers" "settings/workers" "$(jq -r .error.field <<<"$BODY")"
api PUT /settings "{\"metrics\":{\"address\":\"127.0.0.1:$PM\"},\"workers\":3}"
eq "metrics address and workers: 200" 200 "$STATUS"
eq "workers read back" 3 "$(jq .workers <<<"$BODY")"
eq "read back" "127.0.0.1:$PM" "$(jq -r .metrics.address <<<"$BODY")"
api POST /apply '{"comment":"observability"}'
eq "apply: applied" applied "$(jq -r .status <<<"$BODY")"
eq "the config file has the metrics address" "127.0.0.1:$PM" "$(jq -r .metrics.address "$T/tandem.json")"
eq "... and the workers" 3 "$(jq .workers "$T/tandem.json")"
eq "... and the listener's fields" '["127.0.0.1"]' "$(jq -c '.listeners[0].accept_proxy.trusted' "$T/tandem.json")"
wait_port "$PL"
out=$(printf 'PROXY TCP4 192.0.2.44 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
	curl -s --max-time 5 telnet://127.0.0.1:$PL 2>/dev/null)
ok "applied: the PROXY header is accepted" -- grep -q "^backend a" <<<"$out"
wait_port "$PM"
sleep 0.5
ok "applied: the access log went to syslog with the PROXY client" -- grep -q 'api\[.*"client":"192.0.2.44"' "$T/syslog.txt"
ok "applied: metrics served on the address" -- bash -c \
	"curl -s --max-time 5 http://127.0.0.1:$PM/ | grep -q '^tandem_route_requests_total{route=\"main\"} 1$'"
api PUT /settings '{"metrics":null}'
eq "metrics removed: null" null "$(jq -c .metrics <<<"$BODY")"
eq "... workers kept" 3 "$(jq .workers <<<"$BODY")"
api POST /apply '{"comment":"no metrics"}'
eq "apply: applied" applied "$(jq -r .status <<<"$BODY")"
ok "metrics no longer served" -- bash -c "! curl -s --max-time 2 http://127.0.0.1:$PM/ >/dev/null"
finish
