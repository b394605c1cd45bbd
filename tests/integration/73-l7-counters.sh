#!/usr/bin/env bash
# Counters per listener, route, pool and member: real traffic through two
# routes, then the Prometheus text (served on the metrics address of the
# config file) and tandemctl counters must show the exact counts, the
# access log's byte totals, consistent latency histograms and the open
# connections and requests in flight; counters survive a reload, and a
# reload moves the metrics address. The config's "workers" sets the thread
# count at start.
. "$(dirname "$0")/lib.sh"

PA=$(free_port); PB=$(free_port); PL=$(free_port); PM=$(free_port); PM2=$(free_port)
start_backend a "$PA"
start_backend b "$PB"
conf() { # conf REVISION METRICS-PORT WORKERS [DRAIN-PB-MEMBER]
	cat <<JSON
{"version":1,"revision":$1,"metrics":{"address":"127.0.0.1:$2"},"workers":$3,
 "listeners":[{"name":"web","address":"127.0.0.1","port":$PL,"access_log":{"path":"$T/access.log"}}],
 "pools":[{"name":"pa","members":[{"address":"127.0.0.1","port":$PA}]},
          {"name":"pb","members":[{"address":"127.0.0.1","port":$PB,"drain":${4:-false}}]}],
 "routes":[{"name":"ra","listener":"web","path_prefix":"/a/","pool":"pa","rewrite_prefix":"/"},
           {"name":"rb","listener":"web","path_prefix":"/b/","pool":"pb","rewrite_prefix":"/"},
           {"name":"fixed","listener":"web","path_prefix":"/f","action":"respond","respond":{"body":"hi"}}]}
JSON
}
conf 1 "$PM" 2 >"$T/c.json"
start_tandemd "$T/c.json" || finish
wait_port "$PL"
wait_port "$PM"
eq "the config's workers: 2 threads" 2 "$("$B/daemon/tandemctl" -s "$T/tandemd.sock" status --json | jq .workers)"
U="http://127.0.0.1:$PL"
for i in $(seq 7); do curl -s -o /dev/null "$U/a/bytes?n=100"; done
for i in $(seq 3); do curl -s -o /dev/null "$U/a/status/503"; done
for i in $(seq 5); do curl -s -o /dev/null "$U/b/sleep?n=30"; done
for i in $(seq 2); do curl -s -o /dev/null "$U/f"; done
curl -s -o /dev/null "$U/nowhere"
sleep 0.5	# the access log is written by its own thread

scrape() { curl -s --max-time 5 "http://127.0.0.1:${1:-$PM}/metrics"; }
# val METRIC-WITH-LABELS: the sample's value in the last scrape
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/m.txt"; }
scrape >"$T/m.txt"
eq "listener requests (every request, routed or not)" 18 "$(val 'tandem_listener_requests_total{listener="web"}')"
eq "route ra requests" 10 "$(val 'tandem_route_requests_total{route="ra"}')"
eq "route rb requests" 5 "$(val 'tandem_route_requests_total{route="rb"}')"
eq "route fixed requests" 2 "$(val 'tandem_route_requests_total{route="fixed"}')"
eq "route ra 2xx" 7 "$(val 'tandem_route_responses_total{route="ra",class="2xx"}')"
eq "route ra 5xx" 3 "$(val 'tandem_route_responses_total{route="ra",class="5xx"}')"
eq "listener 4xx (the unrouted 404)" 1 "$(val 'tandem_listener_responses_total{listener="web",class="4xx"}')"
eq "pool pa requests" 10 "$(val 'tandem_pool_requests_total{pool="pa"}')"
eq "pool pb 2xx" 5 "$(val 'tandem_pool_responses_total{pool="pb",class="2xx"}')"
eq "member of pa answered 3 5xx" 3 "$(val "tandem_member_responses_total{pool=\"pa\",member=\"pa/127.0.0.1:$PA\",class=\"5xx\"}")"
# bytes: the access log writes the same figures per request
for r in ra rb; do
	bin=$(jq -s "[.[] | select(.route == \"$r\") | .bytes_in] | add" "$T/access.log")
	bout=$(jq -s "[.[] | select(.route == \"$r\") | .bytes_out] | add" "$T/access.log")
	eq "route $r bytes in = access log's sum" "$bin" "$(val "tandem_route_bytes_in_total{route=\"$r\"}")"
	eq "route $r bytes out = access log's sum" "$bout" "$(val "tandem_route_bytes_out_total{route=\"$r\"}")"
done
lbout=$(jq -s '[.[] | .bytes_out] | add' "$T/access.log")
eq "listener bytes out = access log's sum" "$lbout" "$(val 'tandem_listener_bytes_out_total{listener="web"}')"
# histograms: cumulative buckets, +Inf = _count = answered requests
eq "route rb: +Inf bucket" 5 "$(val 'tandem_route_request_duration_seconds_bucket{route="rb",le="+Inf"}')"
eq "route rb: count" 5 "$(val 'tandem_route_request_duration_seconds_count{route="rb"}')"
eq "route rb: nothing under 25 ms (the member sleeps 30 ms)" 0 "$(val 'tandem_route_request_duration_seconds_bucket{route="rb",le="0.025"}')"
ok "route rb: sum of latencies >= 0.15 s" -- awk -v s="$(val 'tandem_route_request_duration_seconds_sum{route="rb"}')" 'BEGIN { exit !(s >= 0.15) }'
eq "route ra: count" 10 "$(val 'tandem_route_request_duration_seconds_count{route="ra"}')"
eq "listener: count (every answered request)" 18 "$(val 'tandem_listener_request_duration_seconds_count{listener="web"}')"
ok "every histogram's buckets only grow" -- awk '
	/_request_duration_seconds_bucket\{/ { k = $1; sub(/,?le="[^"]*"\}/, "}", k)
		if (k == pk && $2 + 0 < pv + 0) bad = 1; pk = k; pv = $2 }
	END { exit bad }' "$T/m.txt"
ok "the text is well-formed (every sample after its # TYPE)" -- awk '
	/^# TYPE / { t[$3] = 1; next } /^#/ { next }
	{ n = $1; sub(/\{.*/, "", n); b = n; sub(/_(bucket|sum|count)$/, "", b)
	  if (!(n in t) && !(b in t)) { print "untyped: " n; bad = 1 } }
	END { exit bad }' "$T/m.txt"

# open connections and requests in flight
curl -s -o /dev/null "$U/b/sleep?n=4000" &
SLOW=$!
inflight=0
for i in $(seq 60); do
	scrape >"$T/m.txt"
	inflight=$(val 'tandem_route_requests_active{route="rb"}')
	[ "$inflight" = 1 ] && break
	sleep 0.05
done
eq "route rb: one request in flight" 1 "$inflight"
eq "pool pb: one request in flight" 1 "$(val 'tandem_pool_requests_active{pool="pb"}')"
eq "listener: one open connection" 1 "$(val 'tandem_listener_connections_active{listener="web"}')"
wait "$SLOW"
sleep 0.2
scrape >"$T/m.txt"
eq "after it: none in flight" 0 "$(val 'tandem_route_requests_active{route="rb"}')"
eq "after it: no open connection" 0 "$(val 'tandem_listener_connections_active{listener="web"}')"

"$B/daemon/tandemctl" -s "$T/tandemd.sock" counters >"$T/counters.json"
eq "tandemctl counters: route ra requests" 10 "$(jq .routes.ra.requests "$T/counters.json")"
eq "tandemctl counters: route ra 5xx" 3 "$(jq '.routes.ra.responses["5xx"]' "$T/counters.json")"
eq "tandemctl counters: histogram total = requests answered" 6 "$(jq '[.routes.rb.latency.buckets[].count] | add' "$T/counters.json")"
eq "tandemctl counters: member" 10 "$(jq ".members[\"pa/127.0.0.1:$PA\"].requests" "$T/counters.json")"

# a reload keeps the counters and moves the metrics address
conf 2 "$PM2" 1 >"$T/c.json"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null
wait_port "$PM2"
scrape "$PM2" >"$T/m.txt"
eq "after a reload: the counters carry on" 10 "$(val 'tandem_route_requests_total{route="ra"}')"
ok "the old metrics address is closed" -- bash -c "! curl -s --max-time 2 http://127.0.0.1:$PM/ >/dev/null"
ok "a reload that changes workers says a restart applies it" -- grep -q "workers: the config asks for 1, 2 run" "$T/tandemd.log"

# drain: a reload drains pb's only member while a request runs on it; that
# request finishes, new ones get 503 (no member takes them)
curl -s -o /dev/null -w '%{http_code}' "$U/b/sleep?n=1500" >"$T/drain.code" &
D=$!
for i in $(seq 60); do
	scrape "$PM2" >"$T/m.txt"
	[ "$(val 'tandem_route_requests_active{route="rb"}')" = 1 ] && break
	sleep 0.05
done
conf 3 "$PM2" 1 true >"$T/c.json"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null
eq "drained: a new request gets 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$U/b/")"
wait "$D"
eq "drained: the request in flight finished with 200" 200 "$(cat "$T/drain.code")"
# many objects: 2000 more routes still scrape whole (the text outgrows 1 MiB)
jq '.revision = 5 | .routes += [range(2000) | {name: "many\(.)", listener: "web", path_prefix: "/many/\(.)/", action: "respond"}]' \
	"$T/c.json" >"$T/many.json" && cp "$T/many.json" "$T/c.json"
"$B/daemon/tandemctl" -s "$T/tandemd.sock" reload >/dev/null
scrape "$PM2" >"$T/m.txt"
eq "2003 routes in the Prometheus text ($(wc -c <"$T/m.txt") bytes)" 2003 "$(grep -c '^tandem_route_requests_total{' "$T/m.txt")"
# a metrics address that is not loopback is refused by --check
conf 4 "$PM" 2 | sed 's/"127.0.0.1:[0-9]*"/"0.0.0.0:9145"/' >"$T/bad.json"
ok "--check refuses a non-loopback metrics address" -- bash -c \
	"'$B/daemon/tandemd' --check '$T/bad.json' 2>&1 | grep -q 'metrics.address.*loopback'"
conf 4 "$PM" 300 >"$T/bad.json"
ok "--check refuses 300 workers" -- bash -c "'$B/daemon/tandemd' --check '$T/bad.json' 2>&1 | grep -q 'workers'"
finish
