// The whole shop flow in the real pages, in headless Chromium (puppeteer-core)
// against a real csbot-server on loopback with a temporary database and a
// temporary copy of intents/shop.json:
//
//   a customer on a phone (360x640) asks the bot in Chinese and English, rates
//   an answer, clicks a suggestion, asks for a person; an agent (a second
//   browser context, desktop size) logs in to /agent, opens the handoff (the
//   packet shows what the customer said), claims it and chats with the
//   customer live; the agent resolves, the customer gives five stars; the
//   dashboard shows the conversation and a message the bot did not
//   understand is added to an intent through the page.
//
// Every page is watched for console errors, CSP violations, uncaught errors,
// dialogs and failed requests (only the 401 of /api/v1/agent/me before the
// login and 409s are expected). Screenshots go to $CSBOT_SCREENSHOTS
// (default build/screenshots); after a failure, fail-*.png of every page.
//
// Run by test/browser.sh, which installs puppeteer-core into $CSBOT_NPM_DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Server, ROOT, SCALE } from '../server/helpers.mjs';

const NPM_DIR = path.resolve(process.env.CSBOT_NPM_DIR || path.join(ROOT, 'build', 'npm'));
const CHROMIUM = process.env.CSBOT_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.resolve(process.env.CSBOT_SCREENSHOTS || path.join(ROOT, 'build', 'screenshots'));
const VERBOSE = process.env.CSBOT_TEST_VERBOSE === '1';
const puppeteer = createRequire(path.join(NPM_DIR, 'package.json'))('puppeteer-core');

const T = (ms) => Math.round(ms * SCALE);
const AGENT = { name: 'alice', password: 'alice-password-1' };
const SHOP_TZ = 'Asia/Shanghai';

// What the customer says. FALLBACK is not understood (it becomes an
// "unanswered" message on the dashboard, which is then added to
// FALLBACK_INTENT); VAGUE gets a "suggest" answer with suggested questions.
const FALLBACK = '你们支持数字人民币吗';
const FALLBACK_INTENT = 'payment_methods';
const ZH_QUESTION = '请问多久发货';
const EN_QUESTION = 'What payment methods do you accept?';
const VAGUE = ['订单', 'order'];
const XSS = '<img src=x onerror=alert(1)>';
const AGENT_REPLY = '您好，我是客服 alice，您的订单我来帮您查一下。';
const CUSTOMER_REPLY = '好的，谢谢！订单号是202411223344';

let srv, browser, userDataDir;
let customer, agent;           // pages
let convId, ticket;
const problems = [];           // console errors, CSP violations, page errors...
const expected = [];           // the errors that are fine (for the log)
const pages = {};              // name -> page, for the screenshots after a failure

// ---- helpers ----------------------------------------------------------------

function isExpected(url, status) {
    let p = '';
    try { p = new URL(url).pathname; } catch { /* not a URL */ }
    return (status === 401 && p === '/api/v1/agent/me') || status === 409;
}

// Record everything a page reports that is not expected.
async function watch(page, name) {
    pages[name] = page;
    await page.evaluateOnNewDocument(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
            console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}` +
                ` at ${e.sourceFile}:${e.lineNumber}`);
        });
    });
    page.on('console', (m) => {
        const text = m.text();
        const url = (m.location() && m.location().url) || '';
        if (VERBOSE) process.stderr.write(`[${name} console.${m.type()}] ${text} (${url})\n`);
        if (m.type() !== 'error' && !/Content.Security.Policy|CSP/i.test(text)) return;
        const st = /status of (\d{3})/.exec(text);
        if (st && isExpected(url, Number(st[1]))) {
            expected.push(`${name}: ${text} (${url})`);
            return;
        }
        problems.push(`${name}: console.${m.type()}: ${text} (${url})`);
    });
    page.on('pageerror', (e) => problems.push(`${name}: uncaught: ${e.message}`));
    page.on('dialog', async (d) => {
        problems.push(`${name}: a ${d.type()} dialog opened: ${d.message()}`);
        await d.dismiss().catch(() => {});
    });
    page.on('response', (r) => {
        if (r.status() >= 400 && !isExpected(r.url(), r.status())) {
            problems.push(`${name}: HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
        }
    });
    page.on('requestfailed', (r) => {
        const err = r.failure() ? r.failure().errorText : '';
        // long polls cut short by a navigation or a page that closes
        if (/ERR_ABORTED/.test(err)) return;
        problems.push(`${name}: request failed: ${r.method()} ${r.url()} ${err}`);
    });
    page.setDefaultTimeout(T(10000));
}

async function shot(page, file, opts = {}) {
    await page.screenshot({ path: path.join(SHOTS, file), ...opts });
}

// What the page shows, for failure messages.
async function pageState(page) {
    try {
        return await page.evaluate(() => {
            const err = [...document.querySelectorAll('.error')].filter((e) => !e.hidden)
                .map((e) => e.textContent).join(' | ');
            return `url ${location.href}, errors shown: ${err || 'none'}\n` +
                `text: ${document.body.innerText.slice(-1500)}`;
        });
    } catch (e) {
        return `(page state unavailable: ${e.message})`;
    }
}

// page.waitForFunction with the page's state in the error.
async function waitIn(page, what, fn, ...args) {
    try {
        const h = await page.waitForFunction(fn, { timeout: T(10000), polling: 50 }, ...args);
        return await h.jsonValue();
    } catch (e) {
        throw new Error(`timed out waiting for ${what}: ${e.message}\n${await pageState(page)}\n` +
            `server log tail:\n${srv.log.slice(-1500)}`);
    }
}

async function waitSel(page, sel, opts = {}) {
    try {
        return await page.waitForSelector(sel, { timeout: T(10000), ...opts });
    } catch (e) {
        throw new Error(`timed out waiting for ${sel}: ${e.message}\n${await pageState(page)}`);
    }
}

// The customer's message `text` acknowledged by the server (it has its
// seq) and, with reply, the bot's answer right after it.
function waitTurn(page, text, reply = true) {
    return waitIn(page, `the customer message ${JSON.stringify(text)}${reply ? ' and its reply' : ''}`,
        (text, reply) => {
            const mine = [...document.querySelectorAll('#messages li.msg.customer')]
                .filter((li) => li.querySelector('.bubble').textContent === text);
            const c = mine[mine.length - 1];
            if (!c || !c.dataset.seq || c.classList.contains('pending')) return null;
            const seq = Number(c.dataset.seq);
            if (!reply) return { seq };
            const b = document.querySelector(`#messages li.msg.bot[data-seq="${seq + 1}"]`);
            if (!b) return null;
            return {
                seq, botSeq: seq + 1, action: b.dataset.action, intent: b.dataset.intent,
                text: b.querySelector('.bubble').textContent,
                suggestions: b.querySelectorAll('.suggestion').length,
                status: document.getElementById('status').dataset.status,
            };
        }, text, reply);
}

async function say(page, text, reply = true) {
    await page.type('#message-input', text);
    await page.click('#send');
    return waitTurn(page, text, reply);
}

const textsOf = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
const numberIn = (s) => Number((/-?\d+(\.\d+)?/.exec(s || '') || [NaN])[0]);

// Sequential steps: after a failure the next ones are skipped.
let broken = null;
function step(name, fn, timeoutMs = 30000) {
    test(name, { timeout: T(timeoutMs) }, async (t) => {
        if (broken) {
            t.skip(`after the failure of "${broken}"`);
            return;
        }
        try {
            await fn(t);
        } catch (e) {
            broken = name;
            const tag = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
            for (const [n, p] of Object.entries(pages)) {
                await shot(p, `fail-${tag}-${n}.png`, { fullPage: true }).catch(() => {});
            }
            throw e;
        }
    });
}

// ---- setup ------------------------------------------------------------------

before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const f of fs.readdirSync(SHOTS)) {
        if (f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f));
    }
    srv = await Server.start({ tag: 'browser', utcOffset: 480, agents: { [AGENT.name]: AGENT.password } });
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'csbot-browser-profile-'));
    browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        pipe: true,
        userDataDir,
        args: [
            '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
            '--no-default-browser-check', '--disable-extensions', '--mute-audio',
        ],
        timeout: T(30000),
        protocolTimeout: T(60000),
        dumpio: VERBOSE,
    });
}, { timeout: T(60000) });

after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await srv?.close();
});

// ---- the customer -------------------------------------------------------------

step('customer: the chat opens on a phone', async () => {
    const ctx = await browser.createBrowserContext();
    customer = await ctx.newPage();
    await watch(customer, 'customer');
    await customer.setViewport({ width: 360, height: 640, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const cdp = await customer.createCDPSession();
    await cdp.send('Emulation.setLocaleOverride', { locale: 'zh-CN' });
    await customer.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9' });
    // a phone set to Chinese (the locale override above leaves navigator.language alone)
    await customer.evaluateOnNewDocument(() => {
        Object.defineProperty(Navigator.prototype, 'language', { get: () => 'zh-CN' });
        Object.defineProperty(Navigator.prototype, 'languages', { get: () => ['zh-CN', 'zh'] });
    });
    await customer.emulateTimezone(SHOP_TZ);
    await customer.goto(`${srv.base}/`);
    await waitSel(customer, 'body[data-ready="1"]');
    convId = await customer.$eval('body', (b) => b.dataset.conversation);
    assert.match(convId, /^[0-9a-f]{32}$/);
    assert.equal(await customer.$eval('#status', (e) => e.dataset.status), 'bot');
    assert.equal(await customer.$eval('html', (e) => e.lang), 'zh-Hans');
    // a marker that a reload would lose: agent messages must arrive live
    await customer.evaluate(() => { window.__sameDocument = 'yes'; });
});

step('customer: a question the bot does not understand', async () => {
    const r = await say(customer, FALLBACK);
    assert.ok(['fallback', 'suggest'].includes(r.action), `"${FALLBACK}" got ${JSON.stringify(r)}`);
    assert.equal(r.status, 'bot', JSON.stringify(r));
});

step('customer: a Chinese and an English question get answers; thumbs up', async () => {
    const zh = await say(customer, ZH_QUESTION);
    assert.equal(zh.action, 'answer', `"${ZH_QUESTION}" got ${JSON.stringify(zh)}`);
    assert.ok(zh.intent && zh.text.length > 10, JSON.stringify(zh));
    assert.match(zh.text, /[\u4e00-\u9fff]/, `a Chinese answer to a Chinese question: ${zh.text}`);
    const en = await say(customer, EN_QUESTION);
    assert.equal(en.action, 'answer', `"${EN_QUESTION}" got ${JSON.stringify(en)}`);
    assert.ok(en.intent && en.text.length > 10, JSON.stringify(en));
    assert.doesNotMatch(en.text, /[\u4e00-\u9fff]/, `an English answer to an English question: ${en.text}`);

    const rating = `#messages li.msg.bot[data-seq="${zh.botSeq}"] .rating`;
    await waitSel(customer, `${rating} .rate-up`, { visible: true });
    await customer.click(`${rating} .rate-up`);
    await waitSel(customer, `${rating}[data-rated="5"] .thanks`);
    assert.equal(await customer.$eval(`${rating} .rate-up`, (b) => b.classList.contains('chosen')), true);
});

step('customer: a vague message gets suggestions; clicking one answers it', async (t) => {
    let r;
    for (const text of VAGUE) {
        r = await say(customer, text);
        if (r.action === 'suggest' || r.status !== 'bot') break;
    }
    if (r.action !== 'suggest' || !r.suggestions) {
        t.diagnostic(`none of ${JSON.stringify(VAGUE)} got suggestions (last: ${JSON.stringify(r)})`);
        assert.equal(r.status, 'bot', `the vague messages handed off: ${JSON.stringify(r)}`);
        return;
    }
    const sel = `#messages li.msg.bot[data-seq="${r.botSeq}"] .suggestion`;
    const first = await customer.$eval(sel, (b) => ({ title: b.textContent, intent: b.dataset.intent }));
    await customer.click(sel);
    const a = await waitTurn(customer, first.title);
    assert.equal(a.action, 'answer', `the suggestion ${JSON.stringify(first)} got ${JSON.stringify(a)}`);
    assert.equal(a.intent, first.intent, JSON.stringify(a));
    assert.equal(await customer.$eval(sel, (b) => b.disabled), true, 'the suggestions stay clickable');
});

step('customer: "talk to a person" hands the chat off', async () => {
    await customer.click('#talk-to-human');
    await waitSel(customer, '#status[data-status="waiting"]');
    await waitSel(customer, '#messages li.msg.system');
    assert.equal(await customer.$eval('#talk-to-human', (b) => b.disabled), true);
    await shot(customer, 'chat-phone.png');
});

step('customer: markup in a message is shown as text', async () => {
    await say(customer, XSS, false);
    const got = await customer.evaluate((xss) => {
        const li = [...document.querySelectorAll('#messages li.msg.customer')].pop();
        return { text: li.querySelector('.bubble').textContent, imgs: document.querySelectorAll('img').length,
            html: li.querySelector('.bubble').innerHTML, same: li.querySelector('.bubble').textContent === xss };
    }, XSS);
    assert.equal(got.text, XSS, JSON.stringify(got));
    assert.equal(got.imgs, 0, `an img element was made: ${JSON.stringify(got)}`);
    assert.match(got.html, /&lt;img/, JSON.stringify(got));
    assert.equal(await customer.$eval('#status', (e) => e.dataset.status), 'waiting');
});

// ---- the agent ----------------------------------------------------------------

step('agent: logs in and sees the customer in the queue', async () => {
    const ctx = await browser.createBrowserContext();
    agent = await ctx.newPage();
    await watch(agent, 'agent');
    await agent.setViewport({ width: 1366, height: 900 });
    await agent.emulateTimezone(SHOP_TZ);
    await agent.goto(`${srv.base}/agent`);
    await waitSel(agent, 'body[data-logged-in="0"]');
    await waitSel(agent, '#login-name', { visible: true });
    await shot(agent, 'console-login.png');
    await agent.type('#login-name', AGENT.name);
    await agent.type('#login-password', AGENT.password);
    await agent.click('#login-submit');
    await waitSel(agent, 'body[data-logged-in="1"]');
    assert.equal(await agent.$eval('#agent-name', (e) => e.textContent), AGENT.name);
    const item = await waitSel(agent, `li.queue-item[data-conversation="${convId}"]`);
    ticket = Number(await item.evaluate((li) => li.dataset.ticket));
    assert.ok(ticket >= 1, `ticket ${ticket}`);
    assert.equal(await item.evaluate((li) => li.dataset.status), 'open');
    assert.equal(await item.evaluate((li) => li.dataset.reason), 'explicit_request');
});

step('agent: the handoff shows what the customer said before', async () => {
    await agent.click(`li.queue-item[data-ticket="${ticket}"]`);
    await waitSel(agent, `#ticket-view[data-ticket="${ticket}"][data-status="open"]`, { visible: true });
    await waitSel(agent, '#packet-transcript li.turn');
    const said = await textsOf(agent, '#packet-transcript li.turn .said');
    for (const q of [FALLBACK, ZH_QUESTION, EN_QUESTION]) {
        assert.ok(said.includes(q), `the packet lacks "${q}": ${JSON.stringify(said)}`);
    }
    await waitIn(agent, 'the markup message in the agent chat', (xss) =>
        [...document.querySelectorAll('#agent-chat li.msg.customer .bubble')].some((b) => b.textContent === xss), XSS);
    const chat = await textsOf(agent, '#agent-chat li.msg.customer .bubble');
    for (const q of [FALLBACK, ZH_QUESTION, EN_QUESTION, XSS]) {
        assert.ok(chat.includes(q), `the agent chat lacks "${q}": ${JSON.stringify(chat)}`);
    }
    assert.equal(await agent.$$eval('img', (l) => l.length), 0, 'an img element in the console');
    const facts = await agent.$eval('#packet-facts', (e) => e.textContent);
    assert.ok(facts.length > 0, 'no packet facts');
    assert.equal(await agent.$eval('#agent-input', (e) => e.disabled), true, 'can write before the claim');
});

step('agent: claims the chat; the customer sees the agent join', async () => {
    await agent.click('#claim');
    await waitSel(agent, `#ticket-view[data-status="claimed"][data-agent="${AGENT.name}"]`);
    await waitSel(agent, '#agent-input:not([disabled])');
    await waitSel(customer, `#status[data-status="agent"]`);
    await waitIn(customer, 'the "agent joined" system message', () =>
        document.querySelectorAll('#messages li.msg.system').length >= 2);
});

step('agent: answers; the customer sees it live and replies', async () => {
    await agent.type('#agent-input', AGENT_REPLY);
    await agent.click('#agent-send');
    await waitIn(agent, 'the reply in the agent chat', (text) =>
        [...document.querySelectorAll('#agent-chat li.msg.agent .bubble')].some((b) => b.textContent === text),
    AGENT_REPLY);
    await waitIn(customer, 'the agent message on the customer page', (text) =>
        [...document.querySelectorAll('#messages li.msg.agent .bubble')].some((b) => b.textContent === text),
    AGENT_REPLY);
    assert.equal(await customer.evaluate(() => window.__sameDocument), 'yes', 'the customer page reloaded');
    assert.equal(await customer.$eval('#status', (e) => e.dataset.agent), AGENT.name);
    await shot(customer, 'chat-agent-joined.png');

    await say(customer, CUSTOMER_REPLY, false);
    await waitIn(agent, 'the customer reply in the agent chat', (text) =>
        [...document.querySelectorAll('#agent-chat li.msg.customer .bubble')].some((b) => b.textContent === text),
    CUSTOMER_REPLY);

    await agent.type('#note-input', '客户询问订单 202411223344，已核实');
    await agent.click('#add-note');
    await waitSel(agent, '#notes li.note');
    await shot(agent, 'console.png', { fullPage: true });
    await agent.click('#lang-toggle');
    await waitSel(agent, 'html[lang="zh-Hans"]');
    await shot(agent, 'console-zh.png', { fullPage: true });
    await agent.click('#lang-toggle');
    await waitSel(agent, 'html[lang="en"]');
});

step('agent: resolves; the customer rates the chat with five stars', async () => {
    await agent.click('#resolve');
    await waitSel(agent, `#ticket-view[data-status="resolved"]`);
    await waitSel(customer, '#status[data-status="bot"]');
    await waitSel(customer, '#end-panel:not([hidden]) .star[data-rating="5"]', { visible: true });
    await shot(customer, 'chat-end-panel.png');
    await customer.click('#end-panel .star[data-rating="5"]');
    await waitSel(customer, '#end-panel[data-rated="5"]');
    await waitSel(customer, '#rating-thanks', { visible: true });
    assert.equal(await customer.$$eval('#end-panel .star.on', (l) => l.length), 5);
    await shot(customer, 'chat-rated.png');
    await shot(agent, 'console-resolved.png', { fullPage: true });
});

// ---- the dashboard ---------------------------------------------------------------

step('dashboard: shows the conversation, the busy hours and the ratings', async () => {
    await agent.goto(`${srv.base}/dashboard`);
    await waitSel(agent, 'body[data-loaded="1"]');
    const f = await agent.evaluate(() => {
        const txt = (id) => document.getElementById(id).textContent;
        return {
            conversations: txt('stat-conversations'), bars: document.querySelectorAll('#hours-chart rect.bar').length,
            busy: [...document.querySelectorAll('#hours-chart rect.bar')].reduce((n, r) => n + Number(r.dataset.count), 0),
            satAvg: txt('satisfaction-average'), satCount: txt('satisfaction-count'),
            helpful: txt('answer-helpful'), helpfulCount: txt('answer-feedback-count'),
            unanswered: document.querySelectorAll('li.unanswered-item').length,
        };
    });
    const d = JSON.stringify(f);
    assert.ok(numberIn(f.conversations) >= 1, d);
    assert.equal(f.bars, 24, d);
    assert.ok(f.busy >= 6, `the hours chart counts ${f.busy} customer messages: ${d}`);
    // satisfaction: the stars for the chat; helpful: the thumbs up
    assert.ok(numberIn(f.satCount) >= 1, d);
    assert.ok(numberIn(f.helpfulCount) >= 1, d);
    assert.ok(numberIn(f.satCount) + numberIn(f.helpfulCount) >= 2, d);
    assert.match(f.satAvg, /^5\.00/, d);
    assert.ok(f.unanswered >= 1, d);
});

step('dashboard: an unanswered message is added to an intent', async () => {
    const before = Number(await agent.$eval('#kb-generation', (e) => e.dataset.generation));
    assert.equal(before, await srv.generation());
    const id = await waitIn(agent, `"${FALLBACK}" among the unanswered messages`, (text) => {
        const li = [...document.querySelectorAll('li.unanswered-item')]
            .find((x) => x.querySelector('.text').textContent === text);
        return li ? li.dataset.message : null;
    }, FALLBACK);
    const item = `li.unanswered-item[data-message="${id}"]`;
    assert.equal(await agent.$eval(`${item} .add-example`, (b) => b.disabled), true);
    await agent.select(`${item} select.intent-select`, FALLBACK_INTENT);
    await waitSel(agent, `${item} .add-example:not([disabled])`);
    await agent.click(`${item} .add-example`);
    const res = await waitIn(agent, 'the result of "add as example"', (sel) => {
        const r = document.querySelector(`${sel} .add-result`);
        if (r.classList.contains('ok') || r.classList.contains('bad')) {
            return { ok: r.classList.contains('ok'), gen: r.dataset.generation, text: r.textContent };
        }
        return null;
    }, item);
    assert.ok(res.ok, `adding the example failed: ${JSON.stringify(res)}`);
    assert.ok(Number(res.gen) > before, `generation ${res.gen} after ${before}`);
    assert.equal(Number(res.gen), await srv.generation());
    assert.equal(await agent.$eval('#kb-generation', (e) => e.dataset.generation), res.gen);
    await shot(agent, 'dashboard.png', { fullPage: true });

    // the bot knows it now
    const c = await srv.newConversation();
    const r = await srv.say(c, FALLBACK);
    assert.equal(r.action, 'answer', r._describe);
    assert.equal(r.intent, FALLBACK_INTENT, r._describe);
});

step('both languages of the labels', async () => {
    await agent.click('#lang-toggle');
    await waitSel(agent, 'html[lang="zh-Hans"]');
    await shot(agent, 'dashboard-zh.png', { fullPage: true });
    await customer.click('#close-end');
    await customer.click('#lang-toggle');
    await waitSel(customer, 'html[lang="en"]');
    await shot(customer, 'chat-phone-en.png');
});

// ---- nothing went wrong on the way -------------------------------------------------

step('no page logged an error, a CSP violation or a failed request', async (t) => {
    if (expected.length) t.diagnostic(`expected: ${expected.join('; ')}`);
    assert.deepEqual(problems, [], problems.join('\n'));
    // the watch is live: an inline script (refused by the CSP) is reported
    await customer.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1;';
        document.body.appendChild(s);
    });
    const end = Date.now() + T(5000);
    while (!problems.some((p) => /CSP violation/.test(p)) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(problems.some((p) => /CSP violation: script-src/.test(p)),
        `an inline script was not reported as a CSP violation: ${JSON.stringify(problems)}`);
    assert.equal(await customer.evaluate(() => window.__inline), undefined, 'an inline script ran');
});

// The shop restarts while the pages are open: their long polls are answered
// and polled again during the shutdown.
step('the server stops cleanly (SIGTERM) while the pages poll', async () => {
    const { code, signal } = await srv.stop();
    // a sanitizer's report is long: its start, or the log's tail
    const rep = srv.log.search(/={10,}\n.*(Sanitizer|runtime error)|Fatal error/);
    const tail = rep >= 0 ? srv.log.slice(Math.max(0, rep - 300), rep + 8000) : srv.log.slice(-1500);
    assert.equal(code, 0, `csbot-server exited ${code} (${signal}) on SIGTERM:\n${tail}`);
    assert.doesNotMatch(srv.log, /Sanitizer|runtime error:|Fatal error/, tail);
});
