#!/usr/bin/env bash
# bench/takeover-micro.sh [N] - build bench/takeover-micro.c against the
# objects of bench/build (configured and built here if needed) and time the
# key derivation of a TLS record-layer takeover per suite. A few seconds;
# pinned to one core when taskset exists. Not a test.
#   TANDEM_BUILD=/path/to/build   use another build directory (e.g. a "before")
set -euo pipefail
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${TANDEM_BUILD:-$SRCDIR/bench/build}
if [[ -z ${TANDEM_BUILD:-} ]]; then
  if [[ ! -x $SRCDIR/configure || $SRCDIR/configure.ac -nt $SRCDIR/configure ]]; then
    (cd "$SRCDIR" && autoreconf -fi >/dev/null 2>&1)
  fi
  if [[ ! -f $B/Makefile || $B/config.status -ot $SRCDIR/configure ]]; then
    mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q)
  fi
  make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -5 "$B/make.log"; exit 1; }
fi
cflags=$(sed -n 's/^CFLAGS = //p' "$B/Makefile")
# shellcheck disable=SC2086
gcc $cflags -Wall -Wextra -I"$B" -I"$SRCDIR/daemon/l7" -o "$B/takeover-micro" \
  "$SRCDIR/bench/takeover-micro.c" "$B/daemon/l7/libl7tls.a" $(pkg-config --libs openssl) -lpthread
pin=(); command -v taskset >/dev/null && pin=(taskset -c "${PROXY_CPU:-1}")
"${pin[@]}" "$B/takeover-micro" "$@"
