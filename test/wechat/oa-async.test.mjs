// Official account: a bot slower than reply_budget_ms. The request gets
// "success" at once and the reply goes out, exactly once, through
// cgi-bin/message/custom/send; the access token is fetched once and fetched
// again when WeChat says it is invalid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, wx, OA, newOpenid, hasCJK, repliesTotal, waitFor, sleep, SCALE } from './common.mjs';

let c;
before(async () => {
    c = await start({ oa: { mode: 'safe', delay_ms: 1500, reply_budget_ms: 300 }, tag: 'wx-async' });
});
after(async () => { await c?.close(); });

const TOKEN = '/cgi-bin/token';
const SEND = '/cgi-bin/message/custom/send';

function sendsTo(openid) {
    return c.api.customSends.filter((r) => r.body?.touser === openid);
}

// "success" well before WeChat's 5 s, then one custom/send to openid.
async function slowQuestion(openid, content, o = {}) {
    const r = await c.say(openid, content, o);
    assert.equal(r.status, 200, r.describe());
    assert.equal(r.kind, 'success', `not "success" (or empty) while the bot is slow: ${r.describe()}`);
    assert.ok(r.ms < 1200 * SCALE, `"success" came after ${r.ms} ms (reply_budget_ms 300)`);
    const sent = await waitFor(() => sendsTo(openid).length > 0 && sendsTo(openid),
        { timeoutMs: 6000, what: `a custom/send to ${openid}` }).catch((e) => {
        throw new Error(`${e.message}; API requests:\n${c.api.describe()}`);
    });
    return { r, sent };
}

test('a slow reply: "success" at once, then exactly one message/custom/send', async () => {
    const openid = newOpenid();
    const t0 = Date.now();
    const { sent } = await slowQuestion(openid, '怎么退货');
    const s = sent[0];
    assert.ok(Date.now() - t0 >= 1200, 'the reply went out before delay_ms');
    assert.equal(s.method, 'POST');
    assert.equal(s.body.touser, openid, JSON.stringify(s.body));
    assert.equal(s.body.msgtype, 'text', JSON.stringify(s.body));
    assert.ok(typeof s.body.text?.content === 'string' && hasCJK(s.body.text.content) && /退/.test(s.body.text.content),
        `not the answer to 怎么退货: ${JSON.stringify(s.body)}`);
    assert.equal(s.answer?.errcode, 0, `the stand-in refused it: ${JSON.stringify(s.answer)}`);
    assert.match(s.headers['content-type'] || '', /json/i, 'custom/send without a JSON content-type');
    await sleep(1500);
    assert.equal(sendsTo(openid).length, 1, `more than one custom/send: ${c.api.describe(SEND)}`);
});

test('two slow replies fetch the access token only once', async () => {
    const [a, b] = [newOpenid(), newOpenid()];
    await Promise.all([slowQuestion(a, 'how do I return an item'), slowQuestion(b, '多久发货')]);
    const en = sendsTo(a)[0].body.text.content;
    assert.ok(!hasCJK(en), `the English question got: ${en}`);
    const tokens = c.api.calls(TOKEN);
    assert.equal(tokens.length, 1, `the token was fetched ${tokens.length} times:\n${c.api.describe()}`);
    assert.deepEqual(tokens[0].query, { grant_type: 'client_credential', appid: OA.appid, secret: OA.secret });
    assert.equal(tokens[0].method, 'GET');
    for (const s of c.api.customSends) {
        assert.equal(s.query.access_token, tokens[0].answer.access_token, 'custom/send with another token');
    }
});

test('retries of a slow message all get "success" and the reply goes out once', async () => {
    const openid = newOpenid();
    const r0 = await repliesTotal(c.srv);
    const xml = wx.textXml({ gh: OA.gh, openid, content: '怎么退货' });
    const r = await c.post({ openid, xml, force: 3 });
    for (const a of r.attempts) {
        assert.equal(a.kind, 'success', `a retry got something other than "success": ${a.describe()}`);
    }
    await waitFor(() => sendsTo(openid).length > 0, { timeoutMs: 6000, what: 'the custom/send' });
    await sleep(2000);
    assert.equal(sendsTo(openid).length, 1, `the reply went out ${sendsTo(openid).length} times: ${c.api.describe(SEND)}`);
    assert.equal(await repliesTotal(c.srv), r0 + 1, 'the bot ran more than once');
});

test('an invalid token (40001) is fetched again and the send repeated once', async () => {
    const openid = newOpenid();
    const fetches = c.api.calls(TOKEN).length;
    c.api.expireTokens();
    await slowQuestion(openid, '怎么退货');
    await waitFor(() => sendsTo(openid).some((s) => s.answer?.errcode === 0),
        { timeoutMs: 4000, what: 'a successful custom/send after the new token' }).catch((e) => {
        throw new Error(`${e.message}:\n${c.api.describe()}`);
    });
    await sleep(500);
    const all = sendsTo(openid);
    assert.equal(all.length, 2, `expected one refused and one repeated send: ${c.api.describe(SEND)}`);
    assert.equal(all[0].answer.errcode, 40001);
    assert.equal(all[1].answer.errcode, 0);
    assert.equal(c.api.calls(TOKEN).length, fetches + 1, `token fetches:\n${c.api.describe(TOKEN)}`);
    assert.deepEqual(all[1].body, all[0].body, 'the repeated call is not the same message');
});

test('no secret in the log: neither the AppSecret, the Token, the EncodingAESKey nor an access token', async () => {
    // the tests above fetched tokens, refused one and sent messages
    assert.ok(c.api.calls(TOKEN).length >= 2, 'no token was fetched');
    const log = c.srv.log;
    assert.ok(log.length > 0, 'the server logged nothing');
    for (const [what, s] of [['AppSecret', OA.secret], ['Token', OA.token], ['EncodingAESKey', OA.aes_key],
        ...[...c.api.tokens.official].map((t) => ['access token', t])]) {
        assert.ok(s && !log.includes(s), `the ${what} is in the server log`);
    }
    assert.ok(!/access_token=|secret=/.test(log), 'a URL with a credential is in the server log');
});
