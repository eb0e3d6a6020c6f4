// Official account: message/custom/send (the reply after the reply budget)
// and cgi-bin/token when WeChat's API fails: HTTP 500, a dropped
// connection, no answer (past the client's 5 s timeout), errcode -1
// ("system busy"). Each time: "success" to WeChat at once, a clear error in
// the server's log, no crash, the customer's turn taken once (WeChat's
// retries do not run it again and the send is not repeated), and the next
// message answered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    start, wx, OA, newOpenid, hasCJK, repliesTotal, waitFor, sleep, SCALE,
    TOKEN_LOSSES, forgetToken, expectLog, expectNoSecrets,
} from './common.mjs';

const { FAIL, SYSTEM_BUSY } = wx;
const TOKEN = '/cgi-bin/token';
const SEND = '/cgi-bin/message/custom/send';

let c;
before(async () => {
    c = await start({ oa: { mode: 'safe', delay_ms: 600, reply_budget_ms: 200 }, tag: 'oa-faults' });
});
after(async () => { await c?.close(); });

const sendsTo = (openid) => c.api.customSends.filter((r) => r.body?.touser === openid);
const okSendsTo = (openid) => sendsTo(openid).filter((r) => r.answer?.errcode === 0);
const logSince = (mark) => c.srv.log.slice(mark);


// A question answered "success" (the bot is slower than the budget).
async function ask(openid, content, o) {
    const r = await c.say(openid, content, o);
    assert.equal(r.status, 200, r.describe());
    assert.equal(r.kind, 'success', r.describe());
    assert.ok(r.ms < 1500 * SCALE, `"success" after ${r.ms} ms`);
    return r;
}

async function expectDelivered(openid, n, what, timeoutMs = 8000) {
    await waitFor(() => okSendsTo(openid).length >= n, { timeoutMs: timeoutMs * SCALE, what }).catch((e) => {
        throw new Error(`${e.message}; API requests:\n${c.api.describe()}\nserver log:\n${c.srv.log.slice(-2000)}`);
    });
    await sleep(500);
    assert.equal(okSendsTo(openid).length, n, `${what}:\n${c.api.describe(SEND)}`);
}

for (const [name, failure, re] of [
    ['HTTP 500', FAIL.http(500), /HTTP status 500/],
    ['a dropped connection', FAIL.drop, /send failed: [^"]+/],
    ['errcode -1 (system busy)', SYSTEM_BUSY, /WeChat error -1: system error/],
]) {
    test(`custom/send fails (${name}): logged, the turn taken once and not repeated by WeChat's retries; the next message is answered`, async () => {
        const openid = newOpenid();
        const r0 = await repliesTotal(c.srv);
        c.api.fail(SEND, failure, 1);
        const mark = c.srv.log.length;
        const xml = wx.textXml({ gh: OA.gh, openid, content: '怎么退货' });
        await ask(openid, '怎么退货', { xml });
        await expectLog(c, mark, /level=warn channel=wechat api=\/cgi-bin\/message\/custom\/send msg="send failed: [^"]+"/,
            'the failed send');
        assert.match(logSince(mark), re);
        // WeChat's retry of the same message: "success", no second turn, no second send
        const again = await c.post({ openid, xml });
        assert.equal(again.kind, 'success', again.describe());
        await sleep(800);
        assert.equal(sendsTo(openid).length, 1, `the failed send was repeated:\n${c.api.describe(SEND)}`);
        assert.equal(await repliesTotal(c.srv), r0 + 1, 'the turn was not taken once');

        await ask(openid, '多久发货');
        await expectDelivered(openid, 1, 'the next message');
        assert.ok(hasCJK(okSendsTo(openid)[0].body.text.content));
        assert.equal(await repliesTotal(c.srv), r0 + 2);
    });
}

test('custom/send without an answer: given up after the timeout; other customers are answered meanwhile', async () => {
    const [a, b] = [newOpenid(), newOpenid()];
    c.api.fail(SEND, FAIL.hang(8000), 1);
    const mark = c.srv.log.length;
    await ask(a, '怎么退货');
    await waitFor(() => sendsTo(a).length === 1, { timeoutMs: 4000 * SCALE, what: 'the hanging send' });
    const t0 = Date.now();
    await ask(b, 'how do I return an item');
    await expectDelivered(b, 1, "the other customer's reply while a send hangs");
    assert.ok(Date.now() - t0 < 4000 * SCALE, `the other reply waited for the hanging send (${Date.now() - t0} ms)`);
    await expectLog(c, mark, /api=\/cgi-bin\/message\/custom\/send msg="send failed: [^"]*timed out[^"]*"/i, 'the timeout');
    assert.equal(sendsTo(a).length, 1, c.api.describe(SEND));
});

for (const [name, failure, re] of [
    ['HTTP 500', FAIL.http(500), /HTTP status 500/],
    ['a dropped connection', FAIL.drop, /access token[^"]*: [^"]+/],
    ['errcode -1 (system busy)', SYSTEM_BUSY, /WeChat error -1/],
]) {
    test(`the access token cannot be fetched (${name}), first or after a refused one: the log says so; the next reply goes out`, async () => {
        for (const when of TOKEN_LOSSES) {
            await forgetToken(c, when);
            const openid = newOpenid();
            const fetches = c.api.calls(TOKEN).length;
            c.api.fail(TOKEN, failure, 1);
            const mark = c.srv.log.length;
            await ask(openid, '怎么退货');
            await expectLog(c, mark, /level=warn channel=wechat api=\/cgi-bin\/message\/custom\/send msg="send failed: cannot get the access token: [^"]+"/,
                `the failed token (${when})`);
            assert.match(logSince(mark), re);
            assert.equal(c.api.calls(TOKEN).length, fetches + 1, c.api.describe(TOKEN));
            assert.equal(okSendsTo(openid).length, 0);
            await ask(openid, '多久发货');
            await expectDelivered(openid, 1, `the next reply (${when})`);
            assert.equal(c.api.calls(TOKEN).length, fetches + 2, c.api.describe(TOKEN));
        }
    });
}

test('no secret in the log after the failures', async () => {
    expectNoSecrets(c, { AppSecret: OA.secret, Token: OA.token, EncodingAESKey: OA.aes_key }, c.api.tokens.official);
});
