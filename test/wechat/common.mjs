// test/wechat/common.mjs - starting csbot-server with a WeChat channel
// (--wechat CONFIG and/or --wecom CONFIG, api_base pointing at the stand-in
// of test/wechat/standin.mjs), and short ways to talk to it.

import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Server, makeTempDir, waitFor, sleep, SCALE } from '../server/helpers.mjs';
import * as wx from './standin.mjs';

export { Server, waitFor, sleep, SCALE, wx };

// WeChat's own sample EncodingAESKey (its last character has bits that are
// not part of the key, as real keys do).
export const SAMPLE_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

export const OA = {
    token: 'csbotTestToken2024',
    aes_key: SAMPLE_KEY,
    appid: 'wx5823bf96d3bd56c7',
    secret: 'oa-app-secret-0123456789abcdef',
    gh: 'gh_a1b2c3d4e5f6',
};

export const WC = {
    token: 'wecomTestToken77',
    aes_key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    corpid: 'ww1436e0e65a779aee',
    secret: 'wecom-kf-secret-fedcba9876543210',
    open_kfid: 'wkStandInKf0001',
};

export const hasCJK = (s) => /[\u3400-\u9fff]/.test(s);

// Sum of csbot_replies_total over every action.
export async function repliesTotal(srv) {
    const text = await srv.metrics();
    let sum = 0, seen = false;
    for (const m of text.matchAll(/^csbot_replies_total(?:\{[^}]*\})?\s+(\S+)$/gm)) {
        sum += Number(m[1]);
        seen = true;
    }
    assert.ok(seen, `no csbot_replies_total in /metrics:\n${text.slice(0, 1500)}`);
    return sum;
}

// Start the API stand-in and a server with --wechat (oa: config overrides,
// or false) and/or --wecom (wecom: config overrides). Returns a context:
//   {srv, api, oaCfg, wcCfg, say(openid, content, o), post(o), ...}
export async function start({ oa, wecom, agents, tag = 'wx', pageSize } = {}) {
    const api = await new wx.ApiStandin({
        appid: OA.appid, secret: OA.secret, corpid: WC.corpid, corpsecret: WC.secret, pageSize,
    }).start();
    const dir = makeTempDir(tag);
    const args = [];
    let oaCfg, wcCfg;
    if (oa) {
        oaCfg = {
            token: OA.token, aes_key: OA.aes_key, appid: OA.appid, secret: OA.secret,
            mode: 'safe', api_base: api.base, ...oa,
        };
        const f = path.join(dir, 'wechat.json');
        fs.writeFileSync(f, JSON.stringify(oaCfg, null, 2));
        args.push('--wechat', f);
    }
    if (wecom) {
        wcCfg = {
            token: WC.token, aes_key: WC.aes_key, corpid: WC.corpid, secret: WC.secret,
            api_base: api.base, ...wecom,
        };
        const f = path.join(dir, 'wecom.json');
        fs.writeFileSync(f, JSON.stringify(wcCfg, null, 2));
        args.push('--wecom', f);
    }
    let srv;
    try {
        srv = await Server.start({ dir, tag, args, agents });
    } catch (e) {
        await api.close();
        throw e;
    }
    const ctx = new Ctx(srv, api, oaCfg, wcCfg);
    return ctx;
}

class Ctx {
    constructor(srv, api, oaCfg, wcCfg) {
        this.srv = srv;
        this.api = api;
        this.oaCfg = oaCfg;
        this.wcCfg = wcCfg;
    }

    get url() { return `${this.srv.base}/wechat`; }
    get wecomUrl() { return `${this.srv.base}/wecom`; }

    // post() with this server's keys and mode; o as for wx.post.
    post(o) {
        return wx.post(this.url, {
            token: this.oaCfg.token, aesKey: this.oaCfg.aes_key, appid: this.oaCfg.appid,
            mode: this.oaCfg.mode, gh: OA.gh, ...o,
        });
    }

    // A text message from openid; the answer.
    say(openid, content, o = {}) {
        const xml = o.xml ?? wx.textXml({ gh: OA.gh, openid, content, msgId: o.msgId });
        return this.post({ openid, xml, ...o });
    }

    // Expect a passive text reply to openid; returns its Content.
    async sayText(openid, content, o = {}) {
        const r = await this.say(openid, content, o);
        expectText(r, openid);
        return r.fields.Content;
    }

    wecomPost(xml, o = {}) {
        return wx.wecomPost(this.wecomUrl, {
            token: this.wcCfg.token, aesKey: this.wcCfg.aes_key, corpid: this.wcCfg.corpid, xml, ...o,
        });
    }

    // A kf_msg_or_event callback; expects "success" at once.
    async kfCallback(token = `ENC${wx.randomDigits(20)}`) {
        const r = await this.wecomPost(wx.kfEventXml({ corpid: this.wcCfg.corpid, token, openKfid: WC.open_kfid }));
        assert.equal(r.status, 200, r.describe());
        assert.ok(r.ms < 2000 * SCALE, `the callback took ${r.ms} ms: ${r.describe()}`);
        return r;
    }

    async close() {
        await this.srv?.close();
        await this.api?.close();
    }
}

// A passive text reply to openid from the account (plain or decrypted).
export function expectText(r, openid) {
    assert.equal(r.status, 200, r.describe());
    assert.ok(r.kind === 'plain' || r.kind === 'encrypted', `not a passive XML reply: ${r.describe()}`);
    const f = r.fields;
    assert.equal(f.MsgType, 'text', r.describe());
    assert.equal(f.ToUserName, openid, `ToUserName is not the customer's OpenID: ${r.describe()}`);
    assert.equal(f.FromUserName, OA.gh, `FromUserName is not the account: ${r.describe()}`);
    assert.match(f.CreateTime ?? '', /^\d{9,11}$/, r.describe());
    assert.ok(Math.abs(Number(f.CreateTime) - wx.now()) < 120, `CreateTime ${f.CreateTime} is not now: ${r.describe()}`);
    assert.ok(typeof f.Content === 'string' && f.Content.trim().length > 0, `empty Content: ${r.describe()}`);
    return f.Content;
}

export function expectTransfer(r, openid, kfAccount) {
    assert.equal(r.status, 200, r.describe());
    assert.ok(r.kind === 'plain' || r.kind === 'encrypted', `not a passive XML reply: ${r.describe()}`);
    assert.equal(r.fields.MsgType, 'transfer_customer_service', r.describe());
    assert.equal(r.fields.ToUserName, openid, r.describe());
    assert.equal(r.fields.FromUserName, OA.gh, r.describe());
    assert.equal(r.fields.Content, undefined, `a transfer carries no Content: ${r.describe()}`);
    if (kfAccount) {
        assert.match(r.xml, /<TransInfo>\s*<KfAccount>/, `no TransInfo/KfAccount: ${r.describe()}`);
        assert.equal(r.fields.KfAccount, kfAccount, r.describe());
    }
}

let openidSeq = 0;
export function newOpenid() {
    openidSeq++;
    return `oStandIn${process.pid}x${openidSeq}${wx.randomDigits(6)}`.slice(0, 28);
}

// ---- fault injection (test/wechat/*-faults.test.mjs) ----

// The ways a server loses its cached access token: a restart, or WeChat
// refusing it (40001); forgetToken(ctx, way) makes one happen.
export const TOKEN_LOSSES = ['restart', 'refused'];
export async function forgetToken(c, way) {
    if (way === 'restart') {
        await c.srv.stop();
        await c.srv.start();
    } else {
        c.api.expireTokens();
    }
}

// Wait until the server's log, from mark (a length of c.srv.log) on,
// matches re.
export async function expectLog(c, mark, re, what) {
    await waitFor(() => re.test(c.srv.log.slice(mark)), { timeoutMs: 8000 * SCALE, what }).catch((e) => {
        throw new Error(`${e.message}: no ${re} in the log:\n${c.srv.log.slice(mark).slice(-2000)}\nAPI:\n${c.api.describe()}`);
    });
}

// Neither the secrets nor an access token the stand-in handed out (tokens:
// a Set) are in the server's log, nor a URL with a credential.
export function expectNoSecrets(c, secrets, tokens) {
    const log = c.srv.log;
    assert.ok(log.length > 0, 'the server logged nothing');
    for (const [what, s] of [...Object.entries(secrets), ...[...tokens].map((t) => ['access token', t])]) {
        assert.ok(s && !log.includes(s), `the ${what} is in the server log`);
    }
    assert.ok(!/access_token=|secret=/.test(log), 'a URL with a credential is in the server log');
}
