#!/usr/bin/env bash
# tests/pkg/run.sh - the packaging tier: build the .deb and the .rpm from the
# dist tarball, install the .deb into a fresh Debian 12 root and check that
# the appliance is usable there, then remove and purge it.
#
#   B=BUILDDIR bash tests/pkg/run.sh     (B: a configured build directory)
#
# The Debian root is made once with debootstrap (--variant=minbase plus the
# package's run-time dependencies, systemd and curl) and cached as
# $TANDEM_PKG_CACHE/bookworm-root.tar (default /var/cache/tandem-test);
# delete that file to rebuild it. Each run unpacks a fresh copy.
# TANDEM_PKG_KEEP=1 keeps the work dir (packages, the root) for a look after.
#
# Two stages run in that root:
#   chroot  install, files, user, modes, tandemd --check, tandemd and
#           tandem-admin started as user tandem with the units' own ExecStart
#           lines (in a private network namespace: loopback only), login
#           page over HTTPS, remove keeps the data, purge deletes it.
#   boot    systemd-nspawn --boot --private-network: the real units under
#           a real systemd (readiness, user, capabilities, reload, keepalived
#           MASTER inside the sandbox, the security scores, and an upgrade to
#           version N+1 under traffic through the binary upgrade). Skipped,
#           loudly, where nspawn cannot boot a container.
#
# Prints "ok N - ..." / "not ok N - ..."; exit 0 when all pass, 1 otherwise,
# 77 (SKIP) when not root or a tool is missing.
set -uo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
B="${B:-$SRC/build-test}"
CACHE="${TANDEM_PKG_CACHE:-/var/cache/tandem-test}"
MIRROR="${TANDEM_PKG_MIRROR:-http://deb.debian.org/debian}"
ROOT_TAR="$CACHE/bookworm-root.tar"
# Run-time dependencies are preinstalled so a run needs the mirror only when
# the cache is made (apt-get still resolves anything new from the mirror).
ROOT_PKGS=adduser,curl,keepalived,nftables,systemd,systemd-sysv,dbus,libjansson4,libssl3,libsqlite3-0,libmicrohttpd12,libargon2-1

CHECKS=0 FAILS=0
ok() { # ok "description" command...
	local desc="$1"; shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then echo "ok $CHECKS - $desc"; else echo "not ok $CHECKS - $desc"; FAILS=$((FAILS + 1)); fi
}
skip_check() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $1 # SKIP $2"; }
skip() { echo "SKIP: $* ******************************************"; exit 77; }
finish() {
	echo "# $CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ] && exit 0
	exit 1
}

[ "$(id -u)" -eq 0 ] || skip "the packaging tier needs root (debootstrap, chroot)"
for t in dpkg-buildpackage dh lintian debootstrap rpmbuild fakeroot unshare; do
	command -v "$t" >/dev/null || skip "$t is missing (apt-get install debhelper lintian debootstrap rpm fakeroot)"
done
[ -f "$B/Makefile" ] || skip "no configured build directory at $B"

W="$(mktemp -d /var/tmp/tandem-pkg.XXXXXX)"
R="$W/root"
cleanup() {
	local m
	for m in "$R/proc" "$R/dev/pts"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
	if [ -n "${TANDEM_PKG_KEEP:-}" ]; then echo "# kept $W (TANDEM_PKG_KEEP)"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# in_root CMD...: run in the root, in new PID and network namespaces (only
# loopback, up), so nothing started there outlives the call or reaches the
# host's ports.
in_root() {
	unshare --net --pid --fork --mount-proc="$R/proc" \
		bash -c 'ip link set lo up 2>/dev/null || true; exec chroot "$0" "$@"' "$R" "$@"
}

# --- Build both packages from one dist tarball --------------------------------
VERSION="$(sed -n 's/^PACKAGE_VERSION = //p' "$B/Makefile")"
make -s -C "$B" dist >"$W/dist.log" 2>&1
TARBALL="$B/tandem-$VERSION.tar.gz"
ok "make dist gives tandem-$VERSION.tar.gz" test -f "$TARBALL" || { cat "$W/dist.log"; finish; }

mkdir -p "$W/deb"
tar -C "$W/deb" -xzf "$TARBALL"
cp -r "$W/deb/tandem-$VERSION/packaging/debian" "$W/deb/tandem-$VERSION/debian"
ln -s "$TARBALL" "$W/deb/tandem_$VERSION.orig.tar.gz"
deb_version="$(dpkg-parsechangelog -l "$W/deb/tandem-$VERSION/debian/changelog" -S Version)"
ok "debian/changelog ($deb_version) is for version $VERSION" test "${deb_version%-*}" = "$VERSION"
(cd "$W/deb/tandem-$VERSION" && dpkg-buildpackage -us -uc -b) >"$W/deb/build.log" 2>&1
DEB="$W/deb/tandem_${deb_version}_$(dpkg --print-architecture).deb"
ok "dpkg-buildpackage -us -uc -b builds $(basename "$DEB")" test -f "$DEB" ||
	{ tail -40 "$W/deb/build.log"; finish; }
lintian --fail-on error,warning "$W/deb"/tandem_*.changes >"$W/lintian.log" 2>&1
ok "lintian: no error, no warning" test $? -eq 0 || sed 's/^/    /' "$W/lintian.log"
ok "tandem.json is a conffile" bash -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./conffiles | grep -qx /etc/tandem/tandem.json"
ok "tandemd.env is a conffile" bash -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./conffiles | grep -qx /etc/tandem/tandemd.env"

mkdir -p "$W/rpm"
rpmbuild -tb --nodeps --define "_topdir $W/rpm" "$TARBALL" >"$W/rpm/build.log" 2>&1
RPM="$(ls "$W"/rpm/RPMS/*/tandem-"$VERSION"-*.rpm 2>/dev/null | head -1)"
ok "rpmbuild -tb builds the RPM from the same tarball" test -n "$RPM" ||
	tail -40 "$W/rpm/build.log"
if [ -n "$RPM" ]; then
	rpm -qlp "$RPM" >"$W/rpm/files" 2>/dev/null
	for f in /usr/sbin/tandemd /usr/sbin/tandemctl /usr/sbin/tandem-admin \
		/usr/share/tandem/www/index.html /usr/lib/systemd/system/tandemd.service \
		/usr/lib/systemd/system/tandem-admin.service /usr/share/man/man8/tandemd.8 \
		/usr/lib/tmpfiles.d/tandem.conf \
		/etc/tandem/tandem.json /var/lib/tandem; do
		ok "rpm -qlp lists $f" grep -qx "$f" "$W/rpm/files"
	done
	ok "rpm: tandem.json is %config" bash -c "rpm -qcp '$RPM' | grep -qx /etc/tandem/tandem.json"
	ok "rpm: tandemd.env is %config" bash -c "rpm -qcp '$RPM' | grep -qx /etc/tandem/tandemd.env"
	ok "rpm: %pre creates the user tandem" bash -c "rpm -qp --scripts '$RPM' | grep -q 'useradd -r -g tandem'"
fi

# --- A fresh Debian 12 root ---------------------------------------------------
if [ ! -f "$ROOT_TAR" ]; then
	echo "# making the Debian 12 root (cached as $ROOT_TAR)"
	mkdir -p "$CACHE/debs"
	if debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$ROOT_PKGS" \
		bookworm "$W/mk" "$MIRROR" >"$W/debootstrap.log" 2>&1; then
		# Package lists stay, so apt-get can resolve a new dependency later.
		chroot "$W/mk" apt-get update -qq >>"$W/debootstrap.log" 2>&1
		chroot "$W/mk" apt-get clean
		tar -C "$W/mk" -cf "$ROOT_TAR.tmp" . && mv "$ROOT_TAR.tmp" "$ROOT_TAR"
	else
		tail -20 "$W/debootstrap.log"
	fi
	rm -rf "$W/mk"
fi
ok "Debian 12 root ready ($ROOT_TAR)" test -f "$ROOT_TAR" || finish
mkdir -p "$R"
tar -C "$R" -xf "$ROOT_TAR"
mount -t proc proc "$R/proc"
# No service starts in the chroot during the installation (invoke-rc.d
# policy); the boot stage starts them under systemd.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/tandem.deb"

# --- Stage 1: chroot -----------------------------------------------------------
DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -q --no-install-recommends \
	/tmp/tandem.deb >"$W/install.log" 2>&1
ok "apt-get install ./tandem.deb (dependencies resolve)" test $? -eq 0 || tail -30 "$W/install.log"

for f in /usr/sbin/tandemd /usr/sbin/tandemctl /usr/sbin/tandem-admin; do
	ok "$f is installed and executable" test -x "$R$f"
done
for f in /usr/share/tandem/www/index.html /usr/share/tandem/migrations/001_init.sql \
	/lib/systemd/system/tandemd.service /lib/systemd/system/tandem-admin.service \
	/usr/share/man/man8/tandemd.8.gz /usr/share/man/man8/tandemctl.8.gz \
	/usr/share/man/man8/tandem-admin.8.gz /etc/tandem/tandem.json /usr/lib/tmpfiles.d/tandem.conf \
	/etc/tandem/tandemd.env; do
	ok "$f is installed" test -f "$R$f"
done
ok "the tandemd unit reads /etc/tandem/tandemd.env and passes its flags" \
	bash -c "grep -qx 'EnvironmentFile=-/etc/tandem/tandemd.env' '$R/lib/systemd/system/tandemd.service' &&
		grep -q '^ExecStart=.* \$TANDEMD_LIMIT_STATE \$TANDEMD_PEER \$TANDEMD_OPTS$' '$R/lib/systemd/system/tandemd.service'"
ok "the default tandemd.env enables the limiter's state file under /var/lib/tandem" \
	grep -qx 'TANDEMD_LIMIT_STATE="--limit-state /var/lib/tandem/limiter/limiter.state"' "$R/etc/tandem/tandemd.env"
ok "/var/lib/tandem/limiter is tandem:tandem 0700 (tmpfiles.d)" \
	test "$(chroot "$R" stat -c '%U:%G %a' /var/lib/tandem/limiter 2>/dev/null)" = "tandem:tandem 700"
ok "system user tandem exists (nologin, home /var/lib/tandem)" \
	bash -c "chroot '$R' getent passwd tandem | grep -q ':/var/lib/tandem:/usr/sbin/nologin$'"
ok "group tandem exists" bash -c "chroot '$R' getent group tandem >/dev/null"
ok "/var/lib/tandem is tandem:tandem 0750" \
	test "$(chroot "$R" stat -c '%U:%G %a' /var/lib/tandem)" = "tandem:tandem 750"
ok "/etc/tandem is root:tandem 0770 (tandem-admin rewrites the config)" \
	test "$(chroot "$R" stat -c '%U:%G %a' /etc/tandem)" = "root:tandem 770"
ok "postinst made /run/tandem tandem:tandem 0750 (tmpfiles.d)" \
	test "$(chroot "$R" stat -c '%U:%G %a' /run/tandem 2>/dev/null)" = "tandem:tandem 750"
ok "units are enabled" test -L "$R/etc/systemd/system/multi-user.target.wants/tandemd.service" -a \
	-L "$R/etc/systemd/system/multi-user.target.wants/tandem-admin.service"
ok "tandemd --check accepts the default config" chroot "$R" /usr/sbin/tandemd --check /etc/tandem/tandem.json

# The units' own command lines, run as user tandem the way systemd would
# (minus the sandbox, which the boot stage covers).
exec_start() { sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/$1.service"; }
cat >"$R/tmp/stage1.sh" <<EOF
#!/bin/bash
as_tandem() { setpriv --reuid tandem --regid tandem --init-groups "\$@"; }
# the unit's EnvironmentFile (double-quoted values: the shell reads it too)
set -a; . /etc/tandem/tandemd.env; set +a
install -d -o tandem -g tandem -m 0750 /run/tandem
as_tandem $(exec_start tandemd) >/tmp/tandemd.log 2>&1 &
for i in \$(seq 50); do [ -S /run/tandem/tandemd.sock ] && break; sleep 0.1; done
as_tandem $(exec_start tandem-admin) >/tmp/admin.log 2>&1 &
for i in \$(seq 100); do curl -ksf https://127.0.0.1:8443/ >/tmp/index.html && break; sleep 0.1; done
as_tandem tandemctl -s /run/tandem/tandemd.sock status >/tmp/status.txt 2>&1
echo "ctl=\$?"
echo "sockgroup=\$(stat -c %G /run/tandem/tandemd.sock)"
EOF
in_root bash /tmp/stage1.sh >"$W/stage1.out" 2>&1
ok "tandemd (unit's ExecStart, user tandem) answers tandemctl status" grep -qx 'ctl=0' "$W/stage1.out" ||
	sed 's/^/    /' "$R/tmp/tandemd.log" "$R/tmp/status.txt"
ok "tandem-admin (unit's ExecStart) serves the console's login page on 127.0.0.1:8443" \
	grep -q 'id="login-form"' "$R/tmp/index.html" || sed 's/^/    /' "$R/tmp/admin.log"
ok "tandem-admin printed the first admin password once" grep -q '^admin password: ' "$R/tmp/admin.log"
ok "the database is in /var/lib/tandem, owned by tandem" \
	test "$(chroot "$R" stat -c %U /var/lib/tandem/tandem.db 2>/dev/null)" = tandem
ok "the control socket's group is tandem (tandem-admin can reach it)" grep -qx 'sockgroup=tandem' "$W/stage1.out"
ok "tandemd with tandemd.env's flags made its limiter seed in /var/lib/tandem/limiter (tandem, 0600)" \
	test "$(chroot "$R" stat -c '%U %a %s' /var/lib/tandem/limiter/limiter.state.seed 2>/dev/null)" = "tandem 600 16"

chroot "$R" dpkg -r tandem >"$W/remove.log" 2>&1
ok "dpkg -r tandem" test $? -eq 0 || tail -20 "$W/remove.log"
ok "remove: binaries are gone" test ! -e "$R/usr/sbin/tandemd" -a ! -e "$R/usr/sbin/tandem-admin"
ok "remove: /var/lib/tandem and its database are kept" test -f "$R/var/lib/tandem/tandem.db"
ok "remove: the config is kept" test -f "$R/etc/tandem/tandem.json"
chroot "$R" dpkg -P tandem >"$W/purge.log" 2>&1
ok "dpkg -P tandem" test $? -eq 0 || tail -20 "$W/purge.log"
ok "purge: /var/lib/tandem is gone" test ! -e "$R/var/lib/tandem"
ok "purge: /etc/tandem is gone" test ! -e "$R/etc/tandem"
ok "purge: no unit left enabled" test ! -e "$R/etc/systemd/system/multi-user.target.wants/tandemd.service"
ok "purge: dpkg forgot the package" bash -c "! chroot '$R' dpkg -s tandem >/dev/null 2>&1"

# --- Stage 2: boot the root with systemd ---------------------------------------
umount -l "$R/proc"
rm -f "$R/usr/sbin/policy-rc.d"
DEBIAN_FRONTEND=noninteractive chroot "$R" dpkg -i /tmp/tandem.deb >"$W/install2.log" 2>&1 ||
	tail -20 "$W/install2.log"
# systemd-nspawn mounts a tmpfs on /tmp: the package goes to /root.
cp "$SRC/tests/pkg/boot-checks.sh" "$DEB" "$R/root/"
mv "$R/root/$(basename "$DEB")" "$R/root/tandem.deb"
# Version N+1 for the upgrade check: the same package with the Debian
# revision bumped (repacked in seconds rather than a second build; dpkg
# replaces every file on an upgrade either way, so the new binary is a new
# file as in any real upgrade).
NEXT="${deb_version%-*}-$(( ${deb_version##*-} + 1 ))"
dpkg-deb -R "$DEB" "$W/next" && sed -i "s/^Version: .*/Version: $NEXT/" "$W/next/DEBIAN/control" &&
	dpkg-deb -b "$W/next" "$R/root/tandem-next.deb" >/dev/null
ok "version N+1 ($NEXT) packaged for the upgrade check" test -f "$R/root/tandem-next.deb"
echo "$NEXT" >"$R/root/next-version"
# a test backend for the traffic that runs during the upgrade (libc only)
[ -x "$B/tests/tools/demo-backend" ] || make -s -C "$B" >/dev/null 2>&1
cp "$B/tests/tools/demo-backend" "$R/root/demo-backend"
cat >"$R/etc/systemd/system/tandem-pkgtest.service" <<'EOF'
[Unit]
Description=Tandem packaging checks
After=multi-user.target tandemd.service tandem-admin.service
[Service]
Type=oneshot
ExecStart=/bin/bash -c '/bin/bash /root/boot-checks.sh >/root/boot-checks.out 2>&1; systemctl --no-block poweroff'
[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/tandem-pkgtest.service "$R/etc/systemd/system/multi-user.target.wants/"
echo tandem-pkgtest >"$R/etc/hostname"
if command -v systemd-nspawn >/dev/null; then
	timeout 180 systemd-nspawn -q -D "$R" --boot --private-network --register=no --keep-unit \
		-M tandem-pkgtest >"$W/boot.log" 2>&1 </dev/null
fi
if [ -f "$R/root/boot-checks.out" ] && grep -q '^ok\|^not ok' "$R/root/boot-checks.out"; then
	while read -r line; do
		case "$line" in
		"ok "*) ok "boot: ${line#ok * - }" true ;;
		"not ok "*) ok "boot: ${line#not ok * - }" false ;;
		*) echo "    $line" ;;
		esac
	done <"$R/root/boot-checks.out"
else
	echo "# SKIP ********** systemd-nspawn could not boot the root here; the units were not run under systemd **********"
	tail -5 "$W/boot.log" 2>/dev/null | sed 's/^/    /'
	skip_check "boot stage: units under systemd" "systemd-nspawn unavailable or cannot boot"
fi
finish
