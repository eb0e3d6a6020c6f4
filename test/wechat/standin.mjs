// test/wechat/standin.mjs - a stand-in for WeChat in the end-to-end tests of
// csbot-server's WeChat channels (test/wechat/*.test.mjs). Node built-ins
// only. Written from the protocol notes (docs/WECHAT-BRIDGE.md and
// ../shared/docs/WECHAT.md), independently of the C code in wechat/:
//
//   - crypto: signatures, the AES layout of WXBizMsgCrypt (encrypt, decrypt);
//   - a tiny extractor for WeChat's flat XML, and message builders;
//   - an official-account client (post(), verifyUrl()) that signs, encrypts,
//     times out after 5 s and retries like WeChat (3 attempts), and checks and
//     decrypts the answer;
//   - a WeCom callback client (wecomPost(), wecomVerify());
//   - ApiStandin: an HTTP server on 127.0.0.1 that plays api.weixin.qq.com
//     and qyapi.weixin.qq.com (tokens, custom/send, kf/*), records every
//     request and can be told to fail.

import crypto from 'node:crypto';
import http from 'node:http';

// ---- crypto ------------------------------------------------------------------

// sha1 hex of the lexicographically sorted concatenation of the strings.
// (WeChat sorts the strings as byte strings; every string here is ASCII, so
// JavaScript's default sort, by UTF-16 code unit, is the same order.)
export function signature(...parts) {
    const sorted = parts.map(String).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return crypto.createHash('sha1').update(sorted.join(''), 'utf8').digest('hex');
}

// The 32-byte AES key of a 43-character EncodingAESKey.
export function aesKey(encodingAESKey) {
    if (typeof encodingAESKey !== 'string' || encodingAESKey.length !== 43) {
        throw new Error(`an EncodingAESKey has 43 characters, not ${encodingAESKey?.length}`);
    }
    const key = Buffer.from(`${encodingAESKey}=`, 'base64');
    if (key.length !== 32) throw new Error(`EncodingAESKey decodes to ${key.length} bytes, not 32`);
    return key;
}

// PKCS#7 to a multiple of 32 bytes (1..32 bytes of padding, each = its count).
export function pad32(buf) {
    const n = 32 - (buf.length % 32);
    return Buffer.concat([buf, Buffer.alloc(n, n)]);
}

export function unpad32(buf) {
    if (buf.length === 0 || buf.length % 16 !== 0) throw new Error(`bad ciphertext length ${buf.length}`);
    const n = buf[buf.length - 1];
    if (n < 1 || n > 32 || n > buf.length) throw new Error(`bad padding byte ${n}`);
    for (let i = buf.length - n; i < buf.length; i++) {
        if (buf[i] !== n) throw new Error('bad padding');
    }
    return buf.subarray(0, buf.length - n);
}

// Base64 of AES-256-CBC(random(16) | uint32 BE length | msg | appid), key from
// the EncodingAESKey, IV = the first 16 key bytes. random16: a 16-byte Buffer
// (or string) for a known answer; random bytes otherwise.
export function encrypt(encodingAESKey, msg, appid, random16) {
    const key = aesKey(encodingAESKey);
    const rnd = random16 === undefined ? crypto.randomBytes(16) : Buffer.from(random16);
    if (rnd.length !== 16) throw new Error('random16 must be 16 bytes');
    const body = Buffer.isBuffer(msg) ? msg : Buffer.from(msg, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const plain = pad32(Buffer.concat([rnd, len, body, Buffer.from(appid, 'utf8')]));
    const c = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    c.setAutoPadding(false);
    return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

// The inverse: {msg, appid, random}. Throws on anything that is not such a
// ciphertext.
export function decrypt(encodingAESKey, b64) {
    const key = aesKey(encodingAESKey);
    const data = Buffer.from(b64, 'base64');
    const d = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    d.setAutoPadding(false);
    const plain = unpad32(Buffer.concat([d.update(data), d.final()]));
    if (plain.length < 20) throw new Error(`decrypted text too short (${plain.length} bytes)`);
    const len = plain.readUInt32BE(16);
    if (20 + len > plain.length) throw new Error(`message length ${len} past the end (${plain.length})`);
    return {
        random: plain.subarray(0, 16),
        msg: plain.subarray(20, 20 + len).toString('utf8'),
        appid: plain.subarray(20 + len).toString('utf8'),
    };
}

// A random EncodingAESKey (43 characters of [A-Za-z0-9]).
export function randomAesKey() {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (const b of crypto.randomBytes(43)) s += abc[b % abc.length];
    // the last character's low 2 bits are not part of the key; WeChat's own
    // keys have any value there, so a decoder must ignore them
    return s;
}

export function randomDigits(n = 10) {
    let s = String(1 + crypto.randomInt(9));
    while (s.length < n) s += String(crypto.randomInt(10));
    return s;
}

// ---- XML ---------------------------------------------------------------------

// The text of the first <name>...</name> of a flat WeChat XML (CDATA or not).
// Nested elements are found too (TransInfo/KfAccount: field(x, 'KfAccount')).
export function field(xml, name) {
    const m = new RegExp(`<${name}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${name}>`).exec(xml);
    if (!m) return undefined;
    return m[1] !== undefined ? m[1] : m[2];
}

// Every element name directly inside <xml>...</xml> (for shape checks).
export function fieldNames(xml) {
    const inner = /<xml>([\s\S]*)<\/xml>/.exec(xml);
    if (!inner) return [];
    const names = [];
    let depth = 0;
    for (const m of inner[1].matchAll(/<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w]*)[^>]*?(\/?)>/g)) {
        if (!m[2]) continue;
        if (m[1]) depth--;
        else {
            if (depth === 0) names.push(m[2]);
            if (!m[3]) depth++;
        }
    }
    return names;
}

export const cdata = (s) => `<![CDATA[${s}]]>`;

let msgIdSeq = BigInt(Date.now()) * 1000n;
export function newMsgId() {
    msgIdSeq += 1n;
    return String(msgIdSeq);
}

export const now = () => Math.floor(Date.now() / 1000);

// <xml> with the fields in order; strings in CDATA, numbers bare.
export function buildXml(fields) {
    let s = '<xml>';
    for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        s += `<${k}>${typeof v === 'number' || typeof v === 'bigint' ? String(v) : cdata(v)}</${k}>`;
    }
    return `${s}</xml>`;
}

// A text message from openid to the account gh.
export function textXml({ gh, openid, content, msgId = newMsgId(), createTime = now() }) {
    return buildXml({
        ToUserName: gh, FromUserName: openid, CreateTime: createTime,
        MsgType: 'text', Content: content, MsgId: msgId === null ? undefined : Number.isSafeInteger(Number(msgId)) ? Number(msgId) : msgId,
    });
}

// MsgId as a bare integer even when it exceeds 2^53.
export function textXmlRaw({ gh, openid, content, msgId = newMsgId(), createTime = now() }) {
    return `<xml><ToUserName>${cdata(gh)}</ToUserName><FromUserName>${cdata(openid)}</FromUserName>` +
        `<CreateTime>${createTime}</CreateTime><MsgType>${cdata('text')}</MsgType>` +
        `<Content>${cdata(content)}</Content><MsgId>${msgId}</MsgId></xml>`;
}

export function eventXml({ gh, openid, event, createTime = now(), extra = {} }) {
    return buildXml({
        ToUserName: gh, FromUserName: openid, CreateTime: createTime,
        MsgType: 'event', Event: event, ...extra,
    });
}

// ---- HTTP --------------------------------------------------------------------

// One request with node:http (no keep-alive); resolves {status, headers,
// text, ms} or rejects on a timeout ({timedOut: true}) or a socket error.
export function httpRequest(url, { method = 'GET', body, headers = {}, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const t0 = Date.now();
        const buf = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
        const h = { ...headers };
        if (buf !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'transfer-encoding')) {
            h['content-length'] = buf.length;
        }
        const req = http.request({
            host: u.hostname, port: u.port, path: u.pathname + u.search, method,
            headers: h, agent: false,
        }, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('end', () => resolve({
                status: res.statusCode, headers: res.headers,
                text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - t0,
            }));
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => {
            const e = new Error(`${method} ${url}: no answer in ${timeoutMs} ms`);
            e.timedOut = true;
            req.destroy(e);
        });
        req.on('error', reject);
        if (buf !== undefined) req.end(buf);
        else req.end();
    });
}

// ---- the official-account client ----------------------------------------------

// GET URL verification; resolves the httpRequest answer.
export function verifyUrl(url, { token, timestamp = String(now()), nonce = randomDigits(), echostr = randomDigits(19), sig } = {}) {
    const q = new URLSearchParams({
        signature: sig ?? signature(token, timestamp, nonce), timestamp, nonce, echostr,
    });
    return httpRequest(`${url}?${q}`).then((r) => ({ ...r, echostr }));
}

function describeReq(r) {
    let b = r.body || '';
    if (b.length > 300) b = `${b.slice(0, 300)}... (${b.length} chars)`;
    return `POST ${r.url} body=${b}`;
}

// Sign (and encrypt) one message as WeChat does and POST it.
//   o: {token, aesKey, appid, mode: 'plain'|'compat'|'safe', xml, openid,
//       gh (ToUserName of the envelope), timestamp, nonce,
//       attempts (default 3: retries after a 5 s timeout, like WeChat),
//       force (send exactly this many times, one after the other, whatever
//       the answers), timeoutMs (default 5000),
//       // for bad requests:
//       sig (a signature to send instead), noSig (omit signature),
//       msgSig (msg_signature to send instead), noMsgSig, cipherAppid (the
//       AppID inside the ciphertext), encrypt (the Encrypt text to send),
//       body (the raw body to send), query (extra or replacing parameters),
//       noEncryptType}
// Resolves {status, text, kind, xml, fields, attempts: [answers], request}
// where kind is 'success' ("success" or empty), 'plain' (a plaintext XML)
// or 'encrypted' (an encrypted XML, checked and decrypted into xml), or
// 'error' (a status other than 200, unparsed). Throws when the answer is an
// encrypted XML whose MsgSignature or AppID is wrong.
export async function post(url, o) {
    const mode = o.mode || 'safe';
    const timestamp = String(o.timestamp ?? now());
    const nonce = String(o.nonce ?? randomDigits());
    const q = new URLSearchParams();
    if (!o.noSig) q.set('signature', o.sig ?? signature(o.token, timestamp, nonce));
    q.set('timestamp', timestamp);
    q.set('nonce', nonce);
    if (o.openid !== undefined) q.set('openid', o.openid);
    let body = o.xml;
    const encrypted = mode === 'safe' || (mode === 'compat' && !o.plainRequest);
    if (encrypted) {
        const enc = o.encrypt ?? encrypt(o.aesKey, o.xml, o.cipherAppid ?? o.appid);
        if (!o.noEncryptType) q.set('encrypt_type', 'aes');
        if (!o.noMsgSig) q.set('msg_signature', o.msgSig ?? signature(o.token, timestamp, nonce, enc));
        const gh = o.gh ?? field(String(o.xml), 'ToUserName') ?? 'gh_standin';
        if (mode === 'safe') {
            body = `<xml><ToUserName>${cdata(gh)}</ToUserName><Encrypt>${cdata(enc)}</Encrypt></xml>`;
        } else {
            body = o.xml.replace(/<\/xml>\s*$/, `<Encrypt>${cdata(enc)}</Encrypt></xml>`);
        }
    }
    for (const [k, v] of Object.entries(o.query || {})) {
        if (v === null) q.delete(k);
        else q.set(k, v);
    }
    if (o.body !== undefined) body = o.body;
    const full = `${url}?${q}`;
    const request = { url: full, body: typeof body === 'string' ? body : `<${body.length} bytes: ${body.toString('utf8', 0, 200)}>` };
    const attempts = [];
    const n = o.force ?? o.attempts ?? 3;
    let last;
    for (let i = 0; i < n; i++) {
        try {
            last = await httpRequest(full, {
                method: 'POST', body, timeoutMs: o.timeoutMs ?? 5000,
                headers: { 'content-type': 'text/xml', ...(o.headers || {}) },
            });
            attempts.push(last);
            if (!o.force) break;
        } catch (e) {
            attempts.push({ error: e.message, timedOut: !!e.timedOut });
            last = undefined;
            if (!e.timedOut && !o.force) throw new Error(`${describeReq(request)}: ${e.message}`);
        }
    }
    if (!last) {
        const e = new Error(`${describeReq(request)}: no answer in ${n} attempts: ${JSON.stringify(attempts)}`);
        e.attempts = attempts;
        throw e;
    }
    const parsed = attempts.map((a) => (a.error ? a : parseAnswer(a, o, request)));
    return { ...parsed[parsed.length - 1], attempts: parsed, request };
}

// Classify (and check and decrypt) one answer of the server.
export function parseAnswer(a, o, request) {
    const r = { status: a.status, text: a.text, headers: a.headers, ms: a.ms, request };
    r.describe = () => `${describeReq(request)} -> ${a.status} (${a.ms} ms) ${a.text.slice(0, 600)}` +
        (r.xml && r.kind === 'encrypted' ? ` [decrypted: ${r.xml.slice(0, 600)}]` : '');
    if (a.status !== 200) {
        r.kind = 'error';
        return r;
    }
    const t = a.text.trim();
    if (t === '' || t === 'success') {
        r.kind = 'success';
        return r;
    }
    const enc = field(t, 'Encrypt');
    if (enc !== undefined && field(t, 'MsgType') === undefined) {
        const ts = field(t, 'TimeStamp'), nonce = field(t, 'Nonce'), sig = field(t, 'MsgSignature');
        if (!ts || !nonce || !sig) throw new Error(`encrypted answer without TimeStamp/Nonce/MsgSignature: ${r.describe()}`);
        const want = signature(o.token, ts, nonce, enc);
        if (sig !== want) throw new Error(`answer's MsgSignature ${sig} is not ${want}: ${r.describe()}`);
        let d;
        try {
            d = decrypt(o.aesKey, enc);
        } catch (e) {
            throw new Error(`answer does not decrypt (${e.message}): ${r.describe()}`);
        }
        const appid = o.replyAppid ?? o.appid;
        if (d.appid !== appid) throw new Error(`answer's AppID is ${JSON.stringify(d.appid)}, not ${appid}: ${r.describe()}`);
        r.kind = 'encrypted';
        r.xml = d.msg;
    } else if (/^<xml>[\s\S]*<\/xml>$/.test(t)) {
        r.kind = 'plain';
        r.xml = t;
    } else {
        r.kind = 'other';
        return r;
    }
    r.fields = {};
    for (const k of fieldNames(r.xml)) r.fields[k] = field(r.xml, k);
    r.fields.KfAccount = field(r.xml, 'KfAccount');
    return r;
}

// ---- WeCom callbacks ----------------------------------------------------------

// GET /wecom verification: echostr is an encrypted random text; resolves
// {status, text, plain} (plain: what the server must answer).
export async function wecomVerify(url, { token, aesKey: k, corpid, timestamp = String(now()), nonce = randomDigits(), sig, cipherCorpid } = {}) {
    const plain = randomDigits(19);
    const echostr = encrypt(k, plain, cipherCorpid ?? corpid);
    const q = new URLSearchParams({
        msg_signature: sig ?? signature(token, timestamp, nonce, echostr), timestamp, nonce, echostr,
    });
    const r = await httpRequest(`${url}?${q}`);
    return { ...r, plain };
}

// An encrypted WeCom callback; resolves the parsed answer like post().
export async function wecomPost(url, { token, aesKey: k, corpid, xml, timestamp = String(now()), nonce = randomDigits(), sig, timeoutMs = 5000 }) {
    const enc = encrypt(k, xml, corpid);
    const q = new URLSearchParams({
        msg_signature: sig ?? signature(token, timestamp, nonce, enc), timestamp, nonce,
    });
    const body = `<xml><ToUserName>${cdata(corpid)}</ToUserName><Encrypt>${cdata(enc)}</Encrypt>` +
        `<AgentID>${cdata('')}</AgentID></xml>`;
    const request = { url: `${url}?${q}`, body };
    const a = await httpRequest(request.url, { method: 'POST', body, timeoutMs, headers: { 'content-type': 'text/xml' } });
    return parseAnswer(a, { token, aesKey: k, appid: corpid }, request);
}

export function kfEventXml({ corpid, token, openKfid, createTime = now() }) {
    return buildXml({
        ToUserName: corpid, CreateTime: createTime, MsgType: 'event', Event: 'kf_msg_or_event',
        Token: token, OpenKfId: openKfid,
    });
}

// ---- the API stand-in ---------------------------------------------------------

// Failures of the network rather than of WeChat, for ApiStandin.fail().
const NET = Symbol('network failure');
export const FAIL = {
    http: (status, body) => ({ [NET]: `HTTP ${status}`, status, body }),
    drop: { [NET]: 'dropped' },
    hang: (ms) => ({ [NET]: `no answer for ${ms} ms`, hangMs: ms }),
};
export const SYSTEM_BUSY = { errcode: -1, errmsg: 'system error' };

const INVALID_TOKEN = { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };

// new ApiStandin({appid, secret, corpid, corpsecret, pageSize}); await
// start(); .base is the api_base for the server's configuration.
export class ApiStandin {
    constructor(o = {}) {
        this.appid = o.appid;
        this.secret = o.secret;
        this.corpid = o.corpid;
        this.corpsecret = o.corpsecret;
        this.pageSize = o.pageSize ?? 2;  // sync_msg: messages per page
        this.requests = [];     // {method, path, query, body, raw, t, answer}
        this.tokens = { official: new Set(), wecom: new Set() };
        this.failures = new Map();  // path -> [{answer, times}]
        this.kfMessages = [];   // the scripted sync_msg list
        this.cursors = new Map();   // cursor text -> index in kfMessages
        this.issued = [];       // next_cursor values in the order given
        this.served = new Set();    // msgids handed out by sync_msg
        this.states = new Map();    // `${open_kfid}|${external_userid}` -> state
        this.server = null;
        this.delayMs = 0;
    }

    async start() {
        this.server = http.createServer((req, res) => this.handle(req, res));
        await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
        this.port = this.server.address().port;
        return this;
    }

    get base() {
        return `http://127.0.0.1:${this.port}`;
    }

    async close() {
        if (!this.server) return;
        this.server.closeAllConnections?.();
        await new Promise((r) => this.server.close(r));
        this.server = null;
    }

    // The next `times` calls to path (e.g. '/cgi-bin/message/custom/send')
    // get answer instead of the normal one: a JSON object (with HTTP 200,
    // e.g. {errcode: -1, errmsg: 'system busy'}), or one of the network
    // failures FAIL.http(500), FAIL.drop (the connection closed without an
    // answer) and FAIL.hang(ms) (no answer for ms, then closed). skip: the
    // number of calls answered normally first.
    fail(path, answer, times = Infinity, { skip = 0 } = {}) {
        if (!this.failures.has(path)) this.failures.set(path, []);
        this.failures.get(path).push({ answer, times, skip });
    }

    clearFailures(path) {
        if (path) this.failures.delete(path);
        else this.failures.clear();
    }

    // Every token handed out so far is invalid from now on (40001).
    expireTokens() {
        this.tokens.official.clear();
        this.tokens.wecom.clear();
    }

    calls(path) {
        return this.requests.filter((r) => r.path === path);
    }

    get customSends() { return this.calls('/cgi-bin/message/custom/send'); }
    get kfSends() { return this.calls('/cgi-bin/kf/send_msg'); }
    // Calls that were answered errcode 0.
    ok(path) { return this.calls(path).filter((r) => r.answer && r.answer.errcode === 0); }

    // Add customer messages to the sync_msg script. Each: {external_userid,
    // content, open_kfid?, msgid?, origin?, msgtype?, ...}.
    addKf(...msgs) {
        for (const m of msgs) {
            const msg = {
                msgid: m.msgid ?? `msg${crypto.randomBytes(6).toString('hex')}`,
                open_kfid: m.open_kfid ?? 'wkStandInKf0001',
                external_userid: m.external_userid,
                send_time: m.send_time ?? now(),
                origin: m.origin ?? 3,
                msgtype: m.msgtype ?? 'text',
            };
            if (m.servicer_userid) msg.servicer_userid = m.servicer_userid;
            if (msg.msgtype === 'text') msg.text = { content: m.content };
            if (m.event) {
                // events carry their ids inside event{}, not at the top
                msg.event = { open_kfid: msg.open_kfid, ...m.event };
                delete msg.open_kfid;
                delete msg.external_userid;
            }
            this.kfMessages.push(msg);
        }
        return msgs.length;
    }

    json(res, status, obj, rec) {
        if (rec) rec.answer = obj;
        const b = JSON.stringify(obj);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(b) });
        res.end(b);
    }

    handle(req, res) {
        const chunks = [];
        req.on('data', (d) => chunks.push(d));
        req.on('end', () => {
            const u = new URL(req.url, 'http://x');
            const raw = Buffer.concat(chunks).toString('utf8');
            let body;
            if (raw) {
                try { body = JSON.parse(raw); } catch { body = undefined; }
            }
            const rec = {
                method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams),
                body, raw, t: Date.now(), headers: req.headers,
            };
            this.requests.push(rec);
            const go = () => this.route(rec, res);
            if (this.delayMs) setTimeout(go, this.delayMs);
            else go();
        });
    }

    route(rec, res) {
        const { path, query: q, method } = rec;
        if (path === '/cgi-bin/token') {
            if (method !== 'GET') return this.json(res, 200, { errcode: 43001, errmsg: 'require GET method' }, rec);
            if (q.grant_type !== 'client_credential') return this.json(res, 200, { errcode: 40002, errmsg: 'invalid grant_type' }, rec);
            if (q.appid !== this.appid) return this.json(res, 200, { errcode: 40013, errmsg: 'invalid appid' }, rec);
            if (q.secret !== this.secret) return this.json(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' }, rec);
            const f = this.takeFailure(path);
            if (f) return this.failWith(res, f, rec);
            const t = `OA_${crypto.randomBytes(24).toString('hex')}`;
            this.tokens.official.add(t);
            return this.json(res, 200, { access_token: t, expires_in: 7200 }, rec);
        }
        if (path === '/cgi-bin/gettoken') {
            if (method !== 'GET') return this.json(res, 200, { errcode: 43001, errmsg: 'require GET method' }, rec);
            if (q.corpid !== this.corpid) return this.json(res, 200, { errcode: 40013, errmsg: 'invalid corpid' }, rec);
            if (q.corpsecret !== this.corpsecret) return this.json(res, 200, { errcode: 40001, errmsg: 'invalid secret' }, rec);
            const f = this.takeFailure(path);
            if (f) return this.failWith(res, f, rec);
            const t = `WC_${crypto.randomBytes(24).toString('hex')}`;
            this.tokens.wecom.add(t);
            return this.json(res, 200, { errcode: 0, errmsg: 'ok', access_token: t, expires_in: 7200 }, rec);
        }
        const official = path === '/cgi-bin/message/custom/send';
        const wecom = path.startsWith('/cgi-bin/kf/');
        if (!official && !wecom) return this.json(res, 404, { errcode: 404, errmsg: `stand-in: no ${path}` }, rec);
        if (method !== 'POST') return this.json(res, 200, { errcode: 43002, errmsg: 'require POST method' }, rec);
        const tokens = official ? this.tokens.official : this.tokens.wecom;
        if (!q.access_token) return this.json(res, 200, { errcode: 41001, errmsg: 'access_token missing' }, rec);
        if (!tokens.has(q.access_token)) return this.json(res, 200, INVALID_TOKEN, rec);
        if (rec.body === undefined || typeof rec.body !== 'object') {
            return this.json(res, 200, { errcode: 47001, errmsg: `data format error: ${rec.raw.slice(0, 80)}` }, rec);
        }
        const f = this.takeFailure(path);
        if (f) return this.failWith(res, f, rec);
        const b = rec.body;
        const ok = { errcode: 0, errmsg: 'ok' };
        switch (path) {
        case '/cgi-bin/message/custom/send':
            if (typeof b.touser !== 'string' || !b.touser) return this.json(res, 200, { errcode: 40003, errmsg: 'invalid openid' }, rec);
            if (b.msgtype !== 'text' || typeof b.text?.content !== 'string') {
                return this.json(res, 200, { errcode: 40008, errmsg: 'invalid message type' }, rec);
            }
            return this.json(res, 200, ok, rec);
        case '/cgi-bin/kf/send_msg':
            if (typeof b.touser !== 'string' || typeof b.open_kfid !== 'string') {
                return this.json(res, 200, { errcode: 40096, errmsg: 'invalid external userid or open_kfid' }, rec);
            }
            if (b.msgtype !== 'text' || typeof b.text?.content !== 'string') {
                return this.json(res, 200, { errcode: 40008, errmsg: 'invalid message type' }, rec);
            }
            // WeCom takes send_msg only while the session is new or the bot's (0, 1)
            if ((this.states.get(`${b.open_kfid}|${b.touser}`) ?? 0) > 1) {
                return this.json(res, 200, { errcode: 95018, errmsg: 'send msg not allowed in this service_state (stand-in)' }, rec);
            }
            return this.json(res, 200, { ...ok, msgid: `sent${crypto.randomBytes(6).toString('hex')}` }, rec);
        case '/cgi-bin/kf/sync_msg': {
            let start = 0;
            if (b.cursor) {
                if (!this.cursors.has(b.cursor)) return this.json(res, 200, { errcode: 95007, errmsg: 'invalid cursor (stand-in)' }, rec);
                start = this.cursors.get(b.cursor);
            }
            const limit = Math.min(Number(b.limit) > 0 ? Number(b.limit) : 1000, 1000, this.pageSize);
            const page = this.kfMessages.slice(start, start + limit);
            const end = start + page.length;
            const next = `cur${end}_${crypto.randomBytes(4).toString('hex')}`;
            this.cursors.set(next, end);
            this.issued.push(next);
            for (const m of page) this.served.add(m.msgid);
            rec.page = page.map((m) => m.msgid);
            return this.json(res, 200, {
                ...ok, next_cursor: next, has_more: end < this.kfMessages.length ? 1 : 0, msg_list: page,
            }, rec);
        }
        case '/cgi-bin/kf/service_state/get': {
            const st = this.states.get(`${b.open_kfid}|${b.external_userid}`) ?? 0;
            return this.json(res, 200, { ...ok, service_state: st, servicer_userid: '' }, rec);
        }
        case '/cgi-bin/kf/service_state/trans': {
            const s = Number(b.service_state);
            if (![0, 1, 2, 3, 4].includes(s) || (s === 3 && !b.servicer_userid)) {
                return this.json(res, 200, { errcode: 95014, errmsg: 'invalid service_state or servicer_userid' }, rec);
            }
            this.states.set(`${b.open_kfid}|${b.external_userid}`, s);
            return this.json(res, 200, { ...ok, msg_code: `MSGCODE${crypto.randomBytes(4).toString('hex')}` }, rec);
        }
        default:
            return this.json(res, 200, { ...ok }, rec);
        }
    }

    failWith(res, f, rec) {
        if (!f[NET]) return this.json(res, 200, f, rec);
        rec.answer = { failure: f[NET] };
        if (f.status) {
            const b = f.body ?? `<html><body>${f.status} stand-in failure</body></html>`;
            res.writeHead(f.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(b) });
            res.end(b);
        } else if (f.hangMs) {
            const t = setTimeout(() => res.socket?.destroy(), f.hangMs);
            res.socket?.once('close', () => clearTimeout(t));
        } else {
            res.socket?.destroy();
        }
    }

    takeFailure(path) {
        const list = this.failures.get(path);
        if (!list || !list.length) return undefined;
        const f = list[0];
        if (f.skip > 0) {
            f.skip--;
            return undefined;
        }
        f.times--;
        if (f.times <= 0) list.shift();
        return f.answer;
    }

    // A short account of the requests, for failure messages.
    describe(filter) {
        return this.requests.filter((r) => !filter || r.path === filter).map((r) =>
            `${r.method} ${r.path} ${JSON.stringify(r.body ?? r.query)} -> ${JSON.stringify(r.answer)}`).join('\n');
    }
}
