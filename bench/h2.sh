#!/usr/bin/env bash
# bench/h2.sh - HTTP/2 through tandemd, HAProxy and nginx in the same run
# (issue 4): h2load -c $CONNS -m $H2_STREAMS small GETs, over TLS (ALPN h2)
# and cleartext prior knowledge (h2c), each proxy with one worker pinned to
# PROXY_CPU, forwarding HTTP/1.1 with upstream keep-alive to one nginx origin
# ("ok", 2 bytes) on LOAD_CPU beside h2load. Columns are interleaved per
# repetition (A B C, C B A, ...). Reports req/s and the proxy's CPU time per
# request (utime+stime of its process tree / requests), and the ratios to
# HAProxy. Scenario h2c-up (not in the default set) is h2c downstream and
# HTTP/2 upstream (HAProxy "proto h2", tandemd "upstream_protocol": "h2c")
# to an nginx h2c origin; nginx cannot proxy to HTTP/2 and sits it out.
# Never part of the test suite.
#
#   bench/h2.sh                      # REPS=3 DURATION=8: ~3 min
#   REPS=1 DURATION=4 bench/h2.sh    # quick look
#
# Knobs: REPS, DURATION (s), CONNS (50), H2_STREAMS (10), SCENARIOS
# ("h2-tls h2c"; also h2c-up), COLUMNS ("haproxy nginx tandemd"; add "tandemd-base" for a
# before/after in one run), TANDEMD (binary; unset = build the worktree in
# bench/build), TANDEMD_BASE (binary of column tandemd-base, e.g. a copy of
# main's build: same config, own ports), PROXY_CPU (1), LOAD_CPU (0), PIN (1),
# PORT_OFFSET (0), RESULTS_DIR (bench/results/h2-<timestamp>).
# Needs (Debian): haproxy nginx nghttp2-client openssl curl util-linux.
set -euo pipefail

REPS=${REPS:-3}
DURATION=${DURATION:-8}
CONNS=${CONNS:-50}
H2_STREAMS=${H2_STREAMS:-10}
SCENARIOS=${SCENARIOS:-"h2-tls h2c"}
COLUMNS=${COLUMNS:-"haproxy nginx tandemd"}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
PIN=${PIN:-1}
PORT_OFFSET=${PORT_OFFSET:-0}
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS_DIR=${RESULTS_DIR:-$SRCDIR/bench/results/h2-$(date -u +%Y%m%dT%H%M%SZ)}
TANDEMD=${TANDEMD:-}
TANDEMD_BASE=${TANDEMD_BASE:-}

log() { printf '%s h2.sh: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for c in haproxy nginx h2load openssl curl taskset; do
	command -v "$c" >/dev/null || die "$c is missing (apt-get install haproxy nginx nghttp2-client openssl curl util-linux)"
done

[[ " $COLUMNS " != *" tandemd-base "* || -x $TANDEMD_BASE ]] || die "column tandemd-base needs TANDEMD_BASE=/path/to/tandemd"
if [[ -z $TANDEMD && " $COLUMNS " == *" tandemd "* ]]; then
	B=$SRCDIR/bench/build
	if [[ ! -x $SRCDIR/configure || $SRCDIR/configure.ac -nt $SRCDIR/configure ]]; then
		(cd "$SRCDIR" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed"
	fi
	if [[ ! -f $B/Makefile || $B/config.status -ot $SRCDIR/configure ]]; then
		mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q) || die "configure failed"
	fi
	log "make tandemd ($B, -O2, no sanitizers)"
	make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || die "build failed: $(tail -5 "$B/make.log")"
	TANDEMD=$B/daemon/tandemd
fi

WD=$(mktemp -d /tmp/h2bench.XXXXXX)
mkdir -p "$RESULTS_DIR/raw"
declare -a STARTED=()
declare -A PID_OF=()
cleanup() {
	local rc=$? p i
	trap - EXIT INT TERM
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		p=${STARTED[i]}
		kill -TERM "$p" 2>/dev/null || true
		for _ in $(seq 30); do [[ -d /proc/$p ]] || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WD"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n 65536 2>/dev/null || true

pin() { if [[ $PIN == 1 ]]; then echo "taskset -c $1"; fi; }
start_bg() {	# start_bg NAME CPU cmd...
	local name=$1 cpu=$2
	shift 2
	$(pin "$cpu") "$@" >"$WD/$name.log" 2>&1 &
	STARTED+=($!)
	PID_OF[$name]=$!
}
wait_url() {	# wait_url URL [curl args]
	local u=$1
	shift
	for _ in $(seq 150); do
		[[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$u" 2>/dev/null) == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}
tree_pids() { local c; echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done; }
cpu_ticks() {	# utime+stime ticks of the process tree of $1
	local s=0 p f
	for p in $(tree_pids "$1"); do
		f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		f=${f##*) }
		set -- $f
		s=$((s + ${12} + ${13}))
	done
	echo $s
}

# ports apart from bench/l7.sh's (1x080/1x443) and the tests' (20000-32767):
# a peer bound with SO_REUSEPORT by another run would silently share them
OH=127.0.0.2 OP=$((7880 + PORT_OFFSET)) OP2=$((7879 + PORT_OFFSET)) PH=127.0.0.1
declare -A TLSP=([haproxy]=$((7843 + PORT_OFFSET)) [nginx]=$((7844 + PORT_OFFSET)) [tandemd]=$((7845 + PORT_OFFSET))
	[tandemd-base]=$((7846 + PORT_OFFSET)))
declare -A H2CP=([haproxy]=$((7881 + PORT_OFFSET)) [nginx]=$((7882 + PORT_OFFSET)) [tandemd]=$((7883 + PORT_OFFSET))
	[tandemd-base]=$((7884 + PORT_OFFSET)))
declare -A H2UP=([haproxy]=$((7886 + PORT_OFFSET)) [tandemd]=$((7887 + PORT_OFFSET))
	[tandemd-base]=$((7888 + PORT_OFFSET)))
for p in $OP $OP2 ${TLSP[*]} ${H2CP[*]} ${H2UP[*]}; do
	ss -Htln "sport = :$p" | grep -q . && die "port $p is in use (another run?); set PORT_OFFSET"
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 \
	-keyout "$WD/key.pem" -out "$WD/cert.pem" -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
cat "$WD/cert.pem" "$WD/key.pem" >"$WD/cert+key.pem"
mkdir -p "$WD/certs" "$WD/origin/tmp" "$WD/nginx/tmp"
cp "$WD/cert.pem" "$WD/certs/bench.crt"
cp "$WD/key.pem" "$WD/certs/bench.key"

ngx_events="worker_processes 1; daemon off; master_process off; error_log stderr warn;
events { worker_connections 8192; use epoll; }"
ngx_http="access_log off; default_type text/plain; keepalive_timeout 65s; keepalive_requests 100000000;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
  http2_max_requests 100000000;"
cat >"$WD/origin/nginx.conf" <<EOF
$ngx_events
pid $WD/origin/nginx.pid;
http { $ngx_http
  server { listen $OH:$OP backlog=4096; location / { return 200 "ok"; } }
  server { listen $OH:$OP2 http2 backlog=4096; location / { return 200 "ok"; } } }
EOF
# nginx 1.22: "listen ... http2" without ssl is h2c prior knowledge only
cat >"$WD/nginx/nginx.conf" <<EOF
$ngx_events
pid $WD/nginx/nginx.pid;
http { $ngx_http
  upstream origin { server $OH:$OP; keepalive 1024; keepalive_requests 100000000; }
  server {
    listen $PH:${TLSP[nginx]} ssl http2 backlog=4096;
    listen $PH:${H2CP[nginx]} http2 backlog=4096;
    ssl_certificate $WD/cert.pem; ssl_certificate_key $WD/key.pem;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOF
cat >"$WD/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
  tune.ssl.cachesize 0
defaults
  mode http
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind $PH:${TLSP[haproxy]} ssl crt $WD/cert+key.pem alpn h2,http/1.1
  bind $PH:${H2CP[haproxy]} proto h2
  default_backend be
frontend fe_h2up
  bind $PH:${H2UP[haproxy]} proto h2
  default_backend be_h2
backend be
  server origin $OH:$OP
backend be_h2
  server origin $OH:$OP2 proto h2
EOF
cat >"$WD/tandemd.json" <<EOF
{"version":1,"revision":1,
 "listeners":[{"name":"tls","address":"$PH","port":${TLSP[tandemd]},
               "tls":{"certificates":["bench"],"alpn":["h2","http/1.1"]}},
              {"name":"h2c","address":"$PH","port":${H2CP[tandemd]},"http2":{"h2c":true}},
              {"name":"h2up","address":"$PH","port":${H2UP[tandemd]},"http2":{"h2c":true}}],
 "pools":[{"name":"origin","members":[{"address":"$OH","port":$OP}]},
          {"name":"origin-h2","upstream_protocol":"h2c","members":[{"address":"$OH","port":$OP2}]}],
 "routes":[{"name":"t","listener":"tls","pool":"origin"},{"name":"c","listener":"h2c","pool":"origin"},
           {"name":"u","listener":"h2up","pool":"origin-h2"}]}
EOF
sed -e "s/:${TLSP[tandemd]},/:${TLSP[tandemd-base]},/" -e "s/:${H2CP[tandemd]},/:${H2CP[tandemd-base]},/" \
	-e "s/:${H2UP[tandemd]},/:${H2UP[tandemd-base]},/" \
	"$WD/tandemd.json" >"$WD/tandemd-base.json"

start_bg origin "$LOAD_CPU" nginx -p "$WD/origin/" -c "$WD/origin/nginx.conf"
wait_url "http://$OH:$OP/" || die "origin did not start: $(cat "$WD/origin.log")"
for col in $COLUMNS; do
	case $col in
	haproxy) start_bg haproxy "$PROXY_CPU" haproxy -db -f "$WD/haproxy.cfg" ;;
	nginx) start_bg nginx "$PROXY_CPU" nginx -p "$WD/nginx/" -c "$WD/nginx/nginx.conf" ;;
	tandemd) start_bg tandemd "$PROXY_CPU" "$TANDEMD" -c "$WD/tandemd.json" -s "$WD/tandemd.sock" -w 1 \
		--cert-dir "$WD/certs" ;;
	tandemd-base) start_bg tandemd-base "$PROXY_CPU" "$TANDEMD_BASE" -c "$WD/tandemd-base.json" \
		-s "$WD/tandemd-base.sock" -w 1 --cert-dir "$WD/certs" ;;
	*) die "unknown column $col" ;;
	esac
	wait_url "https://$PH:${TLSP[$col]}/" --http2 || die "$col did not start: $(tail -5 "$WD/$col.log")"
done

{
	echo "date: $(date -u)"
	echo "host: $(nproc) cpus, $(uname -r); proxy on cpu $PROXY_CPU, h2load and origin on cpu $LOAD_CPU (PIN=$PIN)"
	echo "haproxy: $(haproxy -v | head -1)"
	echo "nginx: $(nginx -v 2>&1)"
	echo "tandemd: $TANDEMD, $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null) on $(git -C "$SRCDIR" rev-parse --abbrev-ref HEAD 2>/dev/null)"
	echo "h2load: $(h2load --version | head -1); -c $CONNS -m $H2_STREAMS, $DURATION s per run, $REPS runs"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS_DIR/env.txt"
echo "scenario,column,rep,requests,rps,cpu_ticks,us_per_req" >"$RESULTS_DIR/runs.csv"
HZ=$(getconf CLK_TCK)

url_of() {	# url_of SCENARIO COLUMN
	case $1 in
	h2-tls) echo "https://$PH:${TLSP[$2]}/" ;;
	h2c-up) echo "http://$PH:${H2UP[$2]}/" ;;
	*) echo "http://$PH:${H2CP[$2]}/" ;;
	esac
}

run() {	# run SCENARIO COLUMN REP
	local sc=$1 col=$2 rep=$3 url out t0 t1 req rps us
	url=$(url_of "$sc" "$col")
	out=$RESULTS_DIR/raw/$sc-$col-$rep.txt
	t0=$(cpu_ticks "${PID_OF[$col]}")
	# h2load can wait forever for a stalled connection (seen against HAProxy
	# over TLS on a saturated host): such a run counts as failed
	$(pin "$LOAD_CPU") timeout $((DURATION + 30)) h2load -t1 -c"$CONNS" -m"$H2_STREAMS" \
		-D "$DURATION" "$url" >"$out" 2>&1 || true
	t1=$(cpu_ticks "${PID_OF[$col]}")
	req=$(awk '/^requests:/{print $8}' "$out")	# succeeded
	rps=$(awk '/^finished in/{gsub(",", "", $4); print $4}' "$out")
	grep -q "status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx" "$out" || log "WARNING: $sc/$col/$rep had non-2xx answers"
	us=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v r="${req:-0}" 'BEGIN{printf "%.2f", (r > 0 ? t * 1e6 / hz / r : 0)}')
	echo "$sc,$col,$rep,${req:-0},${rps:-0},$((t1 - t0)),$us" >>"$RESULTS_DIR/runs.csv"
	log "$sc $col run $rep: ${rps:-?} req/s, $us us/req"
}

for sc in $SCENARIOS; do
	cols=()
	for col in $COLUMNS; do [[ $sc == h2c-up && $col == nginx ]] || cols+=("$col"); done
	for col in "${cols[@]}"; do	# warm up, unmeasured
		u=$(url_of "$sc" "$col")
		timeout 30 h2load -t1 -c"$CONNS" -m"$H2_STREAMS" -D 1 "$u" >/dev/null 2>&1 || true
	done
	for ((rep = 1; rep <= REPS; rep++)); do
		if ((rep % 2 == 0)); then order=$(printf '%s\n' "${cols[@]}" | tac); else order=${cols[*]}; fi
		for col in $order; do run "$sc" "$col" "$rep"; done
	done
done

python3 - "$RESULTS_DIR/runs.csv" >"$RESULTS_DIR/summary.md" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault((r["scenario"], r["column"]), []).append(r)
print("| scenario | column | req/s (median) | CPU µs/req (median) | req/s vs HAProxy | CPU/req vs HAProxy |")
print("| --- | --- | --- | --- | --- | --- |")
for sc in dict.fromkeys(r["scenario"] for r in rows):
    base = by.get((sc, "haproxy"))
    med = lambda rs, k: statistics.median(float(x[k]) for x in rs)
    for col in dict.fromkeys(r["column"] for r in rows if r["scenario"] == sc):
        rs = by[(sc, col)]
        rps, us = med(rs, "rps"), med(rs, "us_per_req")
        r1 = "%.2f×" % (rps / med(base, "rps")) if base and med(base, "rps") else "-"
        r2 = "%.2f×" % (us / med(base, "us_per_req")) if base and med(base, "us_per_req") else "-"
        print(f"| {sc} | {col} | {rps:.0f} | {us:.1f} | {r1} | {r2} |")
# paired: each column's CPU/req over HAProxy's of the same repetition (the
# least noisy figure on a shared host); runs with no requests are left out
print()
print("| scenario | column | CPU/req vs HAProxy, per repetition | median |")
print("| --- | --- | --- | --- |")
for sc in dict.fromkeys(r["scenario"] for r in rows):
    hp = {r["rep"]: float(r["us_per_req"]) for r in by.get((sc, "haproxy"), [])}
    for col in dict.fromkeys(r["column"] for r in rows if r["scenario"] == sc):
        if col == "haproxy" or not hp:
            continue
        pr = [float(r["us_per_req"]) / hp[r["rep"]] for r in by[(sc, col)]
              if hp.get(r["rep"]) and float(r["us_per_req"]) > 0]
        med = "%.2f×" % statistics.median(pr) if pr else "-"
        print(f"| {sc} | {col} | {', '.join('%.2f' % x for x in pr)} | {med} |")
PY
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS_DIR/env.txt"
cat "$RESULTS_DIR/summary.md" "$RESULTS_DIR/env.txt"
log "results in $RESULTS_DIR"
