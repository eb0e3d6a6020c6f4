// Agents: logins and their protection, and the whole handoff flow between a
// customer, the bot and two agents. One server for the whole file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    Server, expectStatus, checkOrder, asObject, runBin, sleep, SCALE,
} from './helpers.mjs';

const PW = { alice: 'alice-secret-pw', bob: 'bob-secret-pw!' };
let srv, alice, bob;

before(async () => {
    srv = await Server.start({ tag: 'handoff', agents: PW });
    [alice, bob] = await Promise.all([srv.login('alice', PW.alice), srv.login('bob', PW.bob)]);
});
after(async () => { await srv?.close(); });

// A long poll that records when it ended.
function poll(path, agent) {
    const p = { done: false, t: 0 };
    p.promise = srv.get(path, agent ? { agent } : {}).then((r) => {
        p.done = true;
        p.t = Date.now();
        return r;
    });
    return p;
}

test('login sets an HttpOnly SameSite=Strict cookie; /me gives the same csrf', async () => {
    assert.match(alice.setCookie, /;\s*HttpOnly/i);
    assert.match(alice.setCookie, /;\s*SameSite=Strict/i);
    assert.match(alice.setCookie, /;\s*Path=\//i);
    assert.match(alice.setCookie, /;\s*(Max-Age=\d+|Expires=)/i);
    const me = expectStatus(await srv.get('/api/v1/agent/me', { agent: alice }), 200).json;
    assert.deepEqual(me, { name: 'alice', csrf: alice.csrf });
    assert.notEqual(alice.cookie, bob.cookie);
    assert.notEqual(alice.csrf, bob.csrf);
});

test('auth: wrong password and unknown user are the same 401', async () => {
    const wrong = await srv.post('/api/v1/agent/login', { name: 'alice', password: 'not-her-password' });
    expectStatus(wrong, 401, 'unauthorized');
    assert.ok(!/csbot_agent=[^;]+/.test(wrong.headers.get('set-cookie') || ''), 'cookie set on a failed login');
    const unknown = await srv.post('/api/v1/agent/login', { name: 'mallory', password: 'not-her-password' });
    expectStatus(unknown, 401, 'unauthorized');
    assert.deepEqual(unknown.json, wrong.json, 'wrong password and unknown user answer differently');
    const empty = await srv.post('/api/v1/agent/login', { name: 'alice', password: '' });
    expectStatus(empty, [400, 401]);
    expectStatus(await srv.req('POST', '/api/v1/agent/login',
        { body: '{"name":"alice",', headers: { 'content-type': 'application/json' } }), 400, 'bad_json');
});

test('auth: agent routes need the cookie', async () => {
    const forged = { cookie: 'x'.repeat(43), csrf: alice.csrf };
    for (const [method, path] of [
        ['GET', '/api/v1/agent/queue'], ['GET', '/api/v1/agent/me'], ['GET', '/api/v1/dashboard'],
        ['GET', '/api/v1/kb/intents'], ['GET', '/api/v1/agent/handoffs/1'],
        ['POST', '/api/v1/agent/handoffs/1/claim'], ['POST', '/api/v1/kb/examples'],
    ]) {
        expectStatus(await srv.req(method, path, { headers: { 'x-csrf-token': alice.csrf } }), 401, 'unauthorized');
        expectStatus(await srv.req(method, path, { agent: forged }), 401, 'unauthorized');
        expectStatus(await srv.req(method, path, {
            headers: { cookie: `csbot_agentx=${alice.cookie}`, 'x-csrf-token': alice.csrf },
        }), 401, 'unauthorized');
    }
});

test('auth: a POST without the right X-CSRF-Token is 403 and does nothing', async () => {
    const id = await srv.newConversation();
    await srv.say(id, '我想问一下怎么开发票');
    const h = expectStatus(await srv.post(`/api/v1/conversations/${id}/handoff`), 200).json;
    const claim = `/api/v1/agent/handoffs/${h.ticket}/claim`;
    expectStatus(await srv.req('POST', claim, { agent: alice, csrf: false }), 403, 'forbidden');
    expectStatus(await srv.req('POST', claim, {
        agent: alice, csrf: false, headers: { 'x-csrf-token': 'wrong' },
    }), 403, 'forbidden');
    // bob's token does not go with alice's cookie
    expectStatus(await srv.req('POST', claim, {
        agent: alice, csrf: false, headers: { 'x-csrf-token': bob.csrf },
    }), 403, 'forbidden');
    // the token in the body or the query does not count
    expectStatus(await srv.req('POST', `${claim}?csrf=${alice.csrf}`, {
        agent: alice, csrf: false, json: { csrf: alice.csrf },
    }), 403, 'forbidden');
    expectStatus(await srv.req('POST', '/api/v1/agent/logout', { agent: alice, csrf: false }), 403, 'forbidden');
    // nothing happened: still open, alice still logged in
    const t = expectStatus(await srv.get(`/api/v1/agent/handoffs/${h.ticket}`, { agent: alice }), 200).json;
    assert.equal(t.status, 'open', JSON.stringify(t));
    assert.equal(t.agent, null);
    const conv = await srv.transcript(id);
    assert.equal(conv.status, 'waiting');
    // then claim and resolve it so that it leaves the queues of later tests
    expectStatus(await srv.req('POST', claim, { agent: alice }), 200);
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${h.ticket}/resolve`, { agent: alice, json: {} }), 200);
});

test('handoff flow: customer, queue, claim, conflict, messages, long polls, note, resolve', async () => {
    const id = await srv.newConversation();
    const first = '我想问一下怎么开发票';
    const r1 = await srv.say(id, first);
    assert.equal(r1.intent, 'invoice', r1._describe);

    // the customer asks for a person
    const r2 = await srv.say(id, '转人工');
    assert.equal(r2.action, 'handoff', r2._describe);
    assert.equal(r2.intent, 'human_agent', r2._describe);
    assert.equal(r2.status, 'waiting', r2._describe);
    assert.equal(r2.handoff?.reason, 'explicit_request', r2._describe);
    assert.ok(Number.isInteger(r2.handoff?.ticket) && r2.handoff.ticket > 0, r2._describe);
    const ticket = r2.handoff.ticket;
    assert.equal((await srv.transcript(id)).status, 'waiting');
    // the handoff endpoint now says it is already with a person
    expectStatus(await srv.post(`/api/v1/conversations/${id}/handoff`), 409, 'conflict');

    // the queue shows it to both agents, open
    for (const a of [alice, bob]) {
        const q = await srv.queue(a);
        const e = q.find((x) => x.ticket === ticket);
        assert.ok(e, `${a.name}'s queue lacks ticket ${ticket}: ${JSON.stringify(q)}`);
        assert.equal(e.conversation, id);
        assert.equal(e.reason, 'explicit_request');
        assert.equal(e.status, 'open');
        assert.equal(e.agent, null);
        assert.equal(e.lang, 'zh-Hans');
        assert.equal(e.text, '转人工');
        assert.equal(typeof e.created, 'number');
        assert.ok(e.waiting_seconds >= 0 && e.waiting_seconds < 60, JSON.stringify(e));
        for (let i = 1; i < q.length; i++) assert.ok(q[i].created >= q[i - 1].created, 'queue not oldest first');
    }

    // the ticket: packet with the transcript, messages, no notes
    const t1 = expectStatus(await srv.get(`/api/v1/agent/handoffs/${ticket}`, { agent: alice }), 200).json;
    assert.equal(t1.ticket, ticket);
    assert.equal(t1.conversation, id);
    assert.equal(t1.reason, 'explicit_request');
    assert.equal(t1.status, 'open');
    assert.equal(t1.agent, null);
    assert.equal(t1.claimed, null);
    assert.equal(t1.resolved, null);
    assert.deepEqual(t1.notes, []);
    const packet = asObject(t1.packet);
    assert.equal(packet.reason, 'explicit_request', JSON.stringify(packet));
    assert.equal(packet.text, '转人工');
    assert.equal(packet.lang, 'zh-Hans');
    assert.ok(Array.isArray(packet.transcript), JSON.stringify(packet));
    assert.ok(packet.transcript.some((turn) => turn.user === first && turn.intent === 'invoice'),
        `the packet's transcript lacks "${first}": ${JSON.stringify(packet.transcript)}`);
    assert.ok(packet.counters && packet.counters.turns >= 2, JSON.stringify(packet));
    checkOrder(t1.messages);
    assert.deepEqual(t1.messages.map((m) => [m.role, m.text]).slice(0, 4),
        [['customer', first], ['bot', r1.text], ['customer', '转人工'], ['bot', r2.text]]);

    // while it waits the bot stays silent
    const w = await srv.say(id, '有人吗？');
    assert.equal(w.action, 'silent', w._describe);
    assert.equal(w.status, 'waiting', w._describe);

    // alice claims; bob cannot, and no longer sees it
    const c = expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent: alice }), 200).json;
    assert.deepEqual(c, { status: 'claimed', agent: 'alice' });
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent: bob }), 409, 'conflict');
    const qb = await srv.queue(bob);
    assert.ok(!qb.some((x) => x.ticket === ticket), `bob still sees ticket ${ticket}: ${JSON.stringify(qb)}`);
    const qa = await srv.queue(alice);
    const ea = qa.find((x) => x.ticket === ticket);
    assert.ok(ea && ea.status === 'claimed' && ea.agent === 'alice', JSON.stringify(qa));
    // claiming again is fine for alice (or a conflict), never a second claim
    const again = await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent: alice });
    expectStatus(again, [200, 409]);
    // bob may not write to it nor resolve it
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/messages`,
        { agent: bob, json: { text: 'bob here' } }), 409, 'conflict');
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/resolve`,
        { agent: bob, json: {} }), [403, 409]);

    let conv = await srv.transcript(id);
    assert.equal(conv.status, 'agent');
    const joined = conv.messages.filter((m) => m.role === 'system');
    assert.equal(joined.length, 1, `one system message for the claim: ${JSON.stringify(conv.messages)}`);
    assert.ok(!conv.messages.some((m) => m.text === 'bob here'));
    let last = conv.messages[conv.messages.length - 1].seq;

    // the customer's long poll, started before alice writes
    const cp = poll(`/api/v1/conversations/${id}/messages?after=${last}&wait=20`);
    await sleep(400);
    assert.equal(cp.done, false, 'the long poll answered before there was a message');
    const hello = '您好，我是客服alice，我来帮您查';
    const t0 = Date.now();
    const am = expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/messages`,
        { agent: alice, json: { text: hello } }), 200).json;
    assert.equal(am.seq, last + 1, JSON.stringify(am));
    const cr = expectStatus(await cp.promise, 200).json;
    assert.ok(cp.t - t0 < 1500 * SCALE, `the long poll answered ${cp.t - t0} ms after the agent's message`);
    assert.equal(cr.status, 'agent');
    assert.equal(cr.messages.length, 1, JSON.stringify(cr));
    assert.equal(cr.messages[0].role, 'agent');
    assert.equal(cr.messages[0].text, hello);
    assert.equal(cr.messages[0].agent, 'alice');
    assert.equal(cr.messages[0].seq, am.seq);
    last = am.seq;

    // the agent's long poll, started before the customer replies
    const ap = poll(`/api/v1/agent/handoffs/${ticket}/messages?after=${last}&wait=20`, alice);
    await sleep(300);
    assert.equal(ap.done, false, "the agent's long poll answered before there was a message");
    const reply = '好的，我的发票抬头写错了';
    const t1c = Date.now();
    const s = await srv.say(id, reply);
    assert.equal(s.action, 'silent', s._describe);
    assert.equal(s.status, 'agent', s._describe);
    assert.equal(s.seq, last + 1, `with silent, seq is the customer's message: ${s._describe}`);
    const ar = expectStatus(await ap.promise, 200).json;
    assert.ok(ap.t - t1c < 1500 * SCALE, `the agent's long poll answered ${ap.t - t1c} ms after the message`);
    assert.ok(ar.messages.length >= 1, JSON.stringify(ar));
    assert.equal(ar.messages[0].role, 'customer');
    assert.equal(ar.messages[0].text, reply);
    assert.ok(!ar.messages.some((m) => m.role === 'bot'), `the bot spoke while alice had it: ${JSON.stringify(ar)}`);

    // a note, never shown to the customer
    const note = '客户要改发票抬头，已核实';
    const n = await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/notes`, { agent: alice, json: { text: note } });
    expectStatus(n, 204);
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/notes`,
        { agent: alice, json: { text: '' } }), 400, ['empty', 'bad_request']);
    const t2 = expectStatus(await srv.get(`/api/v1/agent/handoffs/${ticket}`, { agent: alice }), 200).json;
    assert.equal(t2.status, 'claimed');
    assert.equal(t2.agent, 'alice');
    assert.equal(typeof t2.claimed, 'number');
    assert.equal(t2.notes.length, 1, JSON.stringify(t2.notes));
    assert.equal(t2.notes[0].agent, 'alice');
    assert.equal(t2.notes[0].text, note);
    assert.equal(typeof t2.notes[0].ts, 'number');
    conv = await srv.transcript(id);
    assert.ok(!JSON.stringify(conv).includes(note), 'the note is in the customer transcript');
    const bySeq = conv.messages.map((m) => m.seq);
    assert.ok(bySeq.includes(am.seq) && bySeq.includes(s.seq));
    checkOrder(conv.messages);

    // resolve: back to the bot, a system message for the customer
    const res = expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/resolve`,
        { agent: alice, json: { note: '已处理' } }), 200).json;
    assert.deepEqual(res, { status: 'resolved' });
    conv = await srv.transcript(id);
    assert.equal(conv.status, 'bot');
    assert.equal(conv.messages.filter((m) => m.role === 'system').length, 2, JSON.stringify(conv.messages));
    assert.equal(conv.messages[conv.messages.length - 1].role, 'system');
    const t3 = expectStatus(await srv.get(`/api/v1/agent/handoffs/${ticket}`, { agent: alice }), 200).json;
    assert.equal(t3.status, 'resolved');
    assert.equal(typeof t3.resolved, 'number');
    assert.ok(t3.notes.some((x) => x.text === '已处理'), `the resolve note is not kept: ${JSON.stringify(t3.notes)}`);
    assert.ok(!(await srv.queue(alice)).some((x) => x.ticket === ticket), 'a resolved ticket is still queued');
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/messages`,
        { agent: alice, json: { text: 'too late' } }), 409, 'conflict');
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${ticket}/claim`, { agent: bob }), 409, 'conflict');

    // the bot answers again
    const b = await srv.say(id, '请问多久发货');
    assert.equal(b.action, 'answer', b._describe);
    assert.equal(b.intent, 'shipping_time', b._describe);
    assert.equal(b.status, 'bot', b._describe);
    assert.equal(b.handoff, null, b._describe);
});

test('the handoff button, then the dashboard counts the handoffs', async () => {
    const d0 = await srv.dashboard(alice);
    const id = await srv.newConversation({ name: '王', lang: 'zh-Hans' });
    await srv.say(id, '请问你们的退货政策是什么');
    const h = expectStatus(await srv.post(`/api/v1/conversations/${id}/handoff`), 200).json;
    assert.equal(h.status, 'waiting');
    assert.ok(Number.isInteger(h.ticket) && h.ticket > 0, JSON.stringify(h));
    assert.ok(typeof h.text === 'string' && h.text.length > 0, JSON.stringify(h));
    expectStatus(await srv.post(`/api/v1/conversations/${id}/handoff`), 409, 'conflict');
    const q = await srv.queue(alice);
    const e = q.find((x) => x.ticket === h.ticket);
    assert.ok(e && e.reason === 'explicit_request' && e.status === 'open' && e.conversation === id, JSON.stringify(q));
    const m = await srv.metrics();
    assert.ok(/csbot_open_handoffs \d+/.test(m) && Number(/csbot_open_handoffs (\d+)/.exec(m)[1]) >= 1, m);
    assert.ok(/csbot_handoffs_total\{reason="explicit_request"\} [1-9]/.test(m), m);
    const t = expectStatus(await srv.get(`/api/v1/agent/handoffs/${h.ticket}`, { agent: bob }), 200).json;
    assert.equal(t.reason, 'explicit_request', JSON.stringify(t));
    const packet = asObject(t.packet);
    assert.equal(packet.reason, t.reason, `the packet's reason differs from the ticket's: ${JSON.stringify(packet)}`);
    assert.ok(packet.transcript.some((x) => x.user === '请问你们的退货政策是什么'), JSON.stringify(packet));
    assert.equal(packet.profile?.name, '王', JSON.stringify(packet));
    const d1 = await srv.dashboard(alice);
    assert.equal(d1.handoffs.total, d0.handoffs.total + 1, JSON.stringify([d0.handoffs, d1.handoffs]));
    assert.equal(d1.handoffs.open, d0.handoffs.open + 1);
    assert.equal(d1.handoffs.by_reason.explicit_request, (d0.handoffs.by_reason.explicit_request || 0) + 1);
    // bob takes it; the claim shows in handoff_wait_seconds
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${h.ticket}/claim`, { agent: bob }), 200);
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${h.ticket}/messages`,
        { agent: bob, json: { text: '您好，我是bob' } }), 200);
    const d2 = await srv.dashboard(alice);
    assert.equal(d2.handoffs.claimed, d1.handoffs.claimed + 1);
    assert.equal(typeof d2.handoff_wait_seconds, 'number', JSON.stringify(d2));
    assert.equal(typeof d2.first_response_seconds, 'number', JSON.stringify(d2));
    expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${h.ticket}/resolve`, { agent: bob, json: {} }), 200);
    const d3 = await srv.dashboard(alice);
    assert.equal(d3.handoffs.resolved, d2.handoffs.resolved + 1, JSON.stringify([d2.handoffs, d3.handoffs]));
    assert.equal(d3.handoffs.claimed, d2.handoffs.claimed - 1);
    assert.equal(d3.handoffs.total, d2.handoffs.total);
});

test('unknown tickets are 404', async () => {
    for (const t of ['999999', '0']) {
        expectStatus(await srv.get(`/api/v1/agent/handoffs/${t}`, { agent: alice }), 404, 'not_found');
        expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${t}/claim`, { agent: alice }), 404, 'not_found');
        expectStatus(await srv.req('POST', `/api/v1/agent/handoffs/${t}/messages`,
            { agent: alice, json: { text: 'hi' } }), 404, 'not_found');
    }
    for (const t of ['abc', '-1', '1x', '99999999999999999999999']) {
        expectStatus(await srv.get(`/api/v1/agent/handoffs/${t}`, { agent: alice }), [400, 404]);
    }
});

test('agent add: a short password is refused; a new agent can log in at once', async () => {
    const short = await runBin(['agent', 'add', 'carol', '--db', srv.db], { input: 'short\n' });
    assert.notEqual(short.code, 0, `a 5-byte password was accepted: ${short.stdout}${short.stderr}`);
    expectStatus(await srv.post('/api/v1/agent/login', { name: 'carol', password: 'short' }), 401);
    // added while the server runs on the same database
    const ok = await runBin(['agent', 'add', 'dave', '--db', srv.db], { input: 'dave-password\n' });
    assert.equal(ok.code, 0, ok.stderr);
    await srv.login('dave', 'dave-password');
});

test('logout ends the login (and only that one)', async () => {
    const second = await srv.login('bob', PW.bob);
    const r = await srv.req('POST', '/api/v1/agent/logout', { agent: bob });
    expectStatus(r, 204);
    expectStatus(await srv.get('/api/v1/agent/queue', { agent: bob }), 401, 'unauthorized');
    expectStatus(await srv.get('/api/v1/agent/me', { agent: bob }), 401, 'unauthorized');
    expectStatus(await srv.req('POST', '/api/v1/agent/logout', { agent: bob }), 401, 'unauthorized');
    // bob's other login and alice's still work
    expectStatus(await srv.get('/api/v1/agent/queue', { agent: second }), 200);
    expectStatus(await srv.get('/api/v1/agent/queue', { agent: alice }), 200);
});
