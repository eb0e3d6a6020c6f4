/*
 * dashboard.js - the service manager's dashboard of csbot-server (the page
 * at /dashboard).
 *
 * Reads GET /api/v1/dashboard?days=N (agent login needed: a 401 shows the
 * login form, with a link to /agent) and shows the figures: conversations,
 * answer/suggest/fallback/handoff rates, handoffs by reason, resolution rate,
 * first response and handoff wait, satisfaction, the busiest hours (24 bars
 * in inline SVG drawn here), top intents, and the latest unanswered messages,
 * each of which can be added to the knowledge base as an example of an
 * intent (GET /api/v1/kb/intents, POST /api/v1/kb/examples with X-CSRF-Token).
 * All text goes into the page with textContent.
 *
 * Elements a browser test can use:
 *   #login-form, #login-name, #login-password, #login-submit, #login-error,
 *   #agent-link               the login form (shown on a 401) and a link to /agent
 *   #dash-view                the dashboard; body[data-loaded="1"] once filled
 *   #days, #refresh, #updated, #kb-generation (data-generation)
 *   #stat-conversations, #stat-messages, #rate-answer, #rate-suggest,
 *   #rate-fallback, #rate-handoff, #resolution-rate, #first-response,
 *   #handoff-wait, #satisfaction-average, #satisfaction-count,
 *   #answer-helpful, #answer-feedback-count   the figures (satisfaction: the
 *   stars given to whole conversations; helpful: thumbs on single answers)
 *   #hours-chart              svg; 24 rect.bar with data-hour and data-count
 *   #satisfaction-chart       svg; rect.bar per rating (data-rating, data-count)
 *   #top-intents              svg; rect.bar per intent (data-intent, data-count)
 *   #handoffs-by-reason       table; tr[data-reason] with the count
 *   #handoff-totals, #actions-table
 *   #unanswered               ul of li.unanswered-item (data-message), each with
 *                             select.intent-select, button.add-example and
 *                             .add-result (.ok or .bad; data-generation on success)
 *   #lang-toggle, #login-lang-toggle, #error
 */
'use strict';

(function () {
    const STORE_LANG = 'csbot.uilang';
    const LOGIN_PATH = '/api/v1/agent/login';
    const REFRESH_MS = 60000;
    const SVG = 'http://www.w3.org/2000/svg';

    const C = window.csbotCommon;
    const LABELS = C.withShared({
        zh: {
            title: '数据看板',
            login_title: '登录后查看数据看板',
            name: '用户名',
            password: '密码',
            login: '登录',
            login_failed: '用户名或密码错误。',
            to_console: '前往客服工作台',
            console: '客服工作台',
            period: '时间范围',
            d1: '最近 1 天',
            d7: '最近 7 天',
            d30: '最近 30 天',
            d90: '最近 90 天',
            refresh: '刷新',
            updated: '更新于 {time}',
            kb_generation: '知识库版本 {n}',
            conversations: '会话数',
            messages_sub: '客户消息 {c} · 机器人回复 {b}',
            rate_answer: '直接回答率',
            rate_suggest: '推荐问题率',
            rate_fallback: '未识别率',
            rate_handoff: '转人工的会话',
            resolution_rate: '机器人解决率',
            first_response: '人工首次响应（平均）',
            handoff_wait: '转人工等待（平均）',
            satisfaction: '满意度',
            helpful: '答案有帮助',
            ratings_count: '{n} 条评价',
            ratings_one: '1 条评价',
            hours: '繁忙时段（客户消息数，按小时）',
            hour_tip: '{h}:00–{h}:59：{n} 条消息',
            handoffs: '转人工',
            handoff_totals: '共 {total} 次 · 待接入 {open} · 处理中 {claimed} · 已结束 {resolved}',
            reason: '原因',
            count: '次数',
            satisfaction_dist: '满意度分布',
            top_intents: '热门问题',
            actions: '机器人回复类型',
            action: '类型',
            unanswered: '最近未能回答的消息',
            unanswered_hint: '选择正确的问题并加入知识库，机器人下次就能回答。',
            unanswered_empty: '暂无未回答的消息。',
            choose_intent: '选择问题…',
            add_example: '加入知识库',
            added: '已加入“{intent}”，知识库版本 {n}：{example}',
            err_prefix: '出错了：',
            none: '暂无数据',
            seconds: '{n} 秒',
            minutes: '{m} 分 {s} 秒',
            lang_button: 'English',
            a_answer: '直接回答',
            a_ask: '追问信息',
            a_suggest: '推荐问题',
            a_fallback: '未识别',
            a_handoff: '转人工',
            a_silent: '人工处理中',
            r_none: '其他'
        },
        en: {
            title: 'Dashboard',
            login_title: 'Log in to see the dashboard',
            name: 'Name',
            password: 'Password',
            login: 'Log in',
            login_failed: 'Wrong name or password.',
            to_console: 'Go to the agent console',
            console: 'Agent console',
            period: 'Period',
            d1: 'Last day',
            d7: 'Last 7 days',
            d30: 'Last 30 days',
            d90: 'Last 90 days',
            refresh: 'Refresh',
            updated: 'Updated {time}',
            kb_generation: 'Knowledge base generation {n}',
            conversations: 'Conversations',
            messages_sub: '{c} customer messages · {b} bot replies',
            rate_answer: 'Answered',
            rate_suggest: 'Suggested',
            rate_fallback: 'Not understood',
            rate_handoff: 'Conversations handed off',
            resolution_rate: 'Resolved by the bot',
            first_response: 'Agent first response (mean)',
            handoff_wait: 'Handoff wait (mean)',
            satisfaction: 'Satisfaction',
            helpful: 'Helpful answers',
            ratings_count: '{n} ratings',
            ratings_one: '1 rating',
            hours: 'Busiest hours (customer messages by hour)',
            hour_tip: '{h}:00–{h}:59: {n} messages',
            handoffs: 'Handoffs',
            handoff_totals: '{total} in all · {open} open · {claimed} claimed · {resolved} resolved',
            reason: 'Reason',
            count: 'Count',
            satisfaction_dist: 'Satisfaction ratings',
            top_intents: 'Top intents',
            actions: 'Bot replies by action',
            action: 'Action',
            unanswered: 'Latest unanswered messages',
            unanswered_hint: 'Pick the right intent and add the message to the knowledge base so the bot answers it next time.',
            unanswered_empty: 'No unanswered messages.',
            choose_intent: 'Choose an intent…',
            add_example: 'Add as example',
            added: 'Added to “{intent}”, knowledge base generation {n}: {example}',
            err_prefix: 'Error: ',
            none: 'No data yet',
            seconds: '{n} s',
            minutes: '{m} min {s} s',
            lang_button: '中文',
            a_answer: 'Answer',
            a_ask: 'Ask for details',
            a_suggest: 'Suggest',
            a_fallback: 'Fallback',
            a_handoff: 'Handoff',
            a_silent: 'With an agent',
            r_none: 'Other'
        }
    });

    const state = {
        ui: 'zh',
        me: null,          /* {name, csrf} */
        data: null,        /* the last dashboard answer */
        kb: null,          /* GET /api/v1/kb/intents */
        items: new Map(),  /* message id -> li.unanswered-item */
        timer: null
    };

    const $ = (id) => document.getElementById(id);

    /* --- labels ------------------------------------------------------------ */

    const t = C.translator(LABELS, () => state.ui);
    const initialUiLang = () => C.initialUiLang(STORE_LANG);

    function applyLabels() {
        document.documentElement.lang = state.ui === 'zh' ? 'zh-Hans' : 'en';
        document.title = t('title');
        document.querySelectorAll('[data-i18n]').forEach((e) => { e.textContent = t(e.dataset.i18n); });
        $('lang-toggle').textContent = t('lang_button');
        $('login-lang-toggle').textContent = t('lang_button');
        if (state.data)
            render(state.data);
    }

    function toggleLang() {
        state.ui = state.ui === 'zh' ? 'en' : 'zh';
        localStorage.setItem(STORE_LANG, state.ui);
        applyLabels();
    }

    /* --- formatting ------------------------------------------------------------ */

    const percent = (x) => (typeof x === 'number' ? (x * 100).toFixed(1) + '%' : '–');

    function seconds(x) {
        if (typeof x !== 'number')
            return '–';
        if (x < 60)
            return t('seconds', {n: x.toFixed(1)});
        return t('minutes', {m: Math.floor(x / 60), s: Math.round(x % 60)});
    }

    function when(ts) {
        return new Date(ts).toLocaleString(state.ui === 'zh' ? 'zh-CN' : 'en-GB',
            {month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
    }

    const langText = (l) => (l ? t('lang_' + l.replace('-', '_')) : '');

    function intentTitle(id) {
        const it = state.kb && state.kb.intents.find((i) => i.id === id);
        if (!it || !it.title)
            return id;
        return (state.ui === 'zh' ? it.title.zh || it.title.en : it.title.en || it.title.zh) || id;
    }

    const el = C.el;

    function svgEl(tag, attrs, text) {
        const e = document.createElementNS(SVG, tag);
        Object.keys(attrs || {}).forEach((k) => e.setAttribute(k, String(attrs[k])));
        if (text !== undefined)
            e.textContent = String(text);
        return e;
    }

    function shorten(s, n) {
        s = String(s);
        return s.length > n ? s.slice(0, n - 1) + '…' : s;
    }

    /* --- HTTP --------------------------------------------------------------------- */

    /* common.js's request with this agent's CSRF token; a 403 on a POST
     * refreshes the token once and retries */
    async function api(method, path, body, retried) {
        try {
            return await C.request(method, path, body, {csrf: state.me && state.me.csrf});
        } catch (err) {
            if (err.status === 403 && method !== 'GET' && !retried && path !== LOGIN_PATH &&
                await refreshMe())
                return api(method, path, body, true);
            throw err;
        }
    }

    async function refreshMe() {
        try {
            state.me = await api('GET', '/api/v1/agent/me');
            return true;
        } catch (e) {
            return false;
        }
    }

    function showError(text) {
        $('error').textContent = text || '';
        $('error').hidden = !text;
    }

    /* --- login ---------------------------------------------------------------------- */

    function showLogin() {
        clearTimeout(state.timer);
        document.body.dataset.loggedIn = '0';
        $('dash-view').hidden = true;
        $('login-form').hidden = false;
        $('login-name').focus();
    }

    function showDashboard() {
        document.body.dataset.loggedIn = '1';
        $('login-form').hidden = true;
        $('dash-view').hidden = false;
        $('agent-name').textContent = state.me ? state.me.name : '';
    }

    async function onLogin(ev) {
        ev.preventDefault();
        $('login-error').hidden = true;
        $('login-submit').disabled = true;
        try {
            state.me = await api('POST', LOGIN_PATH, {name: $('login-name').value.trim(),
                                                      password: $('login-password').value});
            $('login-password').value = '';
            await load();
        } catch (e) {
            $('login-error').textContent = e.status === 401 ? t('login_failed') : t('err_prefix') + e.message;
            $('login-error').hidden = false;
        } finally {
            $('login-submit').disabled = false;
        }
    }

    /* --- loading ------------------------------------------------------------------------- */

    async function load() {
        clearTimeout(state.timer);
        const days = $('days').value;
        try {
            const data = await api('GET', '/api/v1/dashboard?days=' + encodeURIComponent(days));
            if (!state.me)
                await refreshMe();
            try {
                state.kb = await api('GET', '/api/v1/kb/intents');
            } catch (e) {
                if (e.status === 401)
                    throw e;
            }
            state.data = data;
            showDashboard();
            showError('');
            render(data);
            $('updated').textContent = t('updated', {time: new Date().toLocaleTimeString()});
            document.body.dataset.loaded = '1';
        } catch (e) {
            if (e.status === 401) {
                state.me = null;
                showLogin();
                return;
            }
            showError(t('err_prefix') + e.message);
        }
        state.timer = setTimeout(load, REFRESH_MS);
    }

    /* --- rendering ------------------------------------------------------------------------ */

    function render(d) {
        renderFigures(d);
        renderKbGeneration(state.kb && state.kb.generation);
        drawHours($('hours-chart'), d.hours || []);
        renderReasons(d.handoffs || {});
        renderActions(d.actions || {});
        drawSatisfaction(d.satisfaction || {});
        drawTopIntents(d.top_intents || []);
        renderUnanswered(d.unanswered || []);
    }

    function renderFigures(d) {
        const r = d.rates || {};
        const s = d.satisfaction || {};
        $('stat-conversations').textContent = String(d.conversations ?? '–');
        $('stat-messages').textContent = t('messages_sub', {c: d.customer_messages ?? 0, b: d.bot_replies ?? 0});
        $('rate-answer').textContent = percent(r.answer);
        $('rate-suggest').textContent = percent(r.suggest);
        $('rate-fallback').textContent = percent(r.fallback);
        $('rate-handoff').textContent = percent(d.handoff_rate);
        $('resolution-rate').textContent = percent(d.resolution_rate);
        $('first-response').textContent = seconds(d.first_response_seconds);
        $('handoff-wait').textContent = seconds(d.handoff_wait_seconds);
        $('satisfaction-average').textContent =
            typeof s.average === 'number' && s.count ? s.average.toFixed(2) + ' / 5' : '–';
        $('satisfaction-count').textContent = t(s.count === 1 ? 'ratings_one' : 'ratings_count', {n: s.count || 0});
        const f = d.answer_feedback || {};
        $('answer-helpful').textContent = f.count ? percent(f.helpful) : '–';
        $('answer-feedback-count').textContent = t(f.count === 1 ? 'ratings_one' : 'ratings_count', {n: f.count || 0});
    }

    function renderKbGeneration(gen) {
        const b = $('kb-generation');
        b.hidden = gen === undefined || gen === null;
        if (!b.hidden) {
            b.dataset.generation = String(gen);
            b.textContent = t('kb_generation', {n: gen});
        }
    }

    function fillTable(table, rows) {
        const body = table.tBodies[0];
        body.textContent = '';
        if (!rows.length) {
            const tr = el('tr');
            const td = el('td', 'muted', t('none'));
            td.colSpan = 2;
            tr.appendChild(td);
            body.appendChild(tr);
        }
        rows.forEach((row) => {
            const tr = el('tr');
            Object.keys(row.data || {}).forEach((k) => { tr.dataset[k] = row.data[k]; });
            tr.appendChild(el('td', null, row.label));
            tr.appendChild(el('td', 'num', row.value));
            body.appendChild(tr);
        });
    }

    function renderReasons(h) {
        $('handoff-totals').textContent = t('handoff_totals', {total: h.total || 0, open: h.open || 0,
                                                               claimed: h.claimed || 0,
                                                               resolved: h.resolved || 0});
        const by = h.by_reason || {};
        const rows = Object.keys(by).sort((a, b) => by[b] - by[a])
            .map((k) => ({label: t('r_' + k), value: by[k], data: {reason: k}}));
        fillTable($('handoffs-by-reason'), rows);
    }

    function renderActions(a) {
        const order = ['answer', 'ask', 'suggest', 'fallback', 'handoff'];
        const keys = order.filter((k) => k in a).concat(Object.keys(a).filter((k) => !order.includes(k)));
        fillTable($('actions-table'), keys.map((k) => ({label: t('a_' + k), value: a[k], data: {action: k}})));
    }

    /* --- charts (inline SVG) ----------------------------------------------------------------- */

    /* 24 vertical bars, one per hour of the day. */
    function drawHours(svg, hours) {
        const W = 720, H = 200, left = 34, right = 8, top = 18, bottom = 24;
        svg.textContent = '';
        const counts = Array.from({length: 24}, (_, i) => Number(hours[i]) || 0);
        const max = Math.max(1, ...counts);
        const plotH = H - top - bottom;
        const slot = (W - left - right) / 24;
        const barW = Math.max(4, slot * 0.7);
        svg.appendChild(svgEl('line', {class: 'axis', x1: left, y1: H - bottom + 0.5,
                                       x2: W - right, y2: H - bottom + 0.5}));
        svg.appendChild(svgEl('text', {x: left - 6, y: top + 4, 'text-anchor': 'end'}, max));
        svg.appendChild(svgEl('text', {x: left - 6, y: H - bottom, 'text-anchor': 'end'}, 0));
        counts.forEach((n, h) => {
            const bh = n ? Math.max(2, (n / max) * plotH) : 1;
            const x = left + h * slot + (slot - barW) / 2;
            const rect = svgEl('rect', {class: n ? 'bar' : 'bar zero', x: x.toFixed(1),
                                        y: (H - bottom - bh).toFixed(1), width: barW.toFixed(1),
                                        height: bh.toFixed(1), rx: 2,
                                        'data-hour': h, 'data-count': n});
            rect.appendChild(svgEl('title', {}, t('hour_tip', {h: String(h).padStart(2, '0'), n})));
            svg.appendChild(rect);
            if (n === max && n > 0)
                svg.appendChild(svgEl('text', {class: 'value', x: (x + barW / 2).toFixed(1),
                                               y: (H - bottom - bh - 4).toFixed(1),
                                               'text-anchor': 'middle'}, n));
            if (h % 3 === 0)
                svg.appendChild(svgEl('text', {x: (x + barW / 2).toFixed(1), y: H - 6,
                                               'text-anchor': 'middle'}, String(h).padStart(2, '0')));
        });
    }

    /* Horizontal bars: rows of {label, value, title, data, cls}. */
    function drawBars(svg, rows) {
        const W = 360, rowH = 26, labelW = 130, valueW = 40;
        svg.textContent = '';
        const H = Math.max(1, rows.length) * rowH + 6;
        svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
        if (!rows.length) {
            svg.appendChild(svgEl('text', {x: 4, y: 18}, t('none')));
            return;
        }
        const max = Math.max(1, ...rows.map((r) => r.value));
        const barMax = W - labelW - valueW;
        rows.forEach((r, i) => {
            const y = 4 + i * rowH;
            const w = r.value ? Math.max(2, (r.value / max) * barMax) : 1;
            const label = svgEl('text', {x: labelW - 8, y: y + 15, 'text-anchor': 'end'}, shorten(r.label, 16));
            label.appendChild(svgEl('title', {}, r.title || r.label));
            svg.appendChild(label);
            const attrs = {class: 'bar ' + (r.cls || '') + (r.value ? '' : ' zero'), x: labelW, y: y + 3,
                           width: w.toFixed(1), height: rowH - 8, rx: 2, 'data-count': r.value};
            Object.keys(r.data || {}).forEach((k) => { attrs['data-' + k] = r.data[k]; });
            const rect = svgEl('rect', attrs);
            rect.appendChild(svgEl('title', {}, (r.title || r.label) + ': ' + r.value));
            svg.appendChild(rect);
            svg.appendChild(svgEl('text', {class: 'value', x: (labelW + w + 6).toFixed(1), y: y + 15}, r.value));
        });
    }

    function drawSatisfaction(s) {
        const by = s.by_rating || [];
        const rows = [5, 4, 3, 2, 1].map((n) => ({label: '★'.repeat(n), title: n + ' ★', value: Number(by[n - 1]) || 0,
                                                  cls: 'star-bar', data: {rating: n}}));
        drawBars($('satisfaction-chart'), s.count ? rows : []);
    }

    function drawTopIntents(list) {
        drawBars($('top-intents'), list.slice(0, 10).map((x) => ({
            label: intentTitle(x.intent), title: intentTitle(x.intent) + ' (' + x.intent + ')',
            value: x.count, data: {intent: x.intent}})));
    }

    /* --- unanswered messages ---------------------------------------------------------------------- */

    function fillIntentSelect(select) {
        const keep = select.value;
        select.textContent = '';
        const first = el('option', null, t('choose_intent'));
        first.value = '';
        select.appendChild(first);
        const intents = (state.kb && state.kb.intents) || [];
        intents.slice().sort((a, b) => intentTitle(a.id).localeCompare(intentTitle(b.id)))
            .forEach((it) => {
                const o = el('option', null, intentTitle(it.id) + ' (' + it.id + ')');
                o.value = it.id;
                select.appendChild(o);
            });
        select.value = keep;
    }

    function newUnansweredItem(u) {
        const li = el('li', 'unanswered-item');
        li.dataset.message = String(u.message);
        li.appendChild(el('div', 'text', u.text));
        li.appendChild(el('div', 'meta'));
        const form = el('div', 'row-form');
        const select = el('select', 'intent-select');
        select.setAttribute('aria-label', t('choose_intent'));
        const button = el('button', 'add-example');
        button.type = 'button';
        button.disabled = true;
        select.addEventListener('change', () => { button.disabled = !select.value; });
        button.addEventListener('click', () => addExample(li, u.message, select.value));
        form.append(select, button);
        li.appendChild(form);
        li.appendChild(el('div', 'add-result'));
        return li;
    }

    function fillUnansweredItem(li, u) {
        li.querySelector('.meta').textContent = [when(u.ts), langText(u.lang), t('a_' + u.action),
                                                 u.conversation ? u.conversation.slice(0, 8) : '']
            .filter(Boolean).join(' · ');
        fillIntentSelect(li.querySelector('.intent-select'));
        const button = li.querySelector('.add-example');
        button.textContent = t('add_example');
        if (!li.dataset.added)
            button.disabled = !li.querySelector('.intent-select').value;
    }

    /* Update in place, so a chosen intent survives the periodic refresh. */
    function renderUnanswered(list) {
        const ul = $('unanswered');
        const seen = new Set();
        list.forEach((u, i) => {
            seen.add(u.message);
            let li = state.items.get(u.message);
            if (!li) {
                li = newUnansweredItem(u);
                state.items.set(u.message, li);
            }
            fillUnansweredItem(li, u);
            if (ul.children[i] !== li)
                ul.insertBefore(li, ul.children[i] || null);
        });
        state.items.forEach((li, id) => {
            if (!seen.has(id)) {
                li.remove();
                state.items.delete(id);
            }
        });
        $('unanswered-empty').hidden = list.length > 0;
    }

    async function addExample(li, message, intent) {
        const result = li.querySelector('.add-result');
        const button = li.querySelector('.add-example');
        if (!intent)
            return;
        button.disabled = true;
        result.className = 'add-result';
        result.textContent = '…';
        try {
            const r = await api('POST', '/api/v1/kb/examples', {message, intent});
            result.classList.add('ok');
            result.dataset.generation = String(r.generation);
            result.textContent = t('added', {intent: intentTitle(r.intent || intent), n: r.generation,
                                             example: r.example || ''});
            li.dataset.added = '1';
            if (state.kb)
                state.kb.generation = r.generation;
            renderKbGeneration(r.generation);
        } catch (e) {
            result.classList.add('bad');
            result.textContent = t('err_prefix') + e.message;
            button.disabled = false;
            if (e.status === 401)
                showLogin();
        }
    }

    /* --- start -------------------------------------------------------------------------------------- */

    function bindEvents() {
        $('login-form').addEventListener('submit', onLogin);
        $('lang-toggle').addEventListener('click', toggleLang);
        $('login-lang-toggle').addEventListener('click', toggleLang);
        $('refresh').addEventListener('click', load);
        $('days').addEventListener('change', load);
    }

    function main() {
        state.ui = initialUiLang();
        applyLabels();
        bindEvents();
        load();
    }

    if (document.readyState === 'loading')
        document.addEventListener('DOMContentLoaded', main);
    else
        main();
})();
