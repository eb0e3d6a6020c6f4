// Persistence: a conversation goes on across a graceful restart (SIGTERM)
// and across kill -9, with its context and its whole transcript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, expectStatus, checkOrder, SCALE } from './helpers.mjs';

let srv;
before(async () => { srv = await Server.start({ tag: 'restart', agents: { alice: 'alice-password-1' } }); });
after(async () => { await srv?.close(); });

test('SIGTERM, restart on the same database: the conversation goes on', async () => {
    const id = await srv.newConversation({ name: 'Li', level: 'vip' });
    const r1 = await srv.say(id, '你好');
    assert.equal(r1.intent, 'greeting', r1._describe);
    const r2 = await srv.say(id, '我的快递到哪了');
    assert.equal(r2.action, 'ask', r2._describe);
    assert.equal(r2.intent, 'order_tracking', r2._describe);
    const before = await srv.transcript(id);

    const t0 = Date.now();
    const ex = await srv.stop();
    assert.equal(ex.signal, null, `killed by ${ex.signal}, not a graceful exit:\n${srv.log.slice(-1500)}`);
    assert.equal(ex.code, 0, `exit status ${ex.code} after SIGTERM:\n${srv.log.slice(-1500)}`);
    assert.ok(Date.now() - t0 < 5000 * SCALE, `SIGTERM took ${Date.now() - t0} ms`);

    await srv.start();
    assert.deepEqual(await srv.transcript(id), before, 'the transcript changed across the restart');
    // the bot still waits for the order number it asked for
    const r3 = await srv.say(id, '202411223344');
    assert.equal(r3.action, 'answer', `context lost across the restart: ${r3._describe}`);
    assert.equal(r3.intent, 'order_tracking', r3._describe);
    assert.equal(r3.slots?.order_id, '202411223344', r3._describe);
    assert.equal(r3.turn, 3, r3._describe);
    assert.equal(r3.seq, 6, r3._describe);
    // the profile is kept too (the VIP answer, with the name)
    const r4 = await srv.say(id, '请问你们的退货政策是什么');
    assert.equal(r4.intent, 'return_policy', r4._describe);
    assert.ok(r4.text.includes('Li') && r4.text.includes('30'), `profile lost: ${r4._describe}`);
    const t = await srv.transcript(id);
    checkOrder(t.messages);
    assert.deepEqual(t.messages.map((m) => m.text),
        ['你好', r1.text, '我的快递到哪了', r2.text, '202411223344', r3.text, '请问你们的退货政策是什么', r4.text]);
});

test('kill -9 right after a reply: the turn is there after the restart', async () => {
    const id = await srv.newConversation();
    const r1 = await srv.say(id, '请问怎么开发票呢');
    const r2 = await srv.say(id, '我的快递到哪了');
    assert.equal(r2.action, 'ask', r2._describe);
    await srv.kill9();
    await srv.start();
    const t = await srv.transcript(id);
    checkOrder(t.messages);
    assert.deepEqual(t.messages.map((m) => [m.seq, m.role, m.text]),
        [[1, 'customer', '请问怎么开发票呢'], [2, 'bot', r1.text], [3, 'customer', '我的快递到哪了'], [4, 'bot', r2.text]]);
    // no seq is reused, and the context (the question asked) survived too
    const r3 = await srv.say(id, '202411223344');
    assert.equal(r3.seq, 6, r3._describe);
    assert.equal(r3.intent, 'order_tracking', r3._describe);
    assert.equal(r3.action, 'answer', r3._describe);
});

test('handoffs and logins survive a restart', async () => {
    const alice = await srv.login('alice', 'alice-password-1');
    const id = await srv.newConversation();
    await srv.say(id, '请问多久发货');
    const h = await srv.say(id, '转人工');
    assert.equal(h.action, 'handoff', h._describe);
    const ticket = h.handoff.ticket;
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent: alice }), 200);
    const ex = await srv.stop();
    assert.equal(ex.code, 0);
    await srv.start();
    // the login is in the database
    const q = expectStatus(await srv.get('/api/v1/agent/queue', { agent: alice }), 200).json.handoffs;
    const e = q.find((x) => x.ticket === ticket);
    assert.ok(e && e.status === 'claimed' && e.agent === 'alice', JSON.stringify(q));
    const s = await srv.say(id, '我还在等');
    assert.equal(s.action, 'silent', s._describe);
    assert.equal(s.status, 'agent', s._describe);
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/messages`,
        { agent: alice, json: { text: '您好' } }), 200);
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/resolve`, { agent: alice, json: {} }), 200);
    const b = await srv.say(id, '请问怎么开发票呢');
    assert.equal(b.action, 'answer', b._describe);
    assert.equal(b.intent, 'invoice', b._describe);
});

test('a second server on the same port is refused; the first goes on', async () => {
    // e.g. started twice by mistake: with SO_REUSEPORT both would get
    // connections, each with its own copy of the conversations in memory
    const other = new Server({ dir: srv.dir });
    let err = null;
    try {
        await other.spawnOn(srv.port);
    } catch (e) {
        err = e;
    }
    if (!err) await other.stop();
    assert.ok(err && /exited/.test(err.message),
        `a second csbot-server started on 127.0.0.1:${srv.port}, which the first one listens on`);
    const id = await srv.newConversation();
    const r = await srv.say(id, '请问多久发货');
    assert.equal(r.intent, 'shipping_time', r._describe);
});
