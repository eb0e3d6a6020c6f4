// test/redis/helpers.mjs - helpers of the scale-out tests (test/redis/*.test.mjs):
// a real redis-server on a loopback port in a temporary folder, and several
// csbot-server instances sharing their state through it (--redis).
//
// A Redis runs `redis-server --port P --bind 127.0.0.1 --dir TMP --appendonly
// yes --appendfsync always --save ''` in the foreground; start() waits until it
// answers PING; stop() is SIGTERM, kill9() is SIGKILL, and start() again brings
// it back on the same port and folder (so it reads its AOF back).
//
// A Cluster is one Redis and N csbot-server instances (RServer, a Server of
// ../server/helpers.mjs) with the same knowledge-base file, each with its own
// --db in its own temporary folder, all with --redis pointing at the Redis.
//
// Environment (besides those of ../server/helpers.mjs):
//   CSBOT_REDIS_SERVER  the redis-server binary (default: redis-server on PATH)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import {
    BIN, SHOP_KB, SCALE, Server, freePort, waitFor, sleep, expectStatus,
} from '../server/helpers.mjs';

export * from '../server/helpers.mjs';

const REDIS_BIN = process.env.CSBOT_REDIS_SERVER || 'redis-server';
const KEEP = process.env.CSBOT_TEST_KEEP === '1';
const VERBOSE = process.env.CSBOT_TEST_VERBOSE === '1';

// Every child of this file still alive when the test process exits is killed
// (../server/helpers.mjs does the same for the servers it spawns).
const children = new Set();
process.on('exit', () => {
    for (const c of children) {
        try { c.kill('SIGKILL'); } catch { /* gone */ }
    }
});

function tempDir(tag) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `csbot-redis-test-${tag}-`));
}

// ---- a tiny RESP client: one command on a new connection ----

// Encode a command as a RESP array of bulk strings.
function encode(args) {
    let s = `*${args.length}\r\n`;
    for (const a of args) {
        const b = Buffer.from(String(a));
        s += `$${b.length}\r\n${b.toString('binary')}\r\n`;
    }
    return Buffer.from(s, 'binary');
}

// Parse one RESP value from buf at offset i; [value, next offset] or null
// when incomplete. Errors are returned as Error objects.
function parse(buf, i = 0) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const type = String.fromCharCode(buf[i]);
    const line = buf.toString('utf8', i + 1, eol);
    const next = eol + 2;
    switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '$': {
        const n = Number(line);
        if (n < 0) return [null, next];
        if (buf.length < next + n + 2) return null;
        return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
        const n = Number(line);
        if (n < 0) return [null, next];
        const out = [];
        let j = next;
        for (let k = 0; k < n; k++) {
            const r = parse(buf, j);
            if (!r) return null;
            out.push(r[0]);
            j = r[1];
        }
        return [out, j];
    }
    default: throw new Error(`bad RESP reply: ${JSON.stringify(buf.toString('utf8', i, i + 80))}`);
    }
}

// Send one command (an array, or raw text such as 'PING\r\n') to
// 127.0.0.1:port and resolve with its reply (an Error for a -ERR reply);
// rejects on a connection error or after timeoutMs.
export function redisCommand(port, args, { timeoutMs = 2000 } = {}) {
    return new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        let buf = Buffer.alloc(0);
        let done = false;
        const finish = (err, v) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            if (err) reject(err); else resolve(v);
        };
        const timer = setTimeout(() => finish(new Error(`redis on port ${port}: no answer in ${timeoutMs} ms`)),
            timeoutMs * SCALE);
        sock.on('connect', () => sock.write(typeof args === 'string' ? args : encode(args)));
        sock.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            let r;
            try { r = parse(buf); } catch (e) { finish(e); return; }
            if (r) finish(null, r[0]);
        });
        sock.on('error', (e) => finish(e));
        sock.on('close', () => finish(new Error(`redis on port ${port} closed the connection`)));
    });
}

// Whether a Redis answers PING with +PONG on port (false while it is down or
// still loading its AOF: -LOADING).
export async function ping(port) {
    try {
        return (await redisCommand(port, 'PING\r\n', { timeoutMs: 1000 })) === 'PONG';
    } catch {
        return false;
    }
}

// ---- redis-server ----

export class Redis {
    constructor({ tag = 'redis', dir } = {}) {
        this.dir = dir || tempDir(tag);
        this.logFile = path.join(this.dir, 'redis.log');
        this.log = '';
        this.port = 0;
        this.proc = null;
        this.exited = Promise.resolve({ code: null, signal: null });
    }

    static async start(opts) {
        const r = new Redis(opts);
        await r.start();
        return r;
    }

    get url() {
        return `redis://127.0.0.1:${this.port}/0`;
    }

    args(port) {
        return ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir,
            '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
            '--daemonize', 'no'];
    }

    // Start redis-server; the first time on a free port, afterwards on the
    // same port and folder (a restart). Resolves once it answers PING.
    async start() {
        assert.ok(!this.proc, 'redis-server already running');
        if (this.port) {
            // a restart: the same port, retried for a moment in case the
            // old one's socket is not quite gone yet
            let last;
            for (let i = 0; i < 5; i++) {
                try {
                    await this.spawnOn(this.port);
                    return this;
                } catch (e) {
                    last = e;
                    await sleep(200);
                }
            }
            throw last;
        }
        let last;
        for (let attempt = 0; attempt < 3; attempt++) {
            const port = await freePort();
            try {
                await this.spawnOn(port);
                return this;
            } catch (e) {
                last = e;
            }
        }
        throw last;
    }

    async spawnOn(port) {
        const p = spawn(REDIS_BIN, this.args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(p);
        this.proc = p;
        let exit = null;
        const onData = (d) => {
            const s = d.toString();
            this.log += s;
            fs.appendFileSync(this.logFile, s);
            if (VERBOSE) process.stderr.write(`[redis ${port}] ${s}`);
        };
        p.stdout.on('data', onData);
        p.stderr.on('data', onData);
        this.exited = new Promise((res) => {
            p.on('exit', (code, signal) => {
                children.delete(p);
                if (this.proc === p) this.proc = null;
                exit = { code, signal };
                res(exit);
            });
        });
        const spawnErr = new Promise((res) => p.on('error', (e) => { exit = { error: e }; res(); }));
        try {
            await Promise.race([
                waitFor(async () => {
                    if (exit) throw new Error('exited');
                    return ping(port);
                }, { timeoutMs: 10000, intervalMs: 50, what: `redis-server on port ${port} to answer PING` }),
                spawnErr.then(() => { throw exit.error; }),
            ]);
        } catch (e) {
            if (this.proc === p) {
                if (p.pid === undefined) {
                    this.proc = null; // never started: no exit to wait for
                } else {
                    p.kill('SIGKILL');
                    await this.exited;
                }
            }
            throw new Error(`redis-server ${this.args(port).join(' ')} did not start ` +
                `(${exit ? JSON.stringify(exit) : e.message}):\n${this.log.slice(-1500)}`);
        }
        if (exit) throw new Error(`redis-server exited: ${JSON.stringify(exit)}\n${this.log.slice(-1500)}`);
        this.port = port;
        return this;
    }

    // SIGTERM (a graceful shutdown); resolves {code, signal} once it exited.
    async stop() {
        if (this.proc && this.proc.pid === undefined) this.proc = null;
        if (!this.proc) return { code: null, signal: null, notRunning: true };
        const p = this.proc;
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 10000 * SCALE);
        const r = await this.exited;
        clearTimeout(t);
        return r;
    }

    // kill -9; resolves once it is gone (its port refuses connections).
    async kill9() {
        if (this.proc && this.proc.pid === undefined) this.proc = null;
        if (!this.proc) return null;
        this.proc.kill('SIGKILL');
        return this.exited;
    }

    // Stop and start again on the same port and folder.
    async restart({ hard = false } = {}) {
        if (hard) await this.kill9(); else await this.stop();
        return this.start();
    }

    command(args, opts) {
        return redisCommand(this.port, args, opts);
    }

    async close() {
        await this.stop();
        if (!KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
        else process.stderr.write(`kept ${this.dir}\n`);
    }
}

// ---- csbot-server instances on Redis ----

// `csbot-server agent add NAME --redis URL` with the password on stdin, run
// in folder cwd (so that nothing lands in the repository if the command
// also opens a default SQLite file there).
export function addAgentRedis(url, name, password, { cwd, extraArgs = [], timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
        const args = ['agent', 'add', name, '--redis', url, ...extraArgs];
        const p = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd });
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
            resolve({ code, signal, stdout, stderr, args });
        });
        p.stdin.on('error', () => { /* the child may not read stdin */ });
        p.stdin.end(`${password}\n`);
    });
}

// A csbot-server with --redis URL, a shared knowledge-base file and its own
// database in its own folder.
export class RServer extends Server {
    constructor(opts) {
        super({ quiet: true, ...opts, dir: opts.dir || tempDir(opts.tag || 'srv') });
        this.redis = opts.redis; // a Redis (its url is read at each start)
        if (opts.kb) this.kb = opts.kb;
        this.name = opts.name || '?';
    }

    args(port) {
        return super.args(port).concat(['--redis', this.redis.url]);
    }

    // A child that could not even be spawned (an error such as ENOENT or
    // ETXTBSY while `make` relinks the binary) has no exit to wait for:
    // forget it, so that stop() and close() do not wait forever.
    async spawnOn(port) {
        try {
            return await super.spawnOn(port);
        } catch (e) {
            if (this.proc && this.proc.pid === undefined) this.proc = null;
            throw e;
        }
    }

    // Restart on the same port when it is free (a load balancer would keep
    // its address), else on another one. A failure to spawn the binary at
    // all (it is being rebuilt) is retried for a few seconds.
    async start() {
        for (let attempt = 0; ; attempt++) {
            try {
                return await this.startOnce();
            } catch (e) {
                if (!e.code || attempt >= 15) throw e;
                await sleep(200);
            }
        }
    }

    async startOnce() {
        if (this.port && !this.proc) {
            try {
                await this.spawnOn(this.port);
                return this;
            } catch (e) {
                if (!/exited/.test(e.message)) throw e;
            }
        }
        return super.start();
    }

    async stop() {
        if (this.proc && this.proc.pid === undefined) this.proc = null;
        return super.stop();
    }

    async kill9() {
        if (this.proc && this.proc.pid === undefined) this.proc = null;
        return super.kill9();
    }

    async restart({ hard = false } = {}) {
        if (hard) await this.kill9(); else await this.stop();
        return this.start();
    }

    get alive() {
        return !!this.proc;
    }
}

export class Cluster {
    // n instances (A, B, C...); agents {name: password} are added through
    // `agent add NAME --redis URL` before the instances start.
    constructor({ n = 2, tag = 'cluster', agents = {}, serverOpts = {} } = {}) {
        this.n = n;
        this.tag = tag;
        this.agents = agents;
        this.serverOpts = serverOpts;
        this.dir = tempDir(tag);
        this.kb = path.join(this.dir, 'kb.json');
        fs.copyFileSync(SHOP_KB, this.kb);
        this.redis = null;
        this.servers = [];
    }

    static async start(opts) {
        const c = new Cluster(opts);
        try {
            await c.start();
        } catch (e) {
            await c.close();
            throw e;
        }
        return c;
    }

    async start() {
        this.redis = await Redis.start({ dir: fs.mkdtempSync(path.join(this.dir, 'redis-')) });
        for (const [name, pw] of Object.entries(this.agents)) await this.addAgent(name, pw);
        const names = 'ABCDEFGH';
        assert.ok(this.n >= 1 && this.n <= names.length, `n = ${this.n}`);
        for (let i = 0; i < this.n; i++) {
            this.servers.push(new RServer({
                ...this.serverOpts,
                name: names[i],
                redis: this.redis,
                kb: this.kb,
                dir: fs.mkdtempSync(path.join(this.dir, `srv${names[i]}-`)),
            }));
        }
        // one after the other: they may set the Redis up on their first start
        for (const s of this.servers) await s.start();
        return this;
    }

    async addAgent(name, password) {
        const r = await addAgentRedis(this.redis.url, name, password, { cwd: this.dir });
        assert.equal(r.code, 0,
            `csbot-server ${r.args.join(' ')} exited ${r.code} (${r.signal}): ${r.stderr}${r.stdout}`);
        return r;
    }

    get A() { return this.servers[0]; }
    get B() { return this.servers[1]; }
    get C() { return this.servers[2]; }

    // The servers' log tails and the Redis log tail, for failure messages.
    logs(chars = 1200) {
        return this.servers.map((s) => `--- server ${s.name} (${s.dir}):\n${s.log.slice(-chars)}`).join('\n') +
            `\n--- redis (${this.redis?.dir}):\n${this.redis?.log.slice(-chars) ?? ''}`;
    }

    async close() {
        // Each in turn, each bounded (SIGKILL after 10 s is in stop(); this
        // bound is for a stop that cannot even tell when it is done).
        const bounded = (p) => Promise.race([p, new Promise((r) => setTimeout(r, 15000 * SCALE).unref())])
            .catch(() => { /* already gone */ });
        for (const s of this.servers) await bounded(s.stop());
        if (this.redis) await bounded(this.redis.stop());
        if (!KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
        else process.stderr.write(`kept ${this.dir}\n`);
    }
}

// ---- requests that may fail (for crash and outage tests) ----

// POST a customer message with a bound on the time; never throws. Resolves
// {ok, status, json, error, ms}: ok when 200, error when no HTTP answer.
export async function trySay(srv, id, text, { timeoutMs = 10000 } = {}) {
    const t0 = Date.now();
    try {
        const res = await fetch(`${srv.base}/api/v1/conversations/${id}/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text }), signal: AbortSignal.timeout(timeoutMs * SCALE),
        });
        const txt = await res.text();
        let json;
        try { json = JSON.parse(txt); } catch { /* not JSON */ }
        return {
            ok: res.status === 200, status: res.status, json, text: txt,
            contentType: res.headers.get('content-type') || '', ms: Date.now() - t0, srv: srv.name,
        };
    } catch (e) {
        return { ok: false, status: 0, error: `${e.name}: ${e.message}`, ms: Date.now() - t0, srv: srv.name };
    }
}

// Check that a transcript's messages include every acknowledged turn
// ({seq, customer, bot}) exactly as it was answered.
export function checkAcked(messages, acked, what = '') {
    const bySeq = new Map(messages.map((m) => [m.seq, m]));
    for (const a of acked) {
        const b = bySeq.get(a.seq), c = bySeq.get(a.seq - 1);
        assert.ok(b && c, `${what}acknowledged turn seq ${a.seq} (${a.customer}) is missing: ` +
            JSON.stringify(messages.map((m) => [m.seq, m.role, m.text.slice(0, 20)])));
        assert.equal(b.role, 'bot', `${what}seq ${a.seq}: ${JSON.stringify(b)}`);
        assert.equal(b.text, a.bot, `${what}seq ${a.seq}: another reply is stored`);
        assert.equal(c.role, 'customer', `${what}seq ${a.seq - 1}: ${JSON.stringify(c)}`);
        assert.equal(c.text, a.customer, `${what}seq ${a.seq - 1}: another message is stored`);
    }
}

// The dashboard's counters that must agree between instances.
export function counters(d) {
    return {
        conversations: d.conversations,
        customer_messages: d.customer_messages,
        bot_replies: d.bot_replies,
        actions: d.actions,
        handoffs: d.handoffs,
    };
}
