#!/usr/bin/env bash
# Slow-client resilience with Debian's slowhttptest: slowloris (request
# heads trickled in) and slow body (R-U-Dead-Yet) against one listener at
# the same time, while another client keeps asking: every one of its
# requests must get a 200 in time. The head timeout must have cut the
# slowloris connections (408s counted). Then the other timeouts that bound
# slow parties: client idle keep-alive, upstream connect (a member whose
# accept queue is full drops our SYNs), the member queue (full, timeout),
# upstream response and total.
. "$(dirname "$0")/lib.sh"
command -v slowhttptest >/dev/null || skip "slowhttptest is not installed (apt-get install slowhttptest)"

PA=$(free_port); PL=$(free_port); PM=$(free_port)
start_backend a "$PA"
cat >"$T/c.json" <<JSON
{"version":1,"revision":1,"metrics":{"address":"127.0.0.1:$PM"},
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "timeouts":{"client_header_ms":3000}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"web","pool":"a"}]}
JSON
start_tandemd "$T/c.json" -w 1 || finish	# one worker: the member queue below is per worker
wait_port "$PL"
U="http://127.0.0.1:$PL/"
LEN=14
slowhttptest -H -c 400 -r 200 -i 2 -l "$LEN" -u "$U" -p 3 >"$T/slowloris.out" 2>&1 &
SL=$!
slowhttptest -B -c 200 -r 100 -i 2 -s 65536 -l "$LEN" -u "$U" -p 3 >"$T/slowbody.out" 2>&1 &
SB=$!
PIDS+=($SL $SB)
sleep 2	# let both ramp up
total=0 good=0
end=$((SECONDS + LEN - 4))
while [ "$SECONDS" -lt "$end" ]; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$U")
	total=$((total + 1))
	[ "$code" = 200 ] && good=$((good + 1))
	sleep 0.1
done
wait "$SL" "$SB"
sed -i 's/\x1b\[[0-9;]*m//g' "$T/slowloris.out" "$T/slowbody.out"	# its colours
ok "the probe client asked at least 20 times ($total)" -- test "$total" -ge 20
eq "every probe request got a 200 within 3 s" "$total" "$good"
ok "slowloris connected, and its connections were closed by us" -- bash -c \
	"grep -qiE 'connected: *[1-9]' '$T/slowloris.out' && grep -qiE 'closed: *[1-9]' '$T/slowloris.out'"
ok "slow body held its connections open" -- grep -qiE 'connected: *[1-9][0-9]' "$T/slowbody.out"
ok "slowhttptest itself saw the service available" -- bash -c \
	"! grep -qi 'service available: *NO' '$T/slowloris.out' '$T/slowbody.out'"
curl -s "http://127.0.0.1:$PM/" >"$T/m.txt"
n408=$(awk '$1 == "tandem_listener_responses_total{listener=\"web\",class=\"4xx\"}" { print $2 }' "$T/m.txt")
ok "the head timeout answered slowloris connections (4xx: ${n408:-none})" -- test "${n408:-0}" -ge 100

# ---- timeouts ----
command -v python3 >/dev/null || finish
PF=$(free_port); PS=$(free_port); PR=$(free_port)
# a member that never accepts: its accept queue (backlog 0) is filled by two
# idle connections, after which the kernel drops new SYNs
cat >"$T/full.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(0)
hold = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", int(sys.argv[1])))
    except BlockingIOError: pass
    hold.append(c)
print("ready", flush=True)
time.sleep(600)
PY
python3 "$T/full.py" "$PF" >"$T/full.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$T/full.out" 2>/dev/null && break; sleep 0.1; done
ok "a member with a full accept queue: connecting to it hangs" -- bash -c \
	"! curl -s --max-time 1 --connect-timeout 1 http://127.0.0.1:$PF/ >/dev/null"
cat >"$T/c.json" <<JSON
{"version":1,"revision":2,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,
               "timeouts":{"client_idle_ms":1000,"upstream_connect_ms":300}},
              {"name":"resp","address":"127.0.0.1","port":$PR,"timeouts":{"upstream_response_ms":600}},
              {"name":"total","address":"127.0.0.1","port":$PS,"timeouts":{"total_ms":800}}],
 "pools":[{"name":"a","members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"q","max_connections_per_member":1,"queue":{"size":1,"timeout_ms":500},
           "members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"f","passive":{"connect_failures":1,"eject_ms":60000},
           "members":[{"address":"127.0.0.1","port":$PF},{"address":"127.0.0.1","port":$PA}]}],
 "routes":[{"name":"all","listener":"web","pool":"a"},
           {"name":"full","listener":"web","path_prefix":"/full","pool":"f","rewrite_prefix":"/"},
           {"name":"q","listener":"web","path_prefix":"/q/","pool":"q","rewrite_prefix":"/"},
           {"name":"r","listener":"resp","pool":"a"},
           {"name":"t","listener":"total","pool":"a"}]}
JSON
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null
wait_port "$PS"; wait_port "$PR"
# client idle: a kept-alive connection left alone is closed after ~1 s
cat >"$T/idle.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(10)
d = b""
while b"backend" not in d:
    d += s.recv(4096)
t = time.monotonic()
while s.recv(4096):
    pass
print("%.1f" % (time.monotonic() - t))
PY
idle=$(python3 "$T/idle.py" "$PL")
ok "client_idle_ms 1000: an idle kept-alive connection is closed after 0.8..5 s ($idle)" -- \
	awk -v t="$idle" 'BEGIN { exit !(t >= 0.8 && t < 5) }'
# upstream connect: the hanging member times out, the request goes on to the next
out=$(curl -s -o "$T/full.body" --max-time 10 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PL/full/")
ok "upstream_connect_ms 300: the request moves on to the next member ($out)" -- bash -c \
	'set -- $1; [ "$1" = 200 ] && grep -q "^backend a" "$3" && awk -v t="$2" "BEGIN { exit !(t >= 0.25 && t < 5) }"' _ "$out $T/full.body"
st=$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq -r ".pools[] | select(.name==\"f\") | .members[] | select(.port==$PF or (.id | endswith(\":$PF\"))) | .state + \": \" + .reason")
ok "... and the timed-out member is ejected, with the reason ($st)" -- grep -qi "^down: .*time" <<<"$st"
# upstream response: a member slower than 600 ms gives 504
out=$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PR/sleep?n=3000")
ok "upstream_response_ms 600: 504 ($out)" -- bash -c \
	'set -- $1; [ "$1" = 504 ] && awk -v t="$2" "BEGIN { exit !(t >= 0.5 && t < 2.9) }"' _ "$out"
# the member queue: one slot, busy for 2.5 s; one request may wait 500 ms
# and then gets 503; a third finds the queue full and gets 503 at once
curl -s -o /dev/null "http://127.0.0.1:$PL/q/sleep?n=2500" &
BUSY=$!
for _ in $(seq 50); do
	[ "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq '[.pools[] | select(.name=="q") | .members[].active] | add')" = 1 ] && break
	sleep 0.05
done
curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$PL/q/" >"$T/queued" &
QW=$!
sleep 0.2
out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "http://127.0.0.1:$PL/q/")
ok "queue full: 503 at once ($out)" -- bash -c 'set -- $1; [ "$1" = 503 ] && awk -v t="$2" "BEGIN { exit !(t < 0.45) }"' _ "$out"
wait "$QW"
ok "queue timeout 500 ms: 503 ($(cat "$T/queued"))" -- bash -c \
	'set -- $(cat "$1"); [ "$1" = 503 ] && awk -v t="$2" "BEGIN { exit !(t >= 0.45 && t < 2.4) }"' _ "$T/queued"
wait "$BUSY"
# total: 800 ms for the whole exchange
out=$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PS/sleep?n=3000")
ok "total_ms 800: 504 ($out)" -- bash -c \
	'set -- $1; [ "$1" = 504 ] && awk -v t="$2" "BEGIN { exit !(t >= 0.7 && t < 2.9) }"' _ "$out"
finish
