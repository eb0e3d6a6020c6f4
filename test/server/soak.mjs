// test/server/soak.mjs - a soak of the running csbot-server: many
// conversations in Chinese and English talk at once for a bounded time,
// while the knowledge base is hot-reloaded every few seconds (a good
// version and a broken one in turn) and an agent claims, answers and
// resolves the handoffs. It reports requests served, failures, p99
// latency, and the server's memory and open files at the start (after a
// warm-up) and at the end.
//
//   node test/server/soak.mjs [--seconds 300] [--clients 50] [--reload-ms 3000]
//   (make soak; test/server/soak.test.mjs runs a short one in make test)
//
// Exit status 1 when a request failed, or memory or file descriptors grew
// past the bounds (--max-rss-growth-mb 64, --max-fd-growth 16).
import fs from 'node:fs';
import { Server, sleep } from './helpers.mjs';

const MESSAGES = [
    '你好', '我的快递到哪了', '202411223344', '怎么退货', '可以开发票吗', '有优惠券吗',
    '这个有货吗', '太慢了，我要投诉', '转人工', '谢谢',
    'hello', 'where is my parcel', 'how do I return an item', 'can I get an invoice',
    'do you ship to Hong Kong', 'I want to talk to a human', 'thanks',
    '請問運費多少', '我想退貨', 'asdfgh qwerty',
];

function procStats(pid) {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] || 0) / 1024;
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    return { rssMb: Math.round(rss * 10) / 10, fds };
}

function percentile(sorted, p) {
    if (!sorted.length) return 0;
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

export async function soak({ seconds = 300, clients = 50, reloadMs = 3000,
    maxRssGrowthMb = 64, maxFdGrowth = 16, log = console.log } = {}) {
    const srv = await Server.start({ tag: 'soak', quiet: true, agents: { soak: 'soak-password-1' } });
    const good = fs.readFileSync(srv.kb, 'utf8');
    const end = Date.now() + seconds * 1000;
    const warmEnd = Date.now() + Math.min(10000, seconds * 100);
    const lat = [];
    const failures = [];
    const counts = { replies: 0, handoffs: 0, claims: 0, resolves: 0, reloads: 0, broken: 0 };
    let start = null;

    async function post(path, json, agent) {
        const t0 = performance.now();
        const r = await srv.post(path, json, { agent, timeoutMs: 10000 });
        return { r, ms: performance.now() - t0 };
    }

    async function customer(k) {
        const id = await srv.newConversation({ lang: k % 2 ? 'en' : 'zh-Hans' });
        let i = k;
        while (Date.now() < end) {
            const text = MESSAGES[i++ % MESSAGES.length];
            const { r, ms } = await post(`/api/v1/conversations/${id}/messages`, { text });
            if (r.status !== 200) {
                failures.push(r.describe());
                return;
            }
            if (Date.now() > warmEnd) lat.push(ms);
            counts.replies++;
            if (r.json.action === 'handoff') counts.handoffs++;
            // the same conversations all along (a conversation handed off
            // talks on until the agent resolves it): memory that grows is
            // a leak, not more conversations
            await sleep(5 + (i % 10));
        }
    }

    async function agent() {
        const me = await srv.login('soak', 'soak-password-1');
        while (Date.now() < end) {
            const q = await srv.queue(me);
            const open = (q || []).filter((h) => h.status === 'open').slice(0, 3);
            for (const h of open) {
                const base = `/api/v1/agent/handoffs/${h.ticket}`;
                const c = await srv.post(`${base}/claim`, {}, { agent: me });
                if (c.status === 409) continue; // resolved meanwhile
                if (c.status !== 200) { failures.push(c.describe()); return; }
                counts.claims++;
                const m = await srv.post(`${base}/messages`, { text: '您好，我来帮您处理。' }, { agent: me });
                if (m.status !== 200) { failures.push(m.describe()); return; }
                const r = await srv.post(`${base}/resolve`, { note: 'soak' }, { agent: me });
                if (r.status !== 200) { failures.push(r.describe()); return; }
                counts.resolves++;
            }
            await sleep(200);
        }
    }

    async function reloader() {
        let broken = false;
        while (Date.now() < end) {
            await sleep(Math.max(0, Math.min(reloadMs, end - Date.now())));
            if (Date.now() >= end) break;
            broken = !broken;
            // replaced by rename, as editors do; the broken version must be
            // refused and the served base kept
            const tmp = `${srv.kb}.tmp`;
            fs.writeFileSync(tmp, broken ? good.slice(0, good.length / 2) : good);
            fs.renameSync(tmp, srv.kb);
            counts.reloads++;
            if (broken) counts.broken++;
        }
        fs.writeFileSync(srv.kb, good);
    }

    const sampler = (async () => {
        while (Date.now() < warmEnd) await sleep(100);
        start = procStats(srv.proc.pid);
    })();
    const t0 = Date.now();
    await Promise.all([...Array.from({ length: clients }, (_, k) => customer(k)), agent(),
        reloader(), sampler]);
    await sleep(500); // let the last reload land
    const endStats = procStats(srv.proc.pid);
    const health = await srv.health();
    const elapsed = (Date.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const report = {
        seconds: Math.round(elapsed), clients,
        requests: counts.replies, per_second: Math.round(counts.replies / elapsed),
        failures: failures.length,
        p50_ms: Math.round(percentile(lat, 0.5) * 100) / 100,
        p99_ms: Math.round(percentile(lat, 0.99) * 100) / 100,
        handoffs: counts.handoffs, claims: counts.claims, resolves: counts.resolves,
        reloads: counts.reloads, broken_reloads: counts.broken,
        rss_mb_start: start?.rssMb, rss_mb_end: endStats.rssMb,
        fds_start: start?.fds, fds_end: endStats.fds,
        kb_generation: health.generation,
    };
    const exit = await srv.stop();
    const problems = [];
    if (failures.length) problems.push(`${failures.length} failed requests, first:\n${failures[0]}`);
    if (start && endStats.rssMb - start.rssMb > maxRssGrowthMb)
        problems.push(`memory grew ${Math.round(endStats.rssMb - start.rssMb)} MB (bound ${maxRssGrowthMb})`);
    if (start && endStats.fds - start.fds > maxFdGrowth)
        problems.push(`open files grew by ${endStats.fds - start.fds} (bound ${maxFdGrowth})`);
    if (exit.code !== 0) problems.push(`the server exited with ${exit.code ?? exit.signal} on SIGTERM`);
    // each good version is loaded (the generation counts them); the broken
    // ones are refused and change nothing
    if (counts.reloads - counts.broken > 0 && !(health.generation > 1))
        problems.push(`no reload took effect (generation ${health.generation})`);
    if (health.status !== 'ok') problems.push(`healthz: ${JSON.stringify(health)}`);
    log(JSON.stringify(report, null, 1));
    await srv.close();
    return { report, problems };
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const argv = process.argv.slice(2);
    const opt = (name, dflt) => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? Number(argv[i + 1]) : dflt;
    };
    const { problems } = await soak({
        seconds: opt('seconds', 300), clients: opt('clients', 50),
        reloadMs: opt('reload-ms', 3000), maxRssGrowthMb: opt('max-rss-growth-mb', 64),
        maxFdGrowth: opt('max-fd-growth', 16),
    });
    for (const p of problems) console.error(`soak: ${p}`);
    console.error(problems.length ? 'soak: FAILED' : 'soak: OK');
    process.exit(problems.length ? 1 : 0);
}
