#!/usr/bin/env bash
# scripts/bench-server-redis.sh - the Redis part of `make bench-server`:
# two csbot-server instances on one Redis under wrk, beside the one
# instance on SQLite that scripts/bench-server.sh measures.
#
#   BUILD=build bash scripts/bench-server-redis.sh
#
# Starts redis-server on a free loopback port in a temporary folder (AOF on,
# appendfsync always: a reply is sent only after its turn is on Redis's
# disk), two instances with --redis, creates BENCH_CONVERSATIONS
# conversations (half on each), and for each total of BENCH_CONNECTIONS runs
# two wrk processes at once, one per instance, each with half the
# connections and its own conversations (a load balancer with sticky
# sessions). The instances count the commands they send to Redis
# (csbot_redis_commands_total in /metrics): the round trips per reply.
#
# Environment: BUILD, CSBOT_SERVER, BENCH_CONNECTIONS (default "2 10 100"),
# BENCH_DURATION (10), BENCH_CONVERSATIONS (200), BENCH_APPENDFSYNC (always).
# Writes $BUILD/bench-server/redis-results.txt and the wrk and server logs.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${BUILD:-build}
SERVER=${CSBOT_SERVER:-$BUILD/csbot-server}
CONNECTIONS=${BENCH_CONNECTIONS:-2 10 100}
DURATION=${BENCH_DURATION:-10}
NCONV=${BENCH_CONVERSATIONS:-200}
FSYNC=${BENCH_APPENDFSYNC:-always}
OUT=$BUILD/bench-server
DATA=$OUT/redis-data

die() { echo "bench-server-redis.sh: $*" >&2; exit 1; }

[ -x "$SERVER" ] || die "$SERVER not found: run make first"
command -v redis-server >/dev/null 2>&1 || sh scripts/deps.sh redis-server
command -v redis-server >/dev/null 2>&1 || die "redis-server not found (Debian package redis-server)"
command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (Debian package redis-tools)"
command -v wrk >/dev/null 2>&1 || die "wrk not found (Debian package wrk)"

rm -rf "$DATA"
mkdir -p "$DATA"
cp intents/shop.json "$DATA/kb.json"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_is_free "$p" && { echo "$p"; return; }
    done
    die "no free port"
}

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$DATA" --appendonly yes \
    --appendfsync "$FSYNC" --save '' --daemonize no >"$OUT/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -p "$RPORT" ping | grep -q PONG || die "redis-server did not start (see $OUT/redis.log)"
URL=redis://127.0.0.1:$RPORT/0

BASES=()
for n in 1 2; do
    port=$(free_port)
    "$SERVER" --kb "$DATA/kb.json" --db "$DATA/unused$n.db" --listen "127.0.0.1:$port" \
        --redis "$URL" --rate-limit 0 --quiet 2>"$OUT/redis-server$n.log" >&2 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "listening on http://127.0.0.1:$port/" "$OUT/redis-server$n.log" && break
        sleep 0.1
    done
    grep -q "listening on http://127.0.0.1:$port/" "$OUT/redis-server$n.log" ||
        die "instance $n did not start (see $OUT/redis-server$n.log)"
    BASES+=("http://127.0.0.1:$port")
done

echo "== redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $RPORT (appendfsync $FSYNC), instances ${BASES[*]}"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# new_conversations N FILE BASE: N fresh conversations made on BASE.
new_conversations() {
    : >"$2"
    for i in $(seq "$1"); do
        lang=zh-Hans
        [ $((i % 2)) -eq 0 ] && lang=en
        answer=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
            -d "{\"profile\":{\"lang\":\"$lang\"}}" "$3/api/v1/conversations") ||
            die "POST /api/v1/conversations failed"
        id=$(printf '%s' "$answer" | sed -n 's/.*"id" *: *"\([0-9a-f]\{32\}\)".*/\1/p')
        [ -n "$id" ] || die "POST /api/v1/conversations answered: $answer"
        echo "$id" >>"$2"
    done
}

# Round trips to Redis so far: csbot_redis_commands_total of both instances
# (each /metrics read itself costs one, for the open handoffs).
calls() {
    local n=0 b v
    for b in "${BASES[@]}"; do
        v=$(curl -sS --max-time 5 "$b/metrics" | awk '$1 == "csbot_redis_commands_total" { print $2 }')
        n=$((n + ${v:-0}))
    done
    echo "$n"
}

results=$OUT/redis-results.txt
{
    echo "two csbot-server on one Redis (appendfsync $FSYNC) $(date -u +%Y-%m-%dT%H:%M:%SZ), $NCONV conversations, one wrk per instance, -d${DURATION}s"
    printf '%12s %12s %14s %14s %10s %14s\n' connections replies/s p50_ms_A/B p99_ms_A/B errors redis_cmds/reply
} >"$results"

for c in $CONNECTIONS; do
    half=$((c / 2))
    [ "$half" -ge 1 ] || half=1
    for n in 0 1; do new_conversations $((NCONV / 2)) "$DATA/ids$n.txt" "${BASES[$n]}"; done
    echo "== 2 x wrk -t1 -c$half -d${DURATION}s"
    before=$(calls)
    for n in 0 1; do
        CSBOT_BENCH_IDS=$DATA/ids$n.txt CSBOT_BENCH_THREADS=1 CSBOT_BENCH_DELAY_MS= \
            timeout -k 5 $((DURATION + 60)) \
            wrk -t1 -c"$half" -d"${DURATION}s" --timeout 10s --latency -s scripts/bench-server.lua \
            "${BASES[$n]}" >"$OUT/redis-wrk-c$c-$n.txt" 2>&1 &
        wpid[$n]=$!
    done
    wait "${wpid[0]}" || die "wrk failed: $(cat "$OUT/redis-wrk-c$c-0.txt")"
    wait "${wpid[1]}" || die "wrk failed: $(cat "$OUT/redis-wrk-c$c-1.txt")"
    after=$(($(calls) - 2))
    lines=""
    for n in 0 1; do
        l=$(grep '^CSBOT_RESULT ' "$OUT/redis-wrk-c$c-$n.txt" | tail -n 1) ||
            die "no result from wrk: $(cat "$OUT/redis-wrk-c$c-$n.txt")"
        lines="$lines$l"$'\n'
    done
    printf '%s' "$lines" | awk -v c="$c" -v cmds=$((after - before)) '
        {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] }
        }
        END {
            ok = 0; err = 0
            for (r = 1; r <= 2; r++) {
                ok += (v[r, "requests"] - v[r, "non2xx"]) / (v[r, "duration_us"] / 1e6)
                err += v[r, "non2xx"] + v[r, "socket_errors"]
                n += v[r, "requests"] - v[r, "non2xx"]
            }
            printf "%12s %12.1f %6.2f/%-7.2f %6.2f/%-7.2f %10d %14.2f\n", c, ok,
                v[1, "p50_us"] / 1000, v[2, "p50_us"] / 1000,
                v[1, "p99_us"] / 1000, v[2, "p99_us"] / 1000, err, n ? cmds / n : 0
        }' >>"$results"
done
echo "redis memory at the end: $(redis-cli -p "$RPORT" info memory | sed -n 's/^used_memory_human:\(.*\)\r*$/\1/p' | tr -d '\r');" \
    "AOF: $(du -h "$DATA/appendonlydir" 2>/dev/null | tail -1 | cut -f1)" >>"$results"
echo
cat "$results"
