#!/usr/bin/env python3
"""fuzz/seeds.py - writes the seed corpora of kb_load, reply, patterns and
server_api from the project's own data (restore's come from gen_states.c).
Run once from the repository root: python3 fuzz/seeds.py"""
import json, os

def out(name, fname, data):
    d = os.path.join('fuzz/corpus', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# kb_load: the knowledge bases, a cut-down shop, a few broken ones
out('kb_load', 'demo.json', open('intents/demo.json', 'rb').read())
shop = json.load(open('intents/shop.json'))
small = dict(shop)
small['intents'] = shop['intents'][:6]
out('kb_load', 'shop-6.json', json.dumps(small, ensure_ascii=False, indent=1))
out('kb_load', 'minimal.json', '{"csbot":1,"intents":[{"id":"a","examples":{"en":["hi"]},"responses":[{"en":"hello"}]}]}')
for bad in ['bad_regex_pattern.json', 'bad_regex_slot.json', 'duplicate_key.json', 'deep_nesting.json',
            'escaped_nul.json', 'invalid_utf8_overlong.json', 'syntax_lone_surrogate.json',
            'template_unknown_slot.json', 'traditional_unknown.json', 'when_not_string.json',
            'max_misses_fraction.json', 'bom_schema_error.json', 'unknown_setting.json',
            'handoff_number.json', 'synonym_empty_member.json']:
    p = os.path.join('test/data/bad', bad)
    if os.path.exists(p):
        out('kb_load', 'bad-' + bad, open(p, 'rb').read())

# reply: conversations from test/data/shop.tsv, with the other operations
rows = [l.rstrip('\n').split('\t', 1) for l in open('test/data/shop.tsv', encoding='utf-8') if '\t' in l]
msgs = [r[1] for r in rows]
step = max(1, len(msgs) // 60)
picked = msgs[::step][:60]
FF = b'\xff'
def rep(t): return b'\x00' + t.encode()
for i in range(0, 60, 3):
    conv = [rep(m) for m in picked[i:i + 3]]
    extra = [
        [b'\x03\x01\x05'],                      # feedback turn 1, rating 5
        [b'\x07\x00Li', b'\x07\x02\x02'],       # profile name, lang en
        [b'\x05', rep('还在吗'), b'\x04'],       # handoff, silent, resume
        [b'\x06\x10\x01'],                      # save, restore, damage
        [b'\x0a\x78\x01', rep('谢谢')],          # two hours later
        [b'\x0b', rep('转人工'), b'\x0b'],        # refused handoff
        [b'\x09\x20', b'\x08'],                 # explain, reset
    ][(i // 3) % 7]
    out('reply', 'conv-%02d' % (i // 3), FF.join(conv + extra))
out('reply', 'slots', FF.join([rep('我的快递到哪了'), rep('202411223344'), rep('电话13812345678'),
                               rep('a@b.cn ¥12.50'), b'\x06', rep('thanks')]))
out('reply', 'angry', FF.join([rep('this is ridiculous'), rep('scam!!!'), rep('worst service')]))

# patterns: the knowledge bases' patterns and slots, then a message
kbs = [json.load(open('intents/demo.json')), shop]
pats = [p for k in kbs for i in k['intents'] for p in i.get('patterns', [])]
slots = [s['pattern'] for k in kbs for s in k.get('slots', {}).values()]
n = 0
for i, p in enumerate(pats[:12]):
    s = slots[i % len(slots)]
    flags = (0 | (1 << 2) | ((i & 1) << 5)).to_bytes(1, 'little')   # 1 pattern, 1 slot
    out('patterns', 'kb-%02d' % i, flags + FF.join([p.encode(), s.encode(), picked[i].encode()]))
for i, s in enumerate(slots[:6]):
    flags = (1 | (2 << 2)).to_bytes(1, 'little')
    out('patterns', 'slots-%02d' % i, flags + FF.join([b'order', b'(a|b)*c', s.encode(),
                                                         slots[(i + 1) % len(slots)].encode(),
                                                         '订单 202411223344 ¥12 a@b.cn'.encode()]))
hostile = ['(a+)+$', '(?:a|a)*b', '(x+x+)+y', '((?<=a)b)+', '\\p{Han}{2,}', '(?i)ORDER\\s*#?(\\d{6,})',
           '(?|(a)|(b))', '(?(DEFINE)(?<d>\\d))(?&d)+', '.{0,65535}', '(*LIMIT_MATCH=1)a+']
for i, h in enumerate(hostile):
    out('patterns', 'hostile-%02d' % i, b'\x00' + FF.join([h.encode(), ('a' * 40 + '!').encode()]))

# server_api: method byte, flags byte, path \n body (docs/API.md)
M = {'GET': 0, 'POST': 1, 'HEAD': 2, 'PUT': 3}
def api(name, method, flags, path, body=''):
    out('server_api', name, bytes([M[method], flags]) + path.encode() + b'\n' + body.encode())
COOK = 1 | (1 << 2)         # alice's cookie and CSRF token
api('create', 'POST', 0, '/api/v1/conversations', '{"profile": {"name": "Li", "level": "vip", "lang": "en"}}')
api('create-empty', 'POST', 0, '/api/v1/conversations')
api('say-zh', 'POST', 0, '/api/v1/conversations/{n}/messages', '{"text": "我的快递到哪了"}')
api('say-en', 'POST', 0, '/api/v1/conversations/{c}/messages', '{"text": "where is my order 202411223344"}')
api('say-human', 'POST', 0, '/api/v1/conversations/{n}/messages', '{"text": "转人工"}')
api('poll', 'GET', 1 << 4, '/api/v1/conversations/{c}/messages?after=100&wait=5')
api('messages', 'GET', 0, '/api/v1/conversations/{c}/messages?after=1')
api('conv', 'GET', 0, '/api/v1/conversations/{c}')
api('handoff', 'POST', 0, '/api/v1/conversations/{n}/handoff')
api('rate', 'POST', 0, '/api/v1/conversations/{c}/ratings', '{"rating": 5, "turn": 3}')
api('rate-all', 'POST', 0, '/api/v1/conversations/{c}/ratings', '{"rating": 1}')
api('login', 'POST', 0, '/api/v1/agent/login', '{"name": "alice", "password": "correct horse"}')
api('login-bad', 'POST', 0, '/api/v1/agent/login', '{"name": "mallory", "password": "x"}')
api('me', 'GET', COOK, '/api/v1/agent/me')
api('queue', 'GET', COOK, '/api/v1/agent/queue')
api('ticket', 'GET', COOK, '/api/v1/agent/handoffs/{t}')
api('claim', 'POST', COOK, '/api/v1/agent/handoffs/{t}/claim')
api('claim-bob', 'POST', COOK | 0x80, '/api/v1/agent/handoffs/{t}/claim')
api('agent-say', 'POST', COOK, '/api/v1/agent/handoffs/{t}/messages', '{"text": "您好，我来帮您查"}')
api('agent-poll', 'GET', COOK | (1 << 4), '/api/v1/agent/handoffs/{t}/messages?after=999&wait=3')
api('note', 'POST', COOK, '/api/v1/agent/handoffs/{t}/notes', '{"text": "VIP, be nice"}')
api('resolve', 'POST', COOK, '/api/v1/agent/handoffs/{t}/resolve', '{"note": "done"}')
api('logout', 'POST', COOK | 0x80, '/api/v1/agent/logout')
api('dashboard', 'GET', COOK, '/api/v1/dashboard?days=7')
api('kb-intents', 'GET', COOK, '/api/v1/kb/intents')
api('kb-example', 'POST', COOK, '/api/v1/kb/examples', '{"message": 3, "intent": "order_tracking"}')
api('no-csrf', 'POST', 1, '/api/v1/agent/handoffs/{t}/claim')
api('index', 'GET', 0, '/')
api('static', 'GET', 0, '/static/chat.js')
api('healthz', 'GET', 0, '/healthz')
api('metrics', 'GET', 0, '/metrics')
api('traversal', 'GET', 0, '/static/../index.html')
api('bad-json', 'POST', 0, '/api/v1/conversations/{c}/messages', '{"text": "\\u0000"}')
