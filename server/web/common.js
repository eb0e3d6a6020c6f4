/*
 * common.js - what the chat, the agent console and the dashboard share:
 * the JSON request helper, an element helper, the label lookup and the
 * labels for handoff reasons and languages. Loaded before each page's own
 * script; it defines one global, csbotCommon.
 */
'use strict';

window.csbotCommon = (function () {
    /* fetch JSON; throws an Error with .status and .code on an error answer.
     * opts: csrf (sent as X-CSRF-Token on anything but GET), timeout (ms,
     * default 15 s), signal (an AbortSignal that cancels it too). */
    async function request(method, path, body, opts) {
        opts = opts || {};
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), opts.timeout || 15000);
        if (opts.signal)
            opts.signal.addEventListener('abort', () => ctl.abort());
        const headers = {'Accept': 'application/json'};
        if (method !== 'GET' && opts.csrf)
            headers['X-CSRF-Token'] = opts.csrf;
        const init = {method, headers, credentials: 'same-origin', signal: ctl.signal};
        if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let res;
        try {
            res = await fetch(path, init);
        } finally {
            clearTimeout(timer);
        }
        let data = null;
        if (res.status !== 204) {
            try { data = await res.json(); } catch (e) { data = null; }
        }
        if (!res.ok) {
            const info = data && data.error ? data.error : {};
            const err = new Error(info.message || res.statusText || String(res.status));
            err.status = res.status;
            err.code = info.code;
            throw err;
        }
        return data;
    }

    function el(tag, cls, text) {
        const e = document.createElement(tag);
        if (cls)
            e.className = cls;
        if (text !== undefined && text !== null)
            e.textContent = String(text);
        return e;
    }

    /* t(key, vars) over labels[ui()], falling back to English, then the key;
     * {name} in a label is replaced by vars.name. */
    function translator(labels, ui) {
        return function t(key, vars) {
            let s = labels[ui()] && labels[ui()][key];
            if (s === undefined)
                s = labels.en[key] !== undefined ? labels.en[key] : key;
            if (vars)
                Object.keys(vars).forEach((k) => { s = s.split('{' + k + '}').join(String(vars[k])); });
            return s;
        };
    }

    /* 'zh' or 'en': saved under key, else from the browser's language. */
    function initialUiLang(key) {
        const saved = localStorage.getItem(key);
        if (saved === 'zh' || saved === 'en')
            return saved;
        return (navigator.language || 'zh').toLowerCase().startsWith('zh') ? 'zh' : 'en';
    }

    /* Labels the console and the dashboard both show. */
    const LABELS = {
        zh: {
            lang_zh_Hans: '简体中文',
            lang_zh_Hant: '繁體中文',
            lang_en: '英文',
            r_low_confidence: '置信度低',
            r_repeated_miss: '多次未识别',
            r_explicit_request: '客户要求人工',
            r_intent: '需人工处理的问题',
            r_sentiment: '客户情绪不佳',
            r_repeated_question: '重复提问',
            r_host: '系统转接'
        },
        en: {
            lang_zh_Hans: 'Chinese (Simplified)',
            lang_zh_Hant: 'Chinese (Traditional)',
            lang_en: 'English',
            r_low_confidence: 'Low confidence',
            r_repeated_miss: 'Repeated misses',
            r_explicit_request: 'Asked for a person',
            r_intent: 'Needs a person',
            r_sentiment: 'Upset customer',
            r_repeated_question: 'Repeated question',
            r_host: 'Handed off by the system'
        }
    };

    /* Page labels with the shared ones added (the page's win). */
    function withShared(labels) {
        ['zh', 'en'].forEach((l) => { labels[l] = Object.assign({}, LABELS[l], labels[l]); });
        return labels;
    }

    return {request, el, translator, initialUiLang, withShared};
})();
