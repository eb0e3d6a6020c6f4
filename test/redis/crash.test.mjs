// Scale-out: kill -9 an instance while many conversations talk through both:
// every turn whose reply reached its client is in the transcript (read from
// the surviving instance), the survivor keeps serving through the crash, and
// every customer continues on the other instance, with the context. Two
// rounds: A dies, then B. Bounded: each round has at most 2 s of load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    Cluster, checkOrder, checkAcked, trySay, waitFor, sleep,
} from './helpers.mjs';

const CONVERSATIONS = 12;
const MESSAGES = ['你好', '我的快递到哪了', '202411223344', '怎么退货', '可以开发票吗',
    'how do I return an item', 'where is my parcel', 'do you ship to Hong Kong',
    '請問運費多少', 'thanks'];
const ORDER = '202411223344';

let cl;
before(async () => { cl = await Cluster.start({ n: 2, tag: 'crash' }); });
after(async () => { await cl?.close(); });

// One client: sends messages in turn until stopped, to the instances of
// route (['A'], ['B'] or ['A', 'B'] alternating); records what was acked.
// A request without an HTTP answer (its instance died) ends the client; a
// non-200 answer from a live instance is an error.
async function client(conv, state) {
    let i = Math.floor(Math.random() * MESSAGES.length);
    let k = 0;
    while (!state.stop) {
        const srv = conv.route[k++ % conv.route.length];
        const text = MESSAGES[i++ % MESSAGES.length];
        if (!srv.alive) { conv.ended = true; return; }
        const r = await trySay(srv, conv.id, text);
        if (r.status === 0) { conv.ended = true; return; } // died under this request
        if (!r.ok) {
            if (!srv.alive) { conv.ended = true; return; } // answered while dying
            state.errors.push(`${srv.name} ${r.status} ${r.text}`);
            return;
        }
        conv.acked.push({ seq: r.json.seq, customer: text, bot: r.json.text, on: srv.name });
        state.served[srv.name] = (state.served[srv.name] || 0) + 1;
        if (state.afterKill) state.afterKillServed++;
    }
}

// Send text on srv, retrying for a few seconds on an error answer (e.g. a
// turn lock the dead instance held); the reply JSON.
async function sayEventually(srv, id, text) {
    const tries = [];
    const r = await waitFor(async () => {
        const x = await trySay(srv, id, text);
        tries.push(`${x.status} ${x.text ?? x.error}`);
        if (x.status !== 0 && !x.ok) {
            assert.ok(x.contentType.startsWith('application/json') && x.json?.error?.code,
                `not a JSON error: ${x.status} ${x.text}`);
        }
        return x.ok && x;
    }, { timeoutMs: 5000, intervalMs: 200, what: `${srv.name} to take a turn of ${id}` }).catch((e) => {
        throw new Error(`${e.message}; answers: ${tries.slice(-3).join(' | ')}\n${cl.logs()}`);
    });
    if (tries.length > 1) {
        process.stderr.write(`crash.test: ${srv.name} took the turn of ${id} after ${tries.length - 1} ` +
            `refusal(s): ${tries.slice(0, -1).slice(-2).join(' | ')}\n`);
    }
    return r.json;
}

for (const [round, victim, survivor] of [[0, 'A', 'B'], [1, 'B', 'A']]) {
    test(`round ${round}: kill -9 ${victim} under load: no acknowledged turn lost, customers go on on ${survivor}`,
        async () => {
            const V = cl[victim], S = cl[survivor];
            // (after a failed round: both running again)
            for (const s of cl.servers) if (!s.alive) await s.start();
            // a conversation waiting for its order number on the victim
            const ctxId = await V.newConversation();
            const ask = await V.say(ctxId, '我的快递到哪了');
            assert.equal(ask.action, 'ask', ask._describe);

            const convs = [];
            for (let i = 0; i < CONVERSATIONS; i++) {
                const route = [[V], [S], [V, S]][i % 3];
                convs.push({ id: await route[0].newConversation(), route, acked: [], ended: false });
            }
            const state = { stop: false, errors: [], served: {}, afterKill: false, afterKillServed: 0 };
            const clients = convs.map((c) => client(c, state));
            await sleep(300 + Math.floor(Math.random() * 1200));
            await V.kill9();
            state.afterKill = true;
            await sleep(500); // the survivor goes on serving
            state.stop = true;
            await Promise.all(clients);
            assert.deepEqual(state.errors, [], `a request failed on a live instance:\n${cl.logs()}`);
            assert.ok((state.served[victim] || 0) > 0, `no reply from ${victim} before the kill: ${JSON.stringify(state.served)}`);
            assert.ok(state.afterKillServed > 0, `${survivor} served nothing after ${victim} died`);

            for (const c of convs) {
                const t = await S.transcript(c.id);
                checkOrder(t.messages);
                checkAcked(t.messages, c.acked, `${c.id} read on ${survivor}: `);
                // the customer goes on on the survivor, after the last turn
                const last = c.acked.at(-1)?.seq ?? 0;
                const r = await sayEventually(S, c.id, '谢谢');
                assert.ok(r.seq >= last + 2, `seq ${r.seq} reused after ${last}`);
                c.acked.push({ seq: r.seq, customer: '谢谢', bot: r.text, on: survivor });
            }
            // the context made on the victim goes on on the survivor
            const r = await sayEventually(S, ctxId, ORDER);
            assert.equal(r.action, 'answer', `context lost with ${victim}: ${JSON.stringify(r)}`);
            assert.equal(r.intent, 'order_tracking', JSON.stringify(r));
            assert.equal(r.slots?.order_id, ORDER, JSON.stringify(r));
            assert.equal(r.seq, 4, JSON.stringify(r));

            // the victim comes back and sees the same transcripts
            await V.start();
            for (const c of convs) {
                const tv = await V.transcript(c.id), ts = await S.transcript(c.id);
                assert.deepEqual(tv, ts, `${victim} and ${survivor} give different transcripts of ${c.id}`);
                checkAcked(tv.messages, c.acked, `${c.id} read on ${victim} after its restart: `);
            }
            const back = await V.say(ctxId, '大概还要几天能送到');
            assert.equal(back.intent, 'shipping_time', back._describe);
            assert.equal(back.slots?.order_id, ORDER, back._describe);
            const total = Object.values(state.served).reduce((a, b) => a + b, 0);
            assert.ok(total >= 10, `only ${total} replies under load`);
        });
}
