#!/usr/bin/env bash
# bench/route-micro.sh [N ...] - build bench/route-micro.c against the objects
# of bench/build (configured and built by bench/l7.sh, or here) and time
# l7_route_match() alone with N routes, the matching one last (default 10 1000).
# Takes a few seconds; pinned to one core when taskset exists. Not a test.
set -euo pipefail
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$SRCDIR/bench/build
if [[ ! -x $SRCDIR/configure || $SRCDIR/configure.ac -nt $SRCDIR/configure ]]; then
  (cd "$SRCDIR" && autoreconf -fi >/dev/null 2>&1)
fi
if [[ ! -f $B/Makefile || $B/config.status -ot $SRCDIR/configure ]]; then
  mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q)
fi
make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -5 "$B/make.log"; exit 1; }
cflags=$(sed -n 's/^CFLAGS = //p' "$B/Makefile")
# shellcheck disable=SC2086
gcc $cflags -Wall -Wextra -I"$B" -I"$SRCDIR/lib" -I"$SRCDIR/daemon/conf" -I"$SRCDIR/daemon/l7" \
  -o "$B/route-micro" "$SRCDIR/bench/route-micro.c" \
  "$B/daemon/l7/libl7.a" "$B/daemon/conf/libconf.a" "$B/daemon/limit/liblimit.a" "$B/lib/libtandem.a" \
  $(pkg-config --libs jansson libpcre2-8 openssl) -lpthread
pin=(); command -v taskset >/dev/null && pin=(taskset -c "${PROXY_CPU:-1}")
"${pin[@]}" "$B/route-micro" "$@"
