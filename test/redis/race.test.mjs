// Scale-out: two instances racing for the turns of one conversation. The
// same conversation's messages go to A and B at the same moment; a stale
// writer must not overwrite a newer turn. Whatever each request is answered
// (200, or an error that changed nothing), every acknowledged reply is in
// the transcript exactly once, seq runs 1..N without gaps or duplicates, the
// turns are numbered 1..K once each, and there are as many customer messages
// as acknowledged turns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, checkOrder, checkAcked, trySay } from './helpers.mjs';

// Questions of 22 different intents (test/data/shop.tsv), each answered
// without a detail to ask for and without a handoff: the bot hands off when
// the same question comes twice in a row (repeated_question), and racing
// requests may land in any order, so no question may follow itself.
const Q = ['亲，有人吗？', '好的，太感谢了！', '你是机器人吗', '客服几点上班啊', '你们客服电话多少',
    '这件卫衣是纯棉的吗', '这双鞋还有货吗', '我身高170体重65kg穿什么码', '是正品吗？', '能便宜点吗',
    '你们保价多少天', '有优惠券可以领吗', '可以用花呗分三期吗', '能开发票吗', '今天下单什么时候发货',
    '运费多少钱', '能寄到国外吗', '支持七天无理由吗', '会员有什么好处', '积分怎么用',
    '忘记密码了怎么办', '推荐一款适合学生的耳机'];
const PAIRS = 20;

let cl;
before(async () => { cl = await Cluster.start({ n: 2, tag: 'race' }); });
after(async () => { await cl?.close(); });

// Every answer is a 200 or a documented JSON error (never a hang, a reset or
// a 200 without a reply); returns the acknowledged turns.
function sortOut(results) {
    const acked = [];
    for (const r of results) {
        assert.notEqual(r.status, 0, `no HTTP answer from ${r.srv} for "${r.sent}": ${r.error}\n${cl.logs()}`);
        if (r.ok) {
            assert.equal(typeof r.json?.seq, 'number', `a 200 without a reply: ${r.text}`);
            assert.equal(r.json.status, 'bot', r.text);
            acked.push({ seq: r.json.seq, turn: r.json.turn, customer: r.sent, bot: r.json.text, on: r.srv });
        } else {
            assert.ok(r.status >= 400 && r.status <= 599, `${r.srv}: ${r.status} ${r.text}`);
            assert.ok(r.contentType.startsWith('application/json') && typeof r.json?.error?.code === 'string',
                `${r.srv}: an error that is not {"error": {"code", "message"}}: ${r.status} ${r.text}`);
            assert.ok(r.status === 409 || r.status === 503 || r.status === 500 || r.status === 429,
                `${r.srv}: unexpected error for a racing turn: ${r.status} ${r.text}`);
        }
    }
    return acked;
}

// The refusals' statuses and codes, for the log: "; refused: 409 conflict x2".
function refused(results) {
    const n = new Map();
    for (const r of results.filter((x) => !x.ok)) {
        const k = `${r.status} ${r.json?.error?.code}`;
        n.set(k, (n.get(k) || 0) + 1);
    }
    return n.size ? `; refused: ${[...n].map(([k, v]) => `${k} x${v}`).join(', ')}` : '';
}

const sayTagged = (srv, id, text) => trySay(srv, id, text).then((r) => ({ ...r, sent: text }));

// The transcript, on both instances, against what was acknowledged.
async function checkConversation(id, acked, sent) {
    const tA = await cl.A.transcript(id), tB = await cl.B.transcript(id);
    assert.deepEqual(tA, tB, 'A and B give different transcripts');
    const msgs = tA.messages;
    checkOrder(msgs); // seq 1, 2, 3... without gaps or duplicates
    const K = acked.length;
    const customers = msgs.filter((m) => m.role === 'customer');
    const bots = msgs.filter((m) => m.role === 'bot');
    const summary = JSON.stringify(msgs.map((m) => [m.seq, m.role, m.turn ?? '', m.text.slice(0, 16)]));
    assert.equal(customers.length, K,
        `${customers.length} customer messages stored for ${K} acknowledged turns (of ${sent.length} sent): ${summary}`);
    assert.equal(bots.length, K, `${bots.length} bot replies stored for ${K} acknowledged turns: ${summary}`);
    assert.equal(msgs.length, 2 * K, summary);
    // every acknowledged turn exactly where its reply said, once
    checkAcked(msgs, acked);
    const texts = customers.map((m) => m.text);
    assert.equal(new Set(texts).size, texts.length, `a customer message is stored twice: ${summary}`);
    const ackedTexts = new Set(acked.map((a) => a.customer));
    for (const t of texts) assert.ok(ackedTexts.has(t), `"${t}" is stored but its request failed: ${summary}`);
    // the turns: 1..K, once each, each reply right after its message
    const turns = acked.map((a) => a.turn).sort((x, y) => x - y);
    assert.deepEqual(turns, Array.from({ length: K }, (_, i) => i + 1),
        `the acknowledged replies do not have the turns 1..${K} once each (two writers made the same turn?)`);
    for (const a of acked) assert.equal(a.seq, 2 * a.turn, `turn ${a.turn} has seq ${a.seq}`);
    bots.forEach((b, i) => assert.equal(b.turn, i + 1, summary));
    return K;
}

test(`${PAIRS} pairs: each pair of messages sent to A and B at the same moment`, async () => {
    const id = await cl.A.newConversation();
    const sent = [];
    const results = [];
    for (let i = 0; i < PAIRS; i++) {
        // each question comes back 22 messages later, never next to itself
        const ta = `${Q[(2 * i) % Q.length]}（A${i}）`, tb = `${Q[(2 * i + 1) % Q.length]}（B${i}）`;
        sent.push(ta, tb);
        const pair = await Promise.all([sayTagged(cl.A, id, ta), sayTagged(cl.B, id, tb)]);
        const ok = sortOut(pair);
        assert.ok(ok.length >= 1, `pair ${i}: neither message was answered: ${pair.map((r) => `${r.status} ${r.text}`).join(' | ')}`);
        results.push(...pair);
    }
    const acked = sortOut(results);
    const K = await checkConversation(id, acked, sent);
    // the conversation goes on after the last of them, on either instance
    const next = await cl.B.say(id, '请问你们的退货政策是什么');
    assert.equal(next.turn, K + 1, next._describe);
    assert.equal(next.seq, 2 * K + 2, next._describe);
    const next2 = await cl.A.say(id, '请问多久发货');
    assert.equal(next2.turn, K + 2, next2._describe);
    process.stderr.write(`race.test: pairs: ${K} of ${sent.length} messages acknowledged${refused(results)}\n`);
});

test('a burst: 10 messages to A and 10 to B, all at once', async () => {
    const id = await cl.B.newConversation();
    const sent = [];
    const reqs = [];
    for (let i = 0; i < 10; i++) {
        for (const s of [cl.A, cl.B]) {
            // 20 different questions: whatever the order, none follows itself
            const t = `${Q[2 * i + (s === cl.A ? 0 : 1)]}（${s.name}${i}）`;
            sent.push(t);
            reqs.push(sayTagged(s, id, t));
        }
    }
    const results = await Promise.all(reqs);
    const acked = sortOut(results);
    assert.ok(acked.length >= 1, `no message of the burst was answered: ${results.map((r) => r.status)}`);
    const K = await checkConversation(id, acked, sent);
    const next = await cl.A.say(id, '请问你们的退货政策是什么');
    assert.equal(next.turn, K + 1, next._describe);
    assert.equal(next.seq, 2 * K + 2, next._describe);
    process.stderr.write(`race.test: burst: ${K} of ${sent.length} messages acknowledged${refused(results)}\n`);
});

// The same two texts in both orders on one instance: what each order gives.
async function reference(first, second) {
    const id = await cl.A.newConversation();
    const out = [await cl.A.say(id, '我的快递到哪了')];
    out.push(await cl.A.say(id, first), await cl.A.say(id, second));
    return out.map((r) => ({ action: r.action, intent: r.intent, text: r.text }));
}

test('racing on a pending question: the later turn is computed from the earlier one, never from stale state', async () => {
    // After "我的快递到哪了" the bot asks for the order number. The number
    // then fills it (answer); but after "算了，先问下七天无理由退货怎么算" the
    // question is dropped and the same number is not understood (fallback).
    // A stale writer, computing the number's turn from the state before the
    // other turn, would answer it as if the question were still pending.
    const NUM = '202411223344', DROP = '算了，先问下七天无理由退货怎么算';
    const ref = { [NUM]: await reference(NUM, DROP), [DROP]: await reference(DROP, NUM) };
    assert.notDeepEqual(ref[NUM][1], ref[DROP][2], 'the number is answered the same in both orders: no test');
    for (let round = 0; round < 5; round++) {
        const id = await cl.A.newConversation();
        const ask = await cl.A.say(id, '我的快递到哪了');
        assert.equal(ask.action, 'ask', ask._describe);
        const [x, y] = round % 2 ? [cl.B, cl.A] : [cl.A, cl.B];
        const results = await Promise.all([sayTagged(x, id, NUM), sayTagged(y, id, DROP)]);
        const acked = sortOut(results);
        assert.ok(acked.length >= 1, results.map((r) => `${r.status} ${r.text}`).join(' | '));
        acked.sort((a, b) => a.turn - b.turn);
        const order = ref[acked[0].customer];
        acked.forEach((a, i) => {
            const got = results.find((r) => r.sent === a.customer).json;
            const want = order[i + 1];
            assert.deepEqual({ action: got.action, intent: got.intent, text: got.text }, want,
                `round ${round}: turn ${a.turn} "${a.customer}" (after ${i ? `"${acked[0].customer}"` : 'the question'}) ` +
                `is not answered as on one instance: ${JSON.stringify(got)}`);
        });
        await checkConversation(id, [{ seq: ask.seq, turn: 1, customer: '我的快递到哪了', bot: ask.text }, ...acked],
            ['我的快递到哪了', ...results.map((r) => r.sent)]);
    }
});
