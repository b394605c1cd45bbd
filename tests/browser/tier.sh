#!/bin/bash
# tests/browser/tier.sh - the browser tier as tests/run.sh calls it:
#   B=<build dir> SRC=<source dir> bash tests/browser/tier.sh
# Starts the real stack from $B (stack.sh) and runs the console test on it,
# installing the pinned node modules first when missing (run.sh).
# Exit: 0 pass, 1 fail, 77 SKIP (node, npm or chromium missing; binaries not built).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
unset CONSOLE_URL
exec bash "$here/run.sh"
