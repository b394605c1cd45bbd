#!/bin/bash
# tests/pkg/boot-checks.sh - run by tests/pkg/run.sh inside the Debian root
# booted with systemd-nspawn (as a oneshot unit after multi-user.target),
# with the tandem package installed and its units enabled. Prints
# "ok N - ..." / "not ok N - ..."; run.sh relays them.
N=0
ok() { # ok "description" command...
	local desc="$1"; shift
	N=$((N + 1))
	if "$@"; then echo "ok $N - $desc"; else echo "not ok $N - $desc"; fi
}
wait_active() { # wait_active UNIT: up to 15 s
	local i
	for i in $(seq 150); do
		systemctl -q is-active "$1" && return 0
		sleep 0.1
	done
	systemctl status --no-pager "$1" | sed 's/^/    /'
	journalctl -u "$1" --no-pager | tail -20 | sed 's/^/    /'
	return 1
}
mainpid() { systemctl show -p MainPID --value "$1"; }
proc_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

ok "tandemd.service is active (Type=notify: READY=1 arrived)" wait_active tandemd.service
ok "tandem-admin.service is active (Type=notify)" wait_active tandem-admin.service

# The privilege split: the main process is the root supervisor of
# keepalived; the data plane is its child, running as tandem.
spid="$(mainpid tandemd.service)"
ok "tandemd's supervisor (the main process) runs as root" test "$(stat -c %U "/proc/$spid")" = root
pid=""
for c in $(cat /proc/"$spid"/task/*/children 2>/dev/null); do
	[ "$(stat -c %U "/proc/$c")" = tandem ] && pid=$c
done
ok "tandemd's data plane runs as user tandem" test -n "$pid"
# CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13).
ok "tandemd's effective capabilities are NET_ADMIN, NET_BIND_SERVICE, NET_RAW only" \
	test "$(proc_field "$pid" CapEff)" = 0000000000003400
ok "tandemd's bounding set is the same three" test "$(proc_field "$pid" CapBnd)" = 0000000000003400
ok "tandemd has NoNewPrivs" test "$(proc_field "$pid" NoNewPrivs)" = 1
ok "tandemd runs under a seccomp filter" test "$(proc_field "$pid" Seccomp)" = 2

apid="$(mainpid tandem-admin.service)"
ok "tandem-admin runs as user tandem" test "$(stat -c %U "/proc/$apid")" = tandem
ok "tandem-admin has no capability" test "$(proc_field "$apid" CapEff)" = 0000000000000000
ok "tandem-admin's bounding set is empty" test "$(proc_field "$apid" CapBnd)" = 0000000000000000

ok "tandemctl status answers over /run/tandem/tandemd.sock" bash -c "tandemctl status >/dev/null"
ok "the control socket is tandem:tandem 0660" \
	test "$(stat -c '%U:%G %a' /run/tandem/tandemd.sock)" = "tandem:tandem 660"
ok "the console's login page is served on https://127.0.0.1:8443/" \
	bash -c "curl -ksf https://127.0.0.1:8443/ | grep -q 'id=\"login-form\"'"
ok "the API answers 401 without a session" \
	test "$(curl -ks -o /dev/null -w '%{http_code}' https://127.0.0.1:8443/api/v1/candidate)" = 401
ok "the first admin password is in tandem-admin's journal" \
	bash -c "journalctl -u tandem-admin --no-pager | grep -q 'admin password: '"
ok "tandem-admin wrote its database in the state directory" test -f /var/lib/tandem/tandem.db
ok "systemctl reload tandemd succeeds (tandemctl reload)" systemctl reload tandemd.service
ok "tandemd is active after the reload" systemctl -q is-active tandemd.service
# (a RuntimeDirectory= was re-chowned to root by each ExecReload, locking
# the data plane out of its own directory: /run/tandem is tmpfiles.d's now)
ok "/run/tandem is still tandem:tandem 0750 after a reload" \
	test "$(stat -c '%U:%G %a' /run/tandem)" = "tandem:tandem 750"

# A refused config makes "systemctl reload" fail and the old one keep serving.
cp /etc/tandem/tandem.json /root/tandem.json.good
echo '{"version":2}' >/etc/tandem/tandem.json
ok "a refused config makes systemctl reload fail" bash -c '! systemctl reload tandemd.service 2>/dev/null'
ok "tandemd still serves after the refused reload" bash -c "tandemctl status >/dev/null"
cp /root/tandem.json.good /etc/tandem/tandem.json

# keepalived inside the unit's sandbox: a VRRP group on a veth pair in the
# container's own network (--private-network); the supervisor starts
# keepalived, it becomes MASTER (its only peer never answers) and the notify
# FIFO reaches the data plane. A listener and a backend carry the traffic
# of the upgrade below.
ip link add tv0 type veth peer name tv1 && ip addr add 192.0.2.11/24 dev tv0 &&
	ip link set tv0 up && ip link set tv1 up
/root/demo-backend 127.0.0.1:9001 be >/root/backend.log 2>&1 &
cat >/etc/tandem/tandem.json <<'JSON'
{"version":1,"revision":2,
 "listeners":[{"name":"web","address":"127.0.0.1","port":8080}],
 "pools":[{"name":"app","members":[{"address":"127.0.0.1","port":9001}]}],
 "routes":[{"name":"all","listener":"web","pool":"app"}],
 "vrrp":{"local":{"router_id":"pkgtest","interface":"tv0","address":"192.0.2.11","priority":150},
         "groups":[{"name":"web","virtual_router_id":61,"advert_interval_ms":100,
                    "unicast_peers":["192.0.2.12"],"vips":["192.0.2.10/24"]}]}}
JSON
ok "a config with a vrrp group is applied (keepalived -t passes in the sandbox)" \
	systemctl reload tandemd.service
# (no jq in the root: the text status) "VRRP node role R; keepalived running (pid P, ...)"
role() { tandemctl status 2>/dev/null | sed -n 's/^VRRP node role \([A-Z]*\);.*/\1/p'; }
ka_pid() { tandemctl status 2>/dev/null | sed -n 's/^VRRP node role .*(pid \([0-9]*\),.*/\1/p'; }
plane_pid() { tandemctl status 2>/dev/null | sed -n 's/^tandemd .* pid \([0-9]*\) .*/\1/p'; }
wait_master() {
	local i
	for i in $(seq 100); do [ "$(role)" = MASTER ] && return 0; sleep 0.1; done
	journalctl -u tandemd --no-pager | tail -30 | sed 's/^/    /'
	return 1
}
ok "keepalived runs under the supervisor; MASTER reaches tandemd through the FIFO" wait_master
kpid="$(ka_pid)"
ok "keepalived is the supervisor's child, as root" \
	test "$(proc_field "$kpid" PPid):$(stat -c %U /proc/"$kpid")" = "$spid:root"
ok "the VIP is on tv0" bash -c "ip -o addr show dev tv0 | grep -q ' 192.0.2.10/24'"
ok "the listener serves through the backend" \
	test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/)" = 200
# systemd-analyze security: the "OK" band or better for both units.
for u in tandemd tandem-admin; do
	score="$(systemd-analyze security "$u.service" 2>/dev/null | tail -1)"
	echo "# $u.service: $score"
	ok "$u.service: systemd-analyze security is OK or better" \
		grep -qE 'exposure level .*: [0-9.]+ (OK|SAFE|PERFECT)' <<<"$score"
done

# Upgrade to version N+1 under traffic: postinst runs tandemctl upgrade; the
# listening sockets pass to the new binary (the supervisor re-executes
# itself in place: same main pid, keepalived stays its child).
plane_old=$pid
load() { # load SECONDS new|ka: a new connection per request, or 20 per connection
	local end=$((SECONDS + $1)) u=() i
	for i in $(seq 20); do u+=(-o /dev/null http://127.0.0.1:8080/); done
	while [ $SECONDS -lt $end ]; do
		if [ "$2" = new ]; then
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 http://127.0.0.1:8080/
		else
			curl -s -w '%{http_code}\n' --max-time 10 "${u[@]}"
		fi
	done
}
load 8 new >/root/codes-new &
l1=$!
load 8 ka >/root/codes-ka &
l2=$!
curl -s -o /dev/null -w '%{http_code}' --max-time 20 'http://127.0.0.1:8080/sleep?n=3000' >/root/code-slow &
l3=$!
sleep 1
dpkg -i /root/tandem-next.deb >/root/upgrade.log 2>&1
ok "dpkg -i of version N+1 (the upgrade) succeeds" test $? -eq 0 || sed 's/^/    /' /root/upgrade.log
wait $l1 $l2 $l3
ok "postinst upgraded tandemd through the binary upgrade" grep -q '^upgraded: tandemd' /root/upgrade.log ||
	sed 's/^/    /' /root/upgrade.log
ok "version N+1 is installed" test "$(dpkg-query -W -f '${Version}' tandem)" = "$(cat /root/next-version)"
ok "tandemd is active after the upgrade" wait_active tandemd.service
ok "tandem-admin is active after the upgrade" wait_active tandem-admin.service
same() { [ "$1" = "$2" ] || { echo "    expected '$1', got '$2'"; return 1; }; }
ok "tandemd's main pid (the supervisor) did not change" same "$spid" "$(mainpid tandemd.service)"
plane_new="$(plane_pid)"
ok "a new data plane serves ($plane_old -> $plane_new)" test "$plane_new" != "$plane_old"
ok "the new binary serves: the supervisor runs the installed file" same /usr/sbin/tandemd "$(readlink /proc/"$spid"/exe)"
ok "and so does the data plane" same /usr/sbin/tandemd "$(readlink /proc/"$plane_new"/exe)"
n1=$(wc -l </root/codes-new)
n2=$(wc -l </root/codes-ka)
ok "traffic ran during the upgrade ($n1 new-connection, $n2 keep-alive requests)" test "$n1" -gt 10 -a "$n2" -gt 100
ok "no failed request during the upgrade" same "" "$(cat /root/codes-new /root/codes-ka | grep -v '^200$' | sort | uniq -c)"
ok "the request in flight on the old data plane completed" same 200 "$(cat /root/code-slow)"
ok "keepalived kept running through the upgrade (same pid)" same "$kpid" "$(ka_pid)"
ok "still MASTER after the upgrade" same MASTER "$(role)"
for i in $(seq 50); do kill -0 "$plane_old" 2>/dev/null || break; sleep 0.1; done
ok "the old data plane exited after draining" bash -c "! kill -0 $plane_old 2>/dev/null"
ok "tandem-admin was restarted by the upgrade" test "$(mainpid tandem-admin.service)" != "$apid"
ok "the database survived the upgrade" test -f /var/lib/tandem/tandem.db
ok "the password is not printed again after a restart" \
	test "$(journalctl -u tandem-admin --no-pager | grep -c 'admin password: ')" = 1
# tandemd.env's --limit-state: the sandboxed data plane writes its state file
# (every 10 s and at a clean stop) in its own directory.
systemctl stop tandemd.service
ok "a clean stop wrote the limiter's state file in /var/lib/tandem/limiter" \
	test "$(stat -c %U /var/lib/tandem/limiter/limiter.state 2>/dev/null)" = tandem

