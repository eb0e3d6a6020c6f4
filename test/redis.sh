#!/usr/bin/env bash
# test/redis.sh - end-to-end tests of several csbot-server instances sharing
# their state through a real Redis (--redis; test/redis/*.test.mjs, run by
# node's built-in test runner; no npm packages). Each test file starts its
# own redis-server on a free loopback port in a temporary folder (AOF on) and
# two or three csbot-server instances against it.
#
#   CSBOT_SERVER=/abs/path/to/csbot-server bash test/redis.sh [NODE TEST ARGS...]
#
# CSBOT_SERVER defaults to build/csbot-server in the repository root;
# CSBOT_REDIS_SERVER to redis-server on the PATH (installed with
# scripts/deps.sh when missing). CSBOT_REDIS_SKIP=1 skips the tests (and
# only that does: a missing redis-server is an error, not a skip). Extra
# arguments go to `node --test`, e.g. --test-name-pattern=claim. See
# test/server/helpers.mjs for CSBOT_TEST_KEEP, CSBOT_TEST_VERBOSE and
# CSBOT_TIMEOUT_SCALE.
set -euo pipefail

if [[ ${CSBOT_REDIS_SKIP:-} == 1 ]]; then
    echo "redis.sh: CSBOT_REDIS_SKIP=1: skipping the Redis scale-out tests"
    exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSBOT_SERVER=${CSBOT_SERVER:-$root/build/csbot-server}
case $CSBOT_SERVER in
/*) ;;
*) CSBOT_SERVER=$PWD/$CSBOT_SERVER ;;
esac
export CSBOT_SERVER

if [[ ! -x $CSBOT_SERVER ]]; then
    echo "redis.sh: $CSBOT_SERVER is not an executable (run make first)" >&2
    exit 1
fi

CSBOT_REDIS_SERVER=${CSBOT_REDIS_SERVER:-redis-server}
if ! command -v "$CSBOT_REDIS_SERVER" >/dev/null 2>&1 && [[ $CSBOT_REDIS_SERVER == redis-server ]]; then
    sh "$root/scripts/deps.sh" redis-server || true
fi
if ! command -v "$CSBOT_REDIS_SERVER" >/dev/null 2>&1; then
    echo "redis.sh: $CSBOT_REDIS_SERVER not found: the Debian package redis-server is needed" >&2
    echo "redis.sh: (set CSBOT_REDIS_SKIP=1 to skip these tests)" >&2
    exit 1
fi
CSBOT_REDIS_SERVER=$(command -v "$CSBOT_REDIS_SERVER")
export CSBOT_REDIS_SERVER

if ! command -v node >/dev/null 2>&1; then
    sh "$root/scripts/deps.sh" nodejs npm
fi
if ! command -v node >/dev/null 2>&1; then
    echo "redis.sh: node (Node.js 18 or later) is needed to run the Redis tests" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 18)); then
    echo "redis.sh: node $(node --version) is too old (18 or later)" >&2
    exit 1
fi

if ! "$CSBOT_SERVER" --help 2>&1 | grep -q -- --redis; then
    echo "redis.sh: warning: $CSBOT_SERVER --help does not mention --redis" >&2
fi

cd "$root"
args=(--test --test-reporter=spec)
# Each file runs its own Redis and servers on their own ports: two at a time.
if node --help | grep -q -- --test-concurrency; then
    args+=(--test-concurrency=2)
fi
# A bound on the whole run, whatever happens (a sanitizer build is slower).
limit=120
case $CSBOT_SERVER in */san-*) limit=600 ;; esac
echo "redis.sh: $CSBOT_SERVER with $CSBOT_REDIS_SERVER ($("$CSBOT_REDIS_SERVER" --version | head -1))"
exec timeout -k 10 "$limit" node "${args[@]}" "$@" test/redis/*.test.mjs
