#!/usr/bin/env bash
# Inside the VM: 1,000 services x 4 real servers programmed in one apply;
# then one weight change sends exactly one netlink message; a hand-added
# service survives; the views agree at that size.
. "$(dirname "$0")/lib.sh"

N=${L4_SCALE_N:-1000}
ip link add dum0 type dummy && ip link set dum0 up && ip addr add 10.200.0.1/16 dev dum0
ipvsadm -A -u 10.9.9.9:53 -s rr && ipvsadm -a -u 10.9.9.9:53 -r 10.200.9.9:53 -m -w 2
foreign=$(ipvsadm -Ln -u 10.9.9.9:53)

# reconcile_interval: the periodic full pass (10 s by default) must not land
# inside the measured reload below; under ASan in the VM a reload takes seconds.
jq -n --argjson n "$N" '{version:1, l4:{reconcile_interval:86400, services:[range(0;$n) as $i |
	{name:"s\($i)", protocol:"tcp", address:"10.100.\($i/250|floor).\($i%250+1)", port:80, scheduler:"wrr",
	 reals:[range(0;4) as $j | {address:"10.200.\($i/250|floor).\($i%250+1)", port:(8000+$j), weight:1}]}]}}' >"$T/c.json"

t0=$(date +%s%N)
start_tandemd "$T/c.json" || finish
t1=$(date +%s%N)
eq "$N services in the kernel" "$((N + 1))" "$(ipvsadm -Ln | grep -c -E '^(TCP|UDP)')"
eq "$((N * 4)) reals of ours in the kernel" "$((N * 4))" "$(ipvsadm -Ln | grep -c '10.200.[0-9]*.[0-9]*:80')"
eq "$N x 4 programmed in one apply: $((N + N * 4)) messages" "$((N + N * 4))" "$(stat_l4 nl_changes)"
echo "# start + program $N x 4: $(( (t1 - t0) / 1000000 )) ms (tandemd says $(ctl status --json | jq .l4.reconcile.last_ms) ms)"
ok "views agree at $N services" -- views_agree nonempty

c0=$(stat_l4 nl_changes) d0=$(stat_l4 nl_dumps)
jq '.l4.services[617].reals[3].weight = 9' "$T/c.json" >"$T/c2.json" && cp "$T/c2.json" "$T/c.json"
ctl reload >/dev/null
eq "one weight change among $((N * 4)) reals sends exactly one netlink message" 1 $(( $(stat_l4 nl_changes) - c0 ))
eq "the reload reads only the changed service (one get + one real dump + the sync-daemon look, not $((N + 2)) dumps)" 3 $(( $(stat_l4 nl_dumps) - d0 ))
eq "the reload pass is not a full one" false "$(ctl status --json | jq .l4.reconcile.last_full)"
echo "# one-change reconcile: $(ctl status --json | jq .l4.reconcile.last_ms) ms"
ok "the new weight is in the kernel" -- bash -c "ipvsadm -Ln -t 10.100.2.118:80 | grep -E -q '10.200.2.118:8003 +Masq +9'"
eq "the hand-added service is untouched" "$foreign" "$(ipvsadm -Ln -u 10.9.9.9:53)"
c0=$(stat_l4 nl_changes)
ctl reload >/dev/null
eq "an unchanged reload at $N services sends nothing" 0 $(( $(stat_l4 nl_changes) - c0 ))
finish
