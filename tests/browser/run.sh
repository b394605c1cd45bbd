#!/bin/bash
# tests/browser/run.sh - run the console browser test.
#
# Installs the pinned node modules if missing (npm ci from package-lock.json),
# then runs console.test.mjs. The targets come from the environment
# (CONSOLE_URL, ADMIN_PASSWORD, TRAFFIC_URL, BACKEND_A, BACKEND_B; see
# console.test.mjs). When CONSOLE_URL is not set, it starts the real stack
# itself with stack.sh (needs B=<build dir>).
#
# Exit: 0 all passed, 1 a failure, 77 SKIP (node, npm or chromium missing).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

skip() {
	echo "########################################################"
	echo "SKIP: browser test: $*"
	echo "########################################################"
	exit 77
}

command -v node >/dev/null 2>&1 || skip "node is not installed (apt-get install nodejs npm)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || skip "chromium is not installed at $CHROMIUM (apt-get install chromium)"
export CHROMIUM
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $node_major is too old (need 18 or newer)"

if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
	command -v npm >/dev/null 2>&1 || skip "npm is not installed and node_modules is missing"
	echo "# installing node modules (npm ci)"
	# playwright-core never downloads a browser by itself; be explicit anyway
	if ! (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error); then
		echo "not ok 1 - npm ci in tests/browser failed"
		exit 1
	fi
fi

if [ -z "${CONSOLE_URL:-}" ]; then
	exec "$here/stack.sh"
fi
exec node "$here/console.test.mjs"
