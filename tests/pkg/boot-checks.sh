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

# A refused config makes "systemctl reload" fail and the old one keep serving.
cp /etc/tandem/tandem.json /root/tandem.json.good
echo '{"version":2}' >/etc/tandem/tandem.json
ok "a refused config makes systemctl reload fail" bash -c '! systemctl reload tandemd.service 2>/dev/null'
ok "tandemd still serves after the refused reload" bash -c "tandemctl status >/dev/null"
cp /root/tandem.json.good /etc/tandem/tandem.json

# Upgrade path: reinstalling the package restarts both services.
dpkg -i /root/tandem.deb >/root/upgrade.log 2>&1
ok "dpkg -i over the installed package (upgrade path) succeeds" test $? -eq 0 ||
	sed 's/^/    /' /root/upgrade.log
ok "tandemd is active after the upgrade" wait_active tandemd.service
ok "tandem-admin is active after the upgrade" wait_active tandem-admin.service
ok "tandemd was restarted by the upgrade" test "$(mainpid tandemd.service)" != "$spid"
ok "tandem-admin was restarted by the upgrade" test "$(mainpid tandem-admin.service)" != "$apid"
ok "the database survived the upgrade" test -f /var/lib/tandem/tandem.db
ok "the password is not printed again after a restart" \
	test "$(journalctl -u tandem-admin --no-pager | grep -c 'admin password: ')" = 1
