// Official account: WeChat's retries. A MsgId is handled once, whether the
// retry comes after the answer, while the first attempt is running, or after
// a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, wx, OA, expectText, newOpenid, repliesTotal, sleep, SCALE } from './common.mjs';

const ctx = {};
before(async () => {
    [ctx.plain, ctx.safe, ctx.slow] = await Promise.all([
        start({ oa: { mode: 'plain' }, tag: 'wx-dedup-plain' }),
        start({ oa: { mode: 'safe' }, tag: 'wx-dedup-safe' }),
        // the bot takes 1 s; a retry 300 ms after the first attempt waits for it
        start({ oa: { mode: 'safe', delay_ms: 1000 }, tag: 'wx-dedup-slow' }),
    ]);
});
after(async () => {
    await Promise.all(Object.values(ctx).map((c) => c?.close()));
});

for (const mode of ['plain', 'safe']) {
    test(`${mode}: the same MsgId three times is answered identically and counted once`, async () => {
        const c = ctx[mode];
        const openid = newOpenid();
        const r0 = await repliesTotal(c.srv);
        const xml = wx.textXml({ gh: OA.gh, openid, content: '怎么退货' });
        const r = await c.post({ openid, xml, force: 3 });
        assert.equal(r.attempts.length, 3);
        const contents = r.attempts.map((a) => {
            expectText(a, openid);
            return [a.fields.MsgType, a.fields.Content];
        });
        assert.deepEqual(contents[1], contents[0], `attempt 2 differs: ${r.attempts[1].describe()} vs ${r.attempts[0].describe()}`);
        assert.deepEqual(contents[2], contents[0], `attempt 3 differs: ${r.attempts[2].describe()}`);
        assert.equal(await repliesTotal(c.srv), r0 + 1, 'three attempts of one MsgId counted more than once');
        // and the same text with another MsgId is a second turn
        const again = await c.say(openid, '怎么退货');
        expectText(again, openid);
        assert.equal(await repliesTotal(c.srv), r0 + 2, 'a new MsgId was not counted');
        assert.equal(c.api.customSends.length, 0, `nothing goes through the API: ${c.api.describe()}`);
    });
}

test('the same MsgId with other timestamps and nonces (each retry is signed anew) is still one turn', async () => {
    const c = ctx.safe;
    const openid = newOpenid();
    const r0 = await repliesTotal(c.srv);
    const xml = wx.textXml({ gh: OA.gh, openid, content: 'how do I return an item' });
    const a = await c.post({ openid, xml });
    const b = await c.post({ openid, xml, timestamp: wx.now() + 1, nonce: wx.randomDigits(9) });
    expectText(a, openid);
    expectText(b, openid);
    assert.equal(b.fields.Content, a.fields.Content);
    assert.equal(await repliesTotal(c.srv), r0 + 1);
});

test('a retry while the first attempt is running waits for the same answer', async () => {
    const c = ctx.slow;
    const openid = newOpenid();
    const r0 = await repliesTotal(c.srv);
    const xml = wx.textXml({ gh: OA.gh, openid, content: '怎么退货' });
    const first = c.post({ openid, xml, attempts: 1 });
    await sleep(300);
    const second = c.post({ openid, xml, attempts: 1 });
    const [a, b] = await Promise.all([first, second]);
    expectText(a, openid);
    expectText(b, openid);
    assert.equal(b.fields.Content, a.fields.Content);
    assert.ok(a.ms >= 700, `the first attempt answered in ${a.ms} ms, before delay_ms`);
    assert.ok(b.ms < 4000 * SCALE, `the retry waited ${b.ms} ms`);
    assert.equal(await repliesTotal(c.srv), r0 + 1, 'the bot ran twice');
    await sleep(500);
    assert.equal(c.api.customSends.length, 0, `the reply was passive, and also sent: ${c.api.describe()}`);
});

test('a retry after a restart is not a second turn', async () => {
    const c = ctx.plain;
    const openid = newOpenid();
    const msgId = wx.newMsgId();
    const xml = wx.textXml({ gh: OA.gh, openid, content: '多久发货', msgId });
    const a = await c.post({ openid, xml });
    expectText(a, openid);
    await c.srv.stop();
    await c.srv.start();
    assert.equal(await repliesTotal(c.srv), 0, 'the counters start at 0 after a restart');
    const b = await c.post({ openid, xml });
    assert.equal(b.status, 200, b.describe());
    assert.ok(b.kind === 'success' || (b.kind === 'plain' && b.fields.Content === a.fields.Content),
        `the retry is neither "success" nor the same answer: ${b.describe()}`);
    assert.equal(await repliesTotal(c.srv), 0, `the retry after the restart was handled as a new turn: ${b.describe()}`);
    // a new message is answered normally
    expectText(await c.say(openid, '多久发货'), openid);
    assert.equal(await repliesTotal(c.srv), 1);
});

// Found by fuzz/wechat.c: the retry cache was keyed by MsgId alone, so a
// second message with the same MsgId from someone else got the first one's
// cached answer, addressed to the first sender.
test('the same MsgId from two senders: each is answered, addressed to itself', async () => {
    const c = ctx.safe;
    const msgId = wx.newMsgId();
    const [u1, u2] = [newOpenid(), newOpenid()];
    const a = await c.post({ openid: u1, xml: wx.textXml({ gh: OA.gh, openid: u1, content: '多久发货', msgId }) });
    expectText(a, u1);
    const b = await c.post({ openid: u2, xml: wx.textXml({ gh: OA.gh, openid: u2, content: '怎么退货', msgId }) });
    expectText(b, u2);
    assert.match(b.fields.Content, /退/, `the second sender got another answer: ${b.describe()}`);
});
