// Official account: bad requests are refused (403 signatures and AppID, 400
// what is not a WeChat message, 413 over 64 KiB) and change nothing: the
// replies counter stays, a MsgId seen in a refused request is still new, and
// the server answers a good message after. Other message types and events get
// harmless answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, wx, OA, expectText, newOpenid, repliesTotal } from './common.mjs';
import { SCALE } from '../server/helpers.mjs';

const ctx = {};
before(async () => {
    [ctx.plain, ctx.safe] = await Promise.all([
        start({ oa: { mode: 'plain' }, tag: 'wx-bad-plain' }),
        start({ oa: { mode: 'safe' }, tag: 'wx-bad-safe' }),
    ]);
});
after(async () => {
    await Promise.all(Object.values(ctx).map((c) => c?.close()));
});

const head = (openid) => `<xml><ToUserName>${wx.cdata(OA.gh)}</ToUserName><FromUserName>${wx.cdata(openid)}</FromUserName>` +
    `<CreateTime>${wx.now()}</CreateTime><MsgType>${wx.cdata('text')}</MsgType>`;
const tail = (msgId) => `<MsgId>${msgId}</MsgId></xml>`;

const LAUGHS = (openid, msgId) => '<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY lol "lol">\n' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n') +
    `\n]>\n${head(openid)}<Content>&lol9;</Content>${tail(msgId)}`;
const XXE = (openid, msgId) => '<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' +
    `${head(openid)}<Content>&xxe;</Content>${tail(msgId)}`;
const DEEP = (n) => (openid, msgId) => `${head(openid)}<Content>${wx.cdata('怎么退货')}</Content>` +
    `<Extra>${'<a>'.repeat(n)}x${'</a>'.repeat(n)}</Extra>${tail(msgId)}`;
const UNCLOSED = (n) => (openid, msgId) => `${head(openid)}<Content>${wx.cdata('怎么退货')}</Content>${'<a>'.repeat(n)}${tail(msgId)}`;
const BAD_UTF8 = (openid, msgId) => Buffer.concat([
    Buffer.from(`${head(openid)}<Content><![CDATA[怎么`), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe4, 0xb8]),
    Buffer.from(`退货]]></Content>${tail(msgId)}`)]);
const HUGE = (openid, msgId) => `${head(openid)}<Content>${wx.cdata('怎么退货'.repeat(6000))}</Content>${tail(msgId)}`;
const NO_FROM = (openid, msgId) => `<xml><ToUserName>${wx.cdata(OA.gh)}</ToUserName><CreateTime>${wx.now()}</CreateTime>` +
    `<MsgType>${wx.cdata('text')}</MsgType><Content>${wx.cdata('怎么退货')}</Content>${tail(msgId)}`;
const NOT_XML = () => '{"MsgType": "text", "Content": "怎么退货"}';
const OTHER_ROOT = (openid, msgId) => head(openid).replace('<xml>', '<message>') +
    `<Content>${wx.cdata('怎么退货')}</Content><MsgId>${msgId}</MsgId></message>`;
const TRUNCATED = (openid, msgId) => `${head(openid)}<Content>${wx.cdata('怎么退货')}</Content><MsgId>${msgId}`;

// [name, modes, status (a number or an array), post options built from
// (openid, msgId)]
const CASES = [
    ['forged signature', ['plain', 'safe'], 403, () => ({ sig: 'a'.repeat(40) })],
    ['signature of another token', ['plain', 'safe'], 403, () => ({ sig: wx.signature('other', '1', '2') })],
    ['missing signature', ['plain', 'safe'], 403, () => ({ noSig: true })],
    ['timestamp 1 hour old', ['plain', 'safe'], 403, () => ({ timestamp: wx.now() - 3600 })],
    ['timestamp 1 hour ahead', ['plain', 'safe'], 403, () => ({ timestamp: wx.now() + 3600 })],
    ['timestamp not a number', ['plain'], [400, 403], () => ({ timestamp: 'yesterday' })],
    ['wrong AppID inside the ciphertext', ['safe'], 403, () => ({ cipherAppid: 'wx0000000000000bad' })],
    ['forged msg_signature', ['safe'], 403, () => ({ msgSig: 'b'.repeat(40) })],
    ['missing msg_signature', ['safe'], 403, () => ({ noMsgSig: true })],
    ['safe mode without encrypt_type=aes', ['safe'], [400, 403], (o, m) => ({ noEncryptType: true })],
    ['safe mode, a plaintext body', ['safe'], [400, 403], (o, m) => ({
        body: wx.textXml({ gh: OA.gh, openid: o, content: '怎么退货', msgId: m }),
    })],
    ['an Encrypt that does not decrypt (signed)', ['safe'], [400, 403], () => ({
        encrypt: Buffer.from('not a WeChat ciphertext, 32 bytes!!').toString('base64'),
    })],
    ['an Encrypt that is not base64 (signed)', ['safe'], [400, 403], () => ({ encrypt: '%%%not*base64%%%' })],
    ['billion laughs', ['plain', 'safe'], 400, (o, m) => ({ xml: LAUGHS(o, m) })],
    ['external entity (file:///etc/passwd)', ['plain', 'safe'], 400, (o, m) => ({ xml: XXE(o, m) })],
    ['DTD around the envelope', ['safe'], 400, (o, m, enc) => ({
        body: `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "x">]><xml><ToUserName>${wx.cdata(OA.gh)}</ToUserName>` +
            `<Encrypt>${wx.cdata(enc)}</Encrypt></xml>`,
        encrypt: enc,
    })],
    ['nesting 10000 deep, unclosed', ['plain', 'safe'], 400, (o, m) => ({ xml: UNCLOSED(10000)(o, m) })],
    ['nesting 9000 deep, well-formed (63 KB)', ['plain'], [400, 'harmless'], (o, m) => ({ xml: DEEP(9000)(o, m) })],
    ['nesting 6000 deep, well-formed, encrypted', ['safe'], [400, 'harmless'], (o, m) => ({ xml: DEEP(6000)(o, m) })],
    ['invalid UTF-8 inside CDATA', ['plain', 'safe'], 400, (o, m) => ({ xml: BAD_UTF8(o, m) })],
    ['no FromUserName', ['plain', 'safe'], 400, (o, m) => ({ xml: NO_FROM(o, m) })],
    ['not XML', ['plain', 'safe'], 400, () => ({ xml: NOT_XML() })],
    ['a root other than <xml>', ['plain', 'safe'], 400, (o, m) => ({ xml: OTHER_ROOT(o, m) })],
    ['truncated XML', ['plain', 'safe'], 400, (o, m) => ({ xml: TRUNCATED(o, m) })],
    ['body over 64 KiB', ['plain', 'safe'], 413, (o, m) => ({ xml: HUGE(o, m) })],
    ['body over 64 KiB, chunked', ['plain'], 413, (o, m) => ({
        xml: HUGE(o, m), headers: { 'transfer-encoding': 'chunked' },
    })],
];

for (const mode of ['plain', 'safe']) {
    test(`${mode}: bad requests are refused and change nothing`, async () => {
        const c = ctx[mode];
        const problems = [];
        for (const [name, modes, status, make] of CASES) {
            if (!modes.includes(mode)) continue;
            const openid = newOpenid();
            const msgId = wx.newMsgId();
            const r0 = await repliesTotal(c.srv);
            const o = make(openid, msgId, wx.encrypt(OA.aes_key, wx.textXml({ gh: OA.gh, openid, content: 'x', msgId }), OA.appid));
            if (!o.xml) o.xml = wx.textXml({ gh: OA.gh, openid, content: '怎么退货', msgId });
            let r;
            try {
                r = await c.post({ openid, attempts: 1, ...o });
            } catch (e) {
                problems.push(`${name}: ${e.message.slice(0, 400)}`);
                continue;
            }
            if (process.env.CSBOT_TEST_VERBOSE === '1') {
                process.stderr.write(`[${mode}] ${name}: ${r.status} (${r.ms} ms) ${r.text.slice(0, 120).replace(/\s+/g, ' ')}\n`);
            }
            const allowed = [].concat(status);
            const harmless = allowed.includes('harmless') && r.status === 200;
            if (!allowed.includes(r.status) && !harmless) {
                problems.push(`${name}: expected ${allowed.join(' or ')}: ${r.describe().slice(0, 500)}`);
            }
            if (r.status >= 500) problems.push(`${name}: a server error: ${r.describe().slice(0, 300)}`);
            if (r.ms > 2000 * SCALE) problems.push(`${name}: took ${r.ms} ms`);
            const r1 = await repliesTotal(c.srv);
            if (r1 !== r0 && !harmless) problems.push(`${name}: the replies counter went from ${r0} to ${r1}`);
            // the server is still there, and the MsgId is still new (a bad
            // request leaves no dedup entry)
            if (!harmless) {
                const good = await c.say(openid, '怎么退货', { msgId });
                try {
                    expectText(good, openid);
                    assert.match(good.fields.Content, /退/);
                } catch (e) {
                    problems.push(`${name}: then a good message with the same MsgId: ${good.describe().slice(0, 400)}`);
                }
                const r2 = await repliesTotal(c.srv);
                if (r2 !== r1 + 1) problems.push(`${name}: the good message after it was counted ${r2 - r1} times`);
            }
        }
        assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
    });
}

for (const mode of ['plain', 'safe']) {
    test(`${mode}: other message types and events get harmless answers`, async () => {
        const c = ctx[mode];
        const openid = newOpenid();
        const base = { ToUserName: OA.gh, FromUserName: openid, CreateTime: wx.now() };
        // subscribe: the welcome message
        const sub = await c.post({ openid, xml: wx.eventXml({ gh: OA.gh, openid, event: 'subscribe' }) });
        expectText(sub, openid);
        // an image: a short canned text
        const img = await c.post({
            openid, xml: wx.buildXml({
                ...base, MsgType: 'image', PicUrl: 'http://mmbiz.qpic.cn/x/0', MediaId: 'media_1', MsgId: Number(wx.newMsgId()),
            }),
        });
        const imgText = expectText(img, openid);
        assert.ok(imgText.length < 300, `not a short canned text: ${img.describe()}`);
        // a type nobody knows: a text reply, not an error
        const unk = await c.post({
            openid, xml: wx.buildXml({ ...base, MsgType: 'hologram', Payload: 'zzz', MsgId: Number(wx.newMsgId()) }),
        });
        expectText(unk, openid);
        // a location (a known type the bot does not read): a text too
        const loc = await c.post({
            openid, xml: wx.buildXml({
                ...base, MsgType: 'location', Location_X: '31.2', Location_Y: '121.4', Scale: 15, Label: '上海',
                MsgId: Number(wx.newMsgId()),
            }),
        });
        expectText(loc, openid);
        // other events and unsubscribe: "success"
        for (const [i, ev] of ['CLICK', 'VIEW', 'unsubscribe'].entries()) {
            const r = await c.post({
                openid, xml: wx.eventXml({ gh: OA.gh, openid, event: ev, createTime: wx.now() - 10 - i, extra: { EventKey: 'K1' } }),
            });
            assert.equal(r.status, 200, r.describe());
            assert.equal(r.kind, 'success', `${ev}: ${r.describe()}`);
        }
        // and text still works
        expectText(await c.say(openid, '怎么退货'), openid);
        assert.equal(c.api.customSends.length, 0, c.api.describe());
    });
}
