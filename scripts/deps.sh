#!/bin/sh
# scripts/deps.sh - the one place that installs the Debian packages libcsbot needs.
#
# Usage: scripts/deps.sh [PACKAGE...]
#   Without arguments, checks the project's full package list.
#   With arguments, checks (and installs) only the named packages
#   (used by .ci/run to bootstrap `make` itself).
#
# Installs missing packages with apt-get as root, or via sudo when not root
# and sudo exists; otherwise lists the packages and exits 1.
set -eu

DEFAULT_PACKAGES="build-essential pkg-config libpcre2-dev libcjson-dev \
libutf8proc-dev check libsubunit-dev libopencc-dev opencc libstemmer-dev \
libedit-dev valgrind libmicrohttpd-dev libsqlite3-dev libsodium-dev \
libxml2-dev libssl-dev libcurl4-openssl-dev libhiredis-dev redis-server \
curl wrk chromium fonts-wqy-microhei fonts-noto-color-emoji"
# node and npm (the encoder's conversion, the server's end-to-end and
# browser tests) are installed as the Debian packages nodejs and npm only
# where the commands are missing: a machine may have a newer Node.js that
# brings its own npm (scripts/encoder.sh, test/server.sh, test/browser.sh).

if [ "$#" -gt 0 ]; then
    packages="$*"
else
    packages=$DEFAULT_PACKAGES
fi

missing=""
for pkg in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $pkg" ;;
    esac
done
missing=${missing# }

if [ -z "$missing" ]; then
    exit 0
fi

echo "deps.sh: missing Debian packages: $missing"

if [ "$(id -u)" -eq 0 ]; then
    run_as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    run_as_root() { sudo DEBIAN_FRONTEND=noninteractive "$@"; }
else
    echo "deps.sh: error: missing Debian packages and not root (and no sudo):" >&2
    echo "deps.sh:   $missing" >&2
    echo "deps.sh: install them with:" >&2
    echo "deps.sh:   apt-get update && apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi

DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND

run_as_root apt-get update
# $missing is intentionally split into separate package names.
# shellcheck disable=SC2086
run_as_root apt-get install -y --no-install-recommends $missing

# Verify everything actually got installed.
still=""
for pkg in $missing; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) still="$still $pkg" ;;
    esac
done
if [ -n "$still" ]; then
    echo "deps.sh: error: packages still missing after install:$still" >&2
    exit 1
fi
echo "deps.sh: all packages installed"
