#!/usr/bin/env bash
# bench/takeover-micro.sh [N] - build bench/takeover-micro.c against the
# objects of bench/build (configured and built here if needed) and time the
# key derivation of a TLS record-layer takeover per suite. A few seconds;
# pinned to one core when taskset exists. Not a test.
#   TANDEM_BUILD=/path/to/build   use another build directory (e.g. a "before")
set -euo pipefail
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$SRCDIR/bench/micro-build.sh"
micro_build takeover-micro daemon/l7/libl7tls.a
pin=(); command -v taskset >/dev/null && pin=(taskset -c "${PROXY_CPU:-1}")
"${pin[@]}" "$MICRO_BIN" "$@"
