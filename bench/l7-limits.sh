#!/usr/bin/env bash
# bench/l7-limits.sh - what the rate rules cost the L7 proxy (issue 6 target:
# CPU per request with five active rate rules and a 100,000-entry deny list
# at most 1.1x the same benchmark without them). Never part of the test suite.
#
#   TANDEMD=build/daemon/tandemd bench/l7-limits.sh
#   DURATION=5 REPS=3 CONNS=50 bench/l7-limits.sh
#
# Same harness as bench/l7.sh, scenario (a) (HTTP/1.1 keep-alive small GETs,
# wrk -t1 -c$CONNS): an nginx origin and wrk on LOAD_CPU, tandemd -w 1 alone
# on PROXY_CPU. Two tandemd configs, runs interleaved A B B A ...:
#   plain   one listener, one route to the origin (bench/tandemd.json.in)
#   limits  the same plus a rate_rules section: 100,000 /32s in deny_cidrs
#           (the client is not in it, so the trie is walked to the end of
#           its prefix every request) and five rules that all match and count
#           every request without ever denying (per client IP, per path, per
#           Host, per User-Agent header + IP, per query parameter or anonymous)
# Reported per run: requests/s and tandemd's CPU time per request (utime +
# stime of the process over the run / requests). The ratio is of the medians.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRCDIR="$(cd "$HERE/.." && pwd)"
DURATION=${DURATION:-5}
REPS=${REPS:-3}
CONNS=${CONNS:-50}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
TANDEMD=${TANDEMD:-$SRCDIR/build-test/daemon/tandemd}
for c in wrk nginx taskset python3; do command -v $c >/dev/null || { echo "needs $c"; exit 77; }; done
[ -x "$TANDEMD" ] || { echo "no tandemd at $TANDEMD (set TANDEMD=)"; exit 77; }

WD=$(mktemp -d /tmp/tandem-l7lim.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WD"; }
trap cleanup EXIT
ORIGIN_PORT=$((21000 + RANDOM % 4000)); LPORT=$((ORIGIN_PORT + 1))

mkdir -p "$WD/origin/tmp"
cat >"$WD/origin/nginx.conf" <<EOF
worker_processes 1; daemon off; error_log stderr error;
events { worker_connections 4096; }
pid $WD/origin/nginx.pid;
http {
  access_log off; keepalive_timeout 65s; keepalive_requests 100000000;
  client_body_temp_path $WD/origin/tmp; proxy_temp_path $WD/origin/tmp;
  fastcgi_temp_path $WD/origin/tmp; uwsgi_temp_path $WD/origin/tmp; scgi_temp_path $WD/origin/tmp;
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; location / { return 200 "ok"; } }
}
EOF
taskset -c "$LOAD_CPU" nginx -p "$WD/origin/" -c "$WD/origin/nginx.conf" 2>"$WD/origin.log" &
PIDS+=($!)

sed -e "s/@LISTEN_HOST@/127.0.0.1/; s/@LISTEN_PORT@/$LPORT/; s/@ORIGIN_HOST@/127.0.0.1/; s/@ORIGIN_PORT@/$ORIGIN_PORT/" \
	"$HERE/tandemd.json.in" >"$WD/plain.json"
python3 - "$WD/plain.json" "$WD/limits.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
deny = ["10.%d.%d.%d/32" % (100 + i // 65536, (i // 256) % 256, i % 256) for i in range(100000)]
big = {"requests": 1000000000, "period_s": 10}
c["rate_rules"] = {"deny_cidrs": deny, "rules": [
    {"name": "per-ip", "key": [{"type": "client_ip"}], "limit": big},
    {"name": "per-path", "key": [{"type": "path"}], "limit": big},
    {"name": "per-host", "match": {"path_prefix": "/"}, "key": [{"type": "header", "name": "Host"}], "limit": big},
    {"name": "per-agent-ip", "key": [{"type": "header", "name": "User-Agent"}, {"type": "client_ip"}],
     "on_missing_key": "anonymous", "limit": big},
    {"name": "per-user", "key": [{"type": "query", "name": "u"}], "on_missing_key": "anonymous", "limit": big}]}
json.dump(c, open(sys.argv[2], "w"))
PY

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
run() { # run NAME -> "rps us_per_req"
	local conf="$WD/$1.json" pid t0 t1 out rps n
	taskset -c "$PROXY_CPU" "$TANDEMD" -c "$conf" -s "$WD/t.sock" -w 1 >"$WD/$1.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do ss -Htln "sport = :$LPORT" | grep -q . && break; sleep 0.05; done
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1 "http://127.0.0.1:$LPORT/" >/dev/null	# warm up
	t0=$(cpu_ticks "$pid")
	out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$LPORT/")
	t1=$(cpu_ticks "$pid")
	kill "$pid"; wait "$pid" 2>/dev/null || true
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	grep -q "Non-2xx" <<<"$out" && { echo "non-2xx answers in $1: the rules denied" >&2; exit 1; }
	echo "$rps $(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')"
}
for _ in $(seq 50); do ss -Htln "sport = :$ORIGIN_PORT" | grep -q . && break; sleep 0.05; done
echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "wrk -t1 -c$CONNS -d$DURATION keep-alive, tandemd -w 1 on CPU $PROXY_CPU, $REPS reps interleaved"
echo
echo "| run | config | req/s | tandemd CPU µs/req |"
echo "| ---: | --- | ---: | ---: |"
: >"$WD/res"
for r in $(seq "$REPS"); do
	order="plain limits"; [ $((r % 2)) -eq 0 ] && order="limits plain"
	for c in $order; do
		read -r rps us <<<"$(run "$c")"
		echo "| $r | $c | $rps | $us |"
		echo "$c $rps $us" >>"$WD/res"
	done
done
med() { grep "^$1 " "$WD/res" | awk '{print $'"$2"'}' | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "| config | median req/s | median µs/req |"
echo "| --- | ---: | ---: |"
for c in plain limits; do echo "| $c | $(med $c 2) | $(med $c 3) |"; done
awk -v a="$(med plain 3)" -v b="$(med limits 3)" 'BEGIN{printf "\nCPU per request, limits / plain: %.3fx (target <= 1.1x)\n", b / a}'
