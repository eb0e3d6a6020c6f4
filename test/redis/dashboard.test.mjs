// Scale-out: the dashboard on either instance counts the conversations, the
// messages, the replies and the handoffs made on both (the figures are
// shared), and both instances give the same figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, expectStatus, counters, metric } from './helpers.mjs';

const PW = { alice: 'alice-secret-pw' };
let cl, A, B, alice;

before(async () => {
    cl = await Cluster.start({ n: 2, tag: 'dashboard', agents: PW });
    ({ A, B } = cl);
    alice = await A.login('alice', PW.alice);
});
after(async () => { await cl?.close(); });

const add = (a, b) => (a || 0) + (b || 0);

test('the dashboard on A and on B counts what was done on both', async () => {
    const d0A = await A.dashboard(alice), d0B = await B.dashboard(alice);
    assert.deepEqual(counters(d0B), counters(d0A), 'A and B start from different figures');

    // on A: 2 conversations (one handed off by asking), on B: 3 (one by the button)
    const plan = [
        [A, ['你好', '请问多久发货']],
        [A, ['可以开发票吗', '转人工']],
        [B, ['请问你们的退货政策是什么']],
        [B, ['怎么退货', '可以开发票吗', '谢谢']],
        [B, ['支持哪些付款方式']],
    ];
    const ids = [];
    let customer = 0, replies = 0;
    const actions = {};
    const tickets = [];
    for (const [srv, texts] of plan) {
        const id = await srv.newConversation();
        ids.push(id);
        for (const t of texts) {
            const r = await srv.say(id, t);
            customer++;
            replies++;
            actions[r.action] = add(actions[r.action], 1);
            if (r.handoff) tickets.push(r.handoff.ticket);
        }
    }
    assert.equal(tickets.length, 1, 'the "转人工" turn did not hand off');
    const hb = expectStatus(await B.post(`/api/v1/conversations/${ids[4]}/handoff`), 200).json;
    tickets.push(hb.ticket);

    const d1A = await A.dashboard(alice), d1B = await B.dashboard(alice);
    assert.deepEqual(counters(d1B), counters(d1A), 'A and B give different figures');
    for (const [name, d0, d1] of [['A', d0A, d1A], ['B', d0B, d1B]]) {
        const why = `dashboard on ${name}: before ${JSON.stringify(counters(d0))}, after ${JSON.stringify(counters(d1))}`;
        assert.equal(d1.conversations, d0.conversations + plan.length, `conversations: ${why}`);
        assert.equal(d1.customer_messages, d0.customer_messages + customer, `customer_messages: ${why}`);
        assert.equal(d1.bot_replies, d0.bot_replies + replies, `bot_replies: ${why}`);
        for (const [act, n] of Object.entries(actions)) {
            assert.equal(d1.actions[act], add(d0.actions[act], n), `actions.${act}: ${why}`);
        }
        assert.equal(d1.handoffs.total, d0.handoffs.total + 2, `handoffs.total: ${why}`);
        assert.equal(d1.handoffs.open, d0.handoffs.open + 2, `handoffs.open: ${why}`);
        assert.equal(d1.handoffs.by_reason.explicit_request, add(d0.handoffs.by_reason.explicit_request, 2),
            `handoffs.by_reason: ${why}`);
        assert.ok(d1.handoff_rate > 0, why);
        const hours = d1.hours.reduce((a, b) => a + b, 0) - d0.hours.reduce((a, b) => a + b, 0);
        assert.equal(hours, customer, `hours: ${why}`);
    }

    // one claimed on B and answered, the other claimed on A and resolved
    const claim = (srv, t) => srv.req('POST', `/api/v1/agent/handoffs/${t}/claim`, { agent: alice });
    expectStatus(await claim(B, tickets[0]), 200);
    expectStatus(await B.req('POST', `/api/v1/agent/handoffs/${tickets[0]}/messages`,
        { agent: alice, json: { text: '您好，我来帮您开发票' } }), 200);
    expectStatus(await claim(A, tickets[1]), 200);
    expectStatus(await A.req('POST', `/api/v1/agent/handoffs/${tickets[1]}/resolve`, { agent: alice, json: {} }), 200);
    const d2A = await A.dashboard(alice), d2B = await B.dashboard(alice);
    assert.deepEqual(counters(d2B), counters(d2A), 'A and B give different figures after the claims');
    for (const [name, d1, d2] of [['A', d1A, d2A], ['B', d1B, d2B]]) {
        const why = `dashboard on ${name}: ${JSON.stringify(d1.handoffs)} -> ${JSON.stringify(d2.handoffs)}`;
        assert.equal(d2.handoffs.total, d1.handoffs.total, why);
        assert.equal(d2.handoffs.open, d1.handoffs.open - 2, why);
        assert.equal(d2.handoffs.claimed, d1.handoffs.claimed + 1, why);
        assert.equal(d2.handoffs.resolved, d1.handoffs.resolved + 1, why);
        assert.equal(typeof d2.handoff_wait_seconds, 'number', `handoff_wait_seconds on ${name}: ${JSON.stringify(d2)}`);
        assert.equal(typeof d2.first_response_seconds, 'number', `first_response_seconds on ${name}: ${JSON.stringify(d2)}`);
    }
    expectStatus(await B.req('POST', `/api/v1/agent/handoffs/${tickets[0]}/resolve`, { agent: alice, json: {} }), 200);
});

test('ratings given on A and on B are counted on both', async () => {
    const d0A = await A.dashboard(alice);
    const ids = [];
    for (const s of [A, B]) {
        const id = await s.newConversation();
        await s.say(id, '请问多久发货');
        ids.push(id);
    }
    expectStatus(await A.post(`/api/v1/conversations/${ids[0]}/ratings`, { rating: 5 }), 204);
    expectStatus(await B.post(`/api/v1/conversations/${ids[1]}/ratings`, { rating: 1 }), 204);
    // a rating of one answer, sent to the other instance than the turn
    expectStatus(await A.post(`/api/v1/conversations/${ids[1]}/ratings`, { rating: 5, turn: 1 }), 204);
    for (const s of [A, B]) {
        const d = await s.dashboard(alice);
        assert.equal(d.satisfaction.count, d0A.satisfaction.count + 2, `satisfaction on ${s.name}: ${JSON.stringify(d.satisfaction)}`);
        assert.equal(d.answer_feedback.count, d0A.answer_feedback.count + 1,
            `answer_feedback on ${s.name}: ${JSON.stringify(d.answer_feedback)}`);
    }
});

test('the unanswered list on A shows a fallback met on B', async () => {
    const id = await B.newConversation();
    const text = 'zxqv wlkj ptrm 无法理解的话';
    const r = await B.say(id, text);
    assert.ok(['fallback', 'suggest'].includes(r.action), `not a fallback: ${r._describe}`);
    const d = await A.dashboard(alice);
    const u = d.unanswered.find((x) => x.text === text);
    assert.ok(u && u.conversation === id, `"${text}" (from B) is not in A's unanswered list: ${JSON.stringify(d.unanswered)}`);
    // and the /metrics of each instance still count what it served itself
    const m = await B.metrics();
    assert.ok(metric(m, 'csbot_replies_total', `action="${r.action}"`) >= 1, m);
});
