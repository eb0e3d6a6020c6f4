# shellcheck shell=bash
# scripts/bench-common.sh - shared by scripts/bench.sh, eval.sh, bench-peers.sh
# (sourced, not run). Sets REPO, BUILD, CSBOT, DATA, HAVE_DATA and defines
# the helpers below. The public data sets are read in place from
# $(dirname REPO)/shared/data (override with CSBOT_DATA); nothing is copied
# into the tree: knowledge bases generated from them go under $BUILD.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
BUILD=${BUILD:-build}
CSBOT=${CSBOT:-$BUILD/csbot}
DATA=${CSBOT_DATA:-$(dirname "$REPO")/shared/data}
CC=${CC:-cc}
BENCH_PKGS="libpcre2-8 libcjson libutf8proc opencc"

# shellcheck disable=SC2034 # used by the scripts that source this file
if [ -d "$DATA" ]; then HAVE_DATA=1; else HAVE_DATA=0; fi

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

need_csbot() {
    [ -x "$CSBOT" ] || die "$CSBOT not found: run make first"
}

# import_kb TSV LANG OUT.json NAME: build a KB with `csbot import` (the
# labels are kept as they are: intent ids may be any printable text).
# With ENC_ARGS (--encoder FILE) the KB also stores its examples' vectors.
import_kb() {
    local tsv=$1 lang=$2 out=$3 name=$4
    mkdir -p "$(dirname "$out")"
    if ! "$CSBOT" import "$tsv" --lang "$lang" --name "$name" ${ENC_ARGS[@]+"${ENC_ARGS[@]}"} \
            > "$out.tmp" 2> "$out.log"; then
        cat "$out.log" >&2
        rm -f "$out.tmp"
        die "csbot import $tsv failed"
    fi
    mv "$out.tmp" "$out"
}

# Compile bench/NAME.c into $BUILD/bench/NAME with the library's flags.
build_bench_prog() {
    local name=$1
    mkdir -p "$BUILD/bench"
    [ -f "$BUILD/libcsbot.a" ] || die "$BUILD/libcsbot.a not found: run make first"
    # shellcheck disable=SC2046,SC2086 # word splitting wanted
    "$CC" -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Iinclude \
        $(pkg-config --cflags $BENCH_PKGS) "bench/$name.c" "$BUILD/libcsbot.a" \
        $(pkg-config --libs $BENCH_PKGS) -lstemmer -lm -lpthread \
        -o "$BUILD/bench/$name"
}

# A short description of the machine, for the reports.
machine_info() {
    local cpu
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $("$CC" --version | head -n 1)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
