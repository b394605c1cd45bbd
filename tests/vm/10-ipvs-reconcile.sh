#!/usr/bin/env bash
# Inside the VM: tandemd programs every kind of service and real server, our
# view (tandemctl status, from our dump parser) agrees with `ipvsadm -Ln` after
# every step, reloads send only the needed changes, a service added by hand is
# never touched, drift is repaired by the timer, and the owned record lets a
# restarted tandemd delete what it created (and only that).
. "$(dirname "$0")/lib.sh"

# A dummy interface holds the local addresses (IPVS refuses reals it cannot route).
ip link add dum0 type dummy && ip link set dum0 up
ip addr add 10.0.1.1/24 dev dum0
ip -6 addr add 2001:db8:1::1/64 dev dum0 nodad

cat >"$T/a.json" <<'JSON'
{"version":1,"l4":{"reconcile_interval":1,"services":[
 {"name":"web","protocol":"tcp","address":"10.0.0.100","port":80,"scheduler":"rr",
  "reals":[{"address":"10.0.1.2","port":8080},{"address":"10.0.1.3","port":8080,"weight":3}]},
 {"name":"dns6","protocol":"udp","address":"2001:db8::53","port":53,"scheduler":"wlc",
  "reals":[{"address":"2001:db8:1::2","port":53,"weight":2},{"address":"2001:db8:1::3","port":53,"forward":"dr"}]},
 {"name":"mark","protocol":"fwmark","fwmark":7,"scheduler":"sh","flags":["sh-fallback","sh-port"],
  "reals":[{"address":"10.0.1.4","forward":"tunnel"},{"address":"10.0.1.5","forward":"dr","upper_threshold":100,"lower_threshold":10}]},
 {"name":"sticky","protocol":"tcp","address":"10.0.0.101","port":3306,"scheduler":"wrr",
  "persistence_timeout":360,"persistence_netmask":24,
  "reals":[{"address":"10.0.1.6","port":3306}]},
 {"name":"mark6","protocol":"fwmark","fwmark":8,"family":"ipv6","scheduler":"mh","flags":["mh-port"],
  "reals":[{"address":"2001:db8:1::7","forward":"dr"}]}
]}}
JSON

# A service somebody else added by hand before tandemd ever ran.
ipvsadm -A -t 10.9.9.9:80 -s lc
ipvsadm -a -t 10.9.9.9:80 -r 10.0.1.9:80 -m -w 5
ipvsadm -Ln -t 10.9.9.9:80 >"$T/foreign.before"

start_tandemd "$T/a.json" || finish
ok "status reports IPVS available" -- test "$(ctl status --json | jq .l4.available)" = true
ok "our view agrees with ipvsadm -Ln after the first apply" -- views_agree nonempty
eq "5 managed services, none missing" "5 0" \
	"$(ctl status --json | jq -r '[([.l4.services[]|select(.managed)]|length), (.l4.missing|length)]|join(" ")')"
ok "persistence 360 s with a /24 mask" -- bash -c "ipvsadm -Ln -t 10.0.0.101:3306 | grep -q 'persistent 360 mask 255.255.255.0'"
ok "sh flags set" -- bash -c "ipvsadm -Ln -f 7 | grep -E -q 'sh-fallback.*sh-port|sh-port.*sh-fallback'"
ok "thresholds set" -- bash -c "ipvsadm -Ln -f 7 --thresholds | grep -E -q '10.0.1.5:0 +100 +10'"
ok "the IPv6 fwmark service has mh with mh-port" -- bash -c "ipvsadm -Ln -f 8 -6 | grep -q 'mh-port'"
eq "the hand-added service is untouched" "$(cat "$T/foreign.before")" "$(ipvsadm -Ln -t 10.9.9.9:80)"
eq "the foreign service is not ours" "false" \
	"$(ctl status --json | jq -r '.l4.services[]|select(.address=="10.9.9.9")|.managed')"
ok "the owned record lists our 5 services only" -- bash -c \
	"[ \$(grep -vc '^#' '$T/a.json.l4-owned') = 5 ] && ! grep -q 10.9.9.9 '$T/a.json.l4-owned'"

# Reload: one weight changed -> exactly one netlink change message.
c0=$(stat_l4 nl_changes)
jq '.l4.services[0].reals[1].weight = 4' "$T/a.json" >"$T/b.json" && cp "$T/b.json" "$T/a.json"
r=$(ctl reload >/dev/null && stat_l4 nl_changes)
eq "one weight change sends exactly one netlink message" 1 $((r - c0))
ok "views agree after the weight change" -- views_agree
ok "the new weight is in the kernel" -- bash -c "ipvsadm -Ln -t 10.0.0.100:80 | grep -E -q '10.0.1.3:8080 +Masq +4'"

# Reload: scheduler change, a real removed, a real's method changed, a
# service removed, one added.
jq '.l4.services[0].scheduler = "wlc"
  | .l4.services[0].reals |= [.[1]]
  | .l4.services[1].reals[0].forward = "dr"
  | .l4.services |= map(select(.name != "sticky"))
  | .l4.services += [{"name":"new","protocol":"udp","address":"10.0.0.102","port":514,"scheduler":"rr",
                      "reals":[{"address":"10.0.1.8","port":514}]}]' "$T/a.json" >"$T/b.json" && cp "$T/b.json" "$T/a.json"
c0=$(stat_l4 nl_changes)
ctl reload >/dev/null
c1=$(stat_l4 nl_changes)
eq "that reload sent 6 messages (edit svc, del real, edit real, del svc, add svc, add real)" 6 $((c1 - c0))
ok "views agree after the structural reload" -- views_agree
ok "the removed service is gone" -- bash -c "! ipvsadm -Ln | grep -q '10.0.0.101:3306'"
eq "the hand-added service is still untouched" "$(cat "$T/foreign.before")" "$(ipvsadm -Ln -t 10.9.9.9:80)"

# Drift: someone edits our service by hand; the timer (1 s) puts it back.
ipvsadm -e -t 10.0.0.100:80 -r 10.0.1.3:8080 -m -w 99
ipvsadm -d -u 10.0.0.102:514 -r 10.0.1.8:514
for _ in $(seq 60); do views_agree >/dev/null 2>&1 && break; sleep 0.1; done
ok "the timer repaired hand-made drift on our services" -- views_agree

# An invalid reload is refused; nothing in the kernel changes.
ipvsadm -Ln >"$T/before.bad"
jq '.l4.services[0].scheduler = "nope"' "$T/a.json" >"$T/bad.json"
cp "$T/a.json" "$T/good.json"; cp "$T/bad.json" "$T/a.json"
ctl reload >/dev/null 2>&1; rc=$?
eq "a config with an unknown scheduler is refused" 1 "$rc"
eq "the kernel is unchanged by a refused reload" "$(cat "$T/before.bad")" "$(ipvsadm -Ln)"
cp "$T/good.json" "$T/a.json"

# Restart with a service removed while tandemd was down: the owned record
# says it was ours, so it goes; the hand-added one stays.
stop_tandemd
jq '.l4.services |= map(select(.name != "web"))' "$T/a.json" >"$T/b.json" && cp "$T/b.json" "$T/a.json"
ok "IPVS stays programmed while tandemd is stopped" -- bash -c "ipvsadm -Ln | grep -q '10.0.0.100:80'"
start_tandemd "$T/a.json" || finish
ok "after restart the service removed from the config is deleted" -- bash -c "! ipvsadm -Ln | grep -q '10.0.0.100:80'"
ok "views agree after the restart" -- views_agree
eq "the hand-added service survived everything" "$(cat "$T/foreign.before")" "$(ipvsadm -Ln -t 10.9.9.9:80)"
eq "a reload with nothing changed sends no message" 0 "$(c0=$(stat_l4 nl_changes); ctl reload >/dev/null; echo $(( $(stat_l4 nl_changes) - c0 )))"

# A scheduler the kernel lacks is reported, not fatal: L4 reports the error
# and the rest is applied.
finish
