// Scale-out: an agent logged in on instance A answers a customer connected
// to instance B (queue, claim, live delivery to B's long poll through Redis,
// resolve, the bot again on B); two agents on two instances claiming the
// same ticket at once: exactly one gets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, expectStatus, checkOrder, sleep, SCALE } from './helpers.mjs';

const PW = { alice: 'alice-secret-pw', bob: 'bob-secret-pw!' };
let cl, A, B, aliceA, bobB;

before(async () => {
    cl = await Cluster.start({ n: 2, tag: 'handoff', agents: PW });
    ({ A, B } = cl);
    aliceA = await A.login('alice', PW.alice);
    bobB = await B.login('bob', PW.bob);
});
after(async () => { await cl?.close(); });

// A long poll that records when it ended.
function poll(srv, path, agent) {
    const p = { done: false, t: 0 };
    p.promise = srv.get(path, agent ? { agent, timeoutMs: 40000 } : { timeoutMs: 40000 }).then((r) => {
        p.done = true;
        p.t = Date.now();
        return r;
    });
    return p;
}

const claim = (srv, ticket, agent) => srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent });
const write = (srv, ticket, agent, text) =>
    srv.req('POST', `/api/v1/agent/handoffs/${ticket}/messages`, { agent, json: { text } });
const resolve = (srv, ticket, agent) =>
    srv.req('POST', `/api/v1/agent/handoffs/${ticket}/resolve`, { agent, json: {} });

test('a customer on B, an agent on A: queue, claim, live messages both ways, resolve, the bot again', async () => {
    const id = await B.newConversation();
    const r1 = await B.say(id, '我想问一下怎么开发票');
    assert.equal(r1.intent, 'invoice', r1._describe);
    const r2 = await B.say(id, '转人工');
    assert.equal(r2.action, 'handoff', r2._describe);
    assert.equal(r2.status, 'waiting', r2._describe);
    assert.equal(r2.handoff?.reason, 'explicit_request', r2._describe);
    const ticket = r2.handoff.ticket;
    assert.ok(Number.isInteger(ticket) && ticket > 0, r2._describe);
    // the status is shared: the button on A knows it is already with a person
    expectStatus(await A.post(`/api/v1/conversations/${id}/handoff`), 409, 'conflict');
    assert.equal((await A.transcript(id)).status, 'waiting');

    // the queue on A (and on B) shows the ticket, open
    for (const [srv, agent] of [[A, aliceA], [B, bobB]]) {
        const q = await srv.queue(agent);
        const e = q.find((x) => x.ticket === ticket);
        assert.ok(e, `${agent.name}'s queue on ${srv.name} lacks ticket ${ticket}: ${JSON.stringify(q)}`);
        assert.equal(e.conversation, id);
        assert.equal(e.status, 'open');
        assert.equal(e.agent, null);
        assert.equal(e.text, '转人工');
        assert.equal(e.reason, 'explicit_request');
    }
    const t1 = expectStatus(await A.get(`/api/v1/agent/handoffs/${ticket}`, { agent: aliceA }), 200).json;
    assert.equal(t1.conversation, id);
    assert.equal(t1.status, 'open');
    checkOrder(t1.messages);
    assert.deepEqual(t1.messages.slice(0, 4).map((m) => [m.role, m.text]),
        [['customer', '我想问一下怎么开发票'], ['bot', r1.text], ['customer', '转人工'], ['bot', r2.text]],
        'the ticket on A lacks the turns made on B');

    // the bot stays silent on B while the ticket waits
    const w = await B.say(id, '有人吗？');
    assert.equal(w.action, 'silent', w._describe);
    assert.equal(w.status, 'waiting', w._describe);

    // alice claims on A; bob cannot on B, and no longer sees it
    const c = expectStatus(await claim(A, ticket, aliceA), 200).json;
    assert.deepEqual(c, { status: 'claimed', agent: 'alice' });
    expectStatus(await claim(B, ticket, bobB), 409, 'conflict');
    const qb = await B.queue(bobB);
    assert.ok(!qb.some((x) => x.ticket === ticket), `bob still sees ticket ${ticket} on B: ${JSON.stringify(qb)}`);
    expectStatus(await write(B, ticket, bobB, 'bob here'), 409, 'conflict');

    let conv = await B.transcript(id);
    assert.equal(conv.status, 'agent');
    assert.equal(conv.messages.filter((m) => m.role === 'system').length, 1,
        `one system message for the claim, seen on B: ${JSON.stringify(conv.messages)}`);
    let last = conv.messages.at(-1).seq;

    // the customer's long poll on B, started before alice writes on A
    const cp = poll(B, `/api/v1/conversations/${id}/messages?after=${last}&wait=20`);
    await sleep(500);
    assert.equal(cp.done, false, 'the long poll on B answered before there was a message');
    const hello = '您好，我是客服alice，我来帮您查';
    const t0 = Date.now();
    const am = expectStatus(await write(A, ticket, aliceA, hello), 200).json;
    assert.equal(am.seq, last + 1, JSON.stringify(am));
    const cr = expectStatus(await cp.promise, 200).json;
    const dt = cp.t - t0;
    assert.ok(dt < 2000 * SCALE,
        `the customer's long poll on B answered ${dt} ms after the agent's message on A ` +
        '(not woken through Redis: it ran to its deadline?)');
    assert.equal(cr.status, 'agent');
    assert.equal(cr.messages.length, 1, JSON.stringify(cr));
    assert.equal(cr.messages[0].role, 'agent');
    assert.equal(cr.messages[0].text, hello);
    assert.equal(cr.messages[0].agent, 'alice');
    assert.equal(cr.messages[0].seq, am.seq);
    last = am.seq;

    // a second message, polled on B again
    const cp2 = poll(B, `/api/v1/conversations/${id}/messages?after=${last}&wait=20`);
    await sleep(300);
    assert.equal(cp2.done, false);
    const t2 = Date.now();
    const am2 = expectStatus(await write(A, ticket, aliceA, '请问您的发票抬头是？'), 200).json;
    const cr2 = expectStatus(await cp2.promise, 200).json;
    assert.ok(cp2.t - t2 < 2000 * SCALE, `the second long poll on B answered ${cp2.t - t2} ms after the message`);
    assert.equal(cr2.messages[0]?.seq, am2.seq, JSON.stringify(cr2));
    last = am2.seq;

    // the agent's long poll on A, woken by the customer's message on B
    const ap = poll(A, `/api/v1/agent/handoffs/${ticket}/messages?after=${last}&wait=20`, aliceA);
    await sleep(300);
    assert.equal(ap.done, false, "the agent's long poll on A answered before there was a message");
    const reply = '好的，我的发票抬头写错了';
    const t3 = Date.now();
    const s = await B.say(id, reply);
    assert.equal(s.action, 'silent', s._describe);
    assert.equal(s.status, 'agent', s._describe);
    assert.equal(s.seq, last + 1, s._describe);
    const ar = expectStatus(await ap.promise, 200).json;
    assert.ok(ap.t - t3 < 2000 * SCALE,
        `the agent's long poll on A answered ${ap.t - t3} ms after the customer's message on B`);
    assert.equal(ar.messages[0]?.role, 'customer', JSON.stringify(ar));
    assert.equal(ar.messages[0].text, reply);

    // resolve on A; the bot answers again on B
    expectStatus(await resolve(B, ticket, bobB), [403, 409]);
    assert.deepEqual(expectStatus(await resolve(A, ticket, aliceA), 200).json, { status: 'resolved' });
    conv = await B.transcript(id);
    assert.equal(conv.status, 'bot');
    assert.equal(conv.messages.at(-1).role, 'system');
    assert.ok(!(await A.queue(aliceA)).some((x) => x.ticket === ticket), 'a resolved ticket is still queued on A');
    assert.ok(!(await B.queue(bobB)).some((x) => x.ticket === ticket), 'a resolved ticket is still queued on B');
    const b = await B.say(id, '请问多久发货');
    assert.equal(b.action, 'answer', b._describe);
    assert.equal(b.intent, 'shipping_time', b._describe);
    assert.equal(b.status, 'bot', b._describe);
    const tA = await A.transcript(id), tB = await B.transcript(id);
    checkOrder(tB.messages);
    assert.deepEqual(tA, tB, 'A and B give different transcripts');
    assert.ok(!tB.messages.some((m) => m.text === 'bob here'));
});

test('a long poll on B for an agent message that comes from A while B waits on other conversations', async () => {
    // several customers long-poll on B at once; only the one written to wakes
    const ids = [];
    const tickets = [];
    for (let i = 0; i < 3; i++) {
        const id = await B.newConversation();
        await B.say(id, '请问多久发货');
        const h = expectStatus(await B.post(`/api/v1/conversations/${id}/handoff`), 200).json;
        expectStatus(await claim(A, h.ticket, aliceA), 200);
        ids.push(id);
        tickets.push(h.ticket);
    }
    const lasts = [];
    for (const id of ids) lasts.push((await B.transcript(id)).messages.at(-1).seq);
    const polls = ids.map((id, i) => poll(B, `/api/v1/conversations/${id}/messages?after=${lasts[i]}&wait=6`));
    await sleep(400);
    const t0 = Date.now();
    expectStatus(await write(A, tickets[1], aliceA, '您好，我来处理'), 200);
    const r1 = expectStatus(await polls[1].promise, 200).json;
    assert.ok(polls[1].t - t0 < 2000 * SCALE, `woken ${polls[1].t - t0} ms after the message`);
    assert.equal(r1.messages.length, 1, JSON.stringify(r1));
    assert.equal(polls[0].done || polls[2].done, false, 'a long poll of another conversation answered');
    const [r0, r2] = await Promise.all([polls[0].promise, polls[2].promise]);
    assert.deepEqual(expectStatus(r0, 200).json.messages, []);
    assert.deepEqual(expectStatus(r2, 200).json.messages, []);
    for (const t of tickets) expectStatus(await resolve(A, t, aliceA), 200);
});

test('two agents on two instances claim the same ticket at once: exactly one wins', async () => {
    for (let round = 0; round < 6; round++) {
        const id = await (round % 2 ? A : B).newConversation();
        await A.say(id, '我想退货，应该怎么操作');
        const h = expectStatus(await B.post(`/api/v1/conversations/${id}/handoff`), 200).json;
        const [ra, rb] = await Promise.all([claim(A, h.ticket, aliceA), claim(B, h.ticket, bobB)]);
        const wins = [ra, rb].filter((r) => r.status === 200);
        assert.equal(wins.length, 1, `round ${round}: ${wins.length} claims won:\n${ra.describe()}\n${rb.describe()}`);
        const lose = ra.status === 200 ? rb : ra;
        expectStatus(lose, 409, 'conflict');
        const [winner, wsrv, wagent, lsrv, lagent] = ra.status === 200
            ? ['alice', A, aliceA, B, bobB] : ['bob', B, bobB, A, aliceA];
        assert.equal(wins[0].json.agent, winner, wins[0].describe());
        // both instances agree on who has it
        for (const [srv, agent] of [[A, aliceA], [B, bobB]]) {
            const t = expectStatus(await srv.get(`/api/v1/agent/handoffs/${h.ticket}`, { agent }), 200).json;
            assert.equal(t.status, 'claimed', JSON.stringify(t));
            assert.equal(t.agent, winner, `round ${round}: ${srv.name} says ${t.agent} has it, the claim said ${winner}`);
        }
        // one "an agent has joined" message, not two
        const conv = await A.transcript(id);
        // (the other system message is the handoff's own "please wait")
        assert.equal(conv.messages.filter((m) => m.role === 'system' && /已接入|has joined/.test(m.text)).length, 1,
            `round ${round}: ${JSON.stringify(conv.messages)}`);
        checkOrder(conv.messages);
        expectStatus(await write(lsrv, h.ticket, lagent, 'not mine'), 409, 'conflict');
        expectStatus(await write(wsrv, h.ticket, wagent, '您好'), 200);
        expectStatus(await resolve(wsrv, h.ticket, wagent), 200);
    }
});

test('tickets are numbered once across instances: handoffs made on A and B at once get distinct tickets', async () => {
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await A.newConversation());
    const res = await Promise.all(ids.map((id, i) => (i % 2 ? A : B).post(`/api/v1/conversations/${id}/handoff`)));
    const tickets = res.map((r) => expectStatus(r, 200).json.ticket);
    assert.equal(new Set(tickets).size, tickets.length, `duplicate tickets: ${tickets}`);
    const q = await A.queue(aliceA);
    for (const [i, t] of tickets.entries()) {
        const e = q.find((x) => x.ticket === t);
        assert.ok(e && e.conversation === ids[i], `ticket ${t} not in A's queue for ${ids[i]}: ${JSON.stringify(q)}`);
    }
    for (const t of tickets) {
        expectStatus(await claim(B, t, bobB), 200);
        expectStatus(await resolve(B, t, bobB), 200);
    }
});
