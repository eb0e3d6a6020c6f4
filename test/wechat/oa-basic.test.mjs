// Official account: URL verification, and questions answered passively in
// each message mode (plain, compat, safe). One server per mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, OA, wx, hasCJK, expectText, newOpenid, repliesTotal } from './common.mjs';

const ctx = {};
before(async () => {
    [ctx.plain, ctx.compat, ctx.safe] = await Promise.all(['plain', 'compat', 'safe'].map(
        (mode) => start({ oa: { mode }, tag: `wx-${mode}` })));
});
after(async () => {
    await Promise.all(Object.values(ctx).map((c) => c?.close()));
});

test('GET verification: the raw echostr for a good signature, 403 otherwise', async () => {
    for (const mode of ['plain', 'compat', 'safe']) {
        const c = ctx[mode];
        const ok = await wx.verifyUrl(c.url, { token: OA.token });
        assert.equal(ok.status, 200, `${mode}: ${ok.status} ${ok.text}`);
        assert.equal(ok.text, ok.echostr, `${mode}: the body is not the raw echostr`);
        const bad = await wx.verifyUrl(c.url, { token: 'not-the-token' });
        assert.equal(bad.status, 403, `${mode}: a wrong signature got ${bad.status} ${bad.text}`);
        assert.ok(!bad.text.includes(bad.echostr), `${mode}: echostr echoed for a bad signature`);
        const forged = await wx.verifyUrl(c.url, { token: OA.token, sig: 'f'.repeat(40) });
        assert.equal(forged.status, 403, `${mode}: ${forged.text}`);
        const none = await wx.httpRequest(`${c.url}?timestamp=${wx.now()}&nonce=1&echostr=123`);
        assert.equal(none.status, 403, `${mode}: no signature got ${none.status} ${none.text}`);
    }
});

for (const mode of ['plain', 'compat', 'safe']) {
    test(`${mode} mode: questions in Chinese and English get a passive text answer in that language`, async () => {
        const c = ctx[mode];
        const r0 = await repliesTotal(c.srv);
        const openid = newOpenid();
        const zh = await c.say(openid, '怎么退货');
        expectText(zh, openid);
        assert.equal(zh.kind, mode === 'plain' ? 'plain' : 'encrypted', `${mode}: ${zh.describe()}`);
        assert.ok(hasCJK(zh.fields.Content), `not a Chinese answer: ${zh.describe()}`);
        assert.match(zh.fields.Content, /退/, zh.describe());

        const openid2 = newOpenid();
        const en = await c.say(openid2, 'how do I return an item');
        expectText(en, openid2);
        assert.ok(!hasCJK(en.fields.Content) && /[a-z]{3}/i.test(en.fields.Content),
            `not an English answer: ${en.describe()}`);
        assert.match(en.fields.Content, /return/i, en.describe());
        // one conversation per OpenID: a second question of the same customer
        const again = await c.sayText(openid, '多久发货');
        assert.ok(hasCJK(again), again);
        assert.equal(await repliesTotal(c.srv), r0 + 3, 'three messages, three replies counted');
        // nothing went out through the API: the answers were passive
        assert.equal(c.api.customSends.length, 0, c.api.describe());
    });
}

test('compat mode also takes a plaintext request (no encrypt_type) and answers in plaintext', async () => {
    const c = ctx.compat;
    const openid = newOpenid();
    const r = await c.say(openid, '怎么退货', { plainRequest: true });
    expectText(r, openid);
    assert.equal(r.kind, 'plain', r.describe());
    assert.ok(hasCJK(r.fields.Content), r.describe());
});

test('safe mode: the encrypted reply verifies, decrypts and carries the AppID', async () => {
    const c = ctx.safe;
    const openid = newOpenid();
    const r = await c.say(openid, 'how do I return an item');
    // post() already checked MsgSignature = sha1(sort(token, TimeStamp, Nonce, Encrypt))
    // and the trailing AppID; check the envelope's shape too
    assert.equal(r.kind, 'encrypted', r.describe());
    const names = wx.fieldNames(r.text.trim()).sort();
    assert.deepEqual(names, ['Encrypt', 'MsgSignature', 'Nonce', 'TimeStamp'], r.describe());
    assert.match(wx.field(r.text, 'TimeStamp'), /^\d+$/, r.describe());
    assert.ok(!r.text.includes('return'), `plaintext in the encrypted envelope: ${r.describe()}`);
    expectText(r, openid);
    // a different nonce and IV each time
    const r2 = await c.say(openid, 'how do I return an item');
    assert.notEqual(wx.field(r2.text, 'Encrypt'), wx.field(r.text, 'Encrypt'));
});

test('a voice message with Recognition is a turn like a text message', async () => {
    for (const mode of ['plain', 'safe']) {
        const c = ctx[mode];
        const openid = newOpenid();
        const xml = wx.buildXml({
            ToUserName: OA.gh, FromUserName: openid, CreateTime: wx.now(), MsgType: 'voice',
            MediaId: 'media_id_123', Format: 'amr', Recognition: '怎么退货', MsgId: Number(wx.newMsgId()),
        });
        const r = await c.post({ openid, xml });
        expectText(r, openid);
        assert.match(r.fields.Content, /退/, `${mode}: ${r.describe()}`);
    }
});

test('WeChat turns are timed in csbot_reply_seconds like web-chat turns', async () => {
    const c = ctx.plain;
    const m = await c.srv.metrics();
    assert.match(m, /csbot_reply_seconds_count [1-9]/, 'the WeChat turns are not in csbot_reply_seconds');
});

test('suggestions are a numbered list; the customer answers with the number', async () => {
    const c = ctx.safe;
    const openid = newOpenid();
    const list = await c.sayText(openid, '我的订单还没到');
    assert.match(list, /(^|\n)\s*1[.、)]\s*\S/, `no numbered suggestions: ${list}`);
    assert.match(list, /(^|\n)\s*2[.、)]\s*\S/, `fewer than two suggestions: ${list}`);
    const first = /(?:^|\n)\s*1[.、)]\s*([^\n]+)/.exec(list)[1].trim();
    const picked = await c.sayText(openid, '1');
    assert.notEqual(picked, list, 'the number was not taken as a choice');
    assert.ok(hasCJK(picked), picked);
    // "1" is the first suggestion's title, as a click on it in the web chat
    const direct = await c.sayText(newOpenid(), first);
    assert.equal(picked, direct, `"1" after the list is not answered like "${first}"`);
});
