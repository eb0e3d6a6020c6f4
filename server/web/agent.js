/*
 * agent.js - the agent console of csbot-server (the page at /agent).
 *
 * Logs the agent in (POST /api/v1/agent/login, or GET /api/v1/agent/me on
 * reload, which also gives the CSRF token sent as X-CSRF-Token on every
 * POST), polls the handoff queue every 2 s, shows the selected handoff's
 * packet (transcript with the bot's intents, confidences and candidates,
 * slots, profile, counters) so the customer never has to repeat, and after a
 * Claim a live chat (long poll .../messages?after=SEQ&wait=25), internal notes
 * and Resolve. All text goes into the page with textContent.
 *
 * Elements a browser test can use:
 *   #login-form, #login-name, #login-password, #login-submit, #login-error
 *   #console-view             shown once logged in; #agent-name the agent's name
 *   #logout, #lang-toggle (#login-lang-toggle on the login form)
 *   #queue                    the queue (ul) of li.queue-item with data-ticket,
 *                             data-status (open | claimed), data-reason; a click
 *                             (or Enter) selects it (.selected)
 *   #queue-count, #queue-empty
 *   #ticket-view              the selected handoff: data-ticket, data-status
 *                             (open | claimed | resolved), data-agent
 *   #ticket-title, #ticket-status
 *   #claim                    claim it; a 409 shows #claim-error ("claimed by
 *                             another agent")
 *   #packet-facts (dl: reason, trigger, intent or best candidate, confidence,
 *                             threshold, language, sentiment, counters),
 *   #packet-slots, #packet-profile (tables),
 *   #packet-transcript        li.turn per bot turn (data-turn, data-intent),
 *                             .candidate chips (data-intent, data-score)
 *   #agent-chat               the conversation: li.msg.customer | .msg.bot |
 *                             .msg.agent | .msg.system with data-seq; text in .bubble
 *   #agent-input, #agent-send (form #agent-form)   write to the customer
 *   #notes (li.note), #note-input, #add-note       internal notes
 *   #resolve-note, #resolve   optional closing note, and resolve
 *   #error, #ticket-error     error messages
 *   body[data-logged-in="1"]  once logged in
 */
'use strict';

(function () {
    const STORE_LANG = 'csbot.uilang';
    const QUEUE_EVERY_MS = 2000;
    const POLL_WAIT = 25;
    const LOGIN_PATH = '/api/v1/agent/login';

    const C = window.csbotCommon;
    const LABELS = C.withShared({
        zh: {
            title: '客服工作台',
            login_title: '客服登录',
            name: '用户名',
            password: '密码',
            login: '登录',
            login_failed: '用户名或密码错误。',
            console_title: '客服工作台',
            dashboard: '数据看板',
            logout: '退出',
            queue: '待处理队列',
            queue_empty: '暂无待处理的转人工请求。',
            pick_ticket: '从左侧队列选择一个会话。',
            claim: '接入',
            resolve: '结束服务',
            chat: '对话',
            send: '发送',
            reply_placeholder: '回复客户…',
            claim_first: '接入后才能回复客户。',
            notes: '内部备注（客户不可见）',
            note_placeholder: '仅客服可见的备注',
            add_note: '添加备注',
            resolve_placeholder: '结束服务时的备注（可选）',
            packet: '转人工信息',
            slots: '已识别信息（槽位）',
            profile: '客户资料',
            bot_turns: '机器人识别记录',
            none: '无',
            ticket: '工单 #{n}',
            st_open: '待接入',
            st_claimed: '已接入',
            st_claimed_by: '{name} 已接入',
            st_resolved: '已结束',
            mine: '我的',
            claimed_by_other: '该会话已被其他客服接入{who}。',
            not_yours: '该会话由 {name} 处理，您不能回复。',
            f_reason: '原因',
            f_text: '触发消息',
            f_intent: '识别意图',
            f_top: '最可能的意图',
            f_confidence: '置信度',
            f_threshold: '阈值',
            f_lang: '语言',
            f_sentiment: '情绪分',
            f_turns: '轮数',
            f_misses: '未识别（连续/总计）',
            f_created: '转人工时间',
            f_waiting: '已等待',
            f_agent: '处理客服',
            customer: '客户',
            bot: '机器人',
            agent: '客服',
            candidates: '候选',
            no_intent: '未识别',
            err_prefix: '出错了：',
            err_network: '网络连接不稳定，正在重试…',
            resolved_ok: '已结束服务，会话交回机器人。',
            lang_button: 'English',
            r_none: '无',
            via_button: '（客户点击了“转人工”按钮）'
        },
        en: {
            title: 'Agent console',
            login_title: 'Agent login',
            name: 'Name',
            password: 'Password',
            login: 'Log in',
            login_failed: 'Wrong name or password.',
            console_title: 'Agent console',
            dashboard: 'Dashboard',
            logout: 'Log out',
            queue: 'Queue',
            queue_empty: 'No customers waiting.',
            pick_ticket: 'Select a conversation from the queue.',
            claim: 'Claim',
            resolve: 'Resolve',
            chat: 'Conversation',
            send: 'Send',
            reply_placeholder: 'Reply to the customer…',
            claim_first: 'Claim the conversation to reply.',
            notes: 'Internal notes (never shown to the customer)',
            note_placeholder: 'A note for agents only',
            add_note: 'Add note',
            resolve_placeholder: 'Closing note (optional)',
            packet: 'Handoff',
            slots: 'Details found (slots)',
            profile: 'Customer profile',
            bot_turns: 'What the bot understood',
            none: 'none',
            ticket: 'Ticket #{n}',
            st_open: 'open',
            st_claimed: 'claimed',
            st_claimed_by: 'claimed by {name}',
            st_resolved: 'resolved',
            mine: 'mine',
            claimed_by_other: 'Claimed by another agent{who}.',
            not_yours: '{name} has this conversation; you cannot reply.',
            f_reason: 'Reason',
            f_text: 'Trigger',
            f_intent: 'Intent',
            f_top: 'Best candidate',
            f_confidence: 'Confidence',
            f_threshold: 'Threshold',
            f_lang: 'Language',
            f_sentiment: 'Sentiment',
            f_turns: 'Turns',
            f_misses: 'Misses (in a row / total)',
            f_created: 'Handed off',
            f_waiting: 'Waiting',
            f_agent: 'Agent',
            customer: 'Customer',
            bot: 'Bot',
            agent: 'Agent',
            candidates: 'Candidates',
            no_intent: 'no intent',
            err_prefix: 'Error: ',
            err_network: 'Connection problem, retrying…',
            resolved_ok: 'Resolved; the bot has the conversation again.',
            lang_button: '中文',
            r_none: 'none',
            via_button: '(pressed the “talk to a person” button)'
        }
    });

    const state = {
        ui: 'zh',
        me: null,            /* {name, csrf} */
        queueItems: new Map(), /* ticket -> li */
        queueTimer: null,
        ticket: null,        /* the selected ticket number */
        detail: null,        /* its GET /handoffs/{ticket} answer */
        shown: new Map(),    /* seq -> li in #agent-chat */
        lastSeq: 0,
        gen: 0,              /* bumped to stop the chat poll of an old ticket */
        pollCtl: null        /* aborts that poll's pending request */
    };

    const $ = (id) => document.getElementById(id);
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

    /* --- labels ------------------------------------------------------------ */

    const t = C.translator(LABELS, () => state.ui);
    const initialUiLang = () => C.initialUiLang(STORE_LANG);

    const reasonText = (r) => t('r_' + (r || 'none'));
    const langText = (l) => (l ? t('lang_' + l.replace('-', '_')) : '');

    function applyLabels() {
        document.documentElement.lang = state.ui === 'zh' ? 'zh-Hans' : 'en';
        document.title = t('title');
        document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
        document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
            el.placeholder = t(el.dataset.i18nPlaceholder);
        });
        $('lang-toggle').textContent = t('lang_button');
        $('login-lang-toggle').textContent = t('lang_button');
        state.queueItems.forEach((li) => fillQueueItem(li, li._handoff));
        if (state.detail)
            renderDetail(state.detail);
    }

    function toggleLang() {
        state.ui = state.ui === 'zh' ? 'en' : 'zh';
        localStorage.setItem(STORE_LANG, state.ui);
        applyLabels();
    }

    /* --- formatting ---------------------------------------------------------- */

    function duration(sec) {
        sec = Math.max(0, Math.round(sec || 0));
        if (sec < 60)
            return sec + 's';
        if (sec < 3600)
            return Math.floor(sec / 60) + 'm ' + String(sec % 60).padStart(2, '0') + 's';
        return Math.floor(sec / 3600) + 'h ' + String(Math.floor(sec / 60) % 60).padStart(2, '0') + 'm';
    }

    function clock(ts) {
        if (!ts)
            return '';
        return new Date(ts).toLocaleString(state.ui === 'zh' ? 'zh-CN' : 'en-GB',
            {month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'});
    }

    const pct = (x) => (typeof x === 'number' ? x.toFixed(2) : '–');

    const el = C.el;

    /* --- HTTP ------------------------------------------------------------------ */

    /* common.js's request with this agent's CSRF token; a 403 on a POST
     * refreshes the token once and retries, a 401 shows the login */
    async function api(method, path, body, opts) {
        opts = opts || {};
        try {
            return await C.request(method, path, body,
                Object.assign({}, opts, {csrf: state.me && state.me.csrf}));
        } catch (err) {
            if (err.status === 403 && method !== 'GET' && !opts.retried && path !== LOGIN_PATH &&
                await refreshMe())
                return api(method, path, body, Object.assign({}, opts, {retried: true}));
            if (err.status === 401 && path !== LOGIN_PATH)
                loggedOut();
            throw err;
        }
    }

    const ticketPath = (suffix) => '/api/v1/agent/handoffs/' + encodeURIComponent(state.ticket) + (suffix || '');

    function showError(id, text) {
        const e = $(id);
        e.textContent = text || '';
        e.hidden = !text;
        e.classList.toggle('notice', false);
    }

    function showNotice(id, text) {
        showError(id, text);
        $(id).classList.toggle('notice', !!text);
    }

    /* --- login ------------------------------------------------------------------- */

    async function refreshMe() {
        try {
            const res = await fetch('/api/v1/agent/me', {credentials: 'same-origin',
                                                         headers: {'Accept': 'application/json'}});
            if (!res.ok)
                return false;
            state.me = await res.json();
            return true;
        } catch (e) {
            return false;
        }
    }

    function showLogin() {
        document.body.dataset.loggedIn = '0';
        $('console-view').hidden = true;
        $('login-form').hidden = false;
        $('login-name').focus();
    }

    function showConsole() {
        document.body.dataset.loggedIn = '1';
        $('login-form').hidden = true;
        $('console-view').hidden = false;
        $('agent-name').textContent = state.me.name;
        startQueue();
    }

    /* The session ended (401 or logout): stop everything, show the form. */
    function loggedOut() {
        if (!state.me && !$('login-form').hidden)
            return;
        state.me = null;
        stopQueue();
        closeTicket();
        showLogin();
    }

    async function onLogin(ev) {
        ev.preventDefault();
        showError('login-error', '');
        $('login-submit').disabled = true;
        try {
            state.me = await api('POST', LOGIN_PATH, {name: $('login-name').value.trim(),
                                                      password: $('login-password').value});
            $('login-password').value = '';
            showConsole();
        } catch (e) {
            showError('login-error', e.status === 401 ? t('login_failed') : t('err_prefix') + e.message);
        } finally {
            $('login-submit').disabled = false;
        }
    }

    async function onLogout() {
        try {
            await api('POST', '/api/v1/agent/logout');
        } catch (e) {
            /* logged out either way */
        }
        loggedOut();
    }

    /* --- the queue ------------------------------------------------------------------ */

    function fillQueueItem(li, h) {
        li._handoff = h;
        li.dataset.ticket = String(h.ticket);
        li.dataset.status = h.status;
        li.dataset.reason = h.reason;
        li.dataset.conversation = h.conversation;
        li.classList.toggle('selected', h.ticket === state.ticket);
        li.textContent = '';
        const row = el('div', 'row');
        row.appendChild(el('span', 'ticket-no', '#' + h.ticket));
        row.appendChild(el('span', 'badge reason', reasonText(h.reason)));
        const st = el('span', 'badge ' + h.status, h.status === 'claimed' ? t('mine') : t('st_open'));
        row.appendChild(st);
        if (h.lang)
            row.appendChild(el('span', 'badge lang', langText(h.lang)));
        row.appendChild(el('span', 'wait', duration(h.waiting_seconds)));
        li.appendChild(row);
        li.appendChild(el('div', 'text', h.text || t('via_button')));
        li.title = h.text || '';
    }

    function newQueueItem(h) {
        const li = el('li', 'queue-item');
        li.tabIndex = 0;
        li.setAttribute('role', 'button');
        li.addEventListener('click', () => selectTicket(Number(li.dataset.ticket)));
        li.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter' || ev.key === ' ') {
                ev.preventDefault();
                selectTicket(Number(li.dataset.ticket));
            }
        });
        fillQueueItem(li, h);
        return li;
    }

    /* Update the list in place, so an item is never replaced under a click. */
    function renderQueue(handoffs) {
        const list = $('queue');
        const seen = new Set();
        handoffs.forEach((h, i) => {
            seen.add(h.ticket);
            let li = state.queueItems.get(h.ticket);
            if (li) {
                fillQueueItem(li, h);
            } else {
                li = newQueueItem(h);
                state.queueItems.set(h.ticket, li);
            }
            if (list.children[i] !== li)
                list.insertBefore(li, list.children[i] || null);
        });
        state.queueItems.forEach((li, ticket) => {
            if (!seen.has(ticket)) {
                li.remove();
                state.queueItems.delete(ticket);
            }
        });
        $('queue-count').textContent = String(handoffs.length);
        $('queue-empty').hidden = handoffs.length > 0;
    }

    async function refreshQueue() {
        try {
            const r = await api('GET', '/api/v1/agent/queue');
            const handoffs = r.handoffs || [];
            renderQueue(handoffs);
            if ($('error').textContent === t('err_network'))
                showError('error', '');
            /* the selected one left the queue while open: someone else took it */
            if (state.detail && state.detail.status === 'open' &&
                !handoffs.some((h) => h.ticket === state.ticket))
                reloadDetail();
        } catch (e) {
            if (e.status !== 401)
                showError('error', t('err_network'));
        }
    }

    function startQueue() {
        stopQueue();
        const tick = async () => {
            await refreshQueue();
            if (state.me)
                state.queueTimer = setTimeout(tick, QUEUE_EVERY_MS);
        };
        tick();
    }

    function stopQueue() {
        clearTimeout(state.queueTimer);
        state.queueTimer = null;
    }

    /* --- the selected handoff -------------------------------------------------------------- */

    function closeTicket() {
        stopChatPoll();
        state.ticket = null;
        state.detail = null;
        $('ticket-view').hidden = true;
        $('no-ticket').hidden = false;
    }

    async function selectTicket(ticket) {
        if (ticket === state.ticket && state.detail)
            return;
        stopChatPoll();
        const gen = state.gen;
        state.ticket = ticket;
        state.detail = null;
        state.queueItems.forEach((li, n) => li.classList.toggle('selected', n === ticket));
        $('agent-chat').textContent = '';
        state.shown.clear();
        state.lastSeq = 0;
        showError('claim-error', '');
        showError('ticket-error', '');
        try {
            const d = await api('GET', ticketPath(''));
            if (gen !== state.gen)
                return;
            state.detail = d;
            renderDetail(d);
            (d.messages || []).forEach(addChatMessage);
            scrollChat();
            chatLoop(gen);
        } catch (e) {
            if (gen === state.gen)
                showError('ticket-error', t('err_prefix') + e.message);
        }
    }

    async function reloadDetail() {
        const gen = state.gen;
        try {
            const d = await api('GET', ticketPath(''));
            if (gen !== state.gen)
                return;
            state.detail = d;
            renderDetail(d);
            (d.messages || []).forEach(addChatMessage);
        } catch (e) {
            /* the next queue poll tries again */
        }
    }

    function packetOf(d) {
        if (typeof d.packet === 'string') {
            try { return JSON.parse(d.packet); } catch (e) { return {}; }
        }
        return d.packet || {};
    }

    const mine = (d) => d.status === 'claimed' && state.me && d.agent === state.me.name;

    function renderDetail(d) {
        const view = $('ticket-view');
        view.hidden = false;
        $('no-ticket').hidden = true;
        view.dataset.ticket = String(d.ticket);
        view.dataset.status = d.status;
        view.dataset.agent = d.agent || '';
        $('ticket-title').textContent = t('ticket', {n: d.ticket}) + ' · ' + reasonText(d.reason);
        const st = $('ticket-status');
        st.className = 'badge ' + d.status;
        st.textContent = d.status === 'claimed' && d.agent ? t('st_claimed_by', {name: d.agent})
                                                           : t('st_' + d.status);
        const isMine = mine(d);
        $('claim').disabled = d.status !== 'open';
        $('claim').hidden = isMine || d.status === 'resolved';
        $('resolve').disabled = !isMine;
        $('resolve-form').hidden = !isMine;
        $('agent-input').disabled = !isMine;
        $('agent-send').disabled = !isMine;
        $('resolve-note').disabled = !isMine;
        $('agent-hint').hidden = isMine;
        if (d.status === 'claimed' && !isMine)
            $('agent-hint').textContent = t('not_yours', {name: d.agent || '?'});
        else
            $('agent-hint').textContent = t(d.status === 'resolved' ? 'st_resolved' : 'claim_first');
        renderFacts(d, packetOf(d));
        renderPairs($('packet-slots'), packetOf(d).slots);
        renderPairs($('packet-profile'), packetOf(d).profile);
        renderTurns(packetOf(d).transcript || []);
        renderNotes(d.notes || []);
    }

    function renderFacts(d, p) {
        const dl = $('packet-facts');
        dl.textContent = '';
        const add = (key, value) => {
            if (value === undefined || value === null || value === '')
                return;
            dl.appendChild(el('dt', null, t(key)));
            dl.appendChild(el('dd', null, value));
        };
        const c = p.counters || {};
        add('f_reason', reasonText(d.reason || p.reason));
        add('f_text', p.text || d.text || (d.reason === 'explicit_request' ? t('via_button') : ''));
        add('f_intent', p.intent || t('no_intent'));
        const top = topCandidate(p);
        if (!p.intent && top)
            add('f_top', top.intent + ' ' + pct(top.score));
        add('f_confidence', pct(p.confidence));
        add('f_threshold', pct(p.threshold));
        add('f_lang', langText(p.lang));
        add('f_sentiment', pct(p.sentiment));
        if (c.turns !== undefined)
            add('f_turns', String(c.turns));
        if (c.misses_in_row !== undefined)
            add('f_misses', c.misses_in_row + ' / ' + c.misses_total);
        add('f_created', clock(d.created));
        if (d.status === 'open' && d.created)
            add('f_waiting', duration((Date.now() - d.created) / 1000));
        add('f_agent', d.agent);
    }

    /* The best candidate of the last transcript turn, if any. */
    function topCandidate(p) {
        const turns = p.transcript || [];
        const last = turns[turns.length - 1];
        return last && last.candidates && last.candidates.length ? last.candidates[0] : null;
    }

    function renderPairs(table, obj) {
        const body = table.tBodies[0];
        body.textContent = '';
        const keys = Object.keys(obj || {});
        if (!keys.length) {
            const tr = el('tr');
            tr.appendChild(el('td', 'muted', t('none')));
            body.appendChild(tr);
            return;
        }
        keys.forEach((k) => {
            const tr = el('tr');
            tr.appendChild(el('th', null, k));
            tr.appendChild(el('td', null, obj[k]));
            body.appendChild(tr);
        });
    }

    function renderTurns(turns) {
        const list = $('packet-transcript');
        list.textContent = '';
        if (!turns.length)
            list.appendChild(el('li', 'muted', t('none')));
        turns.forEach((turn) => {
            const li = el('li', 'turn');
            li.dataset.turn = String(turn.turn);
            li.dataset.intent = turn.intent || '';
            if (turn.action === 'fallback' || turn.action === 'suggest')
                li.classList.add('miss');
            if (turn.action === 'handoff')
                li.classList.add('handoff');
            li.appendChild(el('div', 'who', '#' + turn.turn + ' ' + t('customer') +
                                            (turn.time_ms ? ' · ' + clock(turn.time_ms) : '')));
            li.appendChild(el('div', 'said', turn.user));
            li.appendChild(el('div', 'who', t('bot') + ' · ' + turn.action + ' · ' +
                                            (turn.intent || t('no_intent')) + ' · ' + pct(turn.confidence)));
            if (turn.bot)
                li.appendChild(el('div', 'said muted', turn.bot));
            if (turn.candidates && turn.candidates.length) {
                const box = el('div', 'candidates');
                box.setAttribute('aria-label', t('candidates'));
                turn.candidates.forEach((c) => {
                    const chip = el('span', 'candidate', c.intent + ' ' + pct(c.score));
                    chip.dataset.intent = c.intent;
                    chip.dataset.score = String(c.score);
                    box.appendChild(chip);
                });
                li.appendChild(box);
            }
            list.appendChild(li);
        });
    }

    function renderNotes(notes) {
        const list = $('notes');
        list.textContent = '';
        notes.forEach(addNoteItem);
    }

    function addNoteItem(n) {
        const li = el('li', 'note', n.text);
        li.appendChild(el('span', 'meta', (n.agent || '') + ' · ' + clock(n.ts)));
        $('notes').appendChild(li);
    }

    /* --- the live chat ------------------------------------------------------------------------ */

    function chatMeta(m) {
        const who = m.role === 'customer' ? t('customer')
                  : m.role === 'agent' ? t('agent') + ' ' + (m.agent || '')
                  : m.role === 'bot' ? t('bot') : '';
        let s = (who ? who + ' · ' : '') + clock(m.ts);
        if (m.role === 'bot')
            s += ' · ' + (m.action || '') + ' · ' + (m.intent || t('no_intent')) +
                 (typeof m.confidence === 'number' ? ' ' + pct(m.confidence) : '');
        return s;
    }

    function addChatMessage(m) {
        if (m.seq != null && state.shown.has(m.seq))
            return;
        state.lastSeq = Math.max(state.lastSeq, m.seq || 0);
        if (!m.text)
            return;
        const li = el('li', 'msg ' + m.role);
        li.dataset.seq = String(m.seq);
        li.dataset.role = m.role;
        if (m.intent)
            li.dataset.intent = m.intent;
        li.appendChild(el('div', 'bubble', m.text));
        li.appendChild(el('div', 'meta', chatMeta(m)));
        state.shown.set(m.seq, li);
        const list = $('agent-chat');
        const next = Array.from(list.children).find((c) => Number(c.dataset.seq) > m.seq);
        list.insertBefore(li, next || null);
    }

    function scrollChat() {
        const list = $('agent-chat');
        list.scrollTop = list.scrollHeight;
    }

    /* Stop the long poll of the ticket shown before (frees its connection). */
    function stopChatPoll() {
        state.gen++;
        if (state.pollCtl)
            state.pollCtl.abort();
        state.pollCtl = null;
    }

    async function chatLoop(gen) {
        let delay = 1000;
        const ctl = new AbortController();
        state.pollCtl = ctl;
        while (gen === state.gen && state.me) {
            const started = Date.now();
            try {
                const r = await api('GET', ticketPath('/messages?after=' + state.lastSeq + '&wait=' + POLL_WAIT),
                                    undefined, {timeout: (POLL_WAIT + 15) * 1000, signal: ctl.signal});
                if (gen !== state.gen)
                    return;
                const msgs = r.messages || [];
                msgs.forEach(addChatMessage);
                if (msgs.length)
                    scrollChat();
                delay = 1000;
                if (!msgs.length && Date.now() - started < 1000)
                    await sleep(1000);
            } catch (e) {
                if (gen !== state.gen || e.status === 401 || e.status === 404)
                    return;
                await sleep(delay + Math.random() * 500);
                delay = Math.min(delay * 2, 30000);
            }
        }
    }

    /* --- actions ------------------------------------------------------------------------------ */

    async function onClaim() {
        $('claim').disabled = true;
        showError('claim-error', '');
        try {
            const r = await api('POST', ticketPath('/claim'));
            state.detail.status = r.status || 'claimed';
            state.detail.agent = r.agent || state.me.name;
            state.detail.claimed = Date.now();
            renderDetail(state.detail);
            $('agent-input').focus();
            refreshQueue();
        } catch (e) {
            if (e.status === 409) {
                showError('claim-error', t('claimed_by_other', {who: ''}) + ' (' + e.message + ')');
                await reloadDetail();
                const d = state.detail;
                if (d && d.agent && !mine(d))
                    showError('claim-error', t('claimed_by_other', {who: ': ' + d.agent}));
                refreshQueue();
            } else {
                showError('claim-error', t('err_prefix') + e.message);
                $('claim').disabled = false;
            }
        }
    }

    async function onSend(ev) {
        ev.preventDefault();
        const input = $('agent-input');
        const text = input.value.trim();
        if (!text || !state.detail || !mine(state.detail))
            return;
        $('agent-send').disabled = true;
        showError('ticket-error', '');
        try {
            const r = await api('POST', ticketPath('/messages'), {text});
            input.value = '';
            addChatMessage({seq: r.seq, role: 'agent', agent: state.me.name, text, ts: Date.now()});
            scrollChat();
        } catch (e) {
            showError('ticket-error', t('err_prefix') + e.message);
            if (e.status === 409)
                reloadDetail();
            // 502: stored, but WeChat did not deliver it; the transcript
            // (long poll) shows the message and the notice, so no resend
            if (e.status === 502)
                input.value = '';
        } finally {
            $('agent-send').disabled = !mine(state.detail);
            input.focus();
        }
    }

    function onAgentKey(ev) {
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            $('agent-form').requestSubmit();
        }
    }

    async function onAddNote(ev) {
        ev.preventDefault();
        const input = $('note-input');
        const text = input.value.trim();
        if (!text || !state.ticket)
            return;
        $('add-note').disabled = true;
        try {
            await api('POST', ticketPath('/notes'), {text});
            input.value = '';
            const note = {agent: state.me.name, text, ts: Date.now()};
            if (state.detail)
                (state.detail.notes = state.detail.notes || []).push(note);
            addNoteItem(note);
        } catch (e) {
            showError('ticket-error', t('err_prefix') + e.message);
        } finally {
            $('add-note').disabled = false;
        }
    }

    async function onResolve() {
        if (!state.detail || !mine(state.detail))
            return;
        $('resolve').disabled = true;
        const note = $('resolve-note').value.trim();
        try {
            await api('POST', ticketPath('/resolve'), note ? {note} : {});
            $('resolve-note').value = '';
            state.detail.status = 'resolved';
            await reloadDetail();
            renderDetail(state.detail);
            showNotice('ticket-error', t('resolved_ok'));
            refreshQueue();
        } catch (e) {
            showError('ticket-error', t('err_prefix') + e.message);
            $('resolve').disabled = false;
        }
    }

    /* --- start ---------------------------------------------------------------------------------- */

    function bindEvents() {
        $('login-form').addEventListener('submit', onLogin);
        $('logout').addEventListener('click', onLogout);
        $('lang-toggle').addEventListener('click', toggleLang);
        $('login-lang-toggle').addEventListener('click', toggleLang);
        $('claim').addEventListener('click', onClaim);
        $('agent-form').addEventListener('submit', onSend);
        $('agent-input').addEventListener('keydown', onAgentKey);
        $('note-form').addEventListener('submit', onAddNote);
        $('resolve-form').addEventListener('submit', (ev) => { ev.preventDefault(); onResolve(); });
    }

    async function main() {
        state.ui = initialUiLang();
        applyLabels();
        bindEvents();
        if (await refreshMe())
            showConsole();
        else
            showLogin();
    }

    if (document.readyState === 'loading')
        document.addEventListener('DOMContentLoaded', main);
    else
        main();
})();
