#!/usr/bin/env bash
# bench/l7.sh - Tandem's L7 benchmark on loopback: tandemd against HAProxy (the
# reference every ratio is taken to), nginx and a direct-to-origin ceiling, in
# the same run, one worker each pinned to one core. Adapted from
# ../shared/tools/l7-peers.sh (same harness, same peers, same measurement);
# what is Tandem's own is marked "tandem:" below. Never part of the test suite.
#
#   bench/l7.sh                          # full run, ~12 min on 2 cores
#   DURATION=3 REPS=1 bench/l7.sh        # short mode, ~3 min
#
# Results: RESULTS_DIR (default bench/results/<timestamp>/, git-ignored):
# summary.md (tables, ratios to HAProxy, the issue-3 targets), runs.csv,
# memory.csv, env.txt, raw/. See doc/performance.md for how to read them.
#
# tandem: columns and scenarios of our own
#   tandemd          tandemd -c CONF -s SOCK -w 1, one route "/" to the origin
#                    (built first in bench/build, or TANDEMD=/path/to/tandemd).
#                    HTTP/1.1 and TLS (issue 4); no h2 yet: scenario h2 runs
#                    for the peers only and the summary says "n/a".
#   tls-hs-rsa       scenario (g): like tls-hs (full handshake per request, no
#                    resumption) against an RSA-2048 certificate on TLS_PORT+1.
#   tls-resume       scenario (h): a new connection per request with session
#                    resumption allowed (tickets) on TLS_PORT+2, ECDSA: wrk
#                    keeps its session across reconnects (SSL_clear), so every
#                    handshake after the first is abbreviated. Columns
#                    haproxy-http, nginx, tandemd (feature "tlsx").
#                    Targets (issue 4): TLS keep-alive CPU/req <= 0.8x HAProxy;
#                    handshakes/s (d, g, h) >= HAProxy; KiB per idle TLS
#                    connection <= 0.5x HAProxy.
#   tandemd-base     the same as column tandemd (same config, ports +7000) but
#                    running TANDEMD_BASE, e.g. a copy of main's build: before/after
#                    figures of a change in the same run. Opt-in (not in the defaults).
#   routes           scenario (f): keep-alive GETs of /app/index against a
#                    listener with ROUTES_FEW (10) or ROUTES_MANY (1000) routes,
#                    where the route that matches is the LAST one in match
#                    order: the others are prefixes /app/r0001/ ... (longer, so
#                    sorted first, same priority) to a decoy pool whose member
#                    does not listen (a wrong match shows as errors), and the
#                    match is "/" to the origin. Columns tandemd-r10,
#                    tandemd-r1000, and for reference haproxy-r10 /
#                    haproxy-r1000 (the same list as use_backend ... if
#                    { path_beg ... } rules, HAProxy's linear equivalent),
#                    nginx-r10 / nginx-r1000 (the same list as
#                    "location ^~ /app/r0001/" prefix blocks, which nginx
#                    looks up in a tree).
#                    Target (issue 3): tandemd 1000 routes costs <= 2x 10 routes.
#
# From here on the original notes of l7-peers.sh apply:
#
# Everything runs on 127.0.0.0/8. Uses only Debian packages:
#   haproxy nginx wrk nghttp2-client (h2load) openssl python3 procps iproute2
#   util-linux (taskset) curl
# The system services of haproxy/nginx are never used: every daemon is started
# in the foreground from configs written to a private temp dir, tracked by PID,
# and stopped by PID on exit.
#
# Scenarios (each run REPS times, columns interleaved A B C D, D C B A, ...):
#   ka      (a) HTTP/1.1 keep-alive small GETs     wrk -t1 -c$CONNS
#   close   (b) new TCP connection per request     wrk ... -H 'Connection: close'
#   tls-ka  (c) TLS termination, HTTP/1.1 keep-alive
#   tls-hs  (d) TLS full handshake per request     wrk over https + Connection: close
#   h2      (e) HTTP/2 over TLS                    h2load -t1 -c$CONNS -m$H2_STREAMS
# Memory: proxy RSS/PSS at idle and with $IDLE_CONNS idle keep-alive
# connections (plain and TLS), giving KiB per connection.
#
# CPU layout (2-core machine): the proxy under test alone on PROXY_CPU (default
# 1); load generator and origin on LOAD_CPU / ORIGIN_CPU (default 0). "direct"
# is wrk -> origin with both on the load core: for plain HTTP the most the load
# side can push, i.e. the ceiling of every proxied column; for TLS/h2 the origin
# then also does the TLS work on the load core, so proxies can beat it.
# On 2 cores the load core is itself near saturation at ~60-70k req/s, and
# scenarios close/tls-hs are bound by the load side (wrk's own TCP/TLS setup),
# so the summary reports per-core busy %, which side bounded each cell, and the
# proxy's CPU time per request (SUT µs/req): compare that when bound = load.
# ORIGIN_CPU=1 (origin shares the proxy core) gives the load side headroom but
# mixes the origin's cost into the proxy core; PIN=0 was far noisier (see notes).
#
# Environment knobs (all optional):
#   DURATION=          seconds per measured run for every scenario; unset = 10 s for
#                      ka (the wrk -d10s of scenario a) and 8 s for the others, which
#                      keeps the default 4-column run at about 10 minutes
#   REPS=3             runs per (scenario, column)
#   CONNS=50           client connections (wrk -c, h2load -c)
#   H2_STREAMS=10      h2load -m
#   IDLE_CONNS=1000    idle keep-alive connections for the memory probe (0 = skip)
#   SCENARIOS="ka close tls-ka tls-hs tls-hs-rsa tls-resume h2 routes"
#   COLUMNS="haproxy-http nginx tandemd direct tandemd-r10 tandemd-r1000 haproxy-r10 haproxy-r1000
#            nginx-r10 nginx-r1000"
#                      (the extra proxy is appended; haproxy-tcp is available too)
#   ROUTES_FEW=10 ROUTES_MANY=1000   route counts of scenario routes (column names keep
#                      the r10/r1000 labels whatever the counts; env.txt has the real ones)
#   TANDEMD=           tandemd binary to test; unset = build the worktree in bench/build
#   TANDEMD_BASE=      tandemd binary of column tandemd-base (the "before" of a change)
#   PROXY_CPU=1 LOAD_CPU=0 ORIGIN_CPU=0   cores; PIN=0 disables taskset entirely
#   WARMUP=1           seconds of unmeasured load before each scenario/column's first run
#   FOREIGN_MAX=10     a run during which processes that are not ours used more than
#                      this % of a core is "noisy": it is redone (up to RETRY_NOISY=2
#                      more times, after waiting up to QUIET_MAX=30 s for quiet); all
#                      attempts stay in runs.csv, the summary uses the last one. Redos and
#                      waits stop once they have cost RETRY_BUDGET=180 s in total.
#   PORT_OFFSET=0      added to every port (origin 127.0.0.2:8080/8443/8081, proxies 127.0.0.1:1x080/1x443)
#   RESULTS_DIR=bench/results/<timestamp>   (kept: summary.md, runs.csv, raw/)
#   KEEP_WORKDIR=0     1 = keep configs/certs/logs temp dir
#   AUTO_INSTALL=1     apt-get install missing packages (root only)
#   HAPROXY_REUSE=always  http-reuse mode for haproxy-http. HAProxy's default "safe" never
#                      puts the first request of a new client connection on an idle
#                      upstream connection, i.e. one upstream connect per client connection
#                      in scenarios close/tls-hs; "always" reuses like nginx's upstream keepalive.
#
# Extra proxy contract (one more column, named $PROXY_NAME, default "custom"):
#   PROXY_CMD      shell command line, run as `bash -c "exec $PROXY_CMD"` pinned to
#                  PROXY_CPU, in the foreground (it must not daemonize; the
#                  harness stops it with SIGTERM, then SIGKILL, by PID, including
#                  any children it forked). One worker/thread, to match the peers.
#   PROXY_CONF     optional template file; @NAME@ placeholders (the L7B_* names
#                  below without the L7B_ prefix, e.g. @LISTEN_PORT@, @ORIGIN_HOST@)
#                  are substituted and the result is at $L7B_CONF.
#   PROXY_FEATURES comma list of http,tls,h2 (default "http"): tls = serves
#                  HTTP/1.1 over TLS on L7B_TLS_PORT (scenarios tls-ka, tls-hs),
#                  h2 = negotiates h2 by ALPN on L7B_TLS_PORT (scenario h2).
#   The command sees these variables:
#     L7B_LISTEN_HOST, L7B_LISTEN_PORT  plain HTTP/1.1 listener to open
#     L7B_TLS_PORT                      TLS listener (same host), if feature tls
#     L7B_ORIGIN_HOST, L7B_ORIGIN_PORT  plain HTTP/1.1 origin, keep-alive capable;
#                                       forward there, reusing upstream connections
#     L7B_CERT, L7B_KEY, L7B_CERT_KEY   PEM cert, key, and cert+key in one file
#                                       (ECDSA P-256, CN/SAN localhost, 127.0.0.1)
#     L7B_CONF, L7B_WORKDIR             rendered config (if PROXY_CONF), scratch dir
#   Ready = GET http://L7B_LISTEN_HOST:L7B_LISTEN_PORT/ answers 200 within 15 s.
#   To be comparable with the peers as configured here: reuse upstream
#   connections for any client (pool >= CONNS*H2_STREAMS = 500), no per-connection
#   request limit, no access log, and offer no TLS session resumption (wrk resumes
#   whenever a server lets it; env.txt reports "session resumption accepted").
#   Example (nginx as the "new" proxy, just to show the plumbing; the template
#   l7-peers.example-proxy.conf.in sits next to this script):
#     PROXY_NAME=nginx-again PROXY_FEATURES=http,tls,h2 \
#       PROXY_CONF=bench/l7-peers.example-proxy.conf.in \
#       PROXY_CMD='nginx -p "$L7B_WORKDIR/" -c "$L7B_CONF"' bench/l7-peers.sh
# Outputs in RESULTS_DIR: summary.md (tables), runs.csv (every run, incl. redone
# ones), memory.csv, env.txt (versions, layout, TLS parameters), raw/ (tool output).
set -euo pipefail

# ------------------------------------------------------------------ settings
DURATION=${DURATION:-}
dur_of() { if [[ -n $DURATION ]]; then echo "$DURATION"; elif [[ $1 == ka ]]; then echo 10; else echo 8; fi; }
REPS=${REPS:-3}
CONNS=${CONNS:-50}
H2_STREAMS=${H2_STREAMS:-10}
IDLE_CONNS=${IDLE_CONNS:-1000}
SCENARIOS=${SCENARIOS:-"ka close tls-ka tls-hs tls-hs-rsa tls-resume h2 routes"}
COLUMNS=${COLUMNS:-"haproxy-http nginx tandemd direct tandemd-r10 tandemd-r1000 haproxy-r10 haproxy-r1000 nginx-r10 nginx-r1000"}
ROUTES_FEW=${ROUTES_FEW:-10}
ROUTES_MANY=${ROUTES_MANY:-1000}
TANDEMD=${TANDEMD:-}
TANDEMD_BASE=${TANDEMD_BASE:-}
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # tandem: the worktree this script is in
PIN=${PIN:-1}
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
ORIGIN_CPU=${ORIGIN_CPU:-0}
WARMUP=${WARMUP:-1}
export FOREIGN_MAX=${FOREIGN_MAX:-10}
RETRY_NOISY=${RETRY_NOISY:-2}
QUIET_MAX=${QUIET_MAX:-30}
RETRY_BUDGET=${RETRY_BUDGET:-180}
KEEP_WORKDIR=${KEEP_WORKDIR:-0}
AUTO_INSTALL=${AUTO_INSTALL:-1}
HAPROXY_REUSE=${HAPROXY_REUSE:-always}
PROXY_NAME=${PROXY_NAME:-custom}
PROXY_FEATURES=${PROXY_FEATURES:-http}
PROXY_CMD=${PROXY_CMD:-}
PROXY_CONF=${PROXY_CONF:-}
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS_DIR=${RESULTS_DIR:-$SRCDIR/bench/results/$STAMP}

PORT_OFFSET=${PORT_OFFSET:-0}
ORIGIN_HOST=127.0.0.2
ORIGIN_PORT=$((8080 + PORT_OFFSET))          # plain HTTP/1.1 origin
ORIGIN_TLS_PORT=$((8443 + PORT_OFFSET))      # same origin over TLS (+h2): the "direct" TLS column
ORIGIN_STATUS_PORT=$((8081 + PORT_OFFSET))   # stub_status, used to count upstream connections/requests
PROXY_HOST=127.0.0.1
declare -A HTTP_PORT=( [haproxy-http]=$((10080 + PORT_OFFSET)) [haproxy-tcp]=$((11080 + PORT_OFFSET))
                       [nginx]=$((12080 + PORT_OFFSET)) [custom]=$((13080 + PORT_OFFSET)) [direct]=$ORIGIN_PORT
                       [tandemd]=$((14080 + PORT_OFFSET)) [tandemd-r10]=$((15080 + PORT_OFFSET))
                       [tandemd-r1000]=$((16080 + PORT_OFFSET)) [haproxy-r10]=$((17080 + PORT_OFFSET))
                       [tandemd-base]=$((21080 + PORT_OFFSET))
                       [haproxy-r1000]=$((18080 + PORT_OFFSET)) [nginx-r10]=$((19080 + PORT_OFFSET))
                       [nginx-r1000]=$((20080 + PORT_OFFSET)) )
declare -A TLS_PORT=(  [haproxy-http]=$((10443 + PORT_OFFSET)) [haproxy-tcp]=$((11443 + PORT_OFFSET))
                       [nginx]=$((12443 + PORT_OFFSET)) [custom]=$((13443 + PORT_OFFSET)) [direct]=$ORIGIN_TLS_PORT
                       [tandemd]=$((14443 + PORT_OFFSET)) [tandemd-base]=$((21443 + PORT_OFFSET)) )
declare -A HOST_OF=(   [haproxy-http]=$PROXY_HOST [haproxy-tcp]=$PROXY_HOST [nginx]=$PROXY_HOST [custom]=$PROXY_HOST [direct]=$ORIGIN_HOST
                       [tandemd]=$PROXY_HOST [tandemd-base]=$PROXY_HOST [tandemd-r10]=$PROXY_HOST [tandemd-r1000]=$PROXY_HOST
                       [haproxy-r10]=$PROXY_HOST [haproxy-r1000]=$PROXY_HOST [nginx-r10]=$PROXY_HOST [nginx-r1000]=$PROXY_HOST )
# which scenarios each column can run (tandem: "routes" = scenario routes only)
declare -A FEATURES=( [haproxy-http]="http,tls,h2,tlsx" [haproxy-tcp]="http,tls" [nginx]="http,tls,h2,tlsx" [direct]="http,tls,h2" [custom]="$PROXY_FEATURES"
                      [tandemd]="http,tls,tlsx" [tandemd-base]="http,tls,tlsx" [tandemd-r10]="routes" [tandemd-r1000]="routes" [haproxy-r10]="routes" [haproxy-r1000]="routes"
                      [nginx-r10]="routes" [nginx-r1000]="routes" )
for col in $COLUMNS; do [[ -n ${HTTP_PORT[$col]:-} ]] || { echo "unknown column $col" >&2; exit 2; }; done

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ packages
need_cmds=(haproxy nginx wrk h2load openssl python3 taskset ss curl)
declare -A pkg_of=( [haproxy]=haproxy [nginx]=nginx [wrk]=wrk [h2load]=nghttp2-client [openssl]=openssl
                    [python3]=python3 [taskset]=util-linux [ss]=iproute2 [curl]=curl )
missing=()
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}"); done
if ((${#missing[@]})); then
  if [[ $AUTO_INSTALL == 1 && $(id -u) == 0 ]]; then
    log "installing Debian packages: ${missing[*]} (services are not started)"
    # policy-rc.d 101 = "do not start services from maintainer scripts"
    made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } || true
    if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
  fi
  for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || die "missing $c (apt-get install ${pkg_of[$c]})"; done
fi

# ------------------------------------------------------------------ tandem: build tandemd
want_tandemd=0
for col in $COLUMNS; do [[ $col == tandemd* ]] && want_tandemd=1; done
if ((want_tandemd)); then
  if [[ -z $TANDEMD ]]; then
    B=$SRCDIR/bench/build
    if [[ ! -x $SRCDIR/configure || $SRCDIR/configure.ac -nt $SRCDIR/configure ]]; then
      log "autoreconf in $SRCDIR"
      (cd "$SRCDIR" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed (see ./quickstart for the build dependencies)"
    fi
    if [[ ! -f $B/Makefile || $B/config.status -ot $SRCDIR/configure ]]; then
      log "configure (out of tree: $B, default CFLAGS -g -O2, no sanitizers)"
      mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q) || die "configure failed"
    fi
    log "make tandemd ($B)"
    make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || die "build failed: $(tail -5 "$B/make.log")"
    TANDEMD=$B/daemon/tandemd
  fi
  [[ -x $TANDEMD ]] || die "no tandemd binary at $TANDEMD"
  [[ " $COLUMNS " != *" tandemd-base "* || -x ${TANDEMD_BASE:-} ]] || die "column tandemd-base needs TANDEMD_BASE=/path/to/tandemd"
fi

# ------------------------------------------------------------------ workdir, cleanup
mkdir -p /tmp/l7bench "$RESULTS_DIR/raw"
WD=$(mktemp -d /tmp/l7bench/run.XXXXXX)
declare -a STARTED=()        # PIDs we started, in order
declare -A PID_OF=()         # name -> pid
LOADGEN_PID=""

descendants() {  # all descendant PIDs of $1 (depth first)
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; descendants "$c"; done
}

stop_pid() {  # stop one PID we started, plus the children it forked
  local pid=$1 kids i
  [[ -d /proc/$pid ]] || return 0
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  [[ -n $LOADGEN_PID ]] && stop_pid "$LOADGEN_PID"
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[i]}"; done
  if [[ $KEEP_WORKDIR == 1 ]]; then log "workdir kept: $WD"; else rm -rf "$WD"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
((NOFILE >= 2 * IDLE_CONNS + 200)) || die "open-files limit $NOFILE too low for IDLE_CONNS=$IDLE_CONNS"
MAXCONN=$(( (NOFILE - 200) / 2 )); ((MAXCONN > 20000)) && MAXCONN=20000

PFX=()
pinpfx() {  # sets PFX to the taskset prefix for cpu $1 (taskset execs the command, so $! is its PID)
  if [[ $PIN == 1 ]]; then PFX=(taskset -c "$1"); else PFX=(); fi
}

start_bg() {  # start_bg <name> <cpu> cmd...
  local name=$1 cpu=$2; shift 2
  pinpfx "$cpu"
  "${PFX[@]}" "$@" >"$WD/$name.log" 2>&1 &
  local pid=$!
  STARTED+=("$pid"); PID_OF[$name]=$pid
}

wait_http() {  # wait_http <url> [secs]
  local url=$1 secs=${2:-15} i
  for ((i = 0; i < secs * 10; i++)); do
    [[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------------ certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout "$WD/key.pem" -out "$WD/cert.pem" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2" >/dev/null 2>&1
cat "$WD/cert.pem" "$WD/key.pem" >"$WD/cert+key.pem"
# tandem: RSA-2048 for scenario tls-hs-rsa
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$WD/rsa-key.pem" -out "$WD/rsa-cert.pem" \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2" >/dev/null 2>&1
cat "$WD/rsa-cert.pem" "$WD/rsa-key.pem" >"$WD/rsa-cert+key.pem"
chmod 644 "$WD"/*.pem; chmod 755 "$WD"

# ------------------------------------------------------------------ configs
# Common TLS policy everywhere: TLS 1.2/1.3, server defaults otherwise (the
# negotiated protocol/cipher/group are probed and reported per column).
nginx_common_events="worker_processes 1;
daemon off;
master_process on;
user root;
worker_rlimit_nofile $NOFILE;
error_log stderr warn;
events { worker_connections $((MAXCONN * 2)); use epoll; }"
nginx_common_http="access_log off;
  default_type text/plain;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  keepalive_timeout 65s;
  keepalive_requests 100000000;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off;     # no TLS resumption anywhere: wrk resumes whenever the server lets it,
  ssl_session_tickets off;   # which would turn scenario tls-hs into abbreviated handshakes"

mkdir -p "$WD/origin/tmp" "$WD/nginx/tmp" "$WD/custom"
cat >"$WD/origin/nginx.conf" <<EOF
# origin: tiny fixed response, keep-alive, one worker
$nginx_common_events
pid $WD/origin/nginx.pid;
http {
  $nginx_common_http
  server {
    listen $ORIGIN_HOST:$ORIGIN_PORT backlog=4096;
    listen $ORIGIN_HOST:$ORIGIN_TLS_PORT ssl http2 backlog=4096;
    ssl_certificate $WD/cert.pem; ssl_certificate_key $WD/key.pem;
    location / { return 200 "ok"; }
  }
  server {
    listen $ORIGIN_HOST:$ORIGIN_STATUS_PORT;
    location / { stub_status; }
  }
}
EOF

cat >"$WD/nginx/nginx.conf" <<EOF
# nginx reverse proxy: 1 worker, upstream keep-alive
$nginx_common_events
pid $WD/nginx/nginx.pid;
http {
  $nginx_common_http
  upstream origin {
    server $ORIGIN_HOST:$ORIGIN_PORT;
    keepalive 1024;   # >= CONNS*H2_STREAMS, so h2 fan-out does not churn upstream connections
    keepalive_requests 100000000;
    keepalive_timeout 60s;
  }
  server {
    listen $PROXY_HOST:${HTTP_PORT[nginx]} backlog=4096;
    listen $PROXY_HOST:${TLS_PORT[nginx]} ssl http2 backlog=4096;
    ssl_certificate $WD/cert.pem; ssl_certificate_key $WD/key.pem;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  server {  # tandem: tls-hs-rsa
    listen $PROXY_HOST:$((TLS_PORT[nginx] + 1)) ssl backlog=4096;
    ssl_certificate $WD/rsa-cert.pem; ssl_certificate_key $WD/rsa-key.pem;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {  # tandem: tls-resume (tickets on)
    listen $PROXY_HOST:$((TLS_PORT[nginx] + 2)) ssl backlog=4096;
    ssl_certificate $WD/cert.pem; ssl_certificate_key $WD/key.pem;
    ssl_session_tickets on;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF

haproxy_global="global
  nbthread 1
  maxconn $MAXCONN
  ssl-default-bind-options ssl-min-ver TLSv1.2
  tune.ssl.cachesize 0
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  timeout http-request 60s
  backlog 4096"

cat >"$WD/haproxy-http.cfg" <<EOF
$haproxy_global
  mode http
  http-reuse $HAPROXY_REUSE
frontend fe
  bind $PROXY_HOST:${HTTP_PORT[haproxy-http]}
  bind $PROXY_HOST:${TLS_PORT[haproxy-http]} ssl crt $WD/cert+key.pem alpn h2,http/1.1 no-tls-tickets
  bind $PROXY_HOST:$((TLS_PORT[haproxy-http] + 1)) ssl crt $WD/rsa-cert+key.pem alpn http/1.1 no-tls-tickets
  bind $PROXY_HOST:$((TLS_PORT[haproxy-http] + 2)) ssl crt $WD/cert+key.pem alpn http/1.1
  default_backend be
backend be
  server origin $ORIGIN_HOST:$ORIGIN_PORT
EOF

cat >"$WD/haproxy-tcp.cfg" <<EOF
$haproxy_global
  mode tcp
frontend fe
  bind $PROXY_HOST:${HTTP_PORT[haproxy-tcp]}
  bind $PROXY_HOST:${TLS_PORT[haproxy-tcp]} ssl crt $WD/cert+key.pem alpn http/1.1 no-tls-tickets
  default_backend be
backend be
  server origin $ORIGIN_HOST:$ORIGIN_PORT
EOF

# tandem: tandemd configs (doc/config.md). gen_routes <fmt> <port> <nroutes> <file>: the route that
# matches /app/index is the last in match order (see the header); fmt = tandemd | haproxy.
gen_routes() {
  python3 - "$@" "$PROXY_HOST" "$ORIGIN_HOST" "$ORIGIN_PORT" "$MAXCONN" <<'PYEOF'
import json, sys
fmt, port, n, out, host, ohost, oport, maxconn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]), sys.argv[8]
decoys = ["/app/r%04d/" % i for i in range(1, n)]          # n-1 decoys, then the match
if fmt == "tandemd":
    pools = [{"name": "origin", "members": [{"address": ohost, "port": oport}]}]
    if decoys:  # a member that does not listen: a request routed here fails (502), so a wrong match shows
        pools.append({"name": "decoy", "members": [{"address": "127.0.0.3", "port": 9}]})
    routes = [{"name": "r%04d" % (i + 1), "listener": "bench", "path_prefix": p, "pool": "decoy", "priority": 100}
              for i, p in enumerate(decoys)]
    routes.append({"name": "match", "listener": "bench", "path_prefix": "/", "pool": "origin", "priority": 100})
    json.dump({"version": 1, "listeners": [{"name": "bench", "address": host, "port": port}],
               "pools": pools, "routes": routes}, open(out, "w"), indent=1, sort_keys=True)
elif fmt == "haproxy":
    with open(out, "a") as f:
        f.write("frontend fe\n  bind %s:%d\n" % (host, port))
        for p in decoys: f.write("  use_backend decoy if { path_beg %s }\n" % p)
        f.write("  default_backend be\nbackend be\n  server origin %s:%d\n" % (ohost, oport))
        f.write("backend decoy\n  server decoy 127.0.0.3:9\n")
elif fmt == "nginx":  # appended inside the http block of a copy of the nginx proxy config
    with open(out, "a") as f:
        f.write("  upstream decoy { server 127.0.0.3:9; }\n  server {\n    listen %s:%d backlog=4096;\n" % (host, port))
        for p in decoys: f.write("    location ^~ %s { proxy_pass http://decoy; }\n" % p)
        f.write("    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; }\n  }\n}\n")
PYEOF
}
mkdir -p "$WD/tandemd/certs"
gen_routes tandemd "${HTTP_PORT[tandemd]}" 1 "$WD/tandemd/tandemd.json"
# tandem: the TLS listeners of column tandemd (doc/tls.md): ECDSA without resumption (tls-ka,
# tls-hs, memory), RSA without (tls-hs-rsa), ECDSA with tickets (tls-resume)
cp "$WD/cert.pem" "$WD/tandemd/certs/ec.crt"; cp "$WD/key.pem" "$WD/tandemd/certs/ec.key"
cp "$WD/rsa-cert.pem" "$WD/tandemd/certs/rsa.crt"; cp "$WD/rsa-key.pem" "$WD/tandemd/certs/rsa.key"
python3 - "$WD/tandemd/tandemd.json" "$PROXY_HOST" "${TLS_PORT[tandemd]}" <<'PYEOF'
import json, sys
f, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.load(open(f))
for i, (cert, resume) in enumerate((("ec", False), ("rsa", False), ("ec", True))):
    name = "tls%d" % i
    c["listeners"].append({"name": name, "address": host, "port": port + i,
                           "tls": {"certificates": [cert], "session_resumption": resume}})
    c["routes"].append({"name": "m" + name, "listener": name, "path_prefix": "/", "pool": "origin"})
json.dump(c, open(f, "w"), indent=1, sort_keys=True)
PYEOF
# column tandemd-base: the same listeners on its own ports
python3 - "$WD/tandemd/tandemd.json" "$WD/tandemd/tandemd-base.json" $((HTTP_PORT[tandemd-base] - HTTP_PORT[tandemd])) \
  $((TLS_PORT[tandemd-base] - TLS_PORT[tandemd])) <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
for l in c["listeners"]:
    l["port"] += int(sys.argv[4] if "tls" in l else sys.argv[3])
json.dump(c, open(sys.argv[2], "w"), indent=1, sort_keys=True)
PYEOF
gen_routes tandemd "${HTTP_PORT[tandemd-r10]}" "$ROUTES_FEW" "$WD/tandemd/tandemd-r10.json"
gen_routes tandemd "${HTTP_PORT[tandemd-r1000]}" "$ROUTES_MANY" "$WD/tandemd/tandemd-r1000.json"
for r in r10:$ROUTES_FEW r1000:$ROUTES_MANY; do
  printf '%s\n  mode http\n  http-reuse %s\n' "$haproxy_global" "$HAPROXY_REUSE" >"$WD/haproxy-${r%%:*}.cfg"
  gen_routes haproxy "${HTTP_PORT[haproxy-${r%%:*}]}" "${r#*:}" "$WD/haproxy-${r%%:*}.cfg"
  # nginx: the proxy config above up to its server block, then the route list as a server of its own
  mkdir -p "$WD/nginx-${r%%:*}/tmp"
  sed -e "s|$WD/nginx/nginx.pid|$WD/nginx-${r%%:*}/nginx.pid|" -e '/^  server {$/,$d' "$WD/nginx/nginx.conf" >"$WD/nginx-${r%%:*}/nginx.conf"
  gen_routes nginx "${HTTP_PORT[nginx-${r%%:*}]}" "${r#*:}" "$WD/nginx-${r%%:*}/nginx.conf"
done
if ((want_tandemd)); then
  for f in "$WD"/tandemd/*.json; do "$TANDEMD" --check "$f" >/dev/null || die "tandemd --check $f failed"; done
  chmod 600 "$WD"/tandemd/certs/*.key
fi

cat >"$WD/report.lua" <<'EOF'
done = function(s, lat, req)
  io.write(string.format("L7B requests=%d duration_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    s.requests, s.duration, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    lat:percentile(50), lat:percentile(90), lat:percentile(99), lat.max))
end
EOF

cat >"$WD/idle_conns.py" <<'EOF'
# open N keep-alive connections, do one GET on each, then hold them idle
import socket, ssl, sys, signal
host, port, n, tls, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
ctx = None
if tls:
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
conns, ok = [], 0
req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
for i in range(n):
    s = socket.create_connection((host, port))
    if ctx: s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": clen = int(v)
    while len(body) < clen:
        d = s.recv(4096)
        if not d: break
        body += d
    ok += head.startswith(b"HTTP/1.1 200")
    conns.append(s)
with open(ready, "w") as f: f.write("%d\n" % ok)
signal.pause()
EOF

cat >"$WD/foreign.py" <<'EOF'
# CPU ticks used by user-space processes that are not descendants of ROOT (i.e. not ours):
# foreign.py ROOT SNAP_OUT [SNAP_PREV] -> prints "<delta_ticks> <top consumers>" (or "<ticks>" without PREV)
import os, sys, json
root, out = int(sys.argv[1]), sys.argv[2]
procs = {}
for d in os.listdir("/proc"):
    if not d.isdigit(): continue
    try: s = open("/proc/%s/stat" % d).read()
    except OSError: continue
    comm = s[s.index("(") + 1:s.rindex(")")]; r = s[s.rindex(")") + 2:].split()
    procs[int(d)] = (int(r[1]), comm, int(r[11]) + int(r[12]) + int(r[13]) + int(r[14]), int(r[11]) + int(r[12]))
kids = {}
for pid, v in procs.items(): kids.setdefault(v[0], []).append(pid)
ours, stack = {root}, [root]
while stack:
    for c in kids.get(stack.pop(), []):
        if c not in ours: ours.add(c); stack.append(c)
snap = {str(p): [v[1], v[2], v[3]] for p, v in procs.items() if p not in ours and p != 2 and v[0] != 2}
json.dump(snap, open(out, "w"))
tot = sum(v[1] for v in snap.values())
if len(sys.argv) > 3:
    prev = json.load(open(sys.argv[3]))
    dt = tot - sum(v[1] for v in prev.values())
    top = sorted(((v[2] - (prev[p][2] if p in prev else 0), v[0], p) for p, v in snap.items()), reverse=True)[:3]
    print(dt, " ".join("%s[%s]=%d" % (c, p, t) for t, c, p in top if t > 0) or "-")
else:
    print(tot)
EOF

# ------------------------------------------------------------------ extra proxy
has_custom=0
if [[ -n $PROXY_CMD ]]; then
  has_custom=1
  COLUMNS="$COLUMNS custom"
  export L7B_LISTEN_HOST=$PROXY_HOST L7B_LISTEN_PORT=${HTTP_PORT[custom]} L7B_TLS_PORT=${TLS_PORT[custom]}
  export L7B_ORIGIN_HOST=$ORIGIN_HOST L7B_ORIGIN_PORT=$ORIGIN_PORT
  export L7B_CERT=$WD/cert.pem L7B_KEY=$WD/key.pem L7B_CERT_KEY=$WD/cert+key.pem
  export L7B_WORKDIR=$WD/custom L7B_CONF=""
  if [[ -n $PROXY_CONF ]]; then
    [[ -r $PROXY_CONF ]] || die "PROXY_CONF $PROXY_CONF not readable"
    export L7B_CONF=$WD/custom/proxy.conf
    sed -e "s|@LISTEN_HOST@|$L7B_LISTEN_HOST|g; s|@LISTEN_PORT@|$L7B_LISTEN_PORT|g; s|@TLS_PORT@|$L7B_TLS_PORT|g" \
        -e "s|@ORIGIN_HOST@|$L7B_ORIGIN_HOST|g; s|@ORIGIN_PORT@|$L7B_ORIGIN_PORT|g" \
        -e "s|@CERT@|$L7B_CERT|g; s|@KEY@|$L7B_KEY|g; s|@CERT_KEY@|$L7B_CERT_KEY|g; s|@WORKDIR@|$L7B_WORKDIR|g" \
        "$PROXY_CONF" >"$L7B_CONF"
  fi
fi
label() { if [[ $1 == custom ]]; then echo "$PROXY_NAME"; else echo "$1"; fi; }
supports() { [[ ",${FEATURES[$1]}," == *",$2,"* ]]; }
needs_feature() { case $1 in ka|close) echo http ;; tls-ka|tls-hs) echo tls ;; tls-hs-rsa|tls-resume) echo tlsx ;; h2) echo h2 ;; routes) echo routes ;; esac; }

# ------------------------------------------------------------------ start processes
log "workdir $WD, results $RESULTS_DIR"
busy_ports=$(ss -Htln | awk '{print $4}')
for hp in "$ORIGIN_HOST:$ORIGIN_PORT" "$ORIGIN_HOST:$ORIGIN_TLS_PORT" "$ORIGIN_HOST:$ORIGIN_STATUS_PORT" \
          $(for col in $COLUMNS; do [[ $col == direct ]] || echo "$PROXY_HOST:${HTTP_PORT[$col]} ${TLS_PORT[$col]:+$PROXY_HOST:${TLS_PORT[$col]:-}}"; done); do
  port=${hp##*:}
  if grep -qE "^(${hp//./\\.}|0\.0\.0\.0:$port|\*:$port|\[::\]:$port)\$" <<<"$busy_ports"; then
    die "port $hp already in use (someone else's listener); rerun with PORT_OFFSET=<n>"
  fi
done
start_bg origin "$ORIGIN_CPU" nginx -p "$WD/origin/" -c "$WD/origin/nginx.conf"
wait_http "http://$ORIGIN_HOST:$ORIGIN_PORT/" || die "origin did not come up ($(tail -3 "$WD/origin.log"))"

start_proxy() {
  case $1 in
    haproxy-http) start_bg haproxy-http "$PROXY_CPU" haproxy -db -f "$WD/haproxy-http.cfg" ;;
    haproxy-tcp)  start_bg haproxy-tcp  "$PROXY_CPU" haproxy -db -f "$WD/haproxy-tcp.cfg" ;;
    nginx)        start_bg nginx        "$PROXY_CPU" nginx -p "$WD/nginx/" -c "$WD/nginx/nginx.conf" ;;
    custom)       start_bg custom       "$PROXY_CPU" bash -c "exec $PROXY_CMD" ;;
    tandemd-base) start_bg "$1" "$PROXY_CPU" "$TANDEMD_BASE" -c "$WD/tandemd/$1.json" -s "$WD/tandemd/$1.sock" -w 1 \
                    --cert-dir "$WD/tandemd/certs" ;;
    tandemd*)     start_bg "$1" "$PROXY_CPU" "$TANDEMD" -c "$WD/tandemd/$1.json" -s "$WD/tandemd/$1.sock" -w 1 \
                    --cert-dir "$WD/tandemd/certs" ;;
    haproxy-r*)   start_bg "$1" "$PROXY_CPU" haproxy -db -f "$WD/$1.cfg" ;;
    nginx-r*)     start_bg "$1" "$PROXY_CPU" nginx -p "$WD/$1/" -c "$WD/$1/nginx.conf" ;;
    direct)       return 0 ;;
  esac
  wait_http "http://${HOST_OF[$1]}:${HTTP_PORT[$1]}/" ||
    die "$(label "$1") did not answer 200 on ${HTTP_PORT[$1]}: $(tail -5 "$WD/$1.log")"
}
for col in $COLUMNS; do start_proxy "$col"; done
PID_OF[direct]=${PID_OF[origin]}

# ------------------------------------------------------------------ probes
tree_pids() { echo "$1"; descendants "$1"; }
mem_kb() {  # "<rss_kb> <pss_kb>" summed over the process tree of $1
  local rss=0 pss=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/{print $2}' /proc/"$p"/status 2>/dev/null) && rss=$((rss + ${v:-0}))
    v=$(awk '/^Pss:/{print $2}' /proc/"$p"/smaps_rollup 2>/dev/null) && pss=$((pss + ${v:-0}))
  done
  echo "$rss $pss"
}
hwm_kb() { local s=0 p v; for p in $(tree_pids "$1"); do v=$(awk '/^VmHWM:/{print $2}' /proc/"$p"/status 2>/dev/null); s=$((s + ${v:-0})); done; echo $s; }
cpu_ticks() {  # utime+stime ticks summed over the process tree of $1
  local s=0 p f
  for p in $(tree_pids "$1"); do
    f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
    f=${f##*) }; set -- $f; s=$((s + ${12} + ${13}))
  done
  echo $s
}
core_stat() {  # "<busy> <total> <steal>" ticks for cpu$1 (busy = user+nice+system+irq+softirq)
  awk -v c="cpu$1" '$1==c{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9, $9}' /proc/stat
}
origin_counts() {  # "<accepts> <requests>" from the origin's stub_status (minus our own probe)
  local r  # tandem: "0 0" when the origin is too busy to answer in time (the counts are then wrong, not the run)
  r=$(curl -s --max-time 5 "http://$ORIGIN_HOST:$ORIGIN_STATUS_PORT/" | awk 'NR==3{print $1, $3}')
  echo "${r:-0 0}"
}
TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ versions, TLS probe
declare -A RESUMES=()
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm); $(nproc) cpus; $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "debian: $(cat /etc/debian_version)"
  for p in haproxy nginx wrk nghttp2-client openssl libssl3 python3; do
    printf '%s: %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
  done
  echo "haproxy -v: $(haproxy -v | head -1)"
  echo "nginx -v: $(nginx -v 2>&1)"
  echo "h2load: $(h2load --version 2>&1 | head -1)"
  if ((want_tandemd)); then
    echo "tandemd: $TANDEMD ($("$TANDEMD" -V 2>&1 | head -1)); source $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?') on branch $(git -C "$SRCDIR" rev-parse --abbrev-ref HEAD 2>/dev/null || echo '?'); CFLAGS $(sed -n 's/^CFLAGS = //p' "$(dirname "$(dirname "$TANDEMD")")/Makefile" 2>/dev/null || echo '?'); features http, TLS (no h2)"
    echo "routes scenario: ${ROUTES_FEW} vs ${ROUTES_MANY} routes, match is the last in order; GET /app/index keep-alive"
  fi
  if ((has_custom)); then echo "$PROXY_NAME: PROXY_CMD=$PROXY_CMD PROXY_CONF=${PROXY_CONF:-none} features=$PROXY_FEATURES"; fi
  echo "layout: PIN=$PIN proxy_cpu=$PROXY_CPU load_cpu=$LOAD_CPU origin_cpu=$ORIGIN_CPU"
  echo "params: DURATION=${DURATION:-10 for ka, 8 for others}${DURATION:+s} REPS=$REPS CONNS=$CONNS H2_STREAMS=$H2_STREAMS IDLE_CONNS=$IDLE_CONNS WARMUP=${WARMUP}s HAPROXY_REUSE=$HAPROXY_REUSE"
  echo "limits: nofile=$NOFILE haproxy maxconn=$MAXCONN nginx worker_connections=$((MAXCONN * 2)) nginx upstream keepalive=1024"
  echo "sysctl: tw_reuse=$(sysctl -n net.ipv4.tcp_tw_reuse) port_range=$(sysctl -n net.ipv4.ip_local_port_range | tr '\t' -) somaxconn=$(sysctl -n net.core.somaxconn)"
  for col in $COLUMNS; do
    supports "$col" tls || continue
    t=$(echo Q | timeout 15 openssl s_client -connect "${HOST_OF[$col]}:${TLS_PORT[$col]}" -servername localhost -alpn h2,http/1.1 2>/dev/null || true)  # a probe timing out on a loaded host is no reason to stop
    printf 'tls %s: %s | %s | sig %s | ALPN %s\n' "$(label "$col")" \
      "$(sed -n 's/^New, \(.*\)$/\1/p' <<<"$t" | head -1)" "$(awk -F': ' '/Server Temp Key/{print $2; exit}' <<<"$t")" \
      "$(awk -F': ' '/Peer signature type/{print $2; exit}' <<<"$t")" "$(awk -F': ' '/ALPN protocol/{print $2; exit}' <<<"$t")"
    # does the server let a client resume? (wrk resumes when it can; tls-hs must be full handshakes)
    req=$'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
    sess=$WD/sess.$col.pem; rm -f "$sess"
    timeout 5 openssl s_client -connect "${HOST_OF[$col]}:${TLS_PORT[$col]}" -servername localhost -alpn http/1.1 \
      -ign_eof -sess_out "$sess" <<<"$req" >/dev/null 2>&1 || true
    r=NO
    if [[ -s $sess ]] && timeout 5 openssl s_client -connect "${HOST_OF[$col]}:${TLS_PORT[$col]}" -servername localhost \
         -alpn http/1.1 -ign_eof -sess_in "$sess" <<<"$req" 2>/dev/null | grep -q '^Reused'; then
      r=YES; RESUMES[$col]=1
    fi
    printf 'tls %s: session resumption accepted: %s\n' "$(label "$col")" "$r"
    if supports "$col" tlsx; then  # tandem: the RSA and the resumption ports
      t=$(echo Q | timeout 15 openssl s_client -connect "${HOST_OF[$col]}:$((TLS_PORT[$col] + 1))" -servername localhost 2>/dev/null || true)
      printf 'tls %s +1: %s | sig %s | %s\n' "$(label "$col")" "$(sed -n 's/^New, \(.*\)$/\1/p' <<<"$t" | head -1)" \
        "$(awk -F': ' '/Peer signature type/{print $2; exit}' <<<"$t")" "$(grep -o 'Server public key is [0-9]* bit' <<<"$t")"
      sess=$WD/sess2.$col.pem; rm -f "$sess"; r=NO
      timeout 5 openssl s_client -connect "${HOST_OF[$col]}:$((TLS_PORT[$col] + 2))" -servername localhost -alpn http/1.1 \
        -ign_eof -sess_out "$sess" <<<"$req" >/dev/null 2>&1 || true
      [[ -s $sess ]] && timeout 5 openssl s_client -connect "${HOST_OF[$col]}:$((TLS_PORT[$col] + 2))" -servername localhost \
        -alpn http/1.1 -ign_eof -sess_in "$sess" <<<"$req" 2>/dev/null | grep -q '^Reused' && r=YES
      printf 'tls %s +2: session resumption accepted: %s (must be YES for tls-resume)\n' "$(label "$col")" "$r"
    fi
  done
} >"$RESULTS_DIR/env.txt"
cat "$RESULTS_DIR/env.txt" >&2

# ------------------------------------------------------------------ memory probe
MEMCSV=$RESULTS_DIR/memory.csv
echo "column,idle_rss_kb,idle_pss_kb,plain_base_rss_kb,plain_rss_kb,plain_pss_kb,plain_conns,tls_base_rss_kb,tls_rss_kb,tls_pss_kb,tls_conns,after_rss_kb,after_pss_kb,hwm_kb" >"$MEMCSV"
HELD=""
hold_conns() {  # hold_conns <col> <tls 0|1>: sets HELD="<rss before> <rss> <pss> <established>" measured while N idle conns are open
  local col=$1 tls=$2 port ready pid i est m base
  if [[ $tls == 1 ]]; then port=${TLS_PORT[$col]}; else port=${HTTP_PORT[$col]}; fi
  ready=$WD/ready.$col.$tls; rm -f "$ready"
  base=$(mem_kb "${PID_OF[$col]}"); base=${base%% *}
  pinpfx "$LOAD_CPU"
  "${PFX[@]}" python3 "$WD/idle_conns.py" "${HOST_OF[$col]}" "$port" "$IDLE_CONNS" "$tls" "$ready" >"$WD/idle.$col.$tls.log" 2>&1 &
  pid=$!; LOADGEN_PID=$pid
  for ((i = 0; i < 1200; i++)); do [[ -s $ready || ! -d /proc/$pid ]] && break; sleep 0.1; done
  sleep 1
  m=$(mem_kb "${PID_OF[$col]}")
  est=$(ss -Htn state established "( sport = :$port )" | wc -l)
  stop_pid "$pid"; LOADGEN_PID=""
  [[ -s $ready ]] || log "WARN: idle-conn client for $(label "$col") tls=$tls failed: $(tail -2 "$WD/idle.$col.$tls.log")"
  HELD="$base $m $est"
}
declare -A MEMROW=()
if ((IDLE_CONNS > 0)); then
  for col in $COLUMNS; do
    [[ $col == direct ]] && continue
    supports "$col" http || continue   # tandem: the routes-only columns are not memory-probed
    idle=$(mem_kb "${PID_OF[$col]}")
    hold_conns "$col" 0; plain=$HELD; sleep 1
    if supports "$col" tls; then hold_conns "$col" 1; tlsm=$HELD; sleep 1; else tlsm="NA NA NA NA"; fi
    MEMROW[$col]="${idle// /,},${plain// /,},${tlsm// /,}"
    log "memory $(label "$col"): idle rss,pss=$idle; +${IDLE_CONNS} plain: rss before,rss,pss,conns=$plain; +${IDLE_CONNS} TLS: $tlsm"
  done
fi

# ------------------------------------------------------------------ load runs
RUNCSV=$RESULTS_DIR/runs.csv
echo "scenario,column,rep,attempt,used,rps,p50_us,p99_us,requests,errors,sut_cpu_pct,proxy_core_busy_pct,load_core_busy_pct,steal_pct,foreign_cpu_pct,upstream_conns,origin_reqs,note,foreign_top" >"$RUNCSV"

url_for() {  # url_for <col> <scenario>
  local col=$1
  case $2 in
    ka|close) echo "http://${HOST_OF[$col]}:${HTTP_PORT[$col]}/" ;;
    routes)   echo "http://${HOST_OF[$col]}:${HTTP_PORT[$col]}/app/index" ;;
    tls-hs-rsa) echo "https://${HOST_OF[$col]}:$((TLS_PORT[$col] + 1))/" ;;
    tls-resume) echo "https://${HOST_OF[$col]}:$((TLS_PORT[$col] + 2))/" ;;
    *)        echo "https://${HOST_OF[$col]}:${TLS_PORT[$col]}/" ;;
  esac
}

loadgen() {  # loadgen <scenario> <url> <secs> <outfile> [logfile]  (foreground, pinned)
  local sc=$1 url=$2 secs=$3 out=$4 lf=${5:-}
  pinpfx "$LOAD_CPU"
  case $sc in
    ka|tls-ka|routes) "${PFX[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$WD/report.lua" "$url" >"$out" 2>&1 & ;;
    close|tls-hs|tls-hs-rsa|tls-resume) "${PFX[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s --latency -s "$WD/report.lua" -H 'Connection: close' "$url" >"$out" 2>&1 & ;;
    h2)           "${PFX[@]}" h2load -t1 -c"$CONNS" -m"$H2_STREAMS" -D "$secs" ${lf:+--log-file="$lf"} "$url" >"$out" 2>&1 & ;;
  esac
  LOADGEN_PID=$!
  wait "$LOADGEN_PID" || true
  LOADGEN_PID=""
}

foreign_snap() { pinpfx "$LOAD_CPU"; "${PFX[@]}" python3 "$WD/foreign.py" $$ "$@"; }

wait_quiet() {  # wait until non-our processes use <= FOREIGN_MAX % of a core (2 s windows), at most QUIET_MAX s
  local t=0 fr pct
  foreign_snap "$WD/q0.json" >/dev/null
  while ((t < QUIET_MAX)); do
    sleep 2; t=$((t + 2))
    fr=$(foreign_snap "$WD/q1.json" "$WD/q0.json"); mv -f "$WD/q1.json" "$WD/q0.json"
    pct=$(( ${fr%% *} * 100 / (TCK * 2) ))
    if ((pct <= FOREIGN_MAX)); then return 0; fi
  done
  log "machine still busy after ${QUIET_MAX}s: ${pct}% of a core (${fr#* })"
}

RUN_NOISY=0 RETRY_SPENT=0
run_one() {  # run_one <scenario> <col> <rep> <attempt>
  local sc=$1 col=$2 rep=$3 att=$4 url out lf="" c0 c1 p0 p1 o0 o1 l0 l1 t0 t1 e0 e1 fr fticks fpct used dur
  url=$(url_for "$col" "$sc"); dur=$(dur_of "$sc")
  out=$RESULTS_DIR/raw/$sc.$(label "$col").$rep.$att.txt
  [[ $sc == h2 ]] && lf=$WD/h2.log && rm -f "$lf"
  read -r c0 o0 <<<"$(origin_counts)"
  foreign_snap "$WD/f0.json" >/dev/null
  p0=$(core_stat "$PROXY_CPU"); l0=$(core_stat "$LOAD_CPU"); t0=$(cpu_ticks "${PID_OF[$col]}")
  loadgen "$sc" "$url" "$dur" "$out" "$lf"
  t1=$(cpu_ticks "${PID_OF[$col]}"); p1=$(core_stat "$PROXY_CPU"); l1=$(core_stat "$LOAD_CPU")
  fr=$(foreign_snap "$WD/f1.json" "$WD/f0.json")
  read -r c1 o1 <<<"$(origin_counts)"
  read -r _ e0 _ <<<"$p0"; read -r _ e1 _ <<<"$p1"   # elapsed ticks on one core = wall time
  fticks=${fr%% *}; fpct=$(( fticks * 100 / (e1 - e0 > 0 ? e1 - e0 : 1) ))
  RUN_NOISY=0; used=1
  if ((fpct > FOREIGN_MAX)); then
    RUN_NOISY=1
    if ((att <= RETRY_NOISY && RETRY_SPENT < RETRY_BUDGET)); then used=0; fi
  fi
  python3 - "$sc" "$col" "$rep" "$out" "$lf" "$t0 $t1" "$p0 $p1" "$l0 $l1" "$c0 $c1" "$o0 $o1" "$TCK" "$dur" "$(label "$col")" \
    "$att" "$used" "$fticks" "${fr#* }" "$([[ $sc == tls-hs && -n ${RESUMES[$col]:-} ]] && echo server-allows-resumption)" >>"$RUNCSV" <<'PYEOF'
import sys, re
sc, col, rep, out, lf = sys.argv[1:6]
t0, t1 = map(int, sys.argv[6].split())
pb0, pt0, ps0, pb1, pt1, ps1 = map(int, sys.argv[7].split()); lb0, lt0, ls0, lb1, lt1, ls1 = map(int, sys.argv[8].split())
c0, c1 = map(int, sys.argv[9].split()); o0, o1 = map(int, sys.argv[10].split()); tck = int(sys.argv[11]); dur = float(sys.argv[12]); name = sys.argv[13]
att, used, fticks, ftop = sys.argv[14], sys.argv[15], int(sys.argv[16]), sys.argv[17]
extra = sys.argv[18] if len(sys.argv) > 18 else ""
txt = open(out, errors="replace").read()
rps = p50 = p99 = reqs = errs = None; note = ""
m = re.search(r"^L7B (.*)$", txt, re.M)
if m:  # wrk, via report.lua
    d = dict(kv.split("=") for kv in m.group(1).split())
    reqs = int(d["requests"]); secs = int(d["duration_us"]) / 1e6
    rps = reqs / secs; p50 = int(d["p50_us"]); p99 = int(d["p99_us"])
    errs = sum(int(d[k]) for k in d if k.startswith("err_"))
    if errs: note = "errors:" + "/".join(f"{k[4:]}={d[k]}" for k in d if k.startswith("err_") and d[k] != "0")
else:  # h2load
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", txt)
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", txt)
    if m and r:
        reqs = int(r.group(4)); rps = float(m.group(2))
        errs = int(r.group(5)) + int(r.group(6)) + int(r.group(7))
        proto = re.search(r"Application protocol: (\S+)", txt)
        if not proto or proto.group(1) != "h2": note = "not-h2"
        lat = []
        try:
            for line in open(lf):
                f = line.split()
                if len(f) >= 3: lat.append(int(f[2]))
        except OSError: pass
        if lat:
            lat.sort(); p50 = lat[len(lat) // 2]; p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        if errs: note += " errors=%d" % errs
    else:
        note = "no-result"
sut = 100.0 * (t1 - t0) / max(1, pt1 - pt0) if col != "direct" else None
pbusy = 100.0 * (pb1 - pb0) / max(1, pt1 - pt0); lbusy = 100.0 * (lb1 - lb0) / max(1, lt1 - lt0)
steal = 100.0 * ((ps1 - ps0) + (ls1 - ls0)) / max(1, (pt1 - pt0) + (lt1 - lt0))
fpct = 100.0 * fticks / max(1, pt1 - pt0)
if extra: note += " " + extra
if used == "0": note += " noisy-redone"
elif fpct > float(__import__("os").environ.get("FOREIGN_MAX", "5")): note += " noisy"
fmt = lambda v, f="%.0f": "" if v is None else f % v
print(",".join([sc, name, rep, att, used, fmt(rps, "%.1f"), fmt(p50), fmt(p99), fmt(reqs), fmt(errs), fmt(sut, "%.1f"),
                "%.1f" % pbusy, "%.1f" % lbusy, "%.2f" % steal, "%.1f" % fpct, str(c1 - c0 - 1), str(o1 - o0 - 1),
                note.strip(), ftop.replace(",", ";")]))
PYEOF
  log "$(tail -1 "$RUNCSV")"
}

T_START=$(date +%s)
for sc in $SCENARIOS; do
  feat=$(needs_feature "$sc")
  cols=()
  for col in $COLUMNS; do supports "$col" "$feat" && cols+=("$col"); done
  ((${#cols[@]})) || continue
  if ((WARMUP > 0)); then
    for col in "${cols[@]}"; do loadgen "$sc" "$(url_for "$col" "$sc")" "$WARMUP" "$WD/warmup.txt"; done
  fi
  for ((rep = 1; rep <= REPS; rep++)); do
    order=("${cols[@]}")
    if ((rep % 2 == 0)); then  # serpentine: A B C D, D C B A, A B C D ...
      order=(); for ((i = ${#cols[@]} - 1; i >= 0; i--)); do order+=("${cols[i]}"); done
    fi
    for col in "${order[@]}"; do
      for ((att = 1; att <= RETRY_NOISY + 1; att++)); do
        t_att=$(date +%s)
        run_one "$sc" "$col" "$rep" "$att"
        ((RUN_NOISY)) || break
        ((att <= RETRY_NOISY && RETRY_SPENT < RETRY_BUDGET)) || break
        wait_quiet
        RETRY_SPENT=$((RETRY_SPENT + $(date +%s) - t_att))
      done
    done
  done
done

# memory after the load runs (warm pools) and peak
if ((IDLE_CONNS > 0)); then
  for col in $COLUMNS; do
    [[ $col == direct ]] && continue
    supports "$col" http || continue   # tandem: the routes-only columns are not memory-probed
    a=$(mem_kb "${PID_OF[$col]}"); h=$(hwm_kb "${PID_OF[$col]}")
    echo "$(label "$col"),${MEMROW[$col]},${a// /,},$h" >>"$MEMCSV"
  done
fi
log "load phase took $(( $(date +%s) - T_START ))s"

# ------------------------------------------------------------------ summary
python3 - "$RUNCSV" "$MEMCSV" "$RESULTS_DIR/env.txt" "$IDLE_CONNS" "$FOREIGN_MAX" "$COLUMNS" "$ROUTES_FEW" "$ROUTES_MANY" >"$RESULTS_DIR/summary.md" <<'PYEOF'
import csv, sys, statistics as st
allruns = list(csv.DictReader(open(sys.argv[1])))
runs = [r for r in allruns if r["used"] == "1"]
mem = list(csv.DictReader(open(sys.argv[2])))
env = open(sys.argv[3]).read()
n_idle = int(sys.argv[4]); fmax = float(sys.argv[5])
names = {"ka": "(a) h1 keep-alive", "close": "(b) conn/req", "tls-ka": "(c) TLS keep-alive",
         "tls-hs": "(d) TLS handshake/req", "h2": "(e) h2 over TLS", "routes": "(f) routes, keep-alive",
         "tls-hs-rsa": "(g) TLS RSA-2048 handshake/req", "tls-resume": "(h) TLS resumed handshake/req"}
all_cols = sys.argv[6].split(); r_few, r_many = sys.argv[7], sys.argv[8]
S = {}   # tandem: (scenario, column) -> medians, for the ratio and target tables
order_sc = [s for s in names if any(r["scenario"] == s for r in runs)]
cols = []
for r in runs:
    if r["column"] not in cols: cols.append(r["column"])
def f(v): return float(v) if v not in ("", None) else None
def med(xs):
    xs = [x for x in xs if x is not None]
    return st.median(xs) if xs else None
fm = lambda v, p="%.2f": "-" if v is None else p % v
print("# L7 reverse-proxy benchmark (loopback)\n\n```\n" + env + "```\n")
print("## Throughput and latency\n")
print("req/s: median of the reps (min-max); ratio = median / haproxy-http median; paired = range of the per-rep "
      "ratios (rep i of a column / rep i of haproxy-http, measured seconds apart); spread = (max-min)/median. "
      "SUT µs/req = CPU time of the proxy per request (the figure that stays comparable whatever bounds req/s). "
      "proxy core / load core = busy % of those cores (/proc/stat). bound = which of them was >= 95% busy: load means "
      "req/s is the load side's limit, not the proxy's. direct = wrk straight to the origin: for plain HTTP it is "
      "the load side's ceiling when origin and load share a core; for TLS/h2 the origin then also does the TLS work "
      "on that core, so proxied columns can beat it. foreign = CPU used by processes this run did not start, "
      "% of one core (median); '!' marks cells above FOREIGN_MAX.\n")
print("| scenario | column | req/s | min-max | spread | ratio | paired | p50 ms | p99 ms | SUT CPU % | SUT µs/req | proxy core % | load core % | bound | upstream conn/req | foreign % | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
for sc in order_sc:
    rs = [r for r in runs if r["scenario"] == sc]
    base = med([f(r["rps"]) for r in rs if r["column"] == "haproxy-http"])
    base_rep = {r["rep"]: f(r["rps"]) for r in rs if r["column"] == "haproxy-http"}
    for c in cols:
        cr = [r for r in rs if r["column"] == c]
        if not cr: continue
        rps = [f(r["rps"]) for r in cr if f(r["rps"]) is not None]
        if not rps:
            print(f"| {names[sc]} | {c} | failed |" + " |" * 15); continue
        m = st.median(rps)
        ratio = f"{m / base:.2f}" if base else "-"
        pr = [f(r["rps"]) / base_rep[r["rep"]] for r in cr if f(r["rps"]) and base_rep.get(r["rep"])]
        paired = f"{min(pr):.2f}-{max(pr):.2f}" if pr and c != "haproxy-http" else "-"
        p50 = med([f(r["p50_us"]) for r in cr]); p99 = med([f(r["p99_us"]) for r in cr])
        sut = med([f(r["sut_cpu_pct"]) for r in cr])
        us_req = med([f(r["sut_cpu_pct"]) * 1e4 / f(r["rps"]) if f(r["sut_cpu_pct"]) is not None and f(r["rps"]) else None for r in cr])
        load = med([f(r["load_core_busy_pct"]) for r in cr]); pcore = med([f(r["proxy_core_busy_pct"]) for r in cr])
        if sut is None: bound = "-"
        else:
            ps, ls = pcore >= 95, load >= 95
            bound = {(True, True): "both", (True, False): "proxy", (False, True): "load", (False, False): "neither"}[(ps, ls)]
        S[(sc, c)] = dict(rps=m, p50=p50, p99=p99, us=us_req, bound=bound, pcore=pcore, load=load,
                          errs=sum(int(r["errors"] or 0) for r in cr), n=len(cr),
                          noisy=any("noisy" in r["note"] for r in cr))
        up = med([f(r["upstream_conns"]) / f(r["requests"]) if f(r["requests"]) else None for r in cr])
        fo = med([f(r["foreign_cpu_pct"]) for r in cr])
        errs = sum(int(r["errors"] or 0) for r in cr)
        flag = "" if fo is None or fo <= fmax else " !"
        print(f"| {names[sc]} | {c} | {m:,.0f} | {min(rps):,.0f}-{max(rps):,.0f} | {100 * (max(rps) - min(rps)) / m:.1f}% | {ratio} | {paired} | "
              f"{fm(p50 and p50 / 1000)} | {fm(p99 and p99 / 1000)} | {fm(sut, '%.0f')} | {fm(us_req, '%.1f')} | "
              f"{fm(pcore, '%.0f')} | {fm(load, '%.0f')} | {bound} | "
              f"{fm(up, '%.3f')} | {fm(fo, '%.0f')}{flag} | {errs} |")
    if sc == "h2" and "tandemd" in all_cols:
        print(f"| {names[sc]} | tandemd | n/a: tandemd has no h2 yet |" + " |" * 15)
redone = [r for r in allruns if r["used"] == "0"]
noisy = [r for r in runs if "noisy" in r["note"]]
other = [r for r in runs if r["note"] and "noisy" not in r["note"]]
print(f"\nRuns: {len(runs)} used, {len(redone)} redone because other processes used > {fmax:g}% of a core, "
      f"{len(noisy)} used although noisy (retry budget spent)" + (": " + ", ".join(f"{r['scenario']}/{r['column']}/{r['rep']} ({r['foreign_cpu_pct']}%)" for r in noisy) if noisy else "") + ".")
if other:
    print("Other notes: " + "; ".join(f"{r['scenario']}/{r['column']}/{r['rep']}: {r['note']}" for r in other))
MEMK = {}
MEMT = {}   # tandem: KiB per idle TLS connection
if mem and n_idle:
    print(f"\n## Memory\n\nKiB, summed over the proxy's process tree (nginx: master + worker). Per connection = (RSS while {n_idle} "
          f"idle keep-alive connections are open, one request done on each - RSS just before opening them) / {n_idle}; plain first, "
          f"then TLS; kernel socket buffers are not in RSS. haproxy-tcp also holds one origin connection per client connection.\n")
    print("| column | idle RSS | idle PSS | RSS, +plain conns | KiB/plain conn | RSS, +TLS conns | KiB/TLS conn | conns seen plain/TLS | RSS after load | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in mem:
        pl, pb = f(m["plain_rss_kb"]), f(m["plain_base_rss_kb"])
        tl, tb = (f(m["tls_rss_kb"]), f(m["tls_base_rss_kb"])) if m["tls_rss_kb"] != "NA" else (None, None)
        pc = f"{(pl - pb) / n_idle:.1f}" if pl and pb else "-"
        tc = f"{(tl - tb) / n_idle:.1f}" if tl and tb else "-"
        MEMK[m["column"]] = (pl - pb) / n_idle if pl and pb else None
        MEMT[m["column"]] = (tl - tb) / n_idle if tl and tb else None
        print(f"| {m['column']} | {m['idle_rss_kb']} | {m['idle_pss_kb']} | {m['plain_rss_kb']} | {pc} | {m['tls_rss_kb'] if tl else 'n/a'} | {tc} | "
              f"{m['plain_conns']}/{m['tls_conns']} | {m['after_rss_kb'] or '-'} | {m['hwm_kb'] or '-'} |")
# tandem: ratios to HAProxy and the issue-3 targets
def ratio(a, b): return a / b if a is not None and b else None
print("\n## Ratios to HAProxy (same run)\n\nEach figure of a column divided by haproxy-http's in the same scenario "
      "(scenario routes: by haproxy-r10's, the same 10-route list in HAProxy). Below 1 is better for everything "
      "but req/s. req/s is only the proxy's own limit where bound = proxy; CPU µs/req is comparable either way.\n")
print("| scenario | column | req/s | p50 | p99 | CPU µs/req | KiB/idle conn |")
print("|---|---|---:|---:|---:|---:|---:|")
for sc in order_sc:
    ref = S.get((sc, "haproxy-r10" if sc == "routes" else "haproxy-http"))
    for c in cols:
        x = S.get((sc, c))
        if not x or not ref or c == "direct": continue
        mk = fm(ratio(MEMK.get(c), MEMK.get("haproxy-http"))) if sc == "ka" else \
            fm(ratio(MEMT.get(c), MEMT.get("haproxy-http"))) if sc == "tls-ka" else ""
        print(f"| {names[sc]} | {c} | {fm(ratio(x['rps'], ref['rps']))} | {fm(ratio(x['p50'], ref['p50']))} | "
              f"{fm(ratio(x['p99'], ref['p99']))} | {fm(ratio(x['us'], ref['us']))} | {mk} |")
print("\n## Issue 3 targets (tandemd)\n")
print("| target | measured | met? |")
print("|---|---|---|")
def verdict(v, lim):
    return "no data" if v is None else ("yes" if v <= lim else "**no**")
def tgt(label, sc, key, lim):
    t, h = S.get((sc, "tandemd")), S.get((sc, "haproxy-http"))
    if not t or not h:
        print(f"| {label} | not measured | - |"); return
    v = ratio(t[key], h[key])
    unit = " µs" if key == "us" else " ms"
    scale = 1 if key == "us" else 1e-3
    nz = ", **noisy run**" if t["noisy"] or h["noisy"] else ""
    print(f"| {label} | {fm(v)}× ({fm(t[key] * scale, '%.1f' if key == 'us' else '%.2f')} vs {fm(h[key] * scale, '%.1f' if key == 'us' else '%.2f')}{unit}{nz}) | {verdict(v, lim)} |")
tgt("CPU/req, keep-alive <= 0.8x HAProxy", "ka", "us", 0.8)
tgt("CPU/req, new connection per request <= 1.0x HAProxy", "close", "us", 1.0)
tgt("p99, keep-alive <= HAProxy", "ka", "p99", 1.0)
tgt("p99, new connection per request <= HAProxy", "close", "p99", 1.0)
k = MEMK.get("tandemd")
print(f"| memory per idle keep-alive connection <= 1 KiB | {fm(k, '%.1f')} KiB (haproxy-http {fm(MEMK.get('haproxy-http'), '%.1f')}, nginx {fm(MEMK.get('nginx'), '%.1f')}) | {verdict(k, 1.0)} |")
a, b = S.get(("routes", "tandemd-r10")), S.get(("routes", "tandemd-r1000"))
if a and b:
    v = ratio(b["us"], a["us"])
    nz = ", **noisy run**" if a["noisy"] or b["noisy"] else ""
    print(f"| {r_many} routes cost <= 2x {r_few} routes (CPU µs/req) | {fm(v)}× ({fm(b['us'], '%.1f')} vs {fm(a['us'], '%.1f')} µs{nz}; "
          f"+{fm(b['us'] - a['us'] if b['us'] and a['us'] else None, '%.1f')} µs/req; req/s {fm(ratio(b['rps'], a['rps']))}×) | {verdict(v, 2.0)} |")
    ha, hb = S.get(("routes", "haproxy-r10")), S.get(("routes", "haproxy-r1000"))
    if ha and hb:
        print(f"| (reference) HAProxy, {r_many} vs {r_few} linear use_backend rules | {fm(ratio(hb['us'], ha['us']))}× "
              f"({fm(hb['us'], '%.1f')} vs {fm(ha['us'], '%.1f')} µs) | - |")
    na, nb = S.get(("routes", "nginx-r10")), S.get(("routes", "nginx-r1000"))
    if na and nb:
        print(f"| (reference) nginx, {r_many} vs {r_few} prefix locations | {fm(ratio(nb['us'], na['us']))}× "
              f"({fm(nb['us'], '%.1f')} vs {fm(na['us'], '%.1f')} µs) | - |")
else:
    print("| routes: 1000 <= 2x 10 | not measured | - |")
print("\n## Issue 4 targets (tandemd, TLS)\n")
print("| target | measured | met? |")
print("|---|---|---|")
tgt("CPU/req, TLS keep-alive <= 0.8x HAProxy", "tls-ka", "us", 0.8)
def tgt_min(label, sc):  # req/s at least HAProxy's; with CPU/req beside (handshake scenarios are often load-bound)
    t, h = S.get((sc, "tandemd")), S.get((sc, "haproxy-http"))
    if not t or not h:
        print(f"| {label} | not measured | - |"); return
    v = ratio(t["rps"], h["rps"]); u = ratio(t["us"], h["us"])
    nz = ", **noisy run**" if t["noisy"] or h["noisy"] else ""
    ok = "no data" if v is None else ("yes" if v >= 1.0 else "**no**")
    print(f"| {label} | {fm(v)}× ({t['rps']:,.0f} vs {h['rps']:,.0f}/s, bound {t['bound']}/{h['bound']}; CPU/handshake {fm(u)}×{nz}) | {ok} |")
tgt_min("full handshakes/s, ECDSA P-256 >= HAProxy", "tls-hs")
tgt_min("full handshakes/s, RSA-2048 >= HAProxy", "tls-hs-rsa")
tgt_min("resumed handshakes/s >= HAProxy", "tls-resume")
k, hk = MEMT.get("tandemd"), MEMT.get("haproxy-http")
v = ratio(k, hk)
print(f"| memory per idle TLS connection <= 0.5x HAProxy | {fm(k, '%.1f')} KiB vs {fm(hk, '%.1f')} KiB = {fm(v)}× (nginx {fm(MEMT.get('nginx'), '%.1f')}) | {verdict(v, 0.5)} |")
print("| CPU/req, HTTP/2 <= 0.8x HAProxy | not measured: tandemd has no h2 yet | - |")
print("\nVerdicts are on this run's medians only. \"noisy run\": other processes used more than FOREIGN_MAX % of a core "
      "during a run that fed the figure (see Runs above); rerun on a quiet machine before trusting it. The routes target is "
      "judged on whole-request CPU, where a lookup cost hides behind the rest: bench/route-micro.sh times the lookup alone.")
print("\nSUT CPU % = utime+stime of the column's process tree / wall time (tick-sampled; includes softirq work done in its "
      "context). upstream conn/req = connections the origin accepted per client request. Latency: wrk measures from the "
      "first request byte, so for (b)/(d) it excludes TCP connect and the TLS handshake; h2 latency is per stream from "
      "h2load's log. Raw per-run data: runs.csv, raw/.")
PYEOF
cat "$RESULTS_DIR/summary.md"
log "results in $RESULTS_DIR"
