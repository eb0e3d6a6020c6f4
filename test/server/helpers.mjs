// test/server/helpers.mjs - shared helpers of the csbot-server end-to-end tests.
//
// A Server runs build/csbot-server (or $CSBOT_SERVER) on a loopback port
// with its own temporary directory: a copy of intents/shop.json (kb.json)
// and a fresh database (csbot.db). Requests go through the global fetch;
// failed expectations say which request got which answer.
//
// Environment:
//   CSBOT_SERVER         the server binary (default build/csbot-server)
//   CSBOT_TIMEOUT_SCALE  multiply every timeout (default 1, or 4 for a
//                        sanitizer build, whose path contains /san-)
//   CSBOT_TEST_KEEP=1    keep the temporary directories (server.log inside)
//   CSBOT_TEST_VERBOSE=1 copy the servers' logs to stderr

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(ROOT, process.env.CSBOT_SERVER || 'build/csbot-server');
export const SHOP_KB = path.join(ROOT, 'intents', 'shop.json');
export const SCALE = Number(process.env.CSBOT_TIMEOUT_SCALE) ||
    (BIN.includes(`${path.sep}san-`) ? 4 : 1);
const KEEP = process.env.CSBOT_TEST_KEEP === '1';
const VERBOSE = process.env.CSBOT_TEST_VERBOSE === '1';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every child still alive when this test process exits is killed.
const children = new Set();
process.on('exit', () => {
    for (const c of children) {
        try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
});

// A free TCP port on 127.0.0.1 (the kernel picks it; closed again at once).
export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

// Poll fn() (sync or async) until it returns a truthy value; that value, or
// throws after timeoutMs (scaled) with the message what.
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
    const end = Date.now() + timeoutMs * SCALE;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
        } catch (e) {
            last = e;
        }
        if (Date.now() > end) {
            throw new Error(`timed out waiting for ${what}` +
                (last instanceof Error ? ` (last error: ${last.message})` : ''));
        }
        await sleep(intervalMs);
    }
}

// A new temporary directory with kb.json (a copy of intents/shop.json).
export function makeTempDir(tag = 'srv') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `csbot-server-test-${tag}-`));
    fs.copyFileSync(SHOP_KB, path.join(dir, 'kb.json'));
    return dir;
}

// Run csbot-server with args and stdin; resolves {code, signal, stdout, stderr}.
export function runBin(args, { input = '', timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
        const p = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        children.add(p);
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => {
            p.kill('SIGKILL');
            reject(new Error(`${BIN} ${args.join(' ')} did not finish in ${timeoutMs * SCALE} ms`));
        }, timeoutMs * SCALE);
        p.on('error', (e) => { clearTimeout(timer); reject(e); });
        p.on('close', (code, signal) => {
            clearTimeout(timer);
            children.delete(p);
            resolve({ code, signal, stdout, stderr });
        });
        p.stdin.on('error', () => { /* the child may not read stdin */ });
        p.stdin.end(input);
    });
}

// `csbot-server agent add NAME --db DB` with the password on stdin, the way
// a person does it: `echo PASSWORD | csbot-server agent add ...`.
export async function addAgent(db, name, password) {
    const r = await runBin(['agent', 'add', name, '--db', db], { input: `${password}\n` });
    assert.equal(r.code, 0,
        `csbot-server agent add ${name} --db ${db} exited ${r.code} (${r.signal}): ${r.stderr}`);
    return r;
}

// One HTTP answer, with what was asked, for failure messages.
export class Res {
    constructor(method, url, reqBody, status, headers, buf) {
        this.method = method;
        this.url = url;
        this.reqBody = reqBody;
        this.status = status;
        this.headers = headers;
        this.text = buf.toString('utf8');
        this.json = undefined;
        const ct = headers.get('content-type') || '';
        if (ct.includes('json') || /^\s*[{[]/.test(this.text)) {
            try { this.json = JSON.parse(this.text); } catch { /* not JSON */ }
        }
    }

    describe() {
        let body = this.reqBody;
        if (body === undefined) body = '';
        else if (body instanceof ReadableStream) body = '<a stream, sent chunked>';
        else if (typeof body !== 'string') body = Buffer.from(body).toString('utf8');
        if (body.length > 300) body = `${body.slice(0, 300)}... (${body.length} chars)`;
        let text = this.text.length > 600 ? `${this.text.slice(0, 600)}...` : this.text;
        return `${this.method} ${this.url}${body ? ` body=${body}` : ''} -> ${this.status} ${text}`;
    }

    get code() {
        return this.json && this.json.error ? this.json.error.code : undefined;
    }
}

// Fail unless res has one of the statuses (a number or an array); for an
// error, also check the documented error body {"error": {"code", "message"}}
// and, when given, its code (a string or an array of them).
export function expectStatus(res, status, code) {
    const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
    if (!ok) {
        assert.fail(`expected HTTP ${status}: ${res.describe()}`);
    }
    const api = res.url.startsWith('/api/');
    if (api && res.status !== 204) {
        const ct = res.headers.get('content-type') || '';
        assert.ok(ct.startsWith('application/json'),
            `content-type ${JSON.stringify(ct)} is not application/json: ${res.describe()}`);
    }
    if (res.status >= 400 && (api || code !== undefined)) {
        assert.ok(res.json && res.json.error && typeof res.json.error.code === 'string' &&
            typeof res.json.error.message === 'string',
            `error body is not {"error": {"code", "message"}}: ${res.describe()}`);
        if (code !== undefined) {
            const codes = Array.isArray(code) ? code : [code];
            assert.ok(codes.includes(res.json.error.code),
                `expected error code ${codes.join(' or ')}: ${res.describe()}`);
        }
    }
    return res;
}

export class Server {
    // opts: dir (default: a new temp dir), rateLimit (default 0), quiet,
    // utcOffset, args (extra arguments), agents ({name: password}, added
    // before the server starts).
    constructor(opts = {}) {
        this.opts = opts;
        this.dir = opts.dir || makeTempDir(opts.tag);
        this.kb = path.join(this.dir, 'kb.json');
        this.db = path.join(this.dir, 'csbot.db');
        this.logFile = path.join(this.dir, 'server.log');
        this.log = '';
        this.proc = null;
        this.port = 0;
    }

    static async start(opts = {}) {
        const s = new Server(opts);
        for (const [name, pw] of Object.entries(opts.agents || {})) {
            await addAgent(s.db, name, pw);
        }
        await s.start();
        return s;
    }

    get base() {
        return `http://127.0.0.1:${this.port}`;
    }

    args(port) {
        const a = ['--kb', this.kb, '--db', this.db, '--listen', `127.0.0.1:${port}`,
            '--rate-limit', String(this.opts.rateLimit ?? 0)];
        if (this.opts.quiet) a.push('--quiet');
        if (this.opts.utcOffset !== undefined) a.push('--utc-offset', String(this.opts.utcOffset));
        return a.concat(this.opts.args || []);
    }

    // Start (or restart) the process; resolves once it printed its
    // "listening on" line. A port taken between freePort() and the bind is
    // retried with another one.
    async start() {
        assert.ok(!this.proc, 'server already running');
        let lastErr;
        for (let attempt = 0; attempt < 3; attempt++) {
            const port = await freePort();
            try {
                await this.spawnOn(port);
                return this;
            } catch (e) {
                lastErr = e;
                if (!/exited/.test(e.message)) break;
            }
        }
        throw lastErr;
    }

    spawnOn(port) {
        return new Promise((resolve, reject) => {
            const args = this.args(port);
            const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
            children.add(p);
            this.proc = p;
            let settled = false;
            const mark = this.log.length;
            const onData = (d) => {
                const s = d.toString();
                this.log += s;
                fs.appendFileSync(this.logFile, s);
                if (VERBOSE) process.stderr.write(`[server ${port}] ${s}`);
                const m = /csbot-server: listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(this.log.slice(mark));
                if (!settled && m) {
                    settled = true;
                    clearTimeout(timer);
                    this.port = Number(m[1]);
                    if (this.port !== port) {
                        reject(new Error(`asked for port ${port}, server says ${this.port}`));
                        return;
                    }
                    resolve();
                }
            };
            p.stdout.on('data', onData);
            p.stderr.on('data', onData);
            this.exited = new Promise((res) => {
                p.on('exit', (code, signal) => {
                    children.delete(p);
                    if (this.proc === p) this.proc = null;
                    res({ code, signal });
                    if (!settled) {
                        settled = true;
                        clearTimeout(timer);
                        reject(new Error(`csbot-server ${args.join(' ')} exited (${code}, ${signal}) ` +
                            `before listening:\n${this.log.slice(mark).slice(-2000)}`));
                    }
                });
            });
            p.on('error', (e) => {
                if (!settled) { settled = true; clearTimeout(timer); reject(e); }
            });
            const timer = setTimeout(() => {
                if (settled) return;
                settled = true;
                p.kill('SIGKILL');
                reject(new Error(`csbot-server did not print its listening line within ` +
                    `${10000 * SCALE} ms:\n${this.log.slice(-2000)}`));
            }, 10000 * SCALE);
        });
    }

    // SIGTERM; resolves {code, signal} once it has exited (kill -9 after 10 s).
    async stop() {
        if (!this.proc) return { code: null, signal: null, notRunning: true };
        const p = this.proc;
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 10000 * SCALE);
        const r = await this.exited;
        clearTimeout(t);
        return r;
    }

    async kill9() {
        if (!this.proc) return null;
        this.proc.kill('SIGKILL');
        return this.exited;
    }

    signal(sig) {
        assert.ok(this.proc, 'server not running');
        this.proc.kill(sig);
    }

    // Stop and remove the temporary directory (kept with CSBOT_TEST_KEEP=1).
    async close() {
        await this.stop();
        if (!KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
        else process.stderr.write(`kept ${this.dir}\n`);
    }

    // req(method, path, {json, body, headers, cookie, csrf, timeoutMs})
    async req(method, p, o = {}) {
        const headers = { ...(o.headers || {}) };
        let body = o.body;
        if (o.json !== undefined) {
            body = JSON.stringify(o.json);
            headers['content-type'] ??= 'application/json';
        }
        if (o.agent) {
            headers.cookie = `csbot_agent=${o.agent.cookie}`;
            if (o.csrf !== false && method !== 'GET') headers['x-csrf-token'] = o.agent.csrf;
        }
        const url = this.base + p;
        let r;
        try {
            r = await fetch(url, {
                method, headers, body,
                ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
                signal: AbortSignal.timeout((o.timeoutMs || 30000) * SCALE),
            });
        } catch (e) {
            throw new Error(`${method} ${p}: ${e.message} (${e.cause ? e.cause.message : ''})\n` +
                `server log tail:\n${this.log.slice(-1500)}`);
        }
        const buf = Buffer.from(await r.arrayBuffer());
        return new Res(method, p, body, r.status, r.headers, buf);
    }

    get(p, o) { return this.req('GET', p, o); }
    post(p, json, o = {}) { return this.req('POST', p, { ...o, json }); }

    // ---- customers ----
    async newConversation(profile) {
        const r = expectStatus(await this.post('/api/v1/conversations',
            profile ? { profile } : undefined), 201);
        assert.match(r.json.id, /^[0-9a-f]{32}$/, r.describe());
        assert.equal(r.json.status, 'bot', r.describe());
        return r.json.id;
    }

    // POST a customer message; the reply JSON (fails unless 200).
    async say(id, text) {
        const r = expectStatus(await this.post(`/api/v1/conversations/${id}/messages`, { text }), 200);
        r.json._describe = r.describe();
        return r.json;
    }

    async transcript(id) {
        return expectStatus(await this.get(`/api/v1/conversations/${id}`), 200).json;
    }

    async health() {
        return expectStatus(await this.get('/healthz'), 200).json;
    }

    async generation() {
        return (await this.health()).generation;
    }

    async metrics() {
        const r = await this.get('/metrics');
        assert.equal(r.status, 200, r.describe());
        return r.text;
    }

    // ---- agents ----
    async login(name, password) {
        const r = expectStatus(await this.post('/api/v1/agent/login', { name, password }), 200);
        assert.equal(r.json.name, name, r.describe());
        assert.ok(typeof r.json.csrf === 'string' && r.json.csrf.length >= 16,
            `csrf token too short: ${r.describe()}`);
        const set = typeof r.headers.getSetCookie === 'function'
            ? r.headers.getSetCookie() : [r.headers.get('set-cookie') || ''];
        const line = set.find((c) => /^\s*csbot_agent=/.test(c));
        assert.ok(line, `no csbot_agent cookie set: ${JSON.stringify(set)} ${r.describe()}`);
        const cookie = /^\s*csbot_agent=([^;]*)/.exec(line)[1];
        assert.ok(cookie.length >= 16, `cookie value too short: ${line}`);
        return { name, csrf: r.json.csrf, cookie, setCookie: line };
    }

    async dashboard(agent, days) {
        const q = days === undefined ? '' : `?days=${days}`;
        return expectStatus(await this.get(`/api/v1/dashboard${q}`, { agent }), 200).json;
    }

    async queue(agent) {
        return expectStatus(await this.get('/api/v1/agent/queue', { agent }), 200).json.handoffs;
    }
}

// The value of a Prometheus sample `name{labels} value` (labels as text,
// e.g. 'action="answer"'), or undefined.
export function metric(text, name, labels) {
    for (const line of text.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = (m[3] || '').split(',').filter(Boolean).sort().join(',');
        const want = (labels || '').split(',').filter(Boolean).sort().join(',');
        if (got === want) return Number(m[4]);
    }
    return undefined;
}

// 32 random lowercase hex digits.
export function randomId() {
    let s = '';
    for (let i = 0; i < 32; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
    return s;
}

// Check a transcript's messages: seq 1, 2, 3... in order, known roles.
export function checkOrder(messages) {
    assert.ok(Array.isArray(messages), `messages is not an array: ${JSON.stringify(messages)}`);
    messages.forEach((m, i) => {
        assert.equal(m.seq, i + 1, `message ${i} has seq ${m.seq}: ${JSON.stringify(messages)}`);
        assert.ok(['customer', 'bot', 'agent', 'system'].includes(m.role), JSON.stringify(m));
        assert.equal(typeof m.text, 'string', JSON.stringify(m));
        assert.equal(typeof m.ts, 'number', JSON.stringify(m));
    });
    for (let i = 1; i < messages.length; i++) {
        assert.ok(messages[i].ts >= messages[i - 1].ts, `ts goes back: ${JSON.stringify(messages)}`);
    }
}

// A packet may be stored as an object or as JSON text.
export function asObject(v) {
    return typeof v === 'string' ? JSON.parse(v) : v;
}

// Send data as it is on a new connection to 127.0.0.1:port; resolves with
// everything read until the server closes it (or timeoutMs passes).
export function rawRequest(port, data, { timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        const sock = net.connect(port, '127.0.0.1');
        const done = () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); };
        const timer = setTimeout(() => sock.destroy(), timeoutMs * SCALE);
        sock.on('connect', () => sock.write(data));
        sock.on('data', (d) => chunks.push(d));
        sock.on('error', (e) => { if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return; reject(e); });
        sock.on('close', done);
    });
}

// A body sent with Transfer-Encoding: chunked (no Content-Length), in
// pieces of 8 KiB.
export function chunked(text) {
    const bytes = Buffer.from(text);
    return new ReadableStream({
        start(c) {
            for (let i = 0; i < bytes.length; i += 8192) c.enqueue(new Uint8Array(bytes.subarray(i, i + 8192)));
            c.close();
        },
    });
}
