#!/usr/bin/env bash
# test/browser.sh - the web pages of csbot-server (customer chat, agent
# console, dashboard) in headless Chromium against a real server on loopback
# (test/browser/*.test.mjs, node's built-in test runner, driven by
# puppeteer-core).
#
#   CSBOT_SERVER=/abs/path/to/csbot-server BUILD=build bash test/browser.sh [NODE TEST ARGS...]
#
# CSBOT_SERVER defaults to build/csbot-server, BUILD to build (relative to the
# repository root). puppeteer-core (pinned below; it never downloads a
# browser) is installed with npm into $BUILD/npm the first time; the browser
# is Debian's /usr/bin/chromium ($CSBOT_CHROMIUM to use another one).
# Screenshots go to $BUILD/screenshots/. Chromium (and the CJK and emoji
# fonts of the screenshots) are installed by `make test` (scripts/deps.sh),
# node and npm by this script through scripts/deps.sh when the commands are
# missing; when any of them is still missing this script fails.
# See test/server/helpers.mjs for CSBOT_TEST_KEEP, CSBOT_TEST_VERBOSE and
# CSBOT_TIMEOUT_SCALE.
set -euo pipefail

PUPPETEER_VERSION=24.43.1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSBOT_SERVER=${CSBOT_SERVER:-$root/build/csbot-server}
case $CSBOT_SERVER in
/*) ;;
*) CSBOT_SERVER=$PWD/$CSBOT_SERVER ;;
esac
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$root/$BUILD ;;
esac
CSBOT_CHROMIUM=${CSBOT_CHROMIUM:-/usr/bin/chromium}
export CSBOT_SERVER CSBOT_CHROMIUM

fail() {
    echo "browser.sh: error: $*" >&2
    exit 1
}

[[ -x $CSBOT_SERVER ]] || fail "$CSBOT_SERVER is not an executable (run make first)"
# node and npm: the Debian packages only where the commands are missing (a
# newer Node.js may bring its own npm); see scripts/deps.sh.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sh "$root/scripts/deps.sh" nodejs npm || true
fi
command -v node >/dev/null 2>&1 ||
    fail "node is missing (Debian package nodejs: scripts/deps.sh nodejs npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 18)) || fail "node $(node --version) is too old (18 or later)"
command -v npm >/dev/null 2>&1 ||
    fail "npm is missing (Debian package npm: scripts/deps.sh nodejs npm)"
[[ -x $CSBOT_CHROMIUM ]] ||
    fail "$CSBOT_CHROMIUM is missing (Debian package chromium; make test installs it through scripts/deps.sh)"

npm_dir=$BUILD/npm
pkg=$npm_dir/node_modules/puppeteer-core/package.json
have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch { }' "$pkg")
if [[ $have != "$PUPPETEER_VERSION" ]]; then
    echo "browser.sh: npm install puppeteer-core@$PUPPETEER_VERSION into $npm_dir"
    mkdir -p "$npm_dir"
    if ! timeout -k 10 300 npm install --prefix "$npm_dir" --no-audit --no-fund --save-exact \
        --loglevel=error "puppeteer-core@$PUPPETEER_VERSION"; then
        fail "npm install puppeteer-core@$PUPPETEER_VERSION failed (is the npm registry reachable?)"
    fi
    have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch { }' "$pkg")
    [[ $have == "$PUPPETEER_VERSION" ]] ||
        fail "puppeteer-core@$PUPPETEER_VERSION is not in $npm_dir after npm install"
fi

# The test files load puppeteer-core from here (createRequire); NODE_PATH for
# anything that uses a plain require().
export CSBOT_NPM_DIR=$npm_dir
export NODE_PATH=$npm_dir/node_modules${NODE_PATH:+:$NODE_PATH}
export CSBOT_SCREENSHOTS=$BUILD/screenshots
mkdir -p "$CSBOT_SCREENSHOTS"

cd "$root"
args=(--test --test-reporter=spec)
# A bound on the whole run, whatever happens (a sanitizer build is slower).
limit=180
case $CSBOT_SERVER in */san-*) limit=600 ;; esac
if [[ -n ${CSBOT_TIMEOUT_SCALE:-} ]]; then
    limit=$(awk -v s="$CSBOT_TIMEOUT_SCALE" 'BEGIN { s = s < 1 ? 1 : s; print int(180 * s) }')
fi
echo "browser.sh: $CSBOT_SERVER, $("$CSBOT_CHROMIUM" --version 2>/dev/null), puppeteer-core $PUPPETEER_VERSION"
exec timeout -k 10 "$limit" node "${args[@]}" "$@" test/browser/*.test.mjs
