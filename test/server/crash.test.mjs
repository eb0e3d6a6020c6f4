// Crash consistency: kill -9 at random moments while many conversations
// talk at once, restart, and check that every turn whose reply reached its
// client is in the database exactly as it was answered, and that every
// conversation goes on. Bounded: 3 rounds of at most 2 s of load each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, checkOrder, sleep } from './helpers.mjs';

const CONVERSATIONS = 16;
const ROUNDS = 3;
const MESSAGES = ['你好', '我的快递到哪了', '202411223344', '怎么退货', '可以开发票吗',
    'how do I return an item', 'where is my parcel', 'do you ship to Hong Kong',
    '請問運費多少', 'thanks'];

let srv;
before(async () => { srv = await Server.start({ tag: 'crash', quiet: true }); });
after(async () => { await srv?.close(); });

// One client: sends messages in turn until stopped; records what was acked.
async function client(id, acked, state) {
    let i = Math.floor(Math.random() * MESSAGES.length);
    while (!state.stop) {
        const text = MESSAGES[i++ % MESSAGES.length];
        let res;
        try {
            res = await fetch(`${srv.base}/api/v1/conversations/${id}/messages`, {
                method: 'POST', headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ text }), signal: AbortSignal.timeout(10000),
            });
        } catch {
            return; // the server died under this request: not acknowledged
        }
        let body;
        try { body = await res.json(); } catch { return; }
        if (res.status !== 200) {
            state.errors.push(`${res.status} ${JSON.stringify(body)}`);
            return;
        }
        acked.push({ seq: body.seq, customer: text, bot: body.text });
        state.served++;
    }
}

test('kill -9 under load loses no acknowledged turn, and every conversation goes on', async () => {
    const ids = [];
    for (let i = 0; i < CONVERSATIONS; i++) ids.push(await srv.newConversation());
    const acked = new Map(ids.map((id) => [id, []]));
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
        const state = { stop: false, errors: [], served: 0 };
        const clients = ids.map((id) => client(id, acked.get(id), state));
        await sleep(300 + Math.floor(Math.random() * 1700));
        await srv.kill9();
        state.stop = true;
        await Promise.all(clients);
        assert.deepEqual(state.errors, [], 'a request failed while the server was up');
        assert.ok(state.served > 0, `round ${round}: no reply at all before the kill`);
        total += state.served;
        await srv.start();
        for (const id of ids) {
            const t = await srv.transcript(id);
            checkOrder(t.messages);
            const bySeq = new Map(t.messages.map((m) => [m.seq, m]));
            for (const a of acked.get(id)) {
                const b = bySeq.get(a.seq), c = bySeq.get(a.seq - 1);
                assert.ok(b && c, `round ${round}: acknowledged turn seq ${a.seq} of ${id} is missing`);
                assert.equal(b.role, 'bot');
                assert.equal(b.text, a.bot, `seq ${a.seq}: another reply is stored`);
                assert.equal(c.role, 'customer');
                assert.equal(c.text, a.customer, `seq ${a.seq - 1}: another message is stored`);
            }
            // the conversation goes on after the crash, after its last turn
            const last = acked.get(id).at(-1)?.seq ?? 0;
            const r = await srv.say(id, '谢谢');
            assert.ok(r.seq > last + 1, `seq ${r.seq} reused after ${last}`);
            acked.get(id).push({ seq: r.seq, customer: '谢谢', bot: r.text });
        }
    }
    assert.ok(total >= ROUNDS * 10, `only ${total} replies over ${ROUNDS} rounds`);
});
