#!/usr/bin/env bash
# bench/profile.sh - profile tandemd in the keep-alive scenario of bench/l7.sh:
# nginx origin on 127.0.0.2 (core LOAD_CPU), tandemd -w 1 on PROXY_CPU, wrk
# -t1 -c$CONNS keep-alive GETs on LOAD_CPU, `perf record` (cpu-clock, call
# graphs) on tandemd for SECS seconds. Prints tandemd's counters
# (`tandemctl stats`), syscall counts (strace -c, optional) and perf report.
# Output in OUT (default bench/results/profile-<timestamp>/). Not a test.
#
#   bench/profile.sh                    # perf, 10 s
#   PROFILER=callgrind bench/profile.sh # valgrind --tool=callgrind instead (slow: ~50x)
#   STRACE=1 bench/profile.sh           # also a 3 s strace -c -f of tandemd (after perf)
#   PROFILER=none STRACE=1 bench/profile.sh   # syscall counts only
#   CLOSE=1 bench/profile.sh            # scenario (b): a new connection per request
#   TLS=1 bench/profile.sh              # scenario (c): TLS keep-alive (ECDSA P-256, no
#                                       # resumption); TLS=1 CLOSE=1 = scenario (d)
#   TLS=1 CLOSE=1 RESUME=1 bench/profile.sh  # scenario (h): resumed handshakes (tickets on)
#   H2=1 bench/profile.sh               # bench/h2.sh's load instead of wrk: h2load -c$CONNS
#                                       # -m$H2_STREAMS over h2c (TLS=1 H2=1: h2 over TLS)
set -euo pipefail
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${SECS:-10}
CONNS=${CONNS:-50}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
PROFILER=${PROFILER:-perf}
STRACE=${STRACE:-0}
CLOSE=${CLOSE:-0}
TLS=${TLS:-0}
H2=${H2:-0}
RESUME=${RESUME:-0}
RESUMPTION=false; [[ $RESUME == 1 ]] && RESUMPTION=true
H2_STREAMS=${H2_STREAMS:-10}
WRK_HDR=(); [[ $CLOSE == 1 ]] && WRK_HDR=(-H 'Connection: close')
PORT_OFFSET=${PORT_OFFSET:-0}
TANDEMD=${TANDEMD:-}
OUT=${OUT:-$SRCDIR/bench/results/profile-$(date +%Y%m%d-%H%M%S)}
OPORT=$((8090 + PORT_OFFSET)) PPORT=$((14090 + PORT_OFFSET))
LOADGEN=wrk; [[ $H2 == 1 ]] && LOADGEN=h2load
for c in nginx $LOADGEN curl taskset; do command -v $c >/dev/null || { echo "missing $c (see bench/l7.sh)" >&2; exit 1; }; done
[[ $PROFILER == perf ]] && { command -v perf >/dev/null || { echo "missing perf (apt-get install linux-perf)" >&2; exit 1; }; }
[[ $PROFILER == callgrind ]] && { command -v valgrind >/dev/null || { echo "missing valgrind" >&2; exit 1; }; }

if [[ -z $TANDEMD ]]; then
  B=$SRCDIR/bench/build
  if [[ ! -f $B/Makefile ]]; then
    (cd "$SRCDIR" && { [[ -x configure ]] || autoreconf -fi >/dev/null 2>&1; })
    mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q)
  fi
  make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -5 "$B/make.log"; exit 1; }
  TANDEMD=$B/daemon/tandemd
fi
TANDEMCTL=$(dirname "$TANDEMD")/tandemctl
mkdir -p "$OUT"
WD=$(mktemp -d /tmp/tandem-profile.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WD"
}
trap cleanup EXIT
wait_http() { local i; for ((i = 0; i < 150; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1") == 200 ]] && return 0; sleep 0.1; done; return 1; }

mkdir -p "$WD/origin/tmp"
cat >"$WD/origin/nginx.conf" <<EOF
worker_processes 1; daemon off; master_process on; user root; error_log stderr warn;
pid $WD/origin/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000000;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  server { listen 127.0.0.2:$OPORT backlog=4096; location / { return 200 "ok"; } } }
EOF
TLSL= TLSR= CERTARGS=()
if [[ $TLS == 1 ]]; then   # the TLS listener of bench/l7.sh's tls-ka: ECDSA P-256, resumption with RESUME=1
  mkdir -p "$WD/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WD/certs/ec.key" -out "$WD/certs/ec.crt" 2>/dev/null
  chmod 600 "$WD/certs/ec.key"
  TLSL=', {"name": "tls", "address": "127.0.0.1", "port": '$((PPORT + 1))', "tls": {"certificates": ["ec"], "session_resumption": '$RESUMPTION'}}'
  [[ $H2 == 1 ]] && TLSL=${TLSL%\}\}}', "alpn": ["h2", "http/1.1"]}}'
  TLSR=', {"name": "mtls", "listener": "tls", "path_prefix": "/", "pool": "origin"}'
  CERTARGS=(--cert-dir "$WD/certs")
fi
H2L=; [[ $H2 == 1 ]] && H2L=', "http2": {"h2c": true}'
cat >"$WD/tandemd.json" <<EOF
{"version": 1, "listeners": [{"name": "bench", "address": "127.0.0.1", "port": $PPORT$H2L}$TLSL],
 "pools": [{"name": "origin", "members": [{"address": "127.0.0.2", "port": $OPORT}]}],
 "routes": [{"name": "match", "listener": "bench", "path_prefix": "/", "pool": "origin"}$TLSR]}
EOF
taskset -c "$LOAD_CPU" nginx -p "$WD/origin/" -c "$WD/origin/nginx.conf" >"$WD/origin.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.2:$OPORT/" || { echo "origin did not start" >&2; exit 1; }
if [[ $PROFILER == callgrind ]]; then
  taskset -c "$PROXY_CPU" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
    "$TANDEMD" -c "$WD/tandemd.json" -s "$WD/ctl.sock" -w 1 "${CERTARGS[@]}" >"$WD/tandemd.log" 2>&1 &
else
  taskset -c "$PROXY_CPU" "$TANDEMD" -c "$WD/tandemd.json" -s "$WD/ctl.sock" -w 1 "${CERTARGS[@]}" >"$WD/tandemd.log" 2>&1 &
fi
TPID=$!; PIDS+=("$TPID")
wait_http "http://127.0.0.1:$PPORT/" || { echo "tandemd did not start: $(tail -3 "$WD/tandemd.log")" >&2; exit 1; }

URL=http://127.0.0.1:$PPORT/
[[ $TLS == 1 ]] && URL=https://127.0.0.1:$((PPORT + 1))/
load() {	# load SECONDS [wrk args]: wrk, or h2load with H2=1
  local d=$1; shift
  if [[ $H2 == 1 ]]; then taskset -c "$LOAD_CPU" h2load -t1 -c"$CONNS" -m"$H2_STREAMS" -D "$d" "$URL"
  else taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${d}s" "$@" "${WRK_HDR[@]}" "$URL"; fi
}
load 2 >/dev/null   # warm up
"$TANDEMCTL" -s "$WD/ctl.sock" stats >"$OUT/stats-before.json" 2>&1 || true
load "$((SECS + 4 * STRACE))" --latency >"$OUT/wrk.txt" 2>&1 &
WRK=$!; PIDS+=("$WRK")
sleep 0.5
if [[ $PROFILER == perf ]]; then
  perf record -e cpu-clock -F 4999 --call-graph dwarf,16384 -p "$TPID" -o "$OUT/perf.data" -- sleep $((SECS - 2)) \
    >"$OUT/perf-record.log" 2>&1 || true
else
  [[ $PROFILER == none ]] && sleep 1
  [[ $STRACE == 0 ]] && sleep $((SECS - 1))
fi
if [[ $STRACE == 1 ]] && command -v strace >/dev/null; then
  timeout -s INT 3 strace -c -f -p "$TPID" -o "$OUT/strace-c.txt" || true   # -f -p: every thread of tandemd
fi
wait "$WRK" || true
"$TANDEMCTL" -s "$WD/ctl.sock" stats >"$OUT/stats-after.json" 2>&1 || true
cat "$OUT/wrk.txt"
echo "--- tandemctl stats before/after the measured run"; cat "$OUT/stats-before.json" "$OUT/stats-after.json"
[[ -s $OUT/strace-c.txt ]] && { echo "--- strace -c (3 s)"; head -25 "$OUT/strace-c.txt"; }
if [[ $PROFILER == perf ]]; then
  perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | grep -v '^$' >"$OUT/perf-flat.txt" || true
  perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null \
    | grep -v '^$' >"$OUT/perf-children.txt" || true
  echo "--- perf, self time (top 40)"; grep -E '^ +[0-9]' "$OUT/perf-flat.txt" | head -40
  echo "--- perf, with children (top 40)"; grep -E '^ +[0-9]' "$OUT/perf-children.txt" | head -40
elif [[ $PROFILER == callgrind ]]; then
  kill -TERM "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null || true
  callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | head -60
fi
echo "--- results in $OUT"
