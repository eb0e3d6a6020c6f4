#!/usr/bin/env bash
# test/wechat.sh - end-to-end tests of csbot-server's WeChat channels
# (--wechat: official account, --wecom: WeCom customer service), with a
# stand-in for WeChat and its API (test/wechat/standin.mjs) on loopback;
# test/wechat/*.test.mjs, run by node's built-in test runner (no npm packages).
#
#   CSBOT_SERVER=/abs/path/to/csbot-server bash test/wechat.sh [NODE TEST ARGS...]
#
# CSBOT_SERVER defaults to build/csbot-server in the repository root. Extra
# arguments go to `node --test`, e.g. --test-name-pattern=wecom. The
# environment of test/server/helpers.mjs applies (CSBOT_TEST_KEEP,
# CSBOT_TEST_VERBOSE, CSBOT_TIMEOUT_SCALE). A server without --wechat is a
# failure, not a skip.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSBOT_SERVER=${CSBOT_SERVER:-$root/build/csbot-server}
case $CSBOT_SERVER in
/*) ;;
*) CSBOT_SERVER=$PWD/$CSBOT_SERVER ;;
esac
export CSBOT_SERVER

if [[ ! -x $CSBOT_SERVER ]]; then
    echo "wechat.sh: $CSBOT_SERVER is not an executable (run make first)" >&2
    exit 1
fi
usage=$("$CSBOT_SERVER" --help 2>&1 || true)
for opt in --wechat --wecom; do
    if ! grep -q -- "$opt" <<<"$usage"; then
        echo "wechat.sh: $CSBOT_SERVER has no $opt option (its usage does not mention it): FAIL" >&2
        exit 1
    fi
done
if ! command -v node >/dev/null 2>&1; then
    sh "$root/scripts/deps.sh" nodejs npm
fi
if ! command -v node >/dev/null 2>&1; then
    echo "wechat.sh: node (Node.js 18 or later) is needed to run the WeChat tests" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 18)); then
    echo "wechat.sh: node $(node --version) is too old (18 or later)" >&2
    exit 1
fi

cd "$root"
args=(--test --test-reporter=spec)
# Each file runs its own servers and stand-in on their own ports.
if node --help | grep -q -- --test-concurrency; then
    args+=(--test-concurrency=2)
fi
# A bound on the whole run, whatever happens (a sanitizer build is slower).
limit=300
case $CSBOT_SERVER in */san-*) limit=900 ;; esac
echo "wechat.sh: $CSBOT_SERVER"
exec timeout -k 10 "$limit" node "${args[@]}" "$@" test/wechat/*.test.mjs
