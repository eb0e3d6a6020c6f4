#!/usr/bin/env bash
# test/server.sh - end-to-end tests of csbot-server over HTTP (test/server/*.test.mjs,
# run by node's built-in test runner; no npm packages).
#
#   CSBOT_SERVER=/abs/path/to/csbot-server bash test/server.sh [NODE TEST ARGS...]
#
# CSBOT_SERVER defaults to build/csbot-server in the repository root. Extra
# arguments go to `node --test`, e.g. --test-name-pattern=handoff. See
# test/server/helpers.mjs for CSBOT_TEST_KEEP, CSBOT_TEST_VERBOSE and
# CSBOT_TIMEOUT_SCALE.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSBOT_SERVER=${CSBOT_SERVER:-$root/build/csbot-server}
case $CSBOT_SERVER in
/*) ;;
*) CSBOT_SERVER=$PWD/$CSBOT_SERVER ;;
esac
export CSBOT_SERVER

if [[ ! -x $CSBOT_SERVER ]]; then
    echo "server.sh: $CSBOT_SERVER is not an executable (run make first)" >&2
    exit 1
fi
if ! command -v node >/dev/null 2>&1; then
    sh "$root/scripts/deps.sh" nodejs npm
fi
if ! command -v node >/dev/null 2>&1; then
    echo "server.sh: node (Node.js 18 or later) is needed to run the server tests" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 18)); then
    echo "server.sh: node $(node --version) is too old (18 or later)" >&2
    exit 1
fi

cd "$root"
args=(--test)
# Node 20 prints a readable report with `spec`; 18 has it too from 18.15.
args+=(--test-reporter=spec)
# Each file runs its own server on its own port: run them two at a time.
if node --help | grep -q -- --test-concurrency; then
    args+=(--test-concurrency=2)
fi
# A bound on the whole run, whatever happens (a sanitizer build is slower).
limit=180
case $CSBOT_SERVER in */san-*) limit=600 ;; esac
echo "server.sh: $CSBOT_SERVER"
exec timeout -k 10 "$limit" node "${args[@]}" "$@" test/server/*.test.mjs
