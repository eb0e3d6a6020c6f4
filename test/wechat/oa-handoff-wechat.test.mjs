// Official account, route "wechat": a handoff is a transfer_customer_service
// reply (with TransInfo/KfAccount when kf_account is set); while the ticket
// waits, every message gets the transfer again and the bot is silent; after
// handback_s of silence the bot answers again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, expectText, expectTransfer, newOpenid, hasCJK, sleep } from './common.mjs';

const KF = 'kf2001@gh_a1b2c3d4e5f6';
const PW = { alice: 'alice-secret-pw' };
let c, bare, alice;
before(async () => {
    [c, bare] = await Promise.all([
        start({ oa: { mode: 'safe', route: 'wechat', kf_account: KF, handback_s: 2 }, agents: PW, tag: 'wx-kf' }),
        start({ oa: { mode: 'plain', route: 'wechat' }, tag: 'wx-kf-bare' }),
    ]);
    alice = await c.srv.login('alice', PW.alice);
});
after(async () => {
    await Promise.all([c?.close(), bare?.close()]);
});

test('"转人工" is transferred with TransInfo/KfAccount; the bot stays silent until handback_s', async () => {
    const openid = newOpenid();
    const d0 = await c.srv.dashboard(alice);
    expectText(await c.say(openid, '多久发货'), openid);
    const t = await c.say(openid, '转人工');
    expectTransfer(t, openid, KF);
    // during the queue: the transfer again, no bot text
    for (const text of ['有人吗？', '怎么退货']) {
        const r = await c.say(openid, text);
        expectTransfer(r, openid, KF);
    }
    // counted on the dashboard, not offered in the console
    const d1 = await c.srv.dashboard(alice);
    assert.equal(d1.handoffs.total, d0.handoffs.total + 1, JSON.stringify([d0.handoffs, d1.handoffs]));
    const q = await c.srv.queue(alice);
    assert.ok(!q.some((e) => e.text === '转人工'), `a route-wechat ticket is offered in the console: ${JSON.stringify(q)}`);
    assert.equal(c.api.requests.filter((r) => r.path !== '/cgi-bin/token').length, 0,
        `the transfer is passive, no API call: ${c.api.describe()}`);

    // silence longer than handback_s: the bot answers again
    await sleep(3000);
    const back = await c.say(openid, '怎么退货');
    expectText(back, openid);
    assert.match(back.fields.Content, /退/, back.describe());
    const d2 = await c.srv.dashboard(alice);
    assert.equal(d2.handoffs.resolved, d1.handoffs.resolved + 1,
        `the ticket was not resolved by the handback: ${JSON.stringify([d1.handoffs, d2.handoffs])}`);
    // and it stays the bot's
    expectText(await c.say(openid, 'how do I return an item'), openid);
});

test('messages closer together than handback_s keep the transfer going', async () => {
    const openid = newOpenid();
    expectTransfer(await c.say(openid, 'I want to talk to a human'), openid, KF);
    for (let i = 0; i < 3; i++) {
        await sleep(1200); // each gap is below handback_s (2 s); the total is not
        expectTransfer(await c.say(openid, `still there? ${i}`), openid, KF);
    }
});

test('without kf_account the transfer names no agent', async () => {
    const openid = newOpenid();
    const r = await bare.say(openid, '转人工');
    expectTransfer(r, openid);
    assert.equal(r.kind, 'plain', r.describe());
    assert.ok(!/TransInfo|KfAccount/.test(r.xml), `TransInfo without kf_account: ${r.describe()}`);
    // another customer is not affected
    const other = newOpenid();
    const a = await bare.say(other, '怎么退货');
    expectText(a, other);
    assert.ok(hasCJK(a.fields.Content));
});
