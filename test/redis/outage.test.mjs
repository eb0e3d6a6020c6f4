// Scale-out: Redis itself dies (kill -9) and comes back on the same port with
// its AOF (appendfsync always). Nothing acknowledged is lost; while Redis is
// down requests fail at once with a 5xx JSON error (no hang, no crash of the
// instances); once it is back the instances serve again without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    Cluster, expectStatus, checkOrder, checkAcked, trySay, waitFor, SCALE,
} from './helpers.mjs';

const PW = { alice: 'alice-secret-pw' };
const ORDER = '202411223344';
let cl, A, B;

before(async () => {
    cl = await Cluster.start({ n: 2, tag: 'outage', agents: PW });
    ({ A, B } = cl);
});
after(async () => { await cl?.close(); });

// A request with a bound; {status, json, text, ms} or {status: 0, error}.
async function tryReq(srv, method, path, { json, agent, timeoutMs = 8000 } = {}) {
    const t0 = Date.now();
    const headers = {};
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (agent) {
        headers.cookie = `csbot_agent=${agent.cookie}`;
        if (method !== 'GET') headers['x-csrf-token'] = agent.csrf;
    }
    try {
        const r = await fetch(srv.base + path, {
            method, headers, body: json === undefined ? undefined : JSON.stringify(json),
            signal: AbortSignal.timeout(timeoutMs * SCALE),
        });
        const text = await r.text();
        let body;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        return { status: r.status, json: body, text, ct: r.headers.get('content-type') || '', ms: Date.now() - t0 };
    } catch (e) {
        return { status: 0, error: `${e.name}: ${e.message}`, ms: Date.now() - t0 };
    }
}

function expect5xx(r, what) {
    assert.ok(r.status !== 0, `${what}: no answer while Redis is down (${r.error} after ${r.ms} ms)\n${cl.logs()}`);
    assert.ok(r.status >= 500 && r.status <= 599, `${what}: ${r.status} ${r.text} while Redis is down`);
    assert.ok(r.ct.startsWith('application/json') && typeof r.json?.error?.code === 'string' &&
        typeof r.json?.error?.message === 'string', `${what}: not a JSON error: ${r.status} ${r.ct} ${r.text}`);
    assert.ok(r.ms < 5000 * SCALE, `${what}: took ${r.ms} ms to fail`);
}

test('kill -9 redis-server: 5xx JSON errors while it is down, nothing acknowledged lost, service back without restarts', async () => {
    const alice = await A.login('alice', PW.alice);
    // acknowledged state: turns on both instances, a slot being asked for,
    // a claimed handoff
    const acked = new Map();
    const ids = [];
    for (let i = 0; i < 4; i++) {
        const id = await (i % 2 ? B : A).newConversation();
        ids.push(id);
        acked.set(id, []);
        for (const [j, text] of ['你好', '请问多久发货', '怎么退货'].entries()) {
            const s = (i + j) % 2 ? A : B;
            const r = await s.say(id, text);
            acked.get(id).push({ seq: r.seq, customer: text, bot: r.text });
        }
    }
    const ctxId = await A.newConversation();
    const ask = await A.say(ctxId, '我的快递到哪了');
    assert.equal(ask.action, 'ask', ask._describe);
    const hId = await B.newConversation();
    await B.say(hId, '可以开发票吗');
    const h = await B.say(hId, '转人工');
    assert.equal(h.action, 'handoff', h._describe);
    expectStatus(await A.req('POST', `/api/v1/agent/handoffs/${h.handoff.ticket}/claim`, { agent: alice }), 200);
    const before = new Map();
    for (const id of [...ids, ctxId, hId]) before.set(id, await A.transcript(id));

    await cl.redis.kill9();

    // while Redis is down: quick 5xx JSON errors, the instances stay up
    for (const s of cl.servers) {
        expect5xx(await tryReq(s, 'POST', `/api/v1/conversations/${ids[0]}/messages`, { json: { text: '在吗' } }),
            `POST a message on ${s.name}`);
        expect5xx(await tryReq(s, 'POST', '/api/v1/conversations', { json: {} }), `POST a conversation on ${s.name}`);
        expect5xx(await tryReq(s, 'GET', `/api/v1/conversations/${ctxId}`), `GET a conversation on ${s.name}`);
        expect5xx(await tryReq(s, 'POST', `/api/v1/agent/handoffs/${h.handoff.ticket}/messages`,
            { json: { text: '您好' }, agent: alice }), `an agent message on ${s.name}`);
        // the context turn fails too: it must not be half taken
        expect5xx(await tryReq(s, 'POST', `/api/v1/conversations/${ctxId}/messages`, { json: { text: ORDER } }),
            `the order number on ${s.name}`);
    }
    // a long poll while Redis is down ends (error or empty) and does not hang
    const lp = await tryReq(B, 'GET', `/api/v1/conversations/${ids[1]}/messages?after=6&wait=2`, { timeoutMs: 10000 });
    assert.ok(lp.status !== 0, `a long poll hung while Redis was down: ${lp.error}`);
    assert.ok(lp.status === 200 || lp.status >= 500, `long poll: ${lp.status} ${lp.text}`);
    for (const s of cl.servers) {
        assert.ok(s.alive, `instance ${s.name} died while Redis was down:\n${s.log.slice(-1500)}`);
        const hz = await tryReq(s, 'GET', '/healthz');
        assert.ok(hz.status === 200 || hz.status === 503, `/healthz on ${s.name}: ${hz.status} ${hz.text}`);
    }

    await cl.redis.start(); // same port, same folder: it reads its AOF back

    // back within a few seconds, on each instance, without restarting it
    for (const s of cl.servers) {
        await waitFor(async () => (await tryReq(s, 'GET', `/api/v1/conversations/${ids[0]}`)).status === 200,
            { timeoutMs: 8000, intervalMs: 200, what: `instance ${s.name} to serve again after Redis came back` })
            .catch((e) => { throw new Error(`${e.message}\n${cl.logs()}`); });
        assert.ok(s.alive, `instance ${s.name} is not running`);
    }
    // nothing acknowledged lost, and nothing from the failed requests stored
    for (const [id, t0] of before) {
        for (const s of cl.servers) {
            assert.deepEqual(await s.transcript(id), t0, `${id} read on ${s.name} changed across the Redis restart`);
        }
    }
    for (const id of ids) {
        const t = await B.transcript(id);
        checkOrder(t.messages);
        checkAcked(t.messages, acked.get(id));
        const r = await (id === ids[0] ? A : B).say(id, '谢谢');
        assert.equal(r.seq, acked.get(id).at(-1).seq + 2, `seq after the outage: ${r._describe}`);
    }
    // the context: the bot still waits for the order number
    const r = await B.say(ctxId, ORDER);
    assert.equal(r.action, 'answer', `context lost across the Redis restart: ${r._describe}`);
    assert.equal(r.slots?.order_id, ORDER, r._describe);
    assert.equal(r.turn, 2, r._describe);
    assert.equal(r.seq, 4, r._describe);
    // the login and the claim are still there
    const q = expectStatus(await B.get('/api/v1/agent/queue', { agent: alice }), 200).json.handoffs;
    const e = q.find((x) => x.ticket === h.handoff.ticket);
    assert.ok(e && e.status === 'claimed' && e.agent === 'alice', JSON.stringify(q));
    const am = expectStatus(await B.req('POST', `/api/v1/agent/handoffs/${h.handoff.ticket}/messages`,
        { agent: alice, json: { text: '您好，我在' } }), 200).json;
    assert.equal(am.seq, before.get(hId).messages.at(-1).seq + 1, JSON.stringify(am));
    expectStatus(await A.req('POST', `/api/v1/agent/handoffs/${h.handoff.ticket}/resolve`, { agent: alice, json: {} }), 200);
    // new conversations work on both
    for (const s of cl.servers) {
        const id = await s.newConversation();
        const x = await s.say(id, '请问多久发货');
        assert.equal(x.intent, 'shipping_time', x._describe);
    }
});

test('a graceful Redis restart (SIGTERM) under light load: the acknowledged turns stay, service comes back', async () => {
    const id = await A.newConversation();
    const acked = [];
    for (let i = 0; i < 3; i++) {
        const text = ['你好', '可以开发票吗', '怎么退货'][i];
        const r = await (i % 2 ? B : A).say(id, text);
        acked.push({ seq: r.seq, customer: text, bot: r.text });
    }
    const ex = await cl.redis.stop();
    assert.equal(ex.code, 0, `redis-server exited ${JSON.stringify(ex)}`);
    const r = await trySay(B, id, '在吗', { timeoutMs: 8000 });
    assert.ok(r.status >= 500 && r.ms < 5000 * SCALE, `while Redis is stopped: ${r.status} ${r.text ?? r.error} after ${r.ms} ms`);
    await cl.redis.start();
    const back = await waitFor(async () => {
        const x = await trySay(A, id, '请问多久发货');
        return x.ok && x;
    }, { timeoutMs: 8000, intervalMs: 200, what: 'A to take a turn after Redis came back' });
    acked.push({ seq: back.json.seq, customer: '请问多久发货', bot: back.json.text });
    const t = await B.transcript(id);
    checkOrder(t.messages);
    checkAcked(t.messages, acked);
    assert.equal(t.messages.length, 8, JSON.stringify(t.messages));
});
