#!/usr/bin/env bash
# scripts/bench-peers.sh - `make bench-peers`: libcsbot against NLP.js on the
# same messages, in the same run.
#
#   BUILD=build CSBOT=build/csbot bash scripts/bench-peers.sh
#
# Installs node-nlp (version pinned in bench/peers/package.json and
# package-lock.json) into $BUILD/peers with npm - nothing is installed in the
# tree - then, for BANKING77 (en) and DataCLUE CIC (zh):
#   libcsbot  KB from train.tsv (csbot import); accuracy = top1_accuracy of
#             `csbot eval KB test.tsv --json`; p50/p99/qps = bench/bench.c on
#             the test messages (one thread, fresh conversation per message)
#   NLP.js    trained on train.tsv with defaults, then with 300 epochs
#             (bench/peers/nlpjs.js); every process() call on the test
#             messages timed
# Prints a side-by-side table and writes $BUILD/bench/peers.json:
#   { "<set>": { "<engine>": { accuracy, p50_us, p99_us, qps, ... } } }
# with engines csbot, nlpjs (defaults) and nlpjs_300 (300 epochs).
#
# Environment: PEERS_EPOCHS (default 300), PEERS_SETS (default
# "banking77 cic"), CSBOT_DATA.
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

PEERS=$BUILD/peers
OUT=$BUILD/bench
EPOCHS=${PEERS_EPOCHS:-300}
SETS=${PEERS_SETS:-banking77 cic}

if [ "$HAVE_DATA" = 0 ]; then
    echo "bench-peers: $DATA is absent: nothing to compare on"
    exit 0
fi
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    die "node and npm are needed (Debian: apt-get install nodejs npm)"
fi
need_csbot
machine_info
echo "node $(node --version)"
mkdir -p "$PEERS" "$OUT"

# ---- install NLP.js into $BUILD/peers ---------------------------------------
want=$(node -p "require('./bench/peers/package.json').dependencies['node-nlp']")
have=$(cd "$PEERS" && node -p "try { require('./node_modules/node-nlp/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ] || ! cmp -s bench/peers/package-lock.json "$PEERS/package-lock.json"; then
    echo "== installing node-nlp $want into $PEERS"
    cp bench/peers/package.json bench/peers/package-lock.json "$PEERS/"
    (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error)
else
    echo "== node-nlp $have already installed in $PEERS"
fi
export NODE_PATH=$REPO/$PEERS/node_modules
case $PEERS in /*) export NODE_PATH=$PEERS/node_modules ;; esac

build_bench_prog bench

train_file() { case $1 in banking77) echo "$DATA/banking77/train.tsv" ;; cic) echo "$DATA/dataclue_cic/train.tsv" ;; esac; }
test_file() { case $1 in banking77) echo "$DATA/banking77/test.tsv" ;; cic) echo "$DATA/dataclue_cic/test.tsv" ;; esac; }
lang_of() { case $1 in cic) echo zh ;; *) echo en ;; esac; }

for s in $SETS; do
    tr=$(train_file "$s")
    te=$(test_file "$s")
    lang=$(lang_of "$s")
    [ -n "$tr" ] || die "unknown set $s"
    echo "== $s: libcsbot"
    import_kb "$tr" "$lang" "$PEERS/kb/$s.json" "$s"
    "$CSBOT" eval "$PEERS/kb/$s.json" "$te" --json > "$PEERS/$s.csbot.eval.json"
    "$OUT/bench" --kb "$PEERS/kb/$s.json" --queries "$te" --name "$s" --threads 1 \
        --json "$PEERS/$s.csbot.bench.json" > "$PEERS/$s.csbot.bench.txt" \
        2> "$PEERS/$s.csbot.bench.log"
    echo "== $s: NLP.js, default training"
    node bench/peers/nlpjs.js --name "$s" --train "$tr" --test "$te" --lang "$lang" \
        --out "$PEERS/$s.nlpjs.json" 2> "$PEERS/$s.nlpjs.log" > /dev/null ||
        { cat "$PEERS/$s.nlpjs.log" >&2; die "nlpjs.js failed on $s"; }
    echo "== $s: NLP.js, $EPOCHS epochs"
    node bench/peers/nlpjs.js --name "$s" --train "$tr" --test "$te" --lang "$lang" \
        --iterations "$EPOCHS" --out "$PEERS/$s.nlpjs_$EPOCHS.json" \
        2> "$PEERS/$s.nlpjs_$EPOCHS.log" > /dev/null ||
        { cat "$PEERS/$s.nlpjs_$EPOCHS.log" >&2; die "nlpjs.js failed on $s"; }
done

# ---- table and peers.json ------------------------------------------------------
PEERS_DIR=$PEERS SETS=$SETS EPOCHS=$EPOCHS OUT_JSON=$OUT/peers.json node - <<'EOF'
const fs = require('fs');
const dir = process.env.PEERS_DIR;
const epochs = process.env.EPOCHS;
const read = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
const result = {};
const pad = (s, n) => String(s).padStart(n);
console.log();
console.log(`${'set'.padEnd(10)} ${'engine'.padEnd(22)} ${pad('accuracy', 8)} ${pad('p50_us', 8)} ${pad('p99_us', 8)} ${pad('best_p99', 8)} ${pad('qps', 8)} ${pad('train/load', 11)} ${pad('p50 x', 7)} ${pad('p99 x', 7)} ${pad('best99 x', 8)} ${pad('qps x', 7)}`);
for (const s of process.env.SETS.split(/\s+/).filter(Boolean)) {
  const ev = read(`${s}.csbot.eval.json`);
  const be = read(`${s}.csbot.bench.json`);
  // bench's RESULT line: name entries load rss p50 p99 qps1 qps2 allocs cpus1 cpus2 best_p50 best_p99
  const res = fs.readFileSync(`${dir}/${s}.csbot.bench.txt`, 'utf8').split('\n')
    .find((l) => l.startsWith('RESULT\t')).split('\t');
  const engines = {
    csbot: { accuracy: ev.top1_accuracy, p50_us: be.p50_us, p99_us: be.p99_us,
             best_p50_us: Number(res[12]), best_p99_us: Number(res[13]),
             qps: be.qps_1t, load_ms: be.load_ms },
  };
  for (const [key, file] of [['nlpjs', `${s}.nlpjs.json`], [`nlpjs_${epochs}`, `${s}.nlpjs_${epochs}.json`]]) {
    const n = read(file);
    engines[key] = { accuracy: n.accuracy, p50_us: n.p50_us, p99_us: n.p99_us, qps: n.qps,
                     train_ms: n.train_ms, epochs_run: n.epochs_run,
                     answered_accuracy: n.answered_accuracy, version: n.version };
  }
  result[s] = engines;
  const c = engines.csbot;
  for (const [name, e] of Object.entries(engines)) {
    const label = name === 'csbot' ? 'libcsbot'
      : name === 'nlpjs' ? `NLP.js default(${e.epochs_run}ep)` : `NLP.js ${epochs} ep`;
    const tl = name === 'csbot' ? `${Math.round(e.load_ms)} ms` : `${(e.train_ms / 1000).toFixed(1)} s`;
    const x = (v) => `${v.toFixed(1)}x`;
    console.log(`${s.padEnd(10)} ${label.padEnd(22)} ${pad(e.accuracy.toFixed(4), 8)} ${pad(e.p50_us.toFixed(1), 8)} ${pad(e.p99_us.toFixed(1), 8)} ${pad(e.best_p99_us ? e.best_p99_us.toFixed(1) : '-', 8)} ${pad(Math.round(e.qps), 8)} ${pad(tl, 11)} ${pad(x(e.p50_us / c.p50_us), 7)} ${pad(x(e.p99_us / c.p99_us), 7)} ${pad(name === 'csbot' ? '-' : x(e.p99_us / c.best_p99_us), 8)} ${pad(x(c.qps / e.qps), 7)}`);
  }
}
fs.writeFileSync(process.env.OUT_JSON, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${process.env.OUT_JSON}`);
console.log('p50 x, p99 x = engine / libcsbot (how many times slower); qps x = libcsbot qps / engine qps');
console.log('best_p99 = libcsbot\'s p99 over each message\'s fastest time of >= 3 passes (the VM\'s pauses removed);');
console.log('best99 x = engine p99 / that. NLP.js is timed in one pass: it caches the result of every text it has seen');
console.log('accuracy = top-ranked intent == label on test.tsv; p50/p99 per message (libcsbot: csbot_session_reply; NLP.js: await process()); qps = one thread');
EOF
