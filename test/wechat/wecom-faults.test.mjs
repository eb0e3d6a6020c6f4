// WeCom customer service (微信客服) when WeChat's API fails: kf/sync_msg,
// kf/send_msg and cgi-bin/gettoken answered with HTTP 500, a dropped
// connection, no answer (past the client's 5 s timeout) or errcode -1
// ("system busy"). Each time: a clear error in the server's log, no crash,
// the callback still answered "success" at once, the cursor kept before the
// messages that were not taken (a later callback's pull takes them), no
// customer message answered twice, and the server serving on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    start, wx, WC, hasCJK, repliesTotal, waitFor, sleep, SCALE,
    TOKEN_LOSSES, forgetToken, expectLog, expectNoSecrets,
} from './common.mjs';

const { FAIL, SYSTEM_BUSY } = wx;
const SYNC = '/cgi-bin/kf/sync_msg';
const SEND = '/cgi-bin/kf/send_msg';
const GETTOKEN = '/cgi-bin/gettoken';

let c;
before(async () => {
    c = await start({ wecom: { route: 'wechat' }, pageSize: 2, tag: 'wecom-faults' });
});
after(async () => { await c?.close(); });

let userSeq = 0;
const newUser = () => `wmFault${process.pid}_${++userSeq}_${wx.randomDigits(6)}`;
const sendsTo = (u) => c.api.kfSends.filter((r) => r.body?.touser === u);
const okSendsTo = (u) => sendsTo(u).filter((r) => r.answer?.errcode === 0);

// The cursor the server holds: the last one the stand-in handed out.
const lastCursor = () => c.api.issued[c.api.issued.length - 1];

// Lines of the server's log written since mark (a length of c.srv.log).
const logSince = (mark) => c.srv.log.slice(mark);


// Each user in want ({user: n}) got n successful kf/send_msg, and after a
// pause still n.
async function expectAnswered(want, what, timeoutMs = 8000) {
    await waitFor(() => Object.entries(want).every(([u, n]) => okSendsTo(u).length >= n),
        { timeoutMs: timeoutMs * SCALE, what }).catch((e) => {
        throw new Error(`${e.message}; API requests:\n${c.api.describe()}\nserver log:\n${c.srv.log.slice(-2000)}`);
    });
    await sleep(600);
    for (const [u, n] of Object.entries(want)) {
        assert.equal(okSendsTo(u).length, n, `${what}: ${u} was answered ${okSendsTo(u).length} times:\n${c.api.describe(SEND)}`);
    }
}

async function serving() {
    const h = await c.srv.health();
    assert.ok(h, 'no /healthz answer');
}

const failures = [
    ['HTTP 500', FAIL.http(500), /HTTP status 500/],
    ['a dropped connection', FAIL.drop, /api=\/cgi-bin\/kf\/sync_msg msg="[^"]+"/],
    ['errcode -1 (system busy)', SYSTEM_BUSY, /WeChat error -1: system error/],
];

for (const [name, failure, re] of failures) {
    test(`sync_msg fails (${name}): logged, nothing taken, the cursor kept; the next callback answers each message once`, async () => {
        const [A, B] = [newUser(), newUser()];
        const cursor = lastCursor();
        const syncs = c.api.calls(SYNC).length;
        c.api.addKf({ external_userid: A, content: '怎么退货' }, { external_userid: B, content: 'how do I return an item' });
        c.api.fail(SYNC, failure, 1);
        const mark = c.srv.log.length;
        await c.kfCallback();
        await expectLog(c, mark, new RegExp(`level=warn channel=wecom api=/cgi-bin/kf/sync_msg msg="[^"]+"`), 'the failed pull in the log');
        assert.match(logSince(mark), re);
        await sleep(300);
        assert.equal(sendsTo(A).length + sendsTo(B).length, 0, `answered from a failed pull:\n${c.api.describe()}`);
        assert.equal(c.api.calls(SYNC)[syncs].body.cursor, cursor, 'the failed pull is not from the stored cursor');
        await serving();

        await c.kfCallback();
        await expectAnswered({ [A]: 1, [B]: 1 }, 'the messages after the failed pull');
        assert.equal(c.api.calls(SYNC)[syncs + 1].body.cursor, cursor,
            `after a failed pull the cursor moved:\n${c.api.describe(SYNC)}`);
        assert.ok(hasCJK(okSendsTo(A)[0].body.text.content));
        assert.ok(!hasCJK(okSendsTo(B)[0].body.text.content));
    });
}

test('sync_msg fails on the second page: the first page is answered and its cursor kept; the rest comes with the next callback, nothing twice', async () => {
    const [A, B, C] = [newUser(), newUser(), newUser()];
    const syncs = c.api.calls(SYNC).length;
    const r0 = await repliesTotal(c.srv);
    c.api.addKf({ external_userid: A, content: '怎么退货' }, { external_userid: B, content: '多久发货' },
        { external_userid: C, content: '怎么开发票' });
    c.api.fail(SYNC, FAIL.http(502), 1, { skip: 1 });
    const mark = c.srv.log.length;
    await c.kfCallback();
    await expectAnswered({ [A]: 1, [B]: 1 }, 'the first page');
    await expectLog(c, mark, /api=\/cgi-bin\/kf\/sync_msg msg="HTTP status 502"/, 'the failed second page');
    assert.equal(sendsTo(C).length, 0);
    const pageCursor = c.api.calls(SYNC)[syncs].answer.next_cursor;
    assert.equal(c.api.calls(SYNC)[syncs + 1].body.cursor, pageCursor);

    await c.kfCallback();
    await expectAnswered({ [A]: 1, [B]: 1, [C]: 1 }, 'the second page with the next callback');
    assert.equal(c.api.calls(SYNC)[syncs + 2].body.cursor, pageCursor,
        `the pull after the failure is not from the first page's cursor:\n${c.api.describe(SYNC)}`);
    assert.equal(await repliesTotal(c.srv), r0 + 3, 'a message was taken twice or not at all');
});

test('sync_msg without an answer: the client gives up after its timeout, the server serves meanwhile, a queued callback takes the messages', async () => {
    const A = newUser();
    c.api.addKf({ external_userid: A, content: '怎么退货' });
    c.api.fail(SYNC, FAIL.hang(8000), 1);
    const mark = c.srv.log.length;
    const t0 = Date.now();
    await c.kfCallback();
    // the worker waits on the pull; callbacks and the rest are still answered at once
    await c.kfCallback();
    await serving();
    const ms = Date.now() - t0;
    assert.ok(ms < 2000 * SCALE, `the server was slow while a pull hung: ${ms} ms`);
    await expectAnswered({ [A]: 1 }, 'the message after the timed-out pull', 15000);
    assert.match(logSince(mark), /api=\/cgi-bin\/kf\/sync_msg msg="[^"]*(timed out|Timeout)[^"]*"/i,
        logSince(mark).slice(-1500));
});

for (const [name, failure, re] of [
    ['HTTP 500', FAIL.http(500), /HTTP status 500/],
    ['a dropped connection', FAIL.drop, /send failed: [^"]+/],
    ['errcode -1 (system busy)', SYSTEM_BUSY, /WeChat error -1/],
]) {
    test(`kf/send_msg fails (${name}): logged; the turn is kept once, not taken again; the next message is answered`, async () => {
        const A = newUser();
        const r0 = await repliesTotal(c.srv);
        c.api.addKf({ external_userid: A, content: '怎么退货' });
        c.api.fail(SEND, failure, 1);
        const mark = c.srv.log.length;
        await c.kfCallback();
        await expectLog(c, mark, /level=warn channel=wecom api=\/cgi-bin\/kf\/send_msg msg="send failed: [^"]+"/, 'the failed send in the log');
        assert.match(logSince(mark), re);
        assert.equal(await repliesTotal(c.srv), r0 + 1, 'the turn was not taken once');
        await serving();

        c.api.addKf({ external_userid: A, content: '多久发货' });
        await c.kfCallback();
        await expectAnswered({ [A]: 1 }, 'the next message');
        assert.equal(sendsTo(A).length, 2, c.api.describe(SEND));
        assert.equal(await repliesTotal(c.srv), r0 + 2, 'the first message was taken again (or the second not)');
    });
}

for (const [name, failure, re] of [
    ['HTTP 503', FAIL.http(503), /HTTP status 503/],
    ['a dropped connection', FAIL.drop, /access token: [^"]+/],
    ['errcode -1 (system busy)', SYSTEM_BUSY, /WeChat error -1/],
]) {
    test(`gettoken fails (${name}) after a restart and after a refused token: no pull, the cursor kept, the next callback answers`, async () => {
        for (const when of TOKEN_LOSSES) {
            await forgetToken(c, when);
            const A = newUser();
            const cursor = lastCursor();
            const tokens = c.api.calls(GETTOKEN).length;
            c.api.addKf({ external_userid: A, content: '怎么退货' });
            c.api.fail(GETTOKEN, failure, 1);
            const mark = c.srv.log.length;
            await c.kfCallback();
            await expectLog(c, mark, /level=warn channel=wecom api=\/cgi-bin\/kf\/sync_msg msg="cannot get the access token: [^"]+"/,
                `the failed token (${when})`);
            assert.match(logSince(mark), re);
            assert.equal(c.api.calls(GETTOKEN).length, tokens + 1, c.api.describe(GETTOKEN));
            assert.equal(sendsTo(A).length, 0);
            await serving();
            await c.kfCallback();
            await expectAnswered({ [A]: 1 }, `the message after the failed token (${when})`);
            assert.equal(c.api.calls(GETTOKEN).length, tokens + 2, c.api.describe(GETTOKEN));
            const pulls = c.api.calls(SYNC).filter((r) => r.answer?.errcode === 0);
            assert.equal(pulls[pulls.length - 1].body.cursor, cursor, `the cursor moved:\n${c.api.describe(SYNC)}`);
        }
    });
}

test('no secret in the log after the failures', async () => {
    expectNoSecrets(c, { secret: WC.secret, Token: WC.token, EncodingAESKey: WC.aes_key }, c.api.tokens.wecom);
});
