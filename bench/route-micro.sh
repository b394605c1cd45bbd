#!/usr/bin/env bash
# bench/route-micro.sh [N ...] - build bench/route-micro.c against the objects
# of bench/build (configured and built by bench/l7.sh, or here) and time
# l7_route_match() alone with N routes, the matching one last (default 10 1000).
# Takes a few seconds; pinned to one core when taskset exists. Not a test.
#   TANDEM_BUILD=/path/to/build   use another build directory (e.g. a "before")
set -euo pipefail
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$SRCDIR/bench/micro-build.sh"
micro_build route-micro daemon/l7/libl7.a daemon/conf/libconf.a daemon/limit/liblimit.a lib/libtandem.a
pin=(); command -v taskset >/dev/null && pin=(taskset -c "${PROXY_CPU:-1}")
"${pin[@]}" "$MICRO_BIN" "$@"
