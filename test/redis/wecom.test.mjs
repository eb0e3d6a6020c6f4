// WeCom customer service on two instances sharing one Redis: callbacks
// reach both at once (WeChat's retries, or a load balancer), yet every
// customer message is answered once, the pull cursor is shared, and the
// access token is fetched by one instance only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, waitFor, sleep } from './helpers.mjs';
import * as wx from '../wechat/standin.mjs';
import { WC } from '../wechat/common.mjs';

const SYNC = '/cgi-bin/kf/sync_msg';
let api, cl, cfg;

before(async () => {
    api = await new wx.ApiStandin({ corpid: WC.corpid, corpsecret: WC.secret, pageSize: 2 }).start();
    cfg = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'csbot-wecom-redis-')), 'wecom.json');
    fs.writeFileSync(cfg, JSON.stringify({
        token: WC.token, aes_key: WC.aes_key, corpid: WC.corpid, secret: WC.secret,
        api_base: api.base, route: 'wechat',
    }));
    cl = await Cluster.start({ n: 2, tag: 'wecom', serverOpts: { args: ['--wecom', cfg] } });
});
after(async () => {
    await cl?.close();
    await api?.close();
    if (cfg) fs.rmSync(path.dirname(cfg), { recursive: true, force: true });
});

const callback = (srv) => wx.wecomPost(`${srv.base}/wecom`, {
    token: WC.token, aesKey: WC.aes_key, corpid: WC.corpid,
    xml: wx.kfEventXml({ corpid: WC.corpid, token: `ENC${wx.randomDigits(20)}`, openKfid: WC.open_kfid }),
});
const sendsTo = (u) => api.kfSends.filter((r) => r.body?.touser === u);

test('callbacks on both instances at once: each message answered once, one token for both', async () => {
    const users = [1, 2, 3].map((i) => `wmRedis${process.pid}_${i}_${wx.randomDigits(6)}`);
    api.addKf(
        { external_userid: users[0], content: '怎么退货' },
        { external_userid: users[1], content: 'how do I return an item' },
        { external_userid: users[2], content: '多久发货' },
        { external_userid: users[0], content: '怎么开发票' },
    );
    const want = { [users[0]]: 2, [users[1]]: 1, [users[2]]: 1 };
    for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([callback(cl.A), callback(cl.B)]);
        assert.equal(a.status, 200, a.describe());
        assert.equal(b.status, 200, b.describe());
    }
    await waitFor(() => Object.entries(want).every(([u, n]) => sendsTo(u).length >= n),
        { timeoutMs: 10000, what: 'the answers' }).catch((e) => {
        throw new Error(`${e.message}\n${api.describe()}\n${cl.logs()}`);
    });
    await sleep(800);
    for (const [u, n] of Object.entries(want)) {
        assert.equal(sendsTo(u).length, n, `${u}: ${sendsTo(u).length} kf/send_msg, want ${n}:\n${api.describe('/cgi-bin/kf/send_msg')}`);
    }
    // one gettoken for the two instances
    const tokens = api.calls('/cgi-bin/gettoken');
    assert.equal(tokens.length, 1, `gettoken called ${tokens.length} times:\n${api.describe('/cgi-bin/gettoken')}`);

    // the cursor is shared: a later message is pulled from where the last
    // pull ended, whichever instance pulls
    const last = api.issued[api.issued.length - 1];
    api.addKf({ external_userid: users[2], content: '满多少包邮' });
    const n0 = api.calls(SYNC).length;
    const r = await callback(cl.B);
    assert.equal(r.status, 200, r.describe());
    await waitFor(() => sendsTo(users[2]).length >= 2, { timeoutMs: 8000, what: 'the later answer' });
    const pulls = api.calls(SYNC).slice(n0);
    assert.ok(pulls.length >= 1, api.describe(SYNC));
    assert.equal(pulls[0].body.cursor, last, `not pulled from the shared cursor:\n${api.describe(SYNC)}`);
    assert.equal(api.calls('/cgi-bin/gettoken').length, 1, api.describe('/cgi-bin/gettoken'));
});

test('a token WeChat refuses is fetched again once and shared again', async () => {
    api.expireTokens();
    const u = `wmRedis${process.pid}_x_${wx.randomDigits(6)}`;
    api.addKf({ external_userid: u, content: '你好' });
    const before = api.calls('/cgi-bin/gettoken').length;
    await Promise.all([callback(cl.A), callback(cl.B)]);
    await waitFor(() => sendsTo(u).length >= 1, { timeoutMs: 10000, what: 'the answer after the refused token' })
        .catch((e) => { throw new Error(`${e.message}\n${api.describe()}\n${cl.logs()}`); });
    await sleep(500);
    assert.equal(sendsTo(u).length, 1, api.describe('/cgi-bin/kf/send_msg'));
    const fetched = api.calls('/cgi-bin/gettoken').length - before;
    assert.equal(fetched, 1, `${fetched} new tokens for two instances:\n${api.describe('/cgi-bin/gettoken')}`);
});
