#!/usr/bin/env bash
# The part of bench/l4-ipvs.sh that runs inside the VM.
set -euo pipefail
T=$(mktemp -d /tmp/l4bench.XXXXXX)
SOCK=/run/l4bench.sock
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
ctl() { "$B/daemon/tandemctl" -s "$SOCK" "$@"; }

jq -n --argjson n "$N" '{version:1, l4:{reconcile_interval:3600, services:[range(0;$n) as $i |
	{name:"s\($i)", protocol:"tcp", address:"10.\(100 + ($i/62500|floor)).\($i/250%250|floor).\($i%250+1)", port:80,
	 scheduler:"wrr", reals:[range(0;4) as $j |
	 {address:"10.200.\($i/250%250|floor).\($i%250+1)", port:(8000+$j), weight:1}]}]}}' >"$T/c.json"
# ipvsadm rules for the same set
jq -r '.l4.services[] | . as $s | "-A -t \($s.address):80 -s wrr", ($s.reals[] | "-a -t \($s.address):80 -r \(.address):\(.port) -m -w 1")' "$T/c.json" >"$T/rules"

# 1. tandemd from an empty kernel (root netns)
ip link add dum0 type dummy && ip link set dum0 up && ip addr add 10.200.0.1/16 dev dum0
t=$(date +%s%N)
"$B/daemon/tandemd" -c "$T/c.json" -s "$SOCK" >"$T/tandemd.log" 2>&1 &
pid=$!
until ctl stats >/dev/null 2>&1; do sleep 0.02; done
full_wall=$(ms "$t")
full_rec=$(grep -o 'reconciled: [0-9]* changes in [0-9.]* ms' "$T/tandemd.log" | awk '{print $5}')
svc=$(ipvsadm -Ln | grep -c '^TCP')

# 2. one weight change
jq --argjson i "$((N / 2))" '.l4.services[$i].reals[1].weight = 7' "$T/c.json" >"$T/c2.json"
cp "$T/c2.json" "$T/c.json"
c0=$(ctl stats | jq .l4.nl_changes)
t=$(date +%s%N)
ctl reload >/dev/null
one_wall=$(ms "$t")
one_rec=$(grep -o 'reconciled: 1 change in [0-9.]* ms' "$T/tandemd.log" | tail -1 | awk '{print $5}')
one_msgs=$(( $(ctl stats | jq .l4.nl_changes) - c0 ))
kill "$pid"; wait "$pid" 2>/dev/null || true

# 3. ipvsadm -R of the same set in a fresh netns (IPVS state is per netns)
ip netns add r; ip -n r link set lo up
ip -n r link add dum0 type dummy; ip -n r link set dum0 up; ip -n r addr add 10.200.0.1/16 dev dum0
t=$(date +%s%N)
ip netns exec r ipvsadm -R <"$T/rules"
r_wall=$(ms "$t")
r_svc=$(ip netns exec r ipvsadm -Ln | grep -c '^TCP')

echo "services programmed: tandemd $svc, ipvsadm -R $r_svc (of $N, x4 reals)"
echo
echo "| $N services x 4 reals | wall ms | reconcile ms (tandemd's own) | messages |"
echo "| --- | --- | --- | --- |"
echo "| tandemd start, empty kernel -> full program | $full_wall | $full_rec | $((N * 5)) |"
echo "| ipvsadm -R, same set | $r_wall | - | $((N * 5)) |"
echo "| tandemd reload changing one weight | $one_wall | $one_rec | $one_msgs |"
