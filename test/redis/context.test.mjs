// Scale-out: a conversation whose turns alternate between two instances
// keeps its context and slots, and its transcript reads the same, complete,
// from either instance. Each dialogue is first run on one instance (the
// reference), its follow-ups are checked to need the context (alone in a new
// conversation they are not understood the same way), then run again with
// its turns alternating A, B, A, B...
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, expectStatus, checkOrder } from './helpers.mjs';

let cl;
before(async () => { cl = await Cluster.start({ n: 2, tag: 'context' }); });
after(async () => { await cl?.close(); });

const ORDER = '202411223344';
// [text, expected {action, intent, slot, textHas}] (from test/data/shop-dialogues.jsonl
// and intents/shop.json: the ask for the order number, the number alone, and
// follow-ups that use the slot filled two turns before)
const DIALOGUES = {
    order: [
        ['我的快递到哪了', { action: 'ask', intent: 'order_tracking' }],
        [ORDER, { action: 'answer', intent: 'order_tracking', slot: ORDER, textHas: ORDER }],
        ['大概还要几天能送到', { action: 'answer', intent: 'shipping_time', slot: ORDER }],
        ['那它现在到哪了', { action: 'answer', intent: 'order_tracking', slot: ORDER, textHas: ORDER }],
    ],
    stock: [
        ['这条裙子L码还有货吗', { action: 'answer', intent: 'product_stock' }],
        ['那M码呢', { action: 'answer', intent: 'product_stock' }],
        ['黑色的呢', { action: 'answer', intent: 'product_stock' }],
    ],
    english: [
        ['is the grey hoodie still in stock in size small?', { action: 'answer', intent: 'product_stock' }],
        ['what about medium?', { action: 'answer', intent: 'product_stock' }],
        ['where is my parcel', { action: 'ask', intent: 'order_tracking' }],
        [`it's ${ORDER}`, { action: 'answer', intent: 'order_tracking', slot: ORDER }],
    ],
};

// Follow-ups that, alone in a new conversation, are not answered as in the
// dialogue (so that the alternating run really tests the shared context).
const CONTEXT_ONLY = [
    [ORDER, 'order', 1],
    ['那M码呢', 'stock', 1],
    ['what about medium?', 'english', 1],
];

function check(r, want, where) {
    const d = `${where}: ${r._describe}`;
    if (want.action) assert.equal(r.action, want.action, d);
    if ('intent' in want) assert.equal(r.intent, want.intent, d);
    if (want.slot) assert.equal(r.slots?.order_id, want.slot, `slot lost: ${d}`);
    if (want.textHas) assert.ok(r.text.includes(want.textHas), `no "${want.textHas}" in: ${d}`);
    assert.equal(r.status, 'bot', d);
}

// Run the dialogue, turn i on servers[i % servers.length]; the replies.
async function run(turns, servers) {
    const id = await servers[0].newConversation();
    const replies = [];
    for (const [i, [text, want]] of turns.entries()) {
        const s = servers[i % servers.length];
        const r = await s.say(id, text);
        check(r, want, `turn ${i + 1} on ${s.name}`);
        assert.equal(r.turn, i + 1, r._describe);
        assert.equal(r.seq, 2 * (i + 1), r._describe);
        replies.push(r);
    }
    return { id, replies };
}

// The transcript, read from every instance: the same, complete, in order.
async function checkTranscript(id, turns, replies) {
    const views = [];
    for (const s of cl.servers) {
        const conv = await s.transcript(id);
        assert.equal(conv.id, id);
        assert.equal(conv.status, 'bot');
        checkOrder(conv.messages);
        for (let i = 1; i < conv.messages.length; i++) {
            assert.ok(conv.messages[i].seq > conv.messages[i - 1].seq, `seq not increasing on ${s.name}`);
        }
        assert.deepEqual(conv.messages.map((m) => [m.seq, m.role, m.text]),
            turns.flatMap(([text], i) => [[2 * i + 1, 'customer', text], [2 * i + 2, 'bot', replies[i].text]]),
            `the transcript read on ${s.name} is not the conversation`);
        conv.messages.filter((m) => m.role === 'bot').forEach((m, i) => {
            assert.equal(m.action, replies[i].action, JSON.stringify(m));
            assert.equal(m.intent, replies[i].intent, JSON.stringify(m));
            assert.equal(m.turn, i + 1, JSON.stringify(m));
        });
        const polled = expectStatus(await s.get(`/api/v1/conversations/${id}/messages?after=0`), 200).json;
        assert.deepEqual(polled.messages, conv.messages, `GET .../messages on ${s.name} differs from the transcript`);
        const tail = expectStatus(await s.get(`/api/v1/conversations/${id}/messages?after=3`), 200).json;
        assert.deepEqual(tail.messages, conv.messages.slice(3), `after=3 on ${s.name}`);
        views.push(conv);
    }
    for (const v of views.slice(1)) {
        assert.deepEqual(v, views[0], 'the instances give different transcripts');
    }
}

test('the follow-ups need the context: alone, they are understood otherwise', async () => {
    for (const [text, name, i] of CONTEXT_ONLY) {
        const id = await cl.A.newConversation();
        const r = await cl.A.say(id, text);
        const want = DIALOGUES[name][i][1];
        assert.ok(r.action !== want.action || r.intent !== want.intent,
            `"${text}" alone is already ${want.action}/${want.intent}: the dialogue would not test the context (${r._describe})`);
    }
});

for (const [name, turns] of Object.entries(DIALOGUES)) {
    test(`dialogue "${name}": on one instance, then alternating A, B, A...: the same replies`, async () => {
        const ref = await run(turns, [cl.A]);
        await checkTranscript(ref.id, turns, ref.replies);
        const alt = await run(turns, [cl.A, cl.B]);
        alt.replies.forEach((r, i) => {
            const f = ref.replies[i];
            for (const k of ['action', 'intent', 'text', 'lang', 'slots', 'turn', 'seq']) {
                assert.deepEqual(r[k], f[k],
                    `turn ${i + 1} "${turns[i][0]}": ${k} differs when the turns alternate:\n` +
                    `one instance: ${f._describe}\nalternating:  ${r._describe}`);
            }
        });
        await checkTranscript(alt.id, turns, alt.replies);
        // and starting on B
        const alt2 = await run(turns, [cl.B, cl.A]);
        alt2.replies.forEach((r, i) => assert.equal(r.text, ref.replies[i].text, r._describe));
        await checkTranscript(alt2.id, turns, alt2.replies);
    });
}

test('a conversation created on A is known on B at once; unknown ids are 404 on both', async () => {
    const id = await cl.A.newConversation({ name: 'Li', level: 'vip', lang: 'en' });
    const conv = await cl.B.transcript(id);
    assert.equal(conv.id, id);
    assert.deepEqual(conv.messages, []);
    // the profile travels too: the VIP answer, with the name, on B
    const r = await cl.B.say(id, "what's your return policy please");
    assert.equal(r.intent, 'return_policy', r._describe);
    assert.ok(r.text.includes('Li') && r.text.includes('30 days'), `profile lost on B: ${r._describe}`);
    assert.equal((await cl.A.transcript(id)).lang, 'en');
    const missing = '0123456789abcdef0123456789abcdef';
    for (const s of cl.servers) {
        expectStatus(await s.get(`/api/v1/conversations/${missing}`), 404, 'not_found');
        expectStatus(await s.post(`/api/v1/conversations/${missing}/messages`, { text: '你好' }), 404, 'not_found');
    }
});
