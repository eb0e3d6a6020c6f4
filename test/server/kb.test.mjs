// The dashboard's unanswered messages, assigned to an intent with
// POST /api/v1/kb/examples: the KB file is rewritten, reloaded, and the same
// message then gets that intent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Server, expectStatus, sleep, SHOP_KB } from './helpers.mjs';

let srv, alice;
const shop = JSON.parse(fs.readFileSync(SHOP_KB, 'utf8'));
const ZH = '宝贝能不能塞进我家丰巢';
const EN = 'can the courier leave it with my neighbour';
const INTENT = 'change_address';

before(async () => {
    srv = await Server.start({ tag: 'kb', agents: { alice: 'alice-password-1' } });
    alice = await srv.login('alice', 'alice-password-1');
});
after(async () => { await srv?.close(); });

const readKb = () => JSON.parse(fs.readFileSync(srv.kb, 'utf8'));
const examples = (kb, id) => kb.intents.find((i) => i.id === id).examples;

// Send text in a new conversation; the unanswered entry the dashboard has for it.
async function unanswered(text, lang) {
    const id = await srv.newConversation();
    const r = await srv.say(id, text);
    assert.ok(['fallback', 'suggest'].includes(r.action), `"${text}" was answered: ${r._describe}`);
    assert.notEqual(r.intent, INTENT, r._describe);
    const d = await srv.dashboard(alice);
    assert.ok(Array.isArray(d.unanswered) && d.unanswered.length <= 20, JSON.stringify(d.unanswered));
    const e = d.unanswered.find((u) => u.conversation === id);
    assert.ok(e, `the dashboard's unanswered lacks "${text}": ${JSON.stringify(d.unanswered)}`);
    assert.equal(e.text, text);
    assert.equal(e.lang, lang);
    assert.equal(e.action, r.action);
    assert.ok(Number.isInteger(e.message) && e.message > 0, JSON.stringify(e));
    assert.ok(Math.abs(e.ts - Date.now()) < 60000, JSON.stringify(e));
    for (let i = 1; i < d.unanswered.length; i++) {
        assert.ok(d.unanswered[i].ts <= d.unanswered[i - 1].ts, 'unanswered is not latest first');
    }
    return e;
}

test('refused assignments change nothing', async () => {
    const e = await unanswered(ZH, 'zh-Hans');
    const file0 = fs.readFileSync(srv.kb, 'utf8');
    const g0 = await srv.generation();
    const p = '/api/v1/kb/examples';
    expectStatus(await srv.req('POST', p, { agent: alice, csrf: false, json: { message: e.message, intent: INTENT } }),
        403, 'forbidden');
    expectStatus(await srv.req('POST', p, { json: { message: e.message, intent: INTENT } }), 401, 'unauthorized');
    for (const [body, why] of [
        [{ message: e.message, intent: 'no_such_intent' }, 'an unknown intent'],
        [{ message: 987654321, intent: INTENT }, 'an unknown message'],
        [{ message: e.message + 1, intent: INTENT }, "the bot's message"],
        [{ intent: INTENT }, 'no message'],
        [{ message: e.message }, 'no intent'],
    ]) {
        const r = await srv.req('POST', p, { agent: alice, json: body });
        assert.ok(r.status >= 400 && r.status < 500, `${why}: ${r.describe()}`);
        expectStatus(r, r.status);
    }
    expectStatus(await srv.req('POST', p, { agent: alice, body: '{"message":', headers: { 'content-type': 'application/json' } }),
        400, 'bad_json');
    await sleep(300);
    assert.equal(fs.readFileSync(srv.kb, 'utf8'), file0, 'the KB file changed');
    assert.equal(await srv.generation(), g0);
});

test('assigning a Chinese and an English unanswered message to an intent', async () => {
    const reloadedAgain = [];
    for (const [text, lang, key] of [[ZH, 'zh-Hans', 'zh'], [EN, 'en', 'en']]) {
        const e = await unanswered(text, lang);
        const g0 = await srv.generation();
        const r = expectStatus(await srv.req('POST', '/api/v1/kb/examples',
            { agent: alice, json: { message: e.message, intent: INTENT } }), 200).json;
        assert.equal(r.generation, g0 + 1, JSON.stringify(r));
        assert.equal(r.intent, INTENT);
        assert.equal(r.example, text);
        assert.equal(await srv.generation(), r.generation);
        // the file has it, in the right language, and is otherwise the same KB
        const kb = readKb();
        assert.ok(examples(kb, INTENT)[key].includes(text), `examples.${key} of ${INTENT} lacks "${text}"`);
        const other = key === 'zh' ? 'en' : 'zh';
        assert.ok(!examples(kb, INTENT)[other].includes(text), `"${text}" went into examples.${other}`);
        assert.equal(kb.intents.length, shop.intents.length);
        assert.deepEqual(kb.shop, shop.shop);
        assert.deepEqual(kb.slots, shop.slots);
        // the same message now gets that intent
        const a = await srv.say(await srv.newConversation(), text);
        assert.equal(a.intent, INTENT, a._describe);
        assert.equal(a.action, 'answer', a._describe);
        // and the server's own write does not count as one more change
        await sleep(1000);
        const g1 = await srv.generation();
        if (g1 !== r.generation) {
            reloadedAgain.push(`POST /api/v1/kb/examples answered generation ${r.generation}, a second later /healthz says ${g1}`);
        }
    }
    const kb = readKb();
    assert.ok(examples(kb, INTENT).zh.includes(ZH), 'the first example was lost by the second write');
    const listed = expectStatus(await srv.get('/api/v1/kb/intents', { agent: alice }), 200).json;
    assert.equal(listed.generation, await srv.generation());
    assert.deepEqual(reloadedAgain, [], 'the server reloaded its own write of the KB file once more');
});

test('assigning the same message twice does not add it twice', async () => {
    const e = await unanswered('你们的丰巢柜子能不能指定', 'zh-Hans');
    const body = { message: e.message, intent: INTENT };
    expectStatus(await srv.req('POST', '/api/v1/kb/examples', { agent: alice, json: body }), 200);
    const r = await srv.req('POST', '/api/v1/kb/examples', { agent: alice, json: body });
    expectStatus(r, [200, 409]);
    const n = examples(readKb(), INTENT).zh.filter((x) => x === '你们的丰巢柜子能不能指定').length;
    assert.equal(n, 1, `the example is in the file ${n} times`);
});

test('an assignment survives a restart', async () => {
    const text = '能不能帮我把东西寄到月球上';
    const e = await unanswered(text, 'zh-Hans');
    expectStatus(await srv.req('POST', '/api/v1/kb/examples',
        { agent: alice, json: { message: e.message, intent: 'shipping_area' } }), 200);
    const a = await srv.say(await srv.newConversation(), text);
    assert.equal(a.intent, 'shipping_area', a._describe);
    await srv.stop();
    await srv.start();
    const b = await srv.say(await srv.newConversation(), text);
    assert.equal(b.intent, 'shipping_area', b._describe);
    assert.ok(examples(readKb(), 'shipping_area').zh.includes(text));
});
