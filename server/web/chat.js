/*
 * chat.js - the customer web chat of csbot-server (the page at /).
 *
 * Creates a conversation (POST /api/v1/conversations) and keeps its id in
 * sessionStorage, so a reload continues it and re-reads the transcript
 * (GET /api/v1/conversations/{id}). Sends the customer's messages, shows the
 * bot's answers, its suggestions and thumbs up/down ratings, the "talk to a
 * person" button, the end-of-chat star rating, and agent/system messages,
 * which arrive by long polling GET .../messages?after=SEQ&wait=25.
 * All message text goes into the page with textContent, never as HTML.
 *
 * Elements a browser test can use:
 *   #messages                 the transcript (ol); each message is
 *                             li.msg.customer | .msg.bot | .msg.agent | .msg.system
 *                             with data-seq and data-role (bot: data-action,
 *                             data-intent, data-turn); its text is in .bubble
 *   .msg.pending              a customer message not yet acknowledged
 *   .suggestion               a suggested question under a "suggest" answer
 *                             (button; data-intent; a click sends its title)
 *   .rating .rate-up / .rate-down   thumbs under each "answer"; the .rating
 *                             gets data-rated="5" or "1" once sent
 *   #message-input, #send, #composer   the message box, its button, its form
 *   #talk-to-human            hand the chat to a person
 *   #end-chat                 end the chat: shows #end-panel
 *   #end-panel .star[data-rating="1".."5"]   the conversation rating
 *   #rating-thanks            shown once the stars were sent
 *   #new-chat                 start a new conversation; #close-end hides the panel
 *   #status                   status badge, data-status = bot | waiting | agent
 *                             (data-agent = the agent's name when known)
 *   #lang-toggle              switch the labels zh <-> en (html[lang] follows)
 *   #error                    error banner
 *   body[data-conversation]   the conversation id; body[data-ready="1"] once
 *                             the conversation exists and the transcript is shown
 */
'use strict';

(function () {
    const STORE_ID = 'csbot.conversation';
    const STORE_LANG = 'csbot.uilang';
    const MAX_BYTES = 4000;
    const POLL_WAIT = 25;

    const LABELS = {
        zh: {
            title: '在线客服',
            status_bot: '智能客服为您服务',
            status_waiting: '正在为您转接人工客服…',
            status_agent: '客服 {name} 已接入',
            status_agent_anon: '人工客服已接入',
            talk_to_human: '转人工',
            end_chat: '结束',
            send: '发送',
            placeholder: '请输入您的问题…',
            helpful: '👍 有帮助',
            not_helpful: '👎 没帮助',
            helpful_aria: '有帮助',
            not_helpful_aria: '没帮助',
            rated: '感谢反馈',
            end_prompt: '请为本次服务打分',
            resolved_prompt: '客服已结束本次服务，请为本次服务打分',
            rating_thanks: '感谢您的评价！',
            new_chat: '开始新对话',
            continue_chat: '继续聊天',
            star: '{n} 星',
            you: '我',
            bot: '智能客服',
            agent: '客服',
            err_network: '网络连接不稳定，正在重试…',
            err_send: '发送失败：',
            err_too_long: '消息太长了（最多 4000 字节）。',
            err_gone: '对话已失效，请开始新对话。',
            err_start: '无法连接客服，正在重试…',
            already_human: '已经在由人工客服处理。',
            lang_button: 'English'
        },
        en: {
            title: 'Customer service',
            status_bot: 'Chatting with our assistant',
            status_waiting: 'Waiting for an agent…',
            status_agent: 'Agent {name} joined',
            status_agent_anon: 'An agent joined',
            talk_to_human: 'Talk to a person',
            end_chat: 'End chat',
            send: 'Send',
            placeholder: 'Type your question…',
            helpful: '👍 Helpful',
            not_helpful: '👎 Not helpful',
            helpful_aria: 'Helpful',
            not_helpful_aria: 'Not helpful',
            rated: 'Thanks for the feedback',
            end_prompt: 'How was our service?',
            resolved_prompt: 'The agent has closed the chat. How was our service?',
            rating_thanks: 'Thank you for your rating!',
            new_chat: 'New chat',
            continue_chat: 'Keep chatting',
            star: '{n} stars',
            you: 'You',
            bot: 'Assistant',
            agent: 'Agent',
            err_network: 'Connection problem, retrying…',
            err_send: 'Could not send: ',
            err_too_long: 'The message is too long (at most 4,000 bytes).',
            err_gone: 'This chat is no longer available; please start a new one.',
            err_start: 'Cannot reach customer service, retrying…',
            already_human: 'A person is already handling this chat.',
            lang_button: '中文'
        }
    };

    const state = {
        ui: 'zh',
        id: null,
        lastSeq: 0,          /* every message up to here has been read */
        status: 'bot',
        agentName: null,
        shown: new Map(),    /* seq -> li */
        pending: [],         /* customer bubbles waiting for their seq */
        rated: {},           /* turn -> rating, this conversation */
        gen: 0,              /* bumped to stop the poll loop of an old conversation */
        live: false,         /* the transcript is loaded; status changes are news */
        pollCtl: null        /* aborts the long poll's pending request */
    };

    const $ = (id) => document.getElementById(id);

    /* --- labels ------------------------------------------------------------ */

    function t(key, vars) {
        let s = (LABELS[state.ui] && LABELS[state.ui][key]) || LABELS.en[key] || key;
        if (vars)
            Object.keys(vars).forEach((k) => { s = s.replace('{' + k + '}', vars[k]); });
        return s;
    }

    function initialUiLang() {
        const saved = localStorage.getItem(STORE_LANG);
        if (saved === 'zh' || saved === 'en')
            return saved;
        const nav = (navigator.language || 'zh').toLowerCase();
        return nav.startsWith('zh') ? 'zh' : 'en';
    }

    /* The language the bot should answer in when a message shows none. */
    function profileLang() {
        if (state.ui === 'en')
            return 'en';
        const nav = (navigator.language || '').toLowerCase();
        return /^zh-(tw|hk|mo|hant)/.test(nav) ? 'zh-Hant' : 'zh-Hans';
    }

    function applyLabels() {
        document.documentElement.lang = state.ui === 'zh' ? 'zh-Hans' : 'en';
        document.title = t('title');
        document.querySelectorAll('[data-i18n]').forEach((el) => {
            el.textContent = t(el.dataset.i18n);
        });
        document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
            el.placeholder = t(el.dataset.i18nPlaceholder);
        });
        document.querySelectorAll('.rate-up').forEach((b) => labelThumb(b, 'up'));
        document.querySelectorAll('.rate-down').forEach((b) => labelThumb(b, 'down'));
        document.querySelectorAll('.rating .thanks').forEach((s) => { s.textContent = t('rated'); });
        document.querySelectorAll('.star').forEach((b) => {
            b.setAttribute('aria-label', t('star', {n: b.dataset.rating}));
        });
        document.querySelectorAll('.msg').forEach(labelMeta);
        $('lang-toggle').textContent = t('lang_button');
        showStatus();
    }

    function toggleLang() {
        state.ui = state.ui === 'zh' ? 'en' : 'zh';
        localStorage.setItem(STORE_LANG, state.ui);
        applyLabels();
    }

    /* --- HTTP ---------------------------------------------------------------- */

    /* fetch JSON (common.js); throws an Error with .status and .code */
    const api = (method, path, body, timeoutMs, signal) =>
        window.csbotCommon.request(method, path, body, {timeout: timeoutMs, signal});

    const convPath = (suffix) => '/api/v1/conversations/' + encodeURIComponent(state.id) + (suffix || '');
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

    function showError(text) {
        const e = $('error');
        e.textContent = text;
        e.hidden = !text;
    }

    /* --- status -------------------------------------------------------------- */

    function showStatus() {
        const el = $('status');
        const s = state.status;
        el.className = 'badge ' + s;
        el.dataset.status = s;
        if (state.agentName)
            el.dataset.agent = state.agentName;
        else
            delete el.dataset.agent;
        el.removeAttribute('data-i18n');
        el.textContent = s === 'waiting' ? t('status_waiting')
                       : s === 'agent' ? (state.agentName ? t('status_agent', {name: state.agentName})
                                                          : t('status_agent_anon'))
                       : t('status_bot');
        $('talk-to-human').disabled = s !== 'bot';
    }

    /* The agent's name from the "agent X has joined" system message. */
    function agentFromSystem(text) {
        const m = /^(?:Agent|客服)\s+(\S+)\s+(?:has joined|已接入)/.exec(text || '');
        return m ? m[1] : null;
    }

    function setStatus(status) {
        if (!status || status === state.status)
            return;
        const before = state.status;
        state.status = status;
        if (status !== 'agent')
            state.agentName = null;
        showStatus();
        /* a person finished with the chat: ask for the conversation rating */
        if (state.live && before === 'agent' && status === 'bot')
            showEndPanel(true);
    }

    /* --- messages -------------------------------------------------------------- */

    function timeText(ts) {
        const d = ts ? new Date(ts) : new Date();
        return d.toLocaleTimeString(state.ui === 'zh' ? 'zh-CN' : 'en-GB',
                                    {hour: '2-digit', minute: '2-digit'});
    }

    function labelMeta(li) {
        const meta = li.querySelector('.meta');
        if (!meta)
            return;
        const role = li.dataset.role;
        const who = role === 'customer' ? t('you')
                  : role === 'agent' ? t('agent') + (li.dataset.agent ? ' ' + li.dataset.agent : '')
                  : role === 'bot' ? t('bot') : '';
        meta.textContent = (who ? who + ' · ' : '') + timeText(Number(li.dataset.ts) || 0);
    }

    function buildMessage(m) {
        const li = document.createElement('li');
        li.className = 'msg ' + m.role;
        li.dataset.role = m.role;
        li.dataset.ts = String(m.ts || Date.now());
        if (m.seq != null)
            li.dataset.seq = String(m.seq);
        if (m.agent)
            li.dataset.agent = m.agent;
        if (m.role === 'bot') {
            li.dataset.action = m.action || '';
            li.dataset.intent = m.intent || '';
            if (m.turn != null)
                li.dataset.turn = String(m.turn);
        }
        const bubble = document.createElement('div');
        bubble.className = 'bubble';
        bubble.textContent = m.text;
        li.appendChild(bubble);
        if (m.role !== 'system') {
            const meta = document.createElement('div');
            meta.className = 'meta';
            li.appendChild(meta);
            labelMeta(li);
        }
        return li;
    }

    /* Put li in seq order; messages without a seq (pending) stay last. */
    function insertBySeq(li) {
        const list = $('messages');
        const seq = Number(li.dataset.seq);
        const next = Array.from(list.children).find((c) =>
            !c.dataset.seq || Number(c.dataset.seq) > seq);
        list.insertBefore(li, next || null);
    }

    function scrollDown() {
        const list = $('messages');
        list.scrollTop = list.scrollHeight;
    }

    /* Give a pending customer bubble its seq (or drop it if shown already). */
    function settlePending(li, seq) {
        const i = state.pending.indexOf(li);
        if (i >= 0)
            state.pending.splice(i, 1);
        const known = state.shown.get(seq);
        if (known && known !== li) {
            li.remove();
            return;
        }
        li.dataset.seq = String(seq);
        li.classList.remove('pending');
        state.shown.set(seq, li);
        li.remove();
        insertBySeq(li);
    }

    /* Show one message (from a reply, the transcript or a poll), once. */
    function renderMessage(m) {
        if (m.role === 'system' && agentFromSystem(m.text))
            state.agentName = agentFromSystem(m.text);
        if (m.role === 'agent' && m.agent)
            state.agentName = m.agent;
        let li = state.shown.get(m.seq);
        if (!li && m.role === 'customer') {
            const p = state.pending.find((x) => x.querySelector('.bubble').textContent === m.text);
            if (p) {
                settlePending(p, m.seq);
                return p;
            }
        }
        if (!li) {
            if (!m.text)
                return null; /* a silent bot turn */
            li = buildMessage(m);
            state.shown.set(m.seq, li);
            insertBySeq(li);
            scrollDown();
        }
        if (m.role === 'bot')
            addBotExtras(li, m);
        return li;
    }

    function addBotExtras(li, m) {
        if (m.suggestions && m.suggestions.length && !li.querySelector('.suggestions')) {
            /* the buttons replace the numbered list the text ends with */
            const lines = (m.text || '').split('\n');
            if (lines.length > 1 && lines.slice(1).every((l) => /^\d+\. /.test(l)))
                li.querySelector('.bubble').textContent = lines[0];
            li.insertBefore(buildSuggestions(m.suggestions), li.querySelector('.meta'));
        }
        if (m.action === 'answer' && m.turn && !li.querySelector('.rating'))
            li.appendChild(buildRating(m.turn));
    }

    function buildSuggestions(list) {
        const box = document.createElement('div');
        box.className = 'suggestions';
        list.forEach((s) => {
            const b = document.createElement('button');
            b.type = 'button';
            b.className = 'suggestion';
            b.dataset.intent = s.intent || '';
            b.textContent = s.title;
            b.addEventListener('click', () => {
                box.querySelectorAll('button').forEach((x) => { x.disabled = true; });
                sendText(s.title);
            });
            box.appendChild(b);
        });
        return box;
    }

    /* --- ratings --------------------------------------------------------------- */

    function labelThumb(b, dir) {
        b.textContent = t(dir === 'up' ? 'helpful' : 'not_helpful');
        b.setAttribute('aria-label', t(dir === 'up' ? 'helpful_aria' : 'not_helpful_aria'));
    }

    function buildRating(turn) {
        const box = document.createElement('div');
        box.className = 'rating';
        box.dataset.turn = String(turn);
        const up = document.createElement('button');
        up.type = 'button';
        up.className = 'rate-up';
        labelThumb(up, 'up');
        const down = document.createElement('button');
        down.type = 'button';
        down.className = 'rate-down';
        labelThumb(down, 'down');
        up.addEventListener('click', () => rateTurn(box, turn, 5));
        down.addEventListener('click', () => rateTurn(box, turn, 1));
        box.append(up, down);
        if (state.rated[turn])
            markRated(box, state.rated[turn]);
        return box;
    }

    function markRated(box, rating) {
        box.dataset.rated = String(rating);
        box.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        box.querySelector(rating >= 3 ? '.rate-up' : '.rate-down').classList.add('chosen');
        if (!box.querySelector('.thanks')) {
            const s = document.createElement('span');
            s.className = 'thanks';
            s.textContent = t('rated');
            box.appendChild(s);
        }
    }

    async function rateTurn(box, turn, rating) {
        box.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        try {
            await api('POST', convPath('/ratings'), {rating, turn});
            state.rated[turn] = rating;
            sessionStorage.setItem(STORE_ID + '.rated.' + state.id, JSON.stringify(state.rated));
            markRated(box, rating);
        } catch (e) {
            box.querySelectorAll('button').forEach((b) => { b.disabled = false; });
            showError(t('err_send') + e.message);
        }
    }

    function showEndPanel(resolved) {
        const panel = $('end-panel');
        if (sessionStorage.getItem(STORE_ID + '.stars.' + state.id)) {
            markStars(Number(sessionStorage.getItem(STORE_ID + '.stars.' + state.id)));
        } else {
            $('end-prompt').textContent = t(resolved ? 'resolved_prompt' : 'end_prompt');
        }
        panel.hidden = false;
        scrollDown(); /* the panel took room from the transcript: keep its end in view */
        panel.scrollIntoView({block: 'nearest'});
    }

    function markStars(rating) {
        document.querySelectorAll('.star').forEach((b) => {
            b.classList.toggle('on', Number(b.dataset.rating) <= rating);
            b.disabled = true;
        });
        $('end-panel').dataset.rated = String(rating);
        $('rating-thanks').hidden = false;
    }

    async function rateConversation(rating) {
        document.querySelectorAll('.star').forEach((b) => { b.disabled = true; });
        try {
            await api('POST', convPath('/ratings'), {rating});
            sessionStorage.setItem(STORE_ID + '.stars.' + state.id, String(rating));
            markStars(rating);
        } catch (e) {
            document.querySelectorAll('.star').forEach((b) => { b.disabled = false; });
            showError(t('err_send') + e.message);
        }
    }

    function resetStars() {
        document.querySelectorAll('.star').forEach((b) => {
            b.classList.remove('on');
            b.disabled = false;
        });
        delete $('end-panel').dataset.rated;
        $('rating-thanks').hidden = true;
        $('end-panel').hidden = true;
        $('end-prompt').textContent = t('end_prompt');
    }

    /* --- sending ----------------------------------------------------------------- */

    function addPending(text) {
        const li = buildMessage({role: 'customer', text, ts: Date.now()});
        li.classList.add('pending');
        state.pending.push(li);
        $('messages').appendChild(li);
        scrollDown();
        return li;
    }

    function handleReply(r, li) {
        const customerSeq = r.action === 'silent' ? r.seq : r.seq - 1;
        settlePending(li, customerSeq);
        if (r.action !== 'silent') {
            renderMessage({seq: r.seq, role: 'bot', text: r.text, action: r.action,
                           intent: r.intent, confidence: r.confidence, turn: r.turn,
                           suggestions: r.suggestions, ts: Date.now()});
        }
        setStatus(r.status);
        scrollDown();
    }

    async function sendText(raw) {
        const text = (raw || '').trim();
        if (!text || !state.id)
            return false;
        if (new TextEncoder().encode(text).length > MAX_BYTES) {
            showError(t('err_too_long'));
            return false;
        }
        showError('');
        const li = addPending(text);
        try {
            handleReply(await api('POST', convPath('/messages'), {text}), li);
            return true;
        } catch (e) {
            li.classList.remove('pending');
            li.classList.add('failed');
            const i = state.pending.indexOf(li);
            if (i >= 0)
                state.pending.splice(i, 1);
            showError(e.status === 404 ? t('err_gone') : t('err_send') + e.message);
            return false;
        }
    }

    async function onSubmit(ev) {
        ev.preventDefault();
        const input = $('message-input');
        const text = input.value;
        if (!text.trim())
            return;
        input.value = '';
        autoGrow();
        if (!(await sendText(text)) && !input.value)
            input.value = text; /* let the customer try again */
        input.focus();
    }

    function onKeyDown(ev) {
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            $('composer').requestSubmit ? $('composer').requestSubmit() : onSubmit(ev);
        }
    }

    function autoGrow() {
        const input = $('message-input');
        input.style.height = 'auto'; /* CSSOM, allowed by the CSP */
        input.style.height = Math.min(input.scrollHeight + 2, 160) + 'px';
    }

    async function talkToHuman() {
        $('talk-to-human').disabled = true;
        showError('');
        try {
            const r = await api('POST', convPath('/handoff'));
            if (r.text && r.seq != null)
                renderMessage({seq: r.seq, role: 'system', text: r.text, ts: Date.now()});
            setStatus(r.status || 'waiting');
        } catch (e) {
            if (e.status === 409)
                showError(t('already_human'));
            else
                showError(t('err_send') + e.message);
            showStatus();
        }
    }

    /* --- the conversation ------------------------------------------------------------ */

    function clearTranscript() {
        $('messages').textContent = '';
        state.shown.clear();
        state.pending = [];
        state.lastSeq = 0;
        state.status = 'bot';
        state.agentName = null;
        state.rated = {};
        state.live = false;
    }

    function adopt(id) {
        state.id = id;
        sessionStorage.setItem(STORE_ID, id);
        document.body.dataset.conversation = id;
        try {
            state.rated = JSON.parse(sessionStorage.getItem(STORE_ID + '.rated.' + id) || '{}') || {};
        } catch (e) {
            state.rated = {};
        }
    }

    async function createConversation() {
        let delay = 1000;
        for (;;) {
            try {
                const r = await api('POST', '/api/v1/conversations', {profile: {lang: profileLang()}});
                adopt(r.id);
                state.status = r.status || 'bot';
                showError('');
                return;
            } catch (e) {
                showError(t('err_start'));
                await sleep(delay);
                delay = Math.min(delay * 2, 30000);
            }
        }
    }

    /* Re-read a stored conversation; false if the server no longer knows it. */
    async function resume(id) {
        adopt(id);
        try {
            const c = await api('GET', convPath(''));
            (c.messages || []).forEach((m) => {
                renderMessage(m);
                state.lastSeq = Math.max(state.lastSeq, m.seq);
            });
            state.status = c.status || 'bot';
            if (state.status !== 'agent')
                state.agentName = null;
            return true;
        } catch (e) {
            if (e.status === 404)
                return false;
            return true; /* the poll loop reads the transcript from seq 0 */
        }
    }

    async function pollLoop(gen) {
        let delay = 1000;
        const ctl = new AbortController();
        state.pollCtl = ctl;
        while (gen === state.gen) {
            const started = Date.now();
            try {
                const r = await api('GET', convPath('/messages?after=' + state.lastSeq + '&wait=' + POLL_WAIT),
                                    undefined, (POLL_WAIT + 15) * 1000, ctl.signal);
                if (gen !== state.gen)
                    return;
                const msgs = r.messages || [];
                msgs.forEach((m) => {
                    renderMessage(m);
                    state.lastSeq = Math.max(state.lastSeq, m.seq);
                });
                setStatus(r.status);
                showStatus();
                if ($('error').textContent === t('err_network'))
                    showError('');
                delay = 1000;
                if (!msgs.length && Date.now() - started < 1000)
                    await sleep(1000); /* the server did not hold the request */
            } catch (e) {
                if (gen !== state.gen)
                    return;
                if (e.status === 404) {
                    showError(t('err_gone'));
                    return;
                }
                showError(t('err_network'));
                await sleep(delay + Math.random() * 500);
                delay = Math.min(delay * 2, 30000);
            }
        }
    }

    async function startConversation(forceNew) {
        const gen = ++state.gen;
        if (state.pollCtl)
            state.pollCtl.abort(); /* the old conversation's long poll */
        state.pollCtl = null;
        clearTranscript();
        resetStars();
        const saved = forceNew ? null : sessionStorage.getItem(STORE_ID);
        if (!saved || !(await resume(saved)))
            await createConversation();
        if (gen !== state.gen)
            return;
        showStatus();
        scrollDown();
        state.live = true;
        document.body.dataset.ready = '1';
        pollLoop(gen);
    }

    function newChat() {
        if (state.id) {
            sessionStorage.removeItem(STORE_ID + '.rated.' + state.id);
            sessionStorage.removeItem(STORE_ID + '.stars.' + state.id);
        }
        sessionStorage.removeItem(STORE_ID);
        delete document.body.dataset.ready;
        startConversation(true);
    }

    function bindEvents() {
        $('composer').addEventListener('submit', onSubmit);
        $('message-input').addEventListener('keydown', onKeyDown);
        $('message-input').addEventListener('input', autoGrow);
        $('talk-to-human').addEventListener('click', talkToHuman);
        $('end-chat').addEventListener('click', () => showEndPanel(false));
        $('close-end').addEventListener('click', () => { $('end-panel').hidden = true; });
        $('new-chat').addEventListener('click', newChat);
        $('lang-toggle').addEventListener('click', toggleLang);
        document.querySelectorAll('.star').forEach((b) => {
            b.addEventListener('click', () => rateConversation(Number(b.dataset.rating)));
        });
    }

    function main() {
        state.ui = initialUiLang();
        applyLabels();
        bindEvents();
        startConversation(false);
    }

    if (document.readyState === 'loading')
        document.addEventListener('DOMContentLoaded', main);
    else
        main();
})();
