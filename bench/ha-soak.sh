#!/usr/bin/env bash
# bench/ha-soak.sh - no spurious VRRP failover under full load (issue 7):
# the HA pair of tests/integration/lib-ha.sh (two tandemds with real
# keepalived, the peer link, network namespaces on one bridge, 192.0.2.0/24
# only) with fast adverts, both cores loaded for DURATION seconds by wrk
# through the VIP (and CPU hogs when wrk alone leaves idle time), then the
# role transitions both nodes saw (their tandemd, which reads keepalived's
# notify FIFO) and the client's errors are counted. Both must be 0.
# Never part of the test suite (doc/ha.md "Spurious failover under load").
#
#   bench/ha-soak.sh                       as root; 10 minutes
#   DURATION=60 bench/ha-soak.sh           a short look
#
# Environment: B (build dir, default build-test), DURATION (600 s), ADV_MS
# (advert interval, default 50 ms: see doc/ha.md), CONNS (wrk
# connections, 64), HOGS (busy loops beside wrk: "auto" (default) adds one
# per core that wrk leaves idle in a 5 s probe, or a number), OUT (a file
# that gets the summary). Exit 0 when there was no transition and no client
# error.
set -uo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
B="${B:-$SRC/build-test}"
export B SRC
. "$SRC/tests/integration/lib.sh"
PFX="soak$$-"
. "$SRC/tests/integration/lib-ha.sh"
command -v wrk >/dev/null || skip "wrk is not installed (apt-get install wrk)"
DURATION=${DURATION:-600}
ADV_MS=${ADV_MS:-50}
CONNS=${CONNS:-64}
HOGS=${HOGS:-auto}
NCPU=$(nproc)
PRIO[a]=150; PRIO[b]=100

ha_setup
ha_pair_certs
write_node_config a
write_node_config b
start_node a || exit 1
wait_role a MASTER 15 || { echo "A did not become MASTER"; exit 1; }
start_node b || exit 1
wait_status b '.vrrp.groups[0].role == "BACKUP" and .peer.synced' 30 ||
	{ echo "B did not become a synced BACKUP"; exit 1; }
sleep 2
# cpu_busy: "busy total" jiffies of the whole machine from /proc/stat
cpu_busy() { awk '/^cpu /{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
busy_pct() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%.1f", 100 * (c - a) / (d - b) }'; }
hog() { nsx cli bash -c 'while :; do :; done' & BG+=($!); }
trans() { status "$1" | jq -r '"\(.vrrp.groups[0].transitions) \(.vrrp.groups[0].master_rx_lower_pri)"'; }

if [ "$HOGS" = auto ]; then
	read -r b0 t0 < <(cpu_busy)
	nsx cli timeout 10 wrk -t2 -c"$CONNS" -d5s "http://$VIP/" >/dev/null 2>&1
	read -r b1 t1 < <(cpu_busy)
	p=$(busy_pct "$b0" "$t0" "$b1" "$t1")
	HOGS=$(awk -v p="$p" -v n="$NCPU" 'BEGIN { h = int((100 - p) * n / 100 + 0.5); print h < 0 ? 0 : h }')
	echo "# probe: wrk alone kept the machine ${p}% busy; adding $HOGS CPU hog(s)"
fi
read -r ta0 la0 <<<"$(trans a)"
read -r tb0 lb0 <<<"$(trans b)"
lines_a0=$(grep -c 'vrrp group web:' "$T/tandemd-a.log")
lines_b0=$(grep -c 'vrrp group web:' "$T/tandemd-b.log")
for _ in $(seq "$HOGS"); do hog; done
read -r b0 t0 < <(cpu_busy)
start=$(date +%s)
echo "# $(date -u +%FT%TZ) soak: ${DURATION}s, adverts ${ADV_MS} ms, wrk -t2 -c$CONNS through the VIP, $HOGS hog(s), $NCPU CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
nsx cli wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "http://$VIP/" >"$T/wrk.out" 2>&1 &
WRK=$!; BG+=($WRK)
wrong=0 samples=0
while kill -0 $WRK 2>/dev/null; do
	sleep 10
	ra=$(role a) rb=$(role b)
	samples=$((samples + 1))
	[ "$ra/$rb" = MASTER/BACKUP ] || wrong=$((wrong + 1))
	[ $((samples % 6)) = 0 ] && echo "# $(( $(date +%s) - start ))s: A $ra, B $rb; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
wait $WRK
read -r b1 t1 < <(cpu_busy)
busy=$(busy_pct "$b0" "$t0" "$b1" "$t1")
read -r ta1 la1 <<<"$(trans a)"
read -r tb1 lb1 <<<"$(trans b)"
lines=$(( $(grep -c 'vrrp group web:' "$T/tandemd-a.log") - lines_a0 + $(grep -c 'vrrp group web:' "$T/tandemd-b.log") - lines_b0 ))
transitions=$(( ta1 - ta0 + tb1 - tb0 ))
reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.out")
rps=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk.out")
p99=$(awk '$1 == "99%" { print $2 }' "$T/wrk.out")
errs=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 } /Non-2xx/ { print $NF }' "$T/wrk.out" |
	awk '{ s += $1 } END { print s + 0 }')
summary="soak $(date -u +%FT%TZ): ${DURATION}s at ${ADV_MS} ms adverts, machine ${busy}% busy ($HOGS hogs); \
role transitions ${transitions} (log lines ${lines}; A $ta0->$ta1, B $tb0->$tb1), \
MASTER_RX_LOWER_PRI $(( la1 - la0 + lb1 - lb0 )), role samples off MASTER/BACKUP ${wrong}/${samples}; \
client: ${reqs:-?} requests, ${rps:-?} req/s, p99 ${p99:-?}, errors ${errs}"
echo "# $summary"
sed 's/^/#   wrk: /' "$T/wrk.out"
[ -n "${OUT:-}" ] && echo "$summary" >>"$OUT"
[ "$transitions" = 0 ] && [ "$lines" = 0 ] && [ "$errs" = 0 ] && [ -n "$reqs" ]
