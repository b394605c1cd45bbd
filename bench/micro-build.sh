# bench/micro-build.sh - sourced by the micro benchmarks (route-micro.sh,
# takeover-micro.sh): configures and builds bench/build (or uses
# $TANDEM_BUILD as it is) and compiles one bench/*.c against its objects.
#   micro_build NAME LIBS...   sets MICRO_BIN; LIBS are archives under the build dir
micro_build() {
  local name=$1 src=$SRCDIR/bench/$1.c cflags libs=() l
  shift
  B=${TANDEM_BUILD:-$SRCDIR/bench/build}
  if [[ -z ${TANDEM_BUILD:-} ]]; then
    if [[ ! -x $SRCDIR/configure || $SRCDIR/configure.ac -nt $SRCDIR/configure ]]; then
      (cd "$SRCDIR" && autoreconf -fi >/dev/null 2>&1)
    fi
    if [[ ! -f $B/Makefile || $B/config.status -ot $SRCDIR/configure ]]; then
      mkdir -p "$B" && (cd "$B" && "$SRCDIR/configure" -q)
    fi
    make -s -C "$B" -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -5 "$B/make.log"; return 1; }
  fi
  for l in "$@"; do libs+=("$B/$l"); done
  cflags=$(sed -n 's/^CFLAGS = //p' "$B/Makefile")
  # shellcheck disable=SC2086
  gcc $cflags -Wall -Wextra -I"$B" -I"$SRCDIR/lib" -I"$SRCDIR/daemon/conf" -I"$SRCDIR/daemon/l7" \
    -o "$B/$name" "$src" "${libs[@]}" $(pkg-config --libs jansson libpcre2-8 openssl) -lpthread
  MICRO_BIN=$B/$name
}
