// Customers' side: conversations in three languages, suggestions, long
// polling, isolation of conversations, bad input, ratings, the dashboard and
// the metrics. One server for the whole file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    Server, expectStatus, metric, randomId, checkOrder, rawRequest, chunked, SCALE,
} from './helpers.mjs';

let srv;
let alice;
const UTC_OFFSET = 480; // the shop is in Shanghai

before(async () => {
    srv = await Server.start({ tag: 'chat', utcOffset: UTC_OFFSET, agents: { alice: 'alice-password-1' } });
    alice = await srv.login('alice', 'alice-password-1');
});
after(async () => { await srv?.close(); });

// Send the turns [text, {action, intent, lang}] in a new conversation and
// check each reply and the transcript (seq, order, texts).
async function conversation(turns, profile) {
    const id = await srv.newConversation(profile);
    const replies = [];
    for (const [i, [text, want]] of turns.entries()) {
        const r = await srv.say(id, text);
        const d = r._describe;
        if (want.action) assert.equal(r.action, want.action, d);
        if ('intent' in want) assert.equal(r.intent, want.intent, d);
        if (want.lang) assert.equal(r.lang, want.lang, d);
        assert.equal(r.status, 'bot', d);
        assert.equal(r.turn, i + 1, d);
        assert.equal(r.seq, 2 * (i + 1), d);
        assert.equal(r.handoff, null, d);
        assert.ok(typeof r.text === 'string' && r.text.length > 0, d);
        assert.ok(typeof r.confidence === 'number' && r.confidence >= 0 && r.confidence <= 1, d);
        if (r.action === 'answer') assert.ok(r.confidence > 0.3, d);
        if (r.action !== 'suggest') {
            assert.ok(!r.suggestions || r.suggestions.length === 0, `suggestions without suggest: ${d}`);
        }
        if (want.textHas) {
            for (const s of [].concat(want.textHas)) assert.ok(r.text.includes(s), `no "${s}" in: ${d}`);
        }
        if (want.textHasNot) {
            for (const s of [].concat(want.textHasNot)) assert.ok(!r.text.includes(s), `"${s}" in: ${d}`);
        }
        replies.push(r);
    }
    const conv = await srv.transcript(id);
    assert.equal(conv.id, id);
    assert.equal(conv.status, 'bot');
    assert.equal(typeof conv.created, 'number');
    assert.ok(Math.abs(conv.created - Date.now()) < 120000, `created ${conv.created}`);
    checkOrder(conv.messages);
    assert.equal(conv.messages.length, 2 * turns.length, JSON.stringify(conv.messages));
    turns.forEach(([text], i) => {
        const c = conv.messages[2 * i], b = conv.messages[2 * i + 1];
        assert.equal(c.role, 'customer', JSON.stringify(c));
        assert.equal(c.text, text);
        assert.equal(b.role, 'bot', JSON.stringify(b));
        assert.equal(b.text, replies[i].text);
        assert.equal(b.action, replies[i].action);
        assert.equal(b.intent, replies[i].intent);
        assert.equal(b.turn, i + 1);
        assert.equal(typeof b.confidence, 'number');
    });
    // the long-poll route gives the same messages
    const all = expectStatus(await srv.get(`/api/v1/conversations/${id}/messages`), 200).json;
    assert.deepEqual(all.messages, conv.messages);
    assert.equal(all.status, 'bot');
    const tail = expectStatus(await srv.get(`/api/v1/conversations/${id}/messages?after=2`), 200).json;
    assert.deepEqual(tail.messages, conv.messages.slice(2));
    return { id, replies, conv };
}

test('a conversation in Simplified Chinese', async () => {
    const { conv } = await conversation([
        ['你好呀，客服在吗', { action: 'answer', intent: 'greeting', lang: 'zh-Hans' }],
        ['请问怎么开发票呢', { action: 'answer', intent: 'invoice', lang: 'zh-Hans', textHas: '发票' }],
        ['我想退货，应该怎么操作', { action: 'answer', intent: 'return_request', lang: 'zh-Hans' }],
        // a required slot: the bot asks, the number answers
        ['我的快递到哪了', { action: 'ask', intent: 'order_tracking', lang: 'zh-Hans', textHas: '订单号' }],
        ['202411223344', { action: 'answer', intent: 'order_tracking', textHas: '202411223344' }],
    ]);
    assert.equal(conv.lang, 'zh-Hans');
});

test('the reply carries the slots it filled', async () => {
    const id = await srv.newConversation();
    const r1 = await srv.say(id, '帮我查一下物流');
    assert.equal(r1.action, 'ask', r1._describe);
    const r2 = await srv.say(id, '订单号是202411223344');
    assert.equal(r2.action, 'answer', r2._describe);
    assert.equal(r2.intent, 'order_tracking', r2._describe);
    assert.equal(r2.slots?.order_id, '202411223344', r2._describe);
});

test('a conversation in Traditional Chinese is answered in Traditional characters', async () => {
    const { conv } = await conversation([
        ['你好，請問有人在嗎', { action: 'answer', intent: 'greeting', lang: 'zh-Hant' }],
        ['請問可以幫我開發票嗎', {
            action: 'answer', intent: 'invoice', lang: 'zh-Hant', textHas: '發票', textHasNot: '发票',
        }],
        ['退貨的運費要誰付呢', { action: 'answer', intent: 'return_policy', lang: 'zh-Hant', textHasNot: '退货' }],
    ]);
    assert.equal(conv.lang, 'zh-Hant');
});

test('a conversation in English, with a VIP profile', async () => {
    const { conv } = await conversation([
        ['hi, anyone there?', { action: 'answer', intent: 'greeting', lang: 'en', textHas: 'Li' }],
        ['how can i get an invoice for my order', { action: 'answer', intent: 'invoice', lang: 'en' }],
        // the VIP variant of the answer, with the profile's name
        ["what's your return policy please", {
            action: 'answer', intent: 'return_policy', lang: 'en', textHas: ['Li', '30 days'],
        }],
        ['how long does shipping usually take', { action: 'answer', intent: 'shipping_time', lang: 'en' }],
    ], { name: 'Li', level: 'vip', lang: 'en' });
    assert.equal(conv.lang, 'en');
});

test('a bad profile is refused', async () => {
    const r = await srv.post('/api/v1/conversations', { profile: { lang: 'fr' } });
    expectStatus(r, 400);
    const r2 = await srv.post('/api/v1/conversations', { profile: 'vip' });
    expectStatus(r2, 400);
});

test('suggestions: each title sent back is answered with its intent', async () => {
    for (const [question, lang] of [['订单', 'zh-Hans'], ['order', 'en']]) {
        const id = await srv.newConversation();
        const r = await srv.say(id, question);
        assert.equal(r.action, 'suggest', r._describe);
        assert.equal(r.intent, null, r._describe);
        assert.equal(r.lang, lang, r._describe);
        assert.ok(Array.isArray(r.suggestions) && r.suggestions.length >= 2, r._describe);
        for (const s of r.suggestions) {
            assert.ok(typeof s.intent === 'string' && typeof s.title === 'string' && s.title, r._describe);
        }
        // the first one in this conversation, every one in a fresh one
        const first = await srv.say(id, r.suggestions[0].title);
        assert.ok(['answer', 'ask'].includes(first.action), first._describe);
        assert.equal(first.intent, r.suggestions[0].intent, first._describe);
        for (const s of r.suggestions) {
            const id2 = await srv.newConversation();
            const r2 = await srv.say(id2, question);
            assert.deepEqual(r2.suggestions, r.suggestions, r2._describe);
            const a = await srv.say(id2, s.title);
            assert.ok(['answer', 'ask'].includes(a.action), a._describe);
            assert.equal(a.intent, s.intent, a._describe);
        }
    }
});

test('long polling: wait returns an empty list after the wait, and at once when there are messages', async () => {
    const id = await srv.newConversation();
    await srv.say(id, '能开发票吗');
    let t0 = Date.now();
    const now = expectStatus(await srv.get(`/api/v1/conversations/${id}/messages?after=0&wait=5`), 200).json;
    assert.equal(now.messages.length, 2);
    assert.ok(Date.now() - t0 < 1000 * SCALE, `answered after ${Date.now() - t0} ms although messages were there`);
    t0 = Date.now();
    const none = expectStatus(await srv.get(`/api/v1/conversations/${id}/messages?after=2&wait=1`), 200).json;
    const dt = Date.now() - t0;
    assert.deepEqual(none.messages, []);
    assert.equal(none.status, 'bot');
    assert.ok(dt >= 800 && dt < 4000 * SCALE, `wait=1 answered after ${dt} ms`);
});

test('isolation: unknown and malformed conversation ids are 404, the same for both', async () => {
    const id = await srv.newConversation();
    await srv.say(id, '请问多久发货');
    const before = await srv.transcript(id);
    const unknown = randomId();
    const ref = expectStatus(await srv.get(`/api/v1/conversations/${unknown}`), 404, 'not_found').json;
    const bad = [
        unknown, id.toUpperCase(), id.slice(0, 31), `${id}0`, `${id.slice(0, 31)}g`, 'abc', '0',
        `${id.slice(0, 16)}-${id.slice(16)}`, '%20' + id.slice(3), encodeURIComponent(`${id}\n`),
    ];
    for (const cid of bad) {
        for (const [method, p, json] of [
            ['GET', `/api/v1/conversations/${cid}`],
            ['GET', `/api/v1/conversations/${cid}/messages`],
            ['GET', `/api/v1/conversations/${cid}/messages?after=0&wait=1`],
            ['POST', `/api/v1/conversations/${cid}/messages`, { text: '请问多久发货' }],
            ['POST', `/api/v1/conversations/${cid}/handoff`],
            ['POST', `/api/v1/conversations/${cid}/ratings`, { rating: 5 }],
        ]) {
            const t0 = Date.now();
            const r = await srv.req(method, p, json ? { json } : {});
            expectStatus(r, 404, 'not_found');
            assert.deepEqual(r.json, ref, `${r.describe()} differs from the unknown id's answer`);
            assert.ok(Date.now() - t0 < 900 * SCALE, `${method} ${p} waited for an unknown id`);
        }
    }
    // the real one is untouched
    assert.deepEqual(await srv.transcript(id), before);
});

test('bad input is refused and changes nothing', async () => {
    const id = await srv.newConversation();
    await srv.say(id, '你好');
    const good = [
        ['请问怎么开发票呢', 'invoice'], ['请问多久发货', 'shipping_time'],
        ['支持花呗分期付款吗', 'payment_methods'], ['多久能收到退款', 'refund_status'],
        ['我要换个尺码', 'exchange_request'], ['请问你们的退货政策是什么', 'return_policy'],
        ['how can i get an invoice for my order', 'invoice'], ['can i pay with a credit card', 'payment_methods'],
        ['how long does shipping usually take', 'shipping_time'], ['你好，在吗', 'greeting'],
    ];
    let g = 0;
    const p = `/api/v1/conversations/${id}/messages`;
    const json = (s) => ({ body: Buffer.from(s), headers: { 'content-type': 'application/json' } });
    const cases = [
        ['truncated JSON', 'POST', p, json('{"text": "你好'), 400, 'bad_json'],
        ['not JSON', 'POST', p, json('text=hello'), 400, 'bad_json'],
        ['JSON with trailing garbage', 'POST', p, json('{"text":"你好"} x'), 400, 'bad_json'],
        ['text not a string', 'POST', p, { json: { text: 5 } }, 400, ['bad_request', 'bad_json']],
        ['body not an object', 'POST', p, { json: ['你好'] }, 400, ['bad_request', 'bad_json']],
        ['no text', 'POST', p, { json: {} }, 400, ['empty', 'bad_request']],
        ['empty text', 'POST', p, { json: { text: '' } }, 400, 'empty'],
        ['invalid UTF-8 (0xff 0xfe)', 'POST', p,
            { body: Buffer.concat([Buffer.from('{"text":"你'), Buffer.from([0xff, 0xfe]), Buffer.from(' ok"}')]),
                headers: { 'content-type': 'application/json' } }, 400, 'bad_utf8'],
        ['invalid UTF-8 (overlong /)', 'POST', p,
            { body: Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('b"}')]),
                headers: { 'content-type': 'application/json' } }, 400, 'bad_utf8'],
        ['invalid UTF-8 (surrogate)', 'POST', p,
            { body: Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('b"}')]),
                headers: { 'content-type': 'application/json' } }, 400, 'bad_utf8'],
        ['invalid UTF-8 (truncated sequence)', 'POST', p,
            { body: Buffer.concat([Buffer.from('{"text":"发'), Buffer.from([0xe7, 0xa5]), Buffer.from('"}')]),
                headers: { 'content-type': 'application/json' } }, 400, 'bad_utf8'],
        ['a lone surrogate escape', 'POST', p, json('{"text":"a\\ud800b"}'), 400, ['bad_utf8', 'bad_json', 'bad_request']],
        ['a NUL byte in the text', 'POST', p, json('{"text":"发票\\u0000怎么开"}'), 400, ['bad_utf8', 'bad_request', 'bad_json']],
        ['text of 4001 bytes', 'POST', p, { json: { text: `${'发'.repeat(1333)}ab` } }, [400, 413], ['too_big', 'bad_request']],
        ['body over 64 KiB', 'POST', p, { json: { text: 'a'.repeat(70000) } }, 413, 'too_big'],
        ['body over 64 KiB, mostly padding', 'POST', p,
            json(`{"text":"请问多久发货","pad":"${'x'.repeat(65536)}"}`), 413, 'too_big'],
        ['body over 64 KiB, chunked', 'POST', p,
            { body: chunked(JSON.stringify({ text: 'a'.repeat(70000) })), headers: { 'content-type': 'application/json' } },
            413, 'too_big'],
        ['unknown route', 'GET', '/api/v1/nothing-here', {}, 404, 'not_found'],
        ['unknown route under a conversation', 'POST', `/api/v1/conversations/${id}/frobnicate`,
            { json: { text: '你好' } }, 404, 'not_found'],
        ['unknown top-level page', 'GET', '/no-such-page', {}, 404],
        ['wrong method on messages', 'PUT', p, { json: { text: '请问多久发货' } }, 405, 'method_not_allowed'],
        ['wrong method on a conversation', 'DELETE', `/api/v1/conversations/${id}`, {}, 405, 'method_not_allowed'],
        ['conversations are not listed', 'GET', '/api/v1/conversations', {}, 405, 'method_not_allowed'],
        ['wrong method on handoff', 'GET', `/api/v1/conversations/${id}/handoff`, {}, 405, 'method_not_allowed'],
        ['rating: bad JSON', 'POST', `/api/v1/conversations/${id}/ratings`, json('{"rating":'), 400, 'bad_json'],
    ];
    // every case is tried; the failures are reported together
    const failures = [];
    for (const [what, method, path, opts, status, code] of cases) {
        try {
            const before = await srv.transcript(id);
            const r = await srv.req(method, path, opts);
            try {
                expectStatus(r, status, code);
            } finally {
                const afterT = await srv.transcript(id);
                assert.deepEqual(afterT, before, `the transcript changed after ${r.describe()}`);
            }
        } catch (e) {
            failures.push(`${what}: ${e.message.split('\n')[0]}`);
        }
        // and the conversation still works
        const before = await srv.transcript(id);
        const [text, intent] = good[g++ % good.length];
        const reply = await srv.say(id, text);
        assert.equal(reply.action, 'answer', `${what}, then: ${reply._describe}`);
        assert.equal(reply.intent, intent, `${what}, then: ${reply._describe}`);
        assert.equal(reply.seq, before.messages.length + 2, `${what}, then: ${reply._describe}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} bad requests were not refused properly`);
});

test('a text of exactly 4000 bytes is accepted', async () => {
    const id = await srv.newConversation();
    const text = `${'请问多久发货'.repeat(222)}abcd`; // 18 * 222 + 4 bytes
    assert.equal(Buffer.byteLength(text), 4000);
    const r = await srv.say(id, text);
    assert.equal(r.seq, 2, r._describe);
    const t = await srv.transcript(id);
    assert.equal(t.messages[0].text, text);
    // and a body sent chunked, without Content-Length
    const r2 = expectStatus(await srv.req('POST', `/api/v1/conversations/${id}/messages`,
        { body: chunked(JSON.stringify({ text: '请问怎么开发票呢' })), headers: { 'content-type': 'application/json' } }), 200);
    assert.equal(r2.json.intent, 'invoice', r2.describe());
});

test('a text with a literal backslash-u0000 (no NUL byte) is accepted', async () => {
    const id = await srv.newConversation();
    const text = '文件路径是 C:\\u0000\\temp，能开发票吗';
    const r = await srv.say(id, text);
    assert.equal(r.seq, 2, r._describe);
    assert.equal((await srv.transcript(id)).messages[0].text, text);
});

test('ratings: an answer 204, the conversation 204, bad ratings 400; the dashboard counts them', async () => {
    const d0 = await srv.dashboard(alice);
    const id = await srv.newConversation();
    const r1 = await srv.say(id, '请问怎么开发票呢');
    assert.equal(r1.action, 'answer', r1._describe);
    const r2 = await srv.say(id, 'do you sell tickets to the moon');
    assert.equal(r2.action, 'fallback', r2._describe);
    const p = `/api/v1/conversations/${id}/ratings`;
    for (const [body, why] of [
        [{ rating: 0, turn: 1 }, 'rating 0'], [{ rating: 6, turn: 1 }, 'rating 6'],
        [{ rating: '5', turn: 1 }, 'rating as a string'], [{ rating: 2.5, turn: 1 }, 'rating 2.5'],
        [{ turn: 1 }, 'no rating'], [{ rating: 5, turn: 2 }, 'a fallback turn'],
        [{ rating: 5, turn: 3 }, 'a turn that does not exist'], [{ rating: 5, turn: 0 }, 'turn 0'],
        [{ rating: 5, turn: -1 }, 'turn -1'],
    ]) {
        const r = await srv.post(p, body);
        try { expectStatus(r, 400); } catch (e) { e.message = `${why}: ${e.message}`; throw e; }
    }
    const d1 = await srv.dashboard(alice);
    assert.deepEqual(d1.satisfaction, d0.satisfaction, 'a refused rating was counted');
    assert.deepEqual(d1.answer_feedback, d0.answer_feedback, 'a refused rating was counted');
    // a thumbs-up on the answer of turn 1: answer_feedback
    const ok1 = await srv.post(p, { rating: 5, turn: 1 });
    expectStatus(ok1, 204);
    assert.equal(ok1.text, '', 'a 204 has no body');
    const d2 = await srv.dashboard(alice);
    const f0 = d0.answer_feedback, f2 = d2.answer_feedback;
    assert.equal(f2.count, f0.count + 1, JSON.stringify([f0, f2]));
    assert.ok(f2.helpful > 0 && f2.helpful <= 1, JSON.stringify(f2));
    assert.deepEqual(d2.satisfaction, d0.satisfaction, 'a rating of one answer counted as a conversation rating');
    // stars for the whole conversation: satisfaction
    expectStatus(await srv.post(p, { rating: 2 }), 204);
    expectStatus(await srv.post(p, { rating: 4 }), 204);
    const d3 = await srv.dashboard(alice);
    const s0 = d0.satisfaction, s3 = d3.satisfaction;
    assert.equal(s3.count, s0.count + 2, JSON.stringify([s0, s3]));
    assert.equal(s3.by_rating.length, 5);
    assert.equal(s3.by_rating[1], s0.by_rating[1] + 1, JSON.stringify([s0, s3]));
    assert.equal(s3.by_rating[3], s0.by_rating[3] + 1, JSON.stringify([s0, s3]));
    assert.equal(s3.by_rating.reduce((x, y) => x + y, 0), s3.count);
    const avg = s3.by_rating.reduce((x, n, i) => x + n * (i + 1), 0) / s3.count;
    assert.ok(Math.abs(s3.average - avg) < 0.01, `average ${s3.average}, want ${avg}`);
    assert.equal(d3.answer_feedback.count, f2.count);
    // a thumbs-down on the same answer (it may replace the thumbs-up or add to it)
    expectStatus(await srv.post(p, { rating: 1, turn: 1 }), 204);
    const d4 = await srv.dashboard(alice);
    assert.ok([f2.count, f2.count + 1].includes(d4.answer_feedback.count), JSON.stringify([f2, d4.answer_feedback]));
    assert.ok(d4.answer_feedback.helpful < f2.helpful, JSON.stringify([f2, d4.answer_feedback]));
    // the transcript is not changed by ratings
    const t = await srv.transcript(id);
    assert.equal(t.messages.length, 4);
});

test('dashboard: one more conversation moves its figures', async () => {
    const hour = () => Math.floor((((Date.now() / 60000 + UTC_OFFSET) % 1440) + 1440) % 1440 / 60);
    const d0 = await srv.dashboard(alice, 7);
    const h0 = hour();
    const id = await srv.newConversation();
    const r = await srv.say(id, '支持花呗分期付款吗');
    assert.equal(r.intent, 'payment_methods', r._describe);
    const d1 = await srv.dashboard(alice, 7);
    const h1 = hour();
    assert.equal(d1.conversations, d0.conversations + 1, JSON.stringify([d0.conversations, d1.conversations]));
    assert.equal(d1.customer_messages, d0.customer_messages + 1);
    assert.equal(d1.bot_replies, d0.bot_replies + 1);
    assert.equal(d1.actions.answer, d0.actions.answer + 1);
    assert.equal(d1.hours.length, 24);
    assert.equal(d1.hours.reduce((a, b) => a + b, 0), d1.customer_messages, 'hours do not add up');
    const grew = d1.hours.map((n, i) => n - d0.hours[i]);
    assert.ok(grew[h0] === 1 || grew[h1] === 1,
        `hour ${h0} (UTC+8) did not grow: ${JSON.stringify(grew)}`);
    const ti = (d) => (d.top_intents.find((x) => x.intent === 'payment_methods') || { count: 0 }).count;
    assert.equal(ti(d1), ti(d0) + 1, JSON.stringify(d1.top_intents));
    for (const k of ['answer', 'suggest', 'fallback', 'handoff']) {
        assert.ok(Math.abs(d1.rates[k] - (d1.actions[k] || 0) / d1.bot_replies) < 0.01, `rate ${k}`);
    }
});

test('metrics and healthz', async () => {
    const h = await srv.health();
    assert.equal(h.status, 'ok');
    assert.ok(Number.isInteger(h.generation) && h.generation >= 0, JSON.stringify(h));
    const m0 = await srv.metrics();
    const a0 = metric(m0, 'csbot_replies_total', 'action="answer"');
    assert.ok(a0 !== undefined, `no csbot_replies_total{action="answer"}:\n${m0}`);
    assert.equal(metric(m0, 'csbot_kb_generation'), h.generation);
    for (const name of ['csbot_open_handoffs', 'csbot_kb_reload_failures_total', 'csbot_reply_seconds_count']) {
        assert.ok(metric(m0, name) !== undefined, `no ${name} in /metrics:\n${m0}`);
    }
    // by status (code="200") or by class (code="2xx")
    const byCode = (m, code) => metric(m, 'csbot_http_requests_total', `code="${code}"`) ??
        metric(m, 'csbot_http_requests_total', `code="${code[0]}xx"`);
    assert.ok(byCode(m0, '200') > 0, `no csbot_http_requests_total{code="200"} (or "2xx"):\n${m0}`);
    assert.ok(/csbot_reply_seconds_bucket\{le="\+Inf"\} \d+/.test(m0), 'no csbot_reply_seconds histogram');
    const id = await srv.newConversation();
    await srv.say(id, '请问怎么开发票呢');
    await srv.say(id, '请问多久发货');
    const m1 = await srv.metrics();
    assert.equal(metric(m1, 'csbot_replies_total', 'action="answer"'), a0 + 2);
    assert.ok(metric(m1, 'csbot_reply_seconds_count') >= metric(m0, 'csbot_reply_seconds_count') + 2);
    const c404 = (m) => byCode(m, '404') || 0;
    await srv.get('/api/v1/no-such-thing');
    const m2 = await srv.metrics();
    assert.equal(c404(m2), c404(m1) + 1);
});

test('static pages are served, and nothing outside them', async () => {
    for (const p of ['/', '/agent', '/dashboard']) {
        const r = await srv.get(p);
        assert.equal(r.status, 200, r.describe());
        assert.match(r.headers.get('content-type') || '', /^text\/html/, r.describe());
    }
    // fetch() would normalise these paths: send them as they are
    for (const p of ['/static/../../../../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
        '/static/..%2f..%2f..%2f..%2fetc%2fpasswd', '/static/%2Fetc%2Fpasswd']) {
        const raw = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        assert.match(raw, /^HTTP\/1\.[01] (400|403|404) /, `GET ${p} -> ${raw.slice(0, 200)}`);
        assert.ok(!raw.includes('root:'), `GET ${p} served /etc/passwd`);
    }
});

test('a garbled request gets 400 (or a closed connection) and the server goes on', async () => {
    const close = 'Connection: close\r\n';
    for (const junk of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', '\x00\x01\x02\r\n\r\n',
        `POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n${close}Content-Length: -5\r\n\r\n`,
        `POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n${close}Content-Length: 99999999999999999999\r\n\r\n`,
        `POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n${close}Content-Length: 12abc\r\n\r\n`,
        `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n${close}\r\n`]) {
        const raw = await rawRequest(srv.port, junk, { timeoutMs: 2000 });
        assert.ok(raw === '' || /^HTTP\/1\.[01] (400|404|405|413|414|431|501|505) /.test(raw),
            `${JSON.stringify(junk.slice(0, 60))} -> ${raw.slice(0, 200)}`);
        assert.equal((await srv.health()).status, 'ok');
    }
});

test('many requests in parallel on one conversation keep seq consistent', async () => {
    const id = await srv.newConversation();
    const texts = ['请问怎么开发票呢', '请问多久发货', '支持花呗分期付款吗', '多久能收到退款', '我要换个尺码', '你好'];
    const replies = await Promise.all(texts.map((t) => srv.say(id, t)));
    const seqs = replies.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, [2, 4, 6, 8, 10, 12], JSON.stringify(replies));
    const t = await srv.transcript(id);
    checkOrder(t.messages);
    assert.equal(t.messages.length, 12);
    for (let i = 0; i < 12; i += 2) {
        assert.equal(t.messages[i].role, 'customer');
        assert.equal(t.messages[i + 1].role, 'bot');
        const r = replies.find((x) => x.seq === i + 2);
        assert.equal(t.messages[i + 1].text, r.text);
    }
});

test('a client that stops halfway through its request is disconnected after --timeout', async () => {
    const slow = await Server.start({ tag: 'slow', quiet: true, args: ['--timeout', '1'] });
    try {
        const t0 = Date.now();
        // headers never finished: the server must not wait for ever
        const raw = await rawRequest(slow.port, 'POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n',
            { timeoutMs: 10000 });
        const took = Date.now() - t0;
        assert.equal(raw, '', `got ${raw.slice(0, 100)}`);
        assert.ok(took >= 900 && took < 8000 * SCALE, `closed after ${took} ms`);
        // and it still serves everybody else
        assert.equal((await slow.health()).status, 'ok');
    } finally {
        await slow.close();
    }
});
