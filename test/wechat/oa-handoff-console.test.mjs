// Official account, route "console": the customer gets the handoff text, the
// ticket is in the agent console, the agent's messages go out through
// message/custom/send; when WeChat refuses one (45015), the agent's request
// is a 502 naming WeChat's code and the transcript says delivery failed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, expectText, newOpenid, hasCJK, waitFor } from './common.mjs';
import { expectStatus, checkOrder } from '../server/helpers.mjs';

const PW = { alice: 'alice-secret-pw' };
const SEND = '/cgi-bin/message/custom/send';
let c, alice;
before(async () => {
    c = await start({ oa: { mode: 'safe', route: 'console' }, agents: PW, tag: 'wx-console' });
    alice = await c.srv.login('alice', PW.alice);
});
after(async () => { await c?.close(); });

// the 502 answers, checked for the API's error shape at the end
const refusals = [];
function expect502(res, code) {
    assert.equal(res.status, 502, `expected HTTP 502: ${res.describe()}`);
    assert.ok(res.text.includes(String(code)), `the 502 does not name WeChat's code ${code}: ${res.describe()}`);
    refusals.push(res);
}

const sendsTo = (openid) => c.api.customSends.filter((r) => r.body?.touser === openid);

test('console handoff: queue, claim, agent messages to WeChat, a refused one is a 502', async () => {
    const openid = newOpenid();
    expectText(await c.say(openid, '怎么开发票'), openid);
    const h = await c.say(openid, '转人工');
    const handoffText = expectText(h, openid);
    assert.ok(hasCJK(handoffText), h.describe());
    assert.match(handoffText, /人工/, `not the handoff text: ${h.describe()}`);

    // the ticket is in alice's queue
    const q = await c.srv.queue(alice);
    const e = q.find((x) => x.text === '转人工');
    assert.ok(e, `no ticket for 转人工 in the queue: ${JSON.stringify(q)}`);
    assert.equal(e.status, 'open');
    assert.equal(e.reason, 'explicit_request');
    const ticket = e.ticket;
    const base = `/api/v1/agent/handoffs/${ticket}`;
    const t1 = expectStatus(await c.srv.get(base, { agent: alice }), 200).json;
    assert.ok(t1.messages.some((m) => m.role === 'customer' && m.text === '怎么开发票'),
        `the transcript lacks the first question: ${JSON.stringify(t1.messages)}`);
    expectStatus(await c.srv.req('POST', `${base}/claim`, { agent: alice }), 200);

    // the agent writes: it goes to the customer through custom/send
    const hello = '您好，我是客服alice，请问发票抬头是什么？';
    const am = expectStatus(await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: hello } }), 200);
    await waitFor(() => sendsTo(openid).length >= 1, { timeoutMs: 3000, what: 'the custom/send of the agent message' });
    const s = sendsTo(openid);
    assert.equal(s.length, 1, c.api.describe(SEND));
    assert.deepEqual({ touser: s[0].body.touser, msgtype: s[0].body.msgtype, content: s[0].body.text?.content },
        { touser: openid, msgtype: 'text', content: hello }, JSON.stringify(s[0].body));
    assert.equal(s[0].answer.errcode, 0);
    assert.ok(am.json && Number.isInteger(am.json.seq), am.describe());

    // the customer's answer reaches the agent; the bot stays silent (no bot text)
    const reply = '抬头写栗子科技有限公司';
    const cr = await c.say(openid, reply);
    assert.equal(cr.status, 200, cr.describe());
    const t2 = expectStatus(await c.srv.get(base, { agent: alice }), 200).json;
    checkOrder(t2.messages);
    const last = t2.messages[t2.messages.length - 1];
    assert.equal(last.role, 'customer', `the bot answered during the agent's conversation: ${JSON.stringify(t2.messages.slice(-3))}`);
    assert.equal(last.text, reply);
    const systemBefore = t2.messages.filter((m) => m.role === 'system').length;

    // WeChat refuses the next one: 45015
    c.api.fail(SEND, { errcode: 45015, errmsg: 'response out of time limit or subscription is canceled' });
    const n0 = sendsTo(openid).length;
    const late = '好的，已为您开具发票';
    const bad = await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: late } });
    expect502(bad, 45015);
    assert.equal(sendsTo(openid).length, n0 + 1, `45015 is not worth a retry: ${c.api.describe(SEND)}`);
    const t3 = expectStatus(await c.srv.get(base, { agent: alice }), 200).json;
    checkOrder(t3.messages);
    const sys = t3.messages.filter((m) => m.role === 'system');
    assert.equal(sys.length, systemBefore + 1, `no system message for the failed delivery: ${JSON.stringify(t3.messages.slice(-4))}`);
    const note = sys[sys.length - 1].text;
    assert.ok(/45015|fail|失败|未送达|not delivered|refus|拒/i.test(note),
        `the system message does not say delivery failed: ${JSON.stringify(note)}`);

    // WeChat takes messages again: the agent's next message is a 200
    c.api.clearFailures(SEND);
    expectStatus(await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: '发票已发送到您的邮箱' } }), 200);
    await waitFor(() => sendsTo(openid).some((r) => r.body?.text?.content === '发票已发送到您的邮箱'),
        { timeoutMs: 3000, what: 'the next agent message' });

    // resolve: the customer is the bot's again
    expectStatus(await c.srv.req('POST', `${base}/resolve`, { agent: alice, json: {} }), 200);
    const back = await c.say(openid, '怎么退货');
    expectText(back, openid);
    assert.match(back.fields.Content, /退/, back.describe());
});

test('another WeChat error (e.g. 45047) is a 502 too, with WeChat\'s code', async () => {
    const openid = newOpenid();
    expectText(await c.say(openid, 'I want to talk to a human'), openid);
    const q = await c.srv.queue(alice);
    c.api.clearFailures(); // whatever an earlier test left
    const e = q.filter((x) => x.text === 'I want to talk to a human').pop();
    assert.ok(e, JSON.stringify(q));
    const base = `/api/v1/agent/handoffs/${e.ticket}`;
    expectStatus(await c.srv.req('POST', `${base}/claim`, { agent: alice }), 200);
    c.api.fail(SEND, { errcode: 45047, errmsg: 'out of response count limit' }, 1);
    const bad = await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: 'Hello, this is Alice.' } });
    expect502(bad, 45047);
    expectStatus(await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: 'Hello again.' } }), 200);
    expectStatus(await c.srv.req('POST', `${base}/resolve`, { agent: alice, json: {} }), 200);
});

test('the 502s have the API\'s error shape {"error": {"code", "message"}} (docs/API.md)', () => {
    assert.ok(refusals.length > 0, 'no 502 to check (the tests above failed before)');
    for (const r of refusals) expectStatus(r, 502);
});
