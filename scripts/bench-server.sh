#!/usr/bin/env bash
# scripts/bench-server.sh - `make bench-server`: csbot-server under wrk.
#
#   BUILD=build bash scripts/bench-server.sh
#
# Starts $BUILD/csbot-server as it runs in production (a database on disk,
# every turn stored before it is answered) but --quiet and --rate-limit 0, on
# a free loopback port, creates BENCH_CONVERSATIONS conversations with curl,
# and runs wrk with scripts/bench-server.lua, which POSTs Chinese and English
# shop questions round-robin to them, at each of BENCH_CONNECTIONS
# concurrent connections. Prints replies/s, p50, p99 and errors (non-2xx
# answers plus socket errors) per run, and the database size at the end.
#
# Environment:
#   BUILD                build directory (default build)
#   CSBOT_SERVER         the server binary (default $BUILD/csbot-server)
#   BENCH_CONNECTIONS    connection counts (default "1 10 100")
#   BENCH_DURATION       seconds per run (default 10)
#   BENCH_THREADS        wrk threads (default 2)
#   BENCH_CONVERSATIONS  conversations (default 200)
#   BENCH_RATE           a last run at this offered load (replies/s, default
#                        10000; 0: none) from BENCH_RATE_CONNECTIONS (100)
#                        connections, each waiting after each answer
#   BENCH_REDIS          0: skip the second part, two instances on one Redis
#                        (scripts/bench-server-redis.sh)
#
# Writes $BUILD/bench-server/: results.txt (the table), wrk-cN.txt (wrk's own
# report of each run) and server.log; the database lives in
# $BUILD/bench-server/data/ while it runs and is removed at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${BUILD:-build}
SERVER=${CSBOT_SERVER:-$BUILD/csbot-server}
CONNECTIONS=${BENCH_CONNECTIONS:-1 10 100}
DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
NCONV=${BENCH_CONVERSATIONS:-200}
RATE=${BENCH_RATE:-10000}
RATE_CONNECTIONS=${BENCH_RATE_CONNECTIONS:-100}
OUT=$BUILD/bench-server
DATA=$OUT/data

die() { echo "bench-server.sh: $*" >&2; exit 1; }

[ -x "$SERVER" ] || die "$SERVER not found: run make first"
command -v curl >/dev/null 2>&1 || die "curl not found (Debian package curl)"
command -v wrk >/dev/null 2>&1 ||
    die "wrk not found: install the Debian package wrk (sh scripts/deps.sh wrk)"
case $DURATION in '' | *[!0-9]*) die "BENCH_DURATION must be a number of seconds" ;; esac
case $NCONV in '' | *[!0-9]* | 0) die "BENCH_CONVERSATIONS must be a positive number" ;; esac

rm -rf "$DATA"
rm -f "$OUT"/wrk-c*.txt "$OUT/results.txt"
mkdir -p "$DATA"
cp intents/shop.json "$DATA/kb.json"

server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on (checked with bash's /dev/tcp); the server
# refuses to start when it was taken meanwhile, and another is tried.
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() {
    local attempt port i
    for attempt in 1 2 3 4 5; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_is_free "$port" || continue
        : >"$OUT/server.log"
        "$SERVER" --kb "$DATA/kb.json" --db "$DATA/csbot.db" --listen "127.0.0.1:$port" \
            --rate-limit 0 --quiet 2>>"$OUT/server.log" >&2 &
        server_pid=$!
        for i in $(seq 100); do # at most 10 s
            if grep -q "csbot-server: listening on http://127.0.0.1:$port/" "$OUT/server.log"; then
                BASE=http://127.0.0.1:$port
                return 0
            fi
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
        echo "bench-server.sh: the server did not start on port $port (attempt $attempt):" >&2
        tail -n 5 "$OUT/server.log" >&2
    done
    die "could not start $SERVER"
}

# file_size FILE: its size in bytes, 0 when it does not exist.
file_size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

echo "== $SERVER"
echo "machine: $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_server
echo "server: $BASE (pid $server_pid, database $DATA/csbot.db)"

# new_conversations: $NCONV fresh conversations into $DATA/ids.txt (each run
# gets its own, so that no run measures conversations an earlier one left
# with a person).
new_conversations() {
    echo "== creating $NCONV conversations"
    : >"$DATA/ids.txt"
    for i in $(seq "$NCONV"); do
        lang=zh-Hans
        [ $((i % 2)) -eq 0 ] && lang=en
        answer=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
            -d "{\"profile\":{\"name\":\"bench$i\",\"lang\":\"$lang\"}}" "$BASE/api/v1/conversations") ||
            die "POST /api/v1/conversations failed"
        id=$(printf '%s' "$answer" | sed -n 's/.*"id" *: *"\([0-9a-f]\{32\}\)".*/\1/p')
        [ -n "$id" ] || die "POST /api/v1/conversations answered: $answer"
        echo "$id" >>"$DATA/ids.txt"
    done
}
new_conversations

# One sanity turn, so that a broken server fails here and not as 100% errors.
first=$(head -n 1 "$DATA/ids.txt")
answer=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -d '{"text":"请问怎么开发票呢"}' "$BASE/api/v1/conversations/$first/messages") ||
    die "the first message failed"
case $answer in *'"intent":'*'"invoice"'*) ;; *) die "unexpected reply: $answer" ;; esac

results=$OUT/results.txt
{
    echo "csbot-server $(date -u +%Y-%m-%dT%H:%M:%SZ), $NCONV conversations, wrk -t$THREADS (at most one per connection) -d${DURATION}s"
    printf '%12s %12s %10s %10s %10s\n' connections replies/s p50_ms p99_ms errors
} >"$results"
# run_wrk CONNECTIONS DELAY_MS LABEL: one wrk run, one line of results.
run_wrk() {
    local c=$1 d=$2 label=$3 t=$THREADS line
    [ "$c" -lt "$t" ] && t=$c
    new_conversations
    echo "== wrk -t$t -c$c -d${DURATION}s --latency${d:+ (each connection waits $d ms after each answer)}"
    CSBOT_BENCH_IDS=$DATA/ids.txt CSBOT_BENCH_THREADS=$t CSBOT_BENCH_DELAY_MS=$d \
        timeout -k 5 $((DURATION + 60)) \
        wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s scripts/bench-server.lua "$BASE" \
        >"$OUT/wrk-c$c$label.txt" 2>&1 || { cat "$OUT/wrk-c$c$label.txt" >&2; die "wrk failed"; }
    line=$(grep '^CSBOT_RESULT ' "$OUT/wrk-c$c$label.txt" | tail -n 1 || true)
    [ -n "$line" ] || { cat "$OUT/wrk-c$c$label.txt" >&2; die "no result from wrk"; }
    # shellcheck disable=SC2086 # the fields are NAME=NUMBER words
    printf '%s\n' $line | awk -F= -v c="$c$label" '
        { v[$1] = $2 }
        END {
            ok = v["requests"] - v["non2xx"]
            printf "%12s %12.1f %10.2f %10.2f %10d\n", c, ok / (v["duration_us"] / 1e6),
                v["p50_us"] / 1000, v["p99_us"] / 1000, v["non2xx"] + v["socket_errors"]
        }' >>"$results"
    kill -0 "$server_pid" 2>/dev/null || die "the server died during the run (see $OUT/server.log)"
}

for c in $CONNECTIONS; do
    run_wrk "$c" "" ""
done
# The same conversations at a set load: RATE replies/s offered by RATE_CONNECTIONS
# customers, each waiting RATE_CONNECTIONS*1000/RATE ms after each answer
# (the rate reached is a little under RATE: the wait comes on top of the latency).
if [ "$RATE" -gt 0 ]; then
    run_wrk "$RATE_CONNECTIONS" $((RATE_CONNECTIONS * 1000 / RATE)) "@${RATE}"
fi

# What the bot did meanwhile (a run full of handoffs would not measure answers).
metrics=$(curl -sS --max-time 5 "$BASE/metrics" || true)
replies=$(printf '%s\n' "$metrics" | sed -n 's/^csbot_replies_total{action="\([a-z]*\)"} \([0-9.e+]*\)$/\1=\2/p' | tr '\n' ' ')
handoffs=$(printf '%s\n' "$metrics" | awk '/^csbot_handoffs_total/ { n += $2 } END { print n + 0 }')

db=$(file_size "$DATA/csbot.db")
wal=$(file_size "$DATA/csbot.db-wal")
# stop gracefully: the WAL is checkpointed into the database
kill -TERM "$server_pid"
for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "bench-server.sh: the server did not stop within 10 s of SIGTERM" >&2
else
    wait "$server_pid" 2>/dev/null || echo "bench-server.sh: the server exited with status $?" >&2
    server_pid=
fi
db_after=$(file_size "$DATA/csbot.db")
wal_after=$(file_size "$DATA/csbot.db-wal")
{
    echo "replies by action: ${replies:-(no metrics)}; handoffs: $handoffs"
    echo "database at the end: $(mib $((db + wal))) (db $(mib "$db") + wal $(mib "$wal"));" \
        "after shutdown: $(mib $((db_after + wal_after)))"
} >>"$results"
echo
cat "$results"

# The same load on two instances sharing one Redis (BENCH_REDIS=0: skip).
if [ "${BENCH_REDIS:-1}" != 0 ]; then
    echo
    CSBOT_SERVER=$SERVER BUILD=$BUILD bash scripts/bench-server-redis.sh
fi
