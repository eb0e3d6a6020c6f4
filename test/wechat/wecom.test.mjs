// WeCom customer service (微信客服): URL verification, kf_msg_or_event
// callbacks that make the server pull kf/sync_msg from the stored cursor and
// answer each customer message once with kf/send_msg (across restarts, a
// SIGKILL included), and handoffs through kf/service_state/trans.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, wx, WC, hasCJK, waitFor, sleep } from './common.mjs';
import { expectStatus } from '../server/helpers.mjs';

const SYNC = '/cgi-bin/kf/sync_msg';
const TRANS = '/cgi-bin/kf/service_state/trans';
const PW = { alice: 'alice-secret-pw' };
const ctx = {};
let consoleTicket; // {alice, base}: the console test's claimed ticket
before(async () => {
    [ctx.main, ctx.servicer, ctx.console] = await Promise.all([
        start({ wecom: { route: 'wechat' }, pageSize: 2, tag: 'wecom-main' }),
        start({ wecom: { route: 'wechat', servicer: 'zhangsan' }, tag: 'wecom-servicer' }),
        start({ wecom: { route: 'console' }, agents: PW, tag: 'wecom-console' }),
    ]);
});
after(async () => {
    await Promise.all(Object.values(ctx).map((c) => c?.close()));
});

let userSeq = 0;
const newUser = () => `wmStandIn${process.pid}_${++userSeq}_${wx.randomDigits(6)}`;
const sendsTo = (c, u) => c.api.kfSends.filter((r) => r.body?.touser === u);

// Wait until each user in want ({user: n}) got n kf/send_msg, then a little
// longer, and check that no one got more.
async function expectSends(c, want, what) {
    await waitFor(() => Object.entries(want).every(([u, n]) => sendsTo(c, u).length >= n),
        { timeoutMs: 8000, what }).catch((e) => {
        throw new Error(`${e.message}; API requests:\n${c.api.describe()}\nserver log:\n${c.srv.log.slice(-1500)}`);
    });
    await sleep(800);
    for (const [u, n] of Object.entries(want)) {
        assert.equal(sendsTo(c, u).length, n, `${what}: ${u} got ${sendsTo(c, u).length} kf/send_msg:\n${c.api.describe('/cgi-bin/kf/send_msg')}`);
    }
}

test('GET verification returns the decrypted echostr; 403 for a bad signature or CorpID', async () => {
    const c = ctx.main;
    const ok = await wx.wecomVerify(c.wecomUrl, { token: WC.token, aesKey: WC.aes_key, corpid: WC.corpid });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.text, ok.plain, 'the body is not the decrypted echostr');
    const bad = await wx.wecomVerify(c.wecomUrl, { token: WC.token, aesKey: WC.aes_key, corpid: WC.corpid, sig: 'c'.repeat(40) });
    assert.equal(bad.status, 403, bad.text);
    assert.ok(!bad.text.includes(bad.plain));
    const other = await wx.wecomVerify(c.wecomUrl, { token: WC.token, aesKey: WC.aes_key, corpid: WC.corpid, cipherCorpid: 'wwNotOurCorp0000' });
    assert.equal(other.status, 403, other.text);
    const old = await wx.wecomVerify(c.wecomUrl, { token: WC.token, aesKey: WC.aes_key, corpid: WC.corpid, timestamp: String(wx.now() - 3600) });
    assert.equal(old.status, 403, `a 1-hour-old timestamp: ${old.text}`);
});

test('a badly signed callback is 403 and pulls nothing', async () => {
    const c = ctx.main;
    const n = c.api.calls(SYNC).length;
    const r = await c.wecomPost(wx.kfEventXml({ corpid: WC.corpid, token: 'ENCbad', openKfid: WC.open_kfid }), { sig: 'd'.repeat(40) });
    assert.equal(r.status, 403, r.describe());
    await sleep(500);
    assert.equal(c.api.calls(SYNC).length, n, c.api.describe());
});

test('kf_msg_or_event: sync_msg over two pages, each message answered once; restarts lose and repeat nothing', async () => {
    const c = ctx.main;
    const [A, B, C] = [newUser(), newUser(), newUser()];
    c.api.addKf(
        { external_userid: A, content: '怎么退货' },
        { external_userid: B, content: 'how do I return an item' },
        { external_userid: A, content: '多久发货' },
    );
    const token = `ENC${wx.randomDigits(30)}`;
    const cb = await c.kfCallback(token);
    assert.equal(cb.kind, 'success', `the callback is not answered "success" (or empty): ${cb.describe()}`);
    await expectSends(c, { [A]: 2, [B]: 1 }, 'the first three messages');

    const syncs = c.api.calls(SYNC);
    assert.equal(syncs.length, 2, `two pages, two sync_msg calls:\n${c.api.describe(SYNC)}`);
    assert.ok(!syncs[0].body.cursor, `the first pull has a cursor: ${JSON.stringify(syncs[0].body)}`);
    assert.equal(syncs[0].body.token, token, `sync_msg without the callback's Token: ${JSON.stringify(syncs[0].body)}`);
    assert.equal(syncs[0].body.open_kfid, WC.open_kfid, JSON.stringify(syncs[0].body));
    assert.equal(syncs[1].body.cursor, syncs[0].answer.next_cursor, 'the second page is not pulled from next_cursor');
    assert.equal(syncs[0].answer.has_more, 1);
    assert.equal(syncs[1].answer.has_more, 0);
    for (const s of c.api.kfSends) {
        assert.equal(s.body.open_kfid, WC.open_kfid, JSON.stringify(s.body));
        assert.equal(s.body.msgtype, 'text', JSON.stringify(s.body));
        assert.ok(typeof s.body.text?.content === 'string' && s.body.text.content.length > 0, JSON.stringify(s.body));
        assert.equal(s.answer.errcode, 0, JSON.stringify(s.answer));
    }
    assert.ok(!hasCJK(sendsTo(c, B)[0].body.text.content), `B asked in English: ${JSON.stringify(sendsTo(c, B)[0].body)}`);
    assert.ok(sendsTo(c, A).every((s) => hasCJK(s.body.text.content)), JSON.stringify(sendsTo(c, A).map((s) => s.body)));
    assert.match(sendsTo(c, A)[0].body.text.content, /退/, 'the first answer to A is not about returns (order kept?)');
    assert.equal(c.api.calls('/cgi-bin/gettoken').length, 1, c.api.describe('/cgi-bin/gettoken'));
    assert.deepEqual(c.api.calls('/cgi-bin/gettoken')[0].query, { corpid: WC.corpid, corpsecret: WC.secret });

    // a clean restart, two new messages
    await c.srv.stop();
    await c.srv.start();
    const lastCursor = c.api.issued[c.api.issued.length - 1];
    c.api.addKf({ external_userid: A, content: '怎么开发票' }, { external_userid: C, content: '你好' });
    const before2 = c.api.calls(SYNC).length;
    await c.kfCallback();
    await expectSends(c, { [A]: 3, [B]: 1, [C]: 1 }, 'the two messages after the restart');
    const s2 = c.api.calls(SYNC).slice(before2);
    assert.ok(s2.length >= 1, c.api.describe(SYNC));
    assert.equal(s2[0].body.cursor, lastCursor, `after the restart sync_msg is not pulled from the stored cursor:\n${c.api.describe(SYNC)}`);
    assert.match(sendsTo(c, A)[2].body.text.content, /发票/, JSON.stringify(sendsTo(c, A)[2].body));

    // kill -9 after a batch was answered, then one more message
    c.api.addKf({ external_userid: B, content: '多久发货' });
    await c.kfCallback();
    await expectSends(c, { [A]: 3, [B]: 2, [C]: 1 }, 'the message before the SIGKILL');
    await c.srv.kill9();
    await c.srv.start();
    const lastCursor3 = c.api.issued[c.api.issued.length - 1];
    const before3 = c.api.calls(SYNC).length;
    c.api.addKf({ external_userid: C, content: '怎么退货' });
    await c.kfCallback();
    await expectSends(c, { [A]: 3, [B]: 2, [C]: 2 }, 'the message after the SIGKILL');
    assert.equal(c.api.calls(SYNC)[before3].body.cursor, lastCursor3,
        `after the SIGKILL sync_msg is not pulled from the last cursor:\n${c.api.describe(SYNC)}`);
    assert.equal(c.api.kfSends.length, 7, c.api.describe('/cgi-bin/kf/send_msg'));
});

test('two callbacks at once: each message is still answered once', async () => {
    const c = ctx.main;
    const [D, E] = [newUser(), newUser()];
    c.api.addKf({ external_userid: D, content: '怎么退货' }, { external_userid: E, content: '多久发货' },
        { external_userid: D, content: 'how do I return an item' });
    await Promise.all([c.kfCallback(), c.kfCallback(), c.kfCallback()]);
    await expectSends(c, { [D]: 2, [E]: 1 }, 'three messages, three callbacks');
});

test('only customer text is a turn: events and servicer messages are not answered', async () => {
    const c = ctx.main;
    const [F, G] = [newUser(), newUser()];
    c.api.addKf(
        { msgtype: 'event', origin: 4, event: { event_type: 'enter_session', external_userid: F, scene: '123', welcome_code: 'WELCOME' } },
        { external_userid: F, origin: 5, content: '您好，我是客服', servicer_userid: 'zhangsan' },
        { external_userid: G, content: '怎么退货' },
    );
    await c.kfCallback();
    await expectSends(c, { [G]: 1, [F]: 0 }, 'the one customer message');
});

test('route wechat: "转人工" calls service_state/trans (state 2); the bot then stays silent', async () => {
    const c = ctx.main;
    const [H, I] = [newUser(), newUser()];
    c.api.addKf({ external_userid: H, content: '转人工' });
    await c.kfCallback();
    await waitFor(() => c.api.calls(TRANS).some((r) => r.body?.external_userid === H), { timeoutMs: 8000, what: 'kf/service_state/trans' })
        .catch((e) => { throw new Error(`${e.message}:\n${c.api.describe()}`); });
    const t = c.api.calls(TRANS).find((r) => r.body?.external_userid === H);
    assert.equal(t.body.open_kfid, WC.open_kfid, JSON.stringify(t.body));
    assert.equal(Number(t.body.service_state), 2, `no servicer configured: the queue (2): ${JSON.stringify(t.body)}`);
    assert.ok(!t.body.servicer_userid, JSON.stringify(t.body));
    assert.equal(t.answer.errcode, 0);
    await sleep(500);
    const n = sendsTo(c, H).length;
    // later messages: nothing from the bot (I, after H in the same batch, shows the batch was handled)
    c.api.addKf({ external_userid: H, content: '有人吗？' }, { external_userid: H, content: '怎么退货' }, { external_userid: I, content: '怎么退货' });
    await c.kfCallback();
    await expectSends(c, { [I]: 1, [H]: n }, 'I answered, H not');
    assert.equal(c.api.calls(TRANS).filter((r) => r.body?.external_userid === H).length, 1, c.api.describe(TRANS));

    // the servicer ends the session (change_type 3): the bot answers H again
    c.api.states.set(`${WC.open_kfid}|${H}`, 0);
    c.api.addKf(
        { msgtype: 'event', origin: 4, event: { event_type: 'session_status_change', external_userid: H, change_type: 3, old_servicer_userid: 'zhangsan', msg_code: 'MSGCODE_END' } },
        { external_userid: H, content: '多久发货' },
    );
    await c.kfCallback();
    await expectSends(c, { [H]: n + 1 }, 'the bot after the session ended');
    assert.ok(hasCJK(sendsTo(c, H)[n].body.text.content));
});

test('route wechat with servicer: state 3 and servicer_userid', async () => {
    const c = ctx.servicer;
    const [J, K] = [newUser(), newUser()];
    c.api.addKf({ external_userid: J, content: '转人工' });
    await c.kfCallback();
    await waitFor(() => c.api.calls(TRANS).length > 0, { timeoutMs: 8000, what: 'kf/service_state/trans' })
        .catch((e) => { throw new Error(`${e.message}:\n${c.api.describe()}`); });
    const t = c.api.calls(TRANS)[0];
    assert.deepEqual({ s: Number(t.body.service_state), u: t.body.servicer_userid, e: t.body.external_userid, k: t.body.open_kfid },
        { s: 3, u: 'zhangsan', e: J, k: WC.open_kfid }, JSON.stringify(t.body));
    await sleep(500);
    const n = sendsTo(c, J).length;
    c.api.addKf({ external_userid: J, content: '怎么退货' }, { external_userid: K, content: '怎么退货' });
    await c.kfCallback();
    await expectSends(c, { [K]: 1, [J]: n }, 'K answered, J (with zhangsan) not');
});

test('route console: the ticket is in the console and the agent talks through kf/send_msg', async () => {
    const c = ctx.console;
    const alice = await c.srv.login('alice', PW.alice);
    const L = newUser();
    c.api.addKf({ external_userid: L, content: '转人工' });
    await c.kfCallback();
    const e = await waitFor(async () => (await c.srv.queue(alice)).find((x) => x.text === '转人工'),
        { timeoutMs: 8000, what: 'the ticket in the queue' });
    assert.equal(c.api.calls(TRANS).length, 0, `route console keeps the state: ${c.api.describe(TRANS)}`);
    const base = `/api/v1/agent/handoffs/${e.ticket}`;
    expectStatus(await c.srv.req('POST', `${base}/claim`, { agent: alice }), 200);
    const n = sendsTo(c, L).length;
    const text = '您好，我是客服alice';
    expectStatus(await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text } }), 200);
    await expectSends(c, { [L]: n + 1 }, "the agent's message");
    const s = sendsTo(c, L)[n];
    assert.deepEqual({ touser: s.body.touser, open_kfid: s.body.open_kfid, msgtype: s.body.msgtype, content: s.body.text?.content },
        { touser: L, open_kfid: WC.open_kfid, msgtype: 'text', content: text });
    // the customer's reply reaches the ticket; the bot stays silent
    c.api.addKf({ external_userid: L, content: '我的订单还没到' });
    await c.kfCallback();
    await waitFor(async () => {
        const t = expectStatus(await c.srv.get(base, { agent: alice }), 200).json;
        return t.messages.some((m) => m.role === 'customer' && m.text === '我的订单还没到');
    }, { timeoutMs: 8000, what: "the customer's reply in the ticket" });
    await sleep(500);
    assert.equal(sendsTo(c, L).length, n + 1, `the bot spoke during the agent's conversation:\n${c.api.describe('/cgi-bin/kf/send_msg')}`);
    consoleTicket = { alice, base };
});

// The spec names the 502 for the official account; WeCom is assumed to do
// the same when kf/send_msg is refused.
test('route console: a refused kf/send_msg is a 502 with WeCom\'s code', async () => {
    const c = ctx.console;
    assert.ok(consoleTicket, 'needs the previous test');
    const { alice, base } = consoleTicket;
    c.api.fail('/cgi-bin/kf/send_msg', { errcode: 95018, errmsg: 'send msg not allowed' }, 1);
    const bad = await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: '还在吗' } });
    assert.equal(bad.status, 502, bad.describe());
    assert.ok(bad.text.includes('95018'), bad.describe());
    expectStatus(bad, 502); // and the API's error shape {"error": {"code", "message"}}
    expectStatus(await c.srv.req('POST', `${base}/messages`, { agent: alice, json: { text: '您好，还在吗？' } }), 200);
});
