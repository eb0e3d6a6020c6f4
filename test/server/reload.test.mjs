// Hot reload of the knowledge base: a broken file is refused (the old KB
// keeps answering), a valid change is picked up by inotify, SIGHUP reloads,
// and a file replaced by rename (the way editors and deploys write) is seen
// too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Server, expectStatus, metric, waitFor, sleep, SHOP_KB } from './helpers.mjs';

let srv, alice;
const shop = JSON.parse(fs.readFileSync(SHOP_KB, 'utf8'));
const GIFT_Q = '请问有礼品包装吗';

// shop.json plus a gift_wrap intent whose answer ends with the tag.
function kbWithGiftWrap(tag) {
    const kb = structuredClone(shop);
    kb.intents.push({
        id: 'gift_wrap',
        title: { zh: '礼品包装', en: 'Gift wrapping' },
        examples: {
            zh: ['可以帮我包装成礼物吗', '有礼品包装吗', '能不能做礼盒包装', '送人的话能包装一下吗'],
            en: ['do you offer gift wrapping', 'can you gift wrap it', 'is gift packaging available'],
        },
        responses: [{ zh: `我们提供免费礼品包装，下单时备注即可。${tag}`, en: `We offer free gift wrapping. ${tag}` }],
    });
    return `${JSON.stringify(kb, null, 2)}\n`;
}

// Wait until the generation is above g and stays put for a moment.
async function nextGeneration(g, what) {
    const got = await waitFor(async () => {
        const n = await srv.generation();
        return n > g ? n : 0;
    }, { what, timeoutMs: 8000 });
    await sleep(500);
    const settled = await srv.generation();
    return { got, settled };
}

before(async () => {
    srv = await Server.start({ tag: 'reload', agents: { alice: 'alice-password-1' } });
    alice = await srv.login('alice', 'alice-password-1');
});
after(async () => { await srv?.close(); });

test('a broken KB file is refused: the old one keeps answering, the log says why', async () => {
    const g0 = await srv.generation();
    const f0 = metric(await srv.metrics(), 'csbot_kb_reload_failures_total');
    const mark = srv.log.length;
    fs.writeFileSync(srv.kb, '{ "csbot": 1, "intents": [ {"id": "x", ');
    await waitFor(() => /error|fail|invalid|cannot|could not|unexpected|expected/i.test(srv.log.slice(mark)),
        { what: 'a log line about the broken KB', timeoutMs: 8000 });
    await waitFor(async () => metric(await srv.metrics(), 'csbot_kb_reload_failures_total') > f0,
        { what: 'csbot_kb_reload_failures_total to grow', timeoutMs: 3000 });
    assert.equal(await srv.generation(), g0, 'the generation moved on a broken KB');
    const id = await srv.newConversation();
    const r = await srv.say(id, '请问怎么开发票呢');
    assert.equal(r.action, 'answer', r._describe);
    assert.equal(r.intent, 'invoice', r._describe);
    // a KB that parses but does not load (an intent without examples or patterns)
    const mark2 = srv.log.length;
    const bad = structuredClone(shop);
    bad.intents.push({ id: 'empty_one', responses: [{ zh: '空', en: 'empty' }] });
    fs.writeFileSync(srv.kb, JSON.stringify(bad));
    await waitFor(() => /error|fail|invalid|cannot|could not|example|pattern/i.test(srv.log.slice(mark2)),
        { what: 'a log line about the invalid KB', timeoutMs: 8000 });
    assert.equal(await srv.generation(), g0);
    const r2 = await srv.say(id, '请问多久发货');
    assert.equal(r2.intent, 'shipping_time', r2._describe);
});

test('a valid change of the file is loaded: the generation grows and the new intent answers', async () => {
    const before = await srv.say(await srv.newConversation(), GIFT_Q);
    assert.notEqual(before.intent, 'gift_wrap', 'gift_wrap exists before the change?');
    const g0 = await srv.generation();
    fs.writeFileSync(srv.kb, kbWithGiftWrap('v1'));
    const { got, settled } = await nextGeneration(g0, 'the generation to grow after a valid write');
    assert.equal(got, g0 + 1, `one write, generation ${g0} -> ${got}`);
    assert.equal(settled, got, `the generation kept moving: ${got} -> ${settled}`);
    const r = await srv.say(await srv.newConversation(), GIFT_Q);
    assert.equal(r.action, 'answer', r._describe);
    assert.equal(r.intent, 'gift_wrap', r._describe);
    assert.ok(r.text.endsWith('v1'), r._describe);
    // the old intents still answer
    const r2 = await srv.say(await srv.newConversation(), '请问怎么开发票呢');
    assert.equal(r2.intent, 'invoice', r2._describe);
    // the API and the metrics agree
    const kb = expectStatus(await srv.get('/api/v1/kb/intents', { agent: alice }), 200).json;
    assert.equal(kb.generation, got);
    const gi = kb.intents.find((i) => i.id === 'gift_wrap');
    assert.deepEqual(gi?.title, { zh: '礼品包装', en: 'Gift wrapping' }, JSON.stringify(kb.intents.slice(-3)));
    assert.equal(kb.intents.length, shop.intents.length + 1);
    assert.equal(metric(await srv.metrics(), 'csbot_kb_generation'), got);
});

test('a conversation that began before the reload goes on with the new KB', async () => {
    const id = await srv.newConversation();
    const a = await srv.say(id, '我的快递到哪了');
    assert.equal(a.action, 'ask', a._describe);
    const g0 = await srv.generation();
    srv.signal('SIGHUP');
    await nextGeneration(g0, 'a reload');
    const b = await srv.say(id, '202411223344');
    assert.equal(b.intent, 'order_tracking', b._describe);
    assert.equal(b.action, 'answer', b._describe);
});

test('SIGHUP reloads: the generation grows by one', async () => {
    const g0 = await srv.generation();
    const mark = srv.log.length;
    srv.signal('SIGHUP');
    const { got, settled } = await nextGeneration(g0, 'the generation to grow after SIGHUP');
    assert.equal(got, g0 + 1);
    assert.equal(settled, got);
    const r = await srv.say(await srv.newConversation(), '请问怎么开发票呢');
    assert.equal(r.intent, 'invoice', r._describe);
    const kb = expectStatus(await srv.get('/api/v1/kb/intents', { agent: alice }), 200).json;
    assert.equal(kb.generation, got);
    // SIGHUP on a broken file: refused as well, still answering
    fs.writeFileSync(srv.kb, '[');
    await sleep(300);
    const mark2 = srv.log.length;
    const g1 = await srv.generation();
    srv.signal('SIGHUP');
    await waitFor(() => /error|fail|invalid|cannot|could not|unexpected|expected/i.test(srv.log.slice(mark2)),
        { what: 'a log line about the broken KB on SIGHUP', timeoutMs: 8000 });
    assert.equal(await srv.generation(), g1);
    const r2 = await srv.say(await srv.newConversation(), '请问多久发货');
    assert.equal(r2.intent, 'shipping_time', r2._describe);
    assert.ok(srv.log.length > mark);
});

test('a file replaced by rename is seen, and so is the next change after it', async () => {
    const g0 = await srv.generation();
    fs.writeFileSync(`${srv.kb}.tmp`, kbWithGiftWrap('v2'));
    fs.renameSync(`${srv.kb}.tmp`, srv.kb);
    const { got } = await nextGeneration(g0, 'a reload after the KB file was replaced by rename');
    const r = await srv.say(await srv.newConversation(), GIFT_Q);
    assert.ok(r.text.endsWith('v2'), r._describe);
    // the watch follows the new file
    fs.writeFileSync(srv.kb, kbWithGiftWrap('v3'));
    await nextGeneration(got, 'a reload after writing the renamed-in file');
    const r2 = await srv.say(await srv.newConversation(), GIFT_Q);
    assert.ok(r2.text.endsWith('v3'), r2._describe);
});
