// Scale-out: agent accounts and logins are shared. An account made with
// `csbot-server agent add NAME --redis URL` logs in on every instance, a
// login cookie from A works on B (with its CSRF token), and a logout on A
// ends it on B.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, expectStatus, addAgentRedis } from './helpers.mjs';

const PW = { alice: 'alice-secret-pw', bob: 'bob-secret-pw!' };
let cl, A, B, C;

before(async () => {
    cl = await Cluster.start({ n: 3, tag: 'login', agents: PW });
    ({ A, B, C } = cl);
});
after(async () => { await cl?.close(); });

test('an account added with --redis logs in on every instance; a wrong password is 401', async () => {
    // (each login costs an Argon2id hash: few of them)
    for (const s of cl.servers) {
        const a = await s.login('alice', PW.alice);
        assert.ok(a.cookie);
    }
    expectStatus(await B.post('/api/v1/agent/login', { name: 'alice', password: 'not-her-password' }),
        401, 'unauthorized');
    expectStatus(await C.post('/api/v1/agent/login', { name: 'mallory', password: 'not-her-password' }),
        401, 'unauthorized');
});

test('a login on A works on B and C: /me, the queue, a POST with its CSRF token', async () => {
    const alice = await A.login('alice', PW.alice);
    for (const s of [B, C]) {
        const me = expectStatus(await s.get('/api/v1/agent/me', { agent: alice }), 200).json;
        assert.deepEqual(me, { name: 'alice', csrf: alice.csrf }, `/me on ${s.name}`);
        expectStatus(await s.get('/api/v1/agent/queue', { agent: alice }), 200);
        expectStatus(await s.get('/api/v1/dashboard', { agent: alice }), 200);
    }
    // a state-changing request on B with the cookie and token from A
    const id = await C.newConversation();
    await C.say(id, '请问怎么开发票呢');
    const h = expectStatus(await C.post(`/api/v1/conversations/${id}/handoff`), 200).json;
    const path = `/api/v1/agent/handoffs/${h.ticket}/claim`;
    expectStatus(await B.req('POST', path, { agent: alice, csrf: false }), 403, 'forbidden');
    expectStatus(await B.req('POST', path, { agent: alice }), 200);
    const t = expectStatus(await C.get(`/api/v1/agent/handoffs/${h.ticket}`, { agent: alice }), 200).json;
    assert.equal(t.agent, 'alice');
    expectStatus(await C.req('POST', `/api/v1/agent/handoffs/${h.ticket}/resolve`, { agent: alice, json: {} }), 200);
    // a forged cookie is refused everywhere
    const forged = { cookie: 'x'.repeat(43), csrf: alice.csrf };
    for (const s of cl.servers) expectStatus(await s.get('/api/v1/agent/me', { agent: forged }), 401, 'unauthorized');
});

test('a logout on A ends the login on B and C (and only that login)', async () => {
    const bob1 = await A.login('bob', PW.bob);
    const bob2 = await B.login('bob', PW.bob);
    assert.notEqual(bob1.cookie, bob2.cookie);
    for (const s of cl.servers) expectStatus(await s.get('/api/v1/agent/me', { agent: bob1 }), 200);
    expectStatus(await A.req('POST', '/api/v1/agent/logout', { agent: bob1 }), 204);
    for (const s of cl.servers) {
        expectStatus(await s.get('/api/v1/agent/me', { agent: bob1 }), 401, 'unauthorized');
        expectStatus(await s.get('/api/v1/agent/queue', { agent: bob1 }), 401, 'unauthorized');
        // bob's other login still works everywhere
        expectStatus(await s.get('/api/v1/agent/me', { agent: bob2 }), 200);
    }
    expectStatus(await B.req('POST', '/api/v1/agent/logout', { agent: bob1 }), 401, 'unauthorized');
    // and a logout on C of the login made on B
    expectStatus(await C.req('POST', '/api/v1/agent/logout', { agent: bob2 }), 204);
    for (const s of cl.servers) expectStatus(await s.get('/api/v1/agent/me', { agent: bob2 }), 401, 'unauthorized');
});

test('a login survives a restart of the instance that made it, and works while it is down', async () => {
    const alice = await A.login('alice', PW.alice);
    await A.kill9();
    expectStatus(await B.get('/api/v1/agent/me', { agent: alice }), 200);
    await A.start();
    expectStatus(await A.get('/api/v1/agent/me', { agent: alice }), 200);
});

test('an agent added while the instances run logs in on all of them at once', async () => {
    await cl.addAgent('carol', 'carol-password');
    for (const s of cl.servers) await s.login('carol', 'carol-password');
    // a short password is refused, and no account is made
    const r = await addAgentRedis(cl.redis.url, 'dave', 'short', { cwd: cl.dir });
    assert.notEqual(r.code, 0, `a 5-byte password was accepted: ${r.stdout}${r.stderr}`);
    for (const s of cl.servers) {
        expectStatus(await s.post('/api/v1/agent/login', { name: 'dave', password: 'short' }), 401);
    }
});
