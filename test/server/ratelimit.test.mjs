// --rate-limit N: requests per second per client IP; a burst beyond it gets
// 429 rate_limited, and the limit recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, expectStatus, sleep } from './helpers.mjs';

let srv;
before(async () => { srv = await Server.start({ tag: 'rate', rateLimit: 5, quiet: true }); });
after(async () => { await srv?.close(); });

test('a burst of 50 requests at --rate-limit 5 gets some 429 rate_limited', async () => {
    const id = await srv.newConversation();
    await sleep(1200); // a full bucket
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2
        ? srv.get(`/api/v1/conversations/${id}/messages`)
        : srv.post('/api/v1/conversations'))));
    const dt = Date.now() - t0;
    const limited = rs.filter((r) => r.status === 429);
    const ok = rs.filter((r) => r.status === 200 || r.status === 201);
    const other = rs.filter((r) => ![200, 201, 429].includes(r.status));
    assert.deepEqual(other.map((r) => r.describe()), [], 'answers other than 200/201/429');
    assert.ok(limited.length >= 1, 'no 429 in a burst of 50');
    assert.ok(ok.length >= 1, 'nothing got through');
    // a burst allowance (say up to 4 s worth) plus 5 per second of the burst's duration
    const bound = 20 + Math.ceil(5 * dt / 1000);
    assert.ok(ok.length <= bound, `${ok.length} of 50 got through at 5 per second in ${dt} ms`);
    for (const r of limited) expectStatus(r, 429, 'rate_limited');
    // after a pause the client is served again
    await sleep(1500);
    const r = await srv.say(id, '请问多久发货');
    assert.equal(r.intent, 'shipping_time', r._describe);
});

test('a steady 3 requests per second at --rate-limit 5 are all served', async () => {
    await sleep(1200);
    for (let i = 0; i < 9; i++) {
        const r = await srv.get('/healthz');
        assert.equal(r.status, 200, `request ${i}: ${r.describe()}`);
        await sleep(333);
    }
});
