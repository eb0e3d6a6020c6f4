#!/usr/bin/env node
/*
 * bench/peers/nlpjs.js - train NLP.js (node-nlp) on a label<TAB>text file and
 * score it on another, timing every process() call.
 *
 *   node nlpjs.js --name SET --train TRAIN.tsv --test TEST.tsv --lang en|zh
 *                 [--iterations N] [--warmup N] [--out RESULT.json]
 *
 * node-nlp is not installed in the tree: scripts/bench-peers.sh installs the
 * version pinned in bench/peers/package.json into build/peers and runs this
 * file with NODE_PATH pointing there.
 *
 * Settings: NlpManager({ languages: [lang], autoSave: false, autoLoad: false,
 * nlu: { log: false } }). With --iterations N, the neural network of every
 * domain of the language gets `iterations: N` (NeuralNetwork's epoch limit,
 * default 20000 with early stopping at errorThresh 5e-5 / deltaErrorThresh
 * 1e-6), through nlu: { <lang>: { '*': { className: 'NeuralNlu',
 * iterations: N, errorThresh: 0, deltaErrorThresh: 0 } } } so that exactly N
 * epochs run (the early stop is off). trainByDomain stays false (one network
 * for all intents, the default). Chinese uses @nlpjs/lang-zh (bundled with node-nlp
 * through @nlpjs/lang-all): dictionary-based word segmentation.
 *
 * Measured: training time; one pass over the test messages in order, each
 * `await manager.process(lang, text)` timed with process.hrtime.bigint();
 * accuracy = top-ranked intent of result.classifications == label (the same
 * definition as csbot's top1_accuracy), also answered accuracy (result.intent,
 * which is 'None' under NLP.js's own threshold); p50/p99 (nearest rank) and
 * qps = messages / sum of process() times (one thread: Node runs process()
 * on one thread). One pass only: NLP.js keeps the result of every text it
 * has processed (Nlu's cache.results, for an hour), so a second pass would
 * time cache lookups. Before the timed pass, --warmup (default 500) training
 * utterances are processed to warm the JIT; NLP.js caches the tokenisation of
 * every utterance it has seen (training ones included), so the warm-up uses
 * training text, never the test messages.
 */
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const o = { iterations: 0, warmup: 500 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${argv[i]}`);
    o[k] = ['iterations', 'warmup'].includes(k) ? Number(v) : v;
  }
  for (const k of ['name', 'train', 'test', 'lang']) {
    if (!o[k]) throw new Error(`--${k} is required`);
  }
  return o;
}

function readTsv(path) {
  const rows = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const text = line.slice(tab + 1).replace(/\r$/, '');
    if (!text) continue;
    rows.push({ label: line.slice(0, tab), text });
  }
  return rows;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  let k = Math.ceil((p / 100) * sorted.length);
  if (k < 1) k = 1;
  if (k > sorted.length) k = sorted.length;
  return sorted[k - 1];
}

async function main() {
  const o = parseArgs(process.argv);
  const { NlpManager } = require('node-nlp');
  const version = require('node-nlp/package.json').version;
  const train = readTsv(o.train).filter((r) => r.label !== '_oos');
  const test = readTsv(o.test);

  const settings = {
    languages: [o.lang],
    autoSave: false,
    autoLoad: false,
    nlu: { log: false },
  };
  if (o.iterations > 0) {
    settings.nlu[o.lang] = {
      '*': {
        className: 'NeuralNlu',
        iterations: o.iterations,
        errorThresh: 0,
        deltaErrorThresh: 0,
        log: false,
      },
    };
  }
  const manager = new NlpManager(settings);
  for (const r of train) manager.addDocument(o.lang, r.text, r.label);

  const t0 = process.hrtime.bigint();
  const status = await manager.train();
  const trainMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let epochs = null;
  try {
    // [{ master_domain: { error, deltaError, iterations } }]
    const s = Array.isArray(status) ? status[0] : status;
    const d = s && (s.master_domain || Object.values(s)[0]);
    if (d && typeof d.iterations === 'number') epochs = d.iterations;
  } catch (e) {
    epochs = null;
  }

  for (let i = 0; i < Math.min(o.warmup, train.length); i += 1) {
    await manager.process(o.lang, train[(i * 7919) % train.length].text);
  }

  const lat = [];
  let top1 = 0;
  let answered = 0;
  let total = 0;
  let nIn = 0;
  for (const r of test) {
    const a = process.hrtime.bigint();
    const res = await manager.process(o.lang, r.text);
    const us = Number(process.hrtime.bigint() - a) / 1e3;
    lat.push(us);
    total += us;
    if (r.label === '_oos') continue;
    nIn += 1;
    const cls = (res.classifications || []).filter((c) => c.intent !== 'None');
    if (cls.length && cls[0].intent === r.label) top1 += 1;
    if (res.intent === r.label) answered += 1;
  }
  lat.sort((x, y) => x - y);
  const out = {
    engine: 'nlpjs',
    version,
    set: o.name,
    lang: o.lang,
    iterations: o.iterations > 0 ? o.iterations : 'default',
    epochs_run: epochs,
    train_examples: train.length,
    train_ms: Math.round(trainMs),
    n: test.length,
    accuracy: Number((top1 / nIn).toFixed(4)),
    answered_accuracy: Number((answered / nIn).toFixed(4)),
    p50_us: Number(percentile(lat, 50).toFixed(1)),
    p99_us: Number(percentile(lat, 99).toFixed(1)),
    qps: Math.round(test.length / (total / 1e6)),
  };
  const json = JSON.stringify(out);
  if (o.out) fs.writeFileSync(o.out, `${json}\n`);
  process.stdout.write(`${json}\n`);
}

main().catch((e) => {
  process.stderr.write(`nlpjs.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
