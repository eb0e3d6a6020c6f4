/*
 * rstore.c - the store on Redis (see rstore.h): keys, the Lua scripts that
 * write them, the connection pool and the event subscriber.
 *
 * Keys (prefix csbot:):
 *   c:ID      hash: v (version), state, seq, status, ticket, agent, lang,
 *             created, profile, last_at, channel, user, extra
 *   m:ID      list: the conversation's messages as JSON, message seq = index+1
 *   r:ID      hash: turn -> rating
 *   t:N       hash: a ticket (conv, created, reason, text, packet, status,
 *             agent, claimed, first_response, resolved); tn:N its notes
 *   tickets   the last ticket number; queue (zset) the open tickets by
 *             creation time; mine:AGENT (zset) the agent's claimed ones;
 *             hopen the tickets not resolved
 *   agents    hash: name -> password hash; login:TOKEN "agent\ncsrf" (TTL)
 *   f:DAY     hash of the day's figures (UTC day number); cv:DAY, ca:DAY,
 *             ch:DAY sets of conversations with a customer message, an
 *             answer, a handoff; fi:DAY zset of answered intents
 *   u         zset: the latest unanswered messages (score: their id); umid
 *   chu:CHANNEL hash user -> conversation; cur:CHANNEL hash of cursors;
 *             seen:CHANNEL:MSGID a channel message taken (TTL 7 days)
 *   kbv       list of knowledge-base versions saved from the dashboard
 *   val:KEY, lock:KEY  store_value_put() and store_lock() (e.g. the WeChat
 *             access token and who fetches it)
 *   ev        the pub/sub channel of conversation events
 */
#include "rstore.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <hiredis.h>

#include "server.h"

#define P "csbot:"

enum { POOL_MAX = 32, CONNECT_MS = 1000, COMMAND_MS = 3000 };

/* --- scripts ------------------------------------------------------------- */

/* What every script shares. */
#define LUA_COMMON                                                             \
    "local P = '" P "'\n"                                                      \
    "local function day(ms) return math.floor(ms / 86400000) end\n"            \
    "local function fig(ms) return P .. 'f:' .. day(ms) end\n"                 \
    "local function ck(id) return P .. 'c:' .. id end\n"                       \
    "local function append(id, m, now)\n"                                      \
    "  local seq = redis.call('HINCRBY', ck(id), 'seq', 1)\n"                  \
    "  m.seq = seq\n"                                                          \
    "  m.ts = now\n"                                                           \
    "  redis.call('RPUSH', P .. 'm:' .. id, cjson.encode(m))\n"                \
    "  redis.call('HSET', ck(id), 'last_at', now)\n"                           \
    "  return seq\n"                                                           \
    "end\n"                                                                    \
    "local function publish(id, v, seq)\n"                                     \
    "  redis.call('PUBLISH', P .. 'ev', id .. ' ' .. v .. ' ' .. seq)\n"       \
    "end\n"                                                                    \
    "local function bump(id) return redis.call('HINCRBY', ck(id), 'v', 1) end\n" \
    "local function tstatus(n, old, new, created)\n"                           \
    "  local f = fig(tonumber(created))\n"                                     \
    "  redis.call('HINCRBY', f, 'hs:' .. old, -1)\n"                           \
    "  redis.call('HINCRBY', f, 'hs:' .. new, 1)\n"                            \
    "  redis.call('HSET', P .. 't:' .. n, 'status', new)\n"                    \
    "end\n"

/* A turn or the "talk to a person" button. ARGV: id, expected version,
 * now, state, status, lang ('' keeps it), messages (JSON array), handoff
 * reason ('' none), its text, packet, ticket status ('' open), the channel
 * message key ('' none). */
static const char LUA_COMMIT[] = LUA_COMMON
    "local id = ARGV[1]\n"
    "local v = redis.call('HGET', ck(id), 'v')\n"
    "if not v then return {'nf'} end\n"
    "if v ~= ARGV[2] then return {'stale'} end\n"
    "if ARGV[12] ~= '' and not redis.call('SET', P .. 'seen:' .. ARGV[12], '1',"
    " 'NX', 'EX', 604800) then return {'dup'} end\n"
    "local now = tonumber(ARGV[3])\n"
    "local d, f = day(now), fig(now)\n"
    "local seq = tonumber(redis.call('HGET', ck(id), 'seq') or '0')\n"
    "local said = nil\n"
    "for _, m in ipairs(cjson.decode(ARGV[7])) do\n"
    "  seq = append(id, m, now)\n"
    "  if m.role == 'customer' then\n"
    "    said = m\n"
    "    redis.call('HINCRBY', f, 'cust', 1)\n"
    "    redis.call('HINCRBY', f, 'hr:' .. (math.floor(now / 3600000) % 24), 1)\n"
    "    redis.call('SADD', P .. 'cv:' .. d, id)\n"
    "  elseif m.role == 'bot' then\n"
    "    redis.call('HINCRBY', f, 'bot', 1)\n"
    "    redis.call('HINCRBY', f, 'a:' .. m.action, 1)\n"
    "    if m.action == 'answer' then\n"
    "      redis.call('SADD', P .. 'ca:' .. d, id)\n"
    "      if type(m.intent) == 'string' then\n"
    "        redis.call('ZINCRBY', P .. 'fi:' .. d, 1, m.intent)\n"
    "      end\n"
    "    elseif (m.action == 'fallback' or m.action == 'suggest') and said then\n"
    "      local u = redis.call('INCR', P .. 'umid')\n"
    "      redis.call('ZADD', P .. 'u', u, cjson.encode({message = u,"
    " conversation = id, text = said.text, lang = said.lang or '',"
    " action = m.action, ts = now}))\n"
    "      redis.call('ZREMRANGEBYRANK', P .. 'u', 0, -1001)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local ticket = 0\n"
    "if ARGV[8] ~= '' then\n"
    "  ticket = redis.call('INCR', P .. 'tickets')\n"
    "  local st = ARGV[11]\n"
    "  if st == '' then st = 'open' end\n"
    "  redis.call('HSET', P .. 't:' .. ticket, 'conv', id, 'created', now,"
    " 'reason', ARGV[8], 'text', ARGV[9], 'packet', ARGV[10], 'status', st)\n"
    "  if st == 'open' then redis.call('ZADD', P .. 'queue', now, ticket) end\n"
    "  redis.call('INCR', P .. 'hopen')\n"
    "  redis.call('HINCRBY', f, 'h', 1)\n"
    "  redis.call('HINCRBY', f, 'hs:' .. st, 1)\n"
    "  redis.call('HINCRBY', f, 'r:' .. ARGV[8], 1)\n"
    "  redis.call('SADD', P .. 'ch:' .. d, id)\n"
    "  redis.call('HSET', ck(id), 'ticket', ticket)\n"
    "end\n"
    "redis.call('HSET', ck(id), 'state', ARGV[4], 'status', ARGV[5])\n"
    "if ARGV[6] ~= '' then redis.call('HSET', ck(id), 'lang', ARGV[6]) end\n"
    "local nv = bump(id)\n"
    "publish(id, nv, seq)\n"
    "return {'ok', nv, seq, ticket}\n";

/* An agent claims a ticket. ARGV: id, ticket, agent, now, system message. */
static const char LUA_CLAIM[] = LUA_COMMON
    "local id, n, agent, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local tk = P .. 't:' .. n\n"
    "local t = redis.call('HMGET', tk, 'conv', 'status', 'agent', 'created')\n"
    "if not t[1] or t[1] ~= id then return {'nf'} end\n"
    "if t[2] ~= 'open' then\n"
    "  if t[2] == 'claimed' and t[3] == agent then return {'already'} end\n"
    "  return {'conflict', t[2], t[3] or ''}\n"
    "end\n"
    "redis.call('HSET', tk, 'agent', agent, 'claimed', now)\n"
    "tstatus(n, 'open', 'claimed', t[4])\n"
    "redis.call('ZREM', P .. 'queue', n)\n"
    "redis.call('ZADD', P .. 'mine:' .. agent, tonumber(t[4]), n)\n"
    "local f = fig(tonumber(t[4]))\n"
    "redis.call('HINCRBY', f, 'w_n', 1)\n"
    "redis.call('HINCRBY', f, 'w_sum', now - tonumber(t[4]))\n"
    "local seq = append(id, cjson.decode(ARGV[5]), now)\n"
    "redis.call('HSET', ck(id), 'status', 2, 'agent', agent, 'ticket', n)\n"
    "local nv = bump(id)\n"
    "publish(id, nv, seq)\n"
    "return {'ok', nv, seq}\n";

/* An agent's message. ARGV: id, ticket, agent, now, message. */
static const char LUA_AGENT_SAY[] = LUA_COMMON
    "local id, n, agent, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])\n"
    "local tk = P .. 't:' .. n\n"
    "local t = redis.call('HMGET', tk, 'conv', 'status', 'agent', 'created',"
    " 'first_response')\n"
    "if not t[1] or t[1] ~= id then return {'nf'} end\n"
    "if t[2] ~= 'claimed' or t[3] ~= agent then return {'conflict'} end\n"
    "if not t[5] then\n"
    "  redis.call('HSET', tk, 'first_response', now)\n"
    "  local f = fig(tonumber(t[4]))\n"
    "  redis.call('HINCRBY', f, 'fr_n', 1)\n"
    "  redis.call('HINCRBY', f, 'fr_sum', now - tonumber(t[4]))\n"
    "end\n"
    "local seq = append(id, cjson.decode(ARGV[5]), now)\n"
    "local v = redis.call('HGET', ck(id), 'v')\n"
    "publish(id, v, seq)\n"
    "return {'ok', tonumber(v), seq}\n";

/* A system message. ARGV: id, now, message. */
static const char LUA_SAY[] = LUA_COMMON
    "local id = ARGV[1]\n"
    "local v = redis.call('HGET', ck(id), 'v')\n"
    "if not v then return {'nf'} end\n"
    "local seq = append(id, cjson.decode(ARGV[3]), tonumber(ARGV[2]))\n"
    "publish(id, v, seq)\n"
    "return {'ok', tonumber(v), seq}\n";

/* The bot takes a conversation back: an agent resolves the ticket (agent
 * given), or a handoff to WeChat's customer service ends (agent '').
 * ARGV: id, expected version, ticket, agent, now, system message, state,
 * note. */
static const char LUA_BACK[] = LUA_COMMON
    "local id, n, agent, now = ARGV[1], ARGV[3], ARGV[4], tonumber(ARGV[5])\n"
    "local v = redis.call('HGET', ck(id), 'v')\n"
    "if not v then return {'nf'} end\n"
    "local tk = P .. 't:' .. n\n"
    "local t = redis.call('HMGET', tk, 'conv', 'status', 'agent', 'created')\n"
    "if not t[1] or t[1] ~= id then return {'nf'} end\n"
    "if agent ~= '' then\n"
    "  if t[2] ~= 'claimed' or t[3] ~= agent then return {'conflict'} end\n"
    "elseif t[2] == 'resolved' then return {'conflict'} end\n"
    "if v ~= ARGV[2] then return {'stale'} end\n"
    "if ARGV[8] ~= '' then\n"
    "  redis.call('RPUSH', P .. 'tn:' .. n, cjson.encode({agent = agent,"
    " text = ARGV[8], ts = now}))\n"
    "end\n"
    "redis.call('HSET', tk, 'resolved', now)\n"
    "if not t[3] then redis.call('HSET', tk, 'agent', 'wechat') end\n"
    "tstatus(n, t[2], 'resolved', t[4])\n"
    "redis.call('DECR', P .. 'hopen')\n"
    "redis.call('ZREM', P .. 'queue', n)\n"
    "if t[3] then redis.call('ZREM', P .. 'mine:' .. t[3], n) end\n"
    "local seq = append(id, cjson.decode(ARGV[6]), now)\n"
    "redis.call('HSET', ck(id), 'status', 0, 'agent', '', 'ticket', 0,"
    " 'state', ARGV[7])\n"
    "local nv = bump(id)\n"
    "publish(id, nv, seq)\n"
    "return {'ok', nv, seq}\n";

/* A rating. ARGV: conv, turn (0: the whole conversation), rating, now. */
static const char LUA_RATE[] = LUA_COMMON
    "local r, now = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local f = fig(now)\n"
    "if ARGV[2] == '0' then\n"
    "  redis.call('HINCRBY', f, 'sat_n', 1)\n"
    "  redis.call('HINCRBY', f, 'sat_sum', r)\n"
    "  redis.call('HINCRBY', f, 'sat:' .. r, 1)\n"
    "else\n"
    "  redis.call('HINCRBY', f, 'fb_n', 1)\n"
    "  if r >= 4 then redis.call('HINCRBY', f, 'fb_good', 1) end\n"
    "end\n"
    "redis.call('HSET', P .. 'r:' .. ARGV[1], ARGV[2], r)\n"
    "return 1\n";

/* The console's queue: open tickets and the agent's claimed ones, oldest
 * first, each as JSON. ARGV: agent, now. */
static const char LUA_QUEUE[] = LUA_COMMON
    "local agent, now = ARGV[1], tonumber(ARGV[2])\n"
    "local rows = {}\n"
    "local function add(n, want)\n"
    "  local t = redis.call('HMGET', P .. 't:' .. n, 'conv', 'reason', 'status',"
    " 'agent', 'created', 'text')\n"
    "  if not t[1] or t[3] ~= want then return end\n"
    "  local created = tonumber(t[5])\n"
    "  table.insert(rows, {n = tonumber(n), created = created, json ="
    " cjson.encode({ticket = tonumber(n), conversation = t[1], reason = t[2],"
    " status = t[3], agent = t[4] or cjson.null, created = created,"
    " waiting_seconds = math.floor((now - created) / 1000),"
    " lang = redis.call('HGET', ck(t[1]), 'lang') or '', text = t[6] or ''})})\n"
    "end\n"
    "for _, n in ipairs(redis.call('ZRANGE', P .. 'queue', 0, -1)) do add(n, 'open') end\n"
    "for _, n in ipairs(redis.call('ZRANGE', P .. 'mine:' .. agent, 0, -1)) do"
    " add(n, 'claimed') end\n"
    "table.sort(rows, function(a, b) if a.created ~= b.created then"
    " return a.created < b.created end return a.n < b.n end)\n"
    "local out = {}\n"
    "for i, r in ipairs(rows) do out[i] = r.json end\n"
    "return out\n";

/* The dashboard's raw figures over the days [day(since), day(now)]: a JSON
 * object {figures, intents, convs, handed, resolved} and the latest
 * unanswered messages since then (JSON each). ARGV: since, now. */
static const char LUA_DASH[] = LUA_COMMON
    "local since, now = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local d0, d1 = day(since), day(now)\n"
    "if d1 - d0 > 366 then d0 = d1 - 366 end\n"
    "local figs, intents, cv, ca, ch = {}, {}, {}, {}, {}\n"
    "for d = d0, d1 do\n"
    "  local h = redis.call('HGETALL', P .. 'f:' .. d)\n"
    "  for i = 1, #h, 2 do figs[h[i]] = (figs[h[i]] or 0) + tonumber(h[i + 1]) end\n"
    "  local z = redis.call('ZRANGE', P .. 'fi:' .. d, 0, -1, 'WITHSCORES')\n"
    "  for i = 1, #z, 2 do intents[z[i]] = (intents[z[i]] or 0) + tonumber(z[i + 1]) end\n"
    "  table.insert(cv, P .. 'cv:' .. d)\n"
    "  table.insert(ca, P .. 'ca:' .. d)\n"
    "  table.insert(ch, P .. 'ch:' .. d)\n"
    "end\n"
    "local tcv, tca, tch, tr = P .. 'tmp:cv', P .. 'tmp:ca', P .. 'tmp:ch', P .. 'tmp:r'\n"
    "local convs = redis.call('SUNIONSTORE', tcv, unpack(cv))\n"
    "redis.call('SUNIONSTORE', tca, unpack(ca))\n"
    "redis.call('SUNIONSTORE', tch, unpack(ch))\n"
    "local handed = redis.call('SINTERCARD', 2, tcv, tch)\n"
    "redis.call('SINTERSTORE', tr, tcv, tca)\n"
    "local resolved = redis.call('SDIFFSTORE', tr, tr, tch)\n"
    "redis.call('DEL', tcv, tca, tch, tr)\n"
    "local out = {cjson.encode({figures = figs, intents = intents, convs = convs,"
    " handed = handed, resolved = resolved})}\n"
    "for _, u in ipairs(redis.call('ZREVRANGE', P .. 'u', 0, 199)) do\n"
    "  if #out > 20 then break end\n"
    "  if cjson.decode(u).ts >= since then table.insert(out, u) end\n"
    "end\n"
    "return out\n";

enum { S_COMMIT, S_CLAIM, S_AGENT_SAY, S_SAY, S_BACK, S_RATE, S_QUEUE, S_DASH, NSCRIPTS };

static const char *const SCRIPTS[NSCRIPTS] = {
    LUA_COMMIT, LUA_CLAIM, LUA_AGENT_SAY, LUA_SAY, LUA_BACK, LUA_RATE, LUA_QUEUE,
    LUA_DASH};

/* --- the object ------------------------------------------------------------ */

struct rstore {
    char host[256];
    char password[256];
    int port, db;
    pthread_mutex_t mu; /* the pool */
    redisContext *idle[POOL_MAX];
    int nidle;
    char sha[NSCRIPTS][41];
    /* the subscriber */
    store_events ev;
    pthread_t sub;
    int subscribed;
    pthread_mutex_t submu;
    redisContext *subc;
    int stopping;
    /* round trips, and those that failed (a connection lost, an error) */
    _Atomic unsigned long sent, failed;
};

static _Thread_local long last_version, last_seq;

void rstore_calls(rstore *rs, unsigned long *sent, unsigned long *failed) {
    *sent = atomic_load(&rs->sent);
    *failed = atomic_load(&rs->failed);
}

void rstore_last_write(long *version, long *seq) {
    *version = last_version;
    *seq = last_seq;
}

/* Parse redis://[:PASSWORD@]HOST[:PORT][/DB]. */
static int parse_url(rstore *rs, const char *url, char *err, size_t errlen) {
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(err, errlen, "--redis %s: the address starts with redis://", url);
        return -1;
    }
    p += 8;
    const char *at = strchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        snprintf(rs->password, sizeof rs->password, "%.*s", (int)(at - pw), pw);
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof rs->host) {
        snprintf(err, errlen, "--redis %s: no host", url);
        return -1;
    }
    memcpy(rs->host, p, hl);
    rs->host[hl] = '\0';
    p += hl;
    rs->port = 6379;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535) {
            snprintf(err, errlen, "--redis %s: bad port", url);
            return -1;
        }
        rs->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (*end || db < 0 || db > 1000) {
            snprintf(err, errlen, "--redis %s: bad database number", url);
            return -1;
        }
        rs->db = (int)db;
    } else if (*p && strcmp(p, "/") != 0) {
        snprintf(err, errlen, "--redis %s: cannot read the address", url);
        return -1;
    }
    return 0;
}

static redisReply *command(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return r;
}

/* A new connection, authenticated, on the right database; NULL with err. */
static redisContext *connect_to(rstore *rs, char *err, size_t errlen) {
    struct timeval ct = {CONNECT_MS / 1000, (CONNECT_MS % 1000) * 1000};
    struct timeval rt = {COMMAND_MS / 1000, (COMMAND_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(rs->host, rs->port, ct);
    if (!c || c->err) {
        snprintf(err, errlen, "redis %s:%d: %s", rs->host, rs->port,
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, rt);
    redisReply *r = NULL;
    if (*rs->password) {
        r = command(c, "AUTH %s", rs->password);
        if (!r || r->type == REDIS_REPLY_ERROR)
            goto fail;
        freeReplyObject(r);
    }
    r = command(c, "SELECT %d", rs->db);
    if (!r || r->type == REDIS_REPLY_ERROR)
        goto fail;
    freeReplyObject(r);
    return c;
fail:
    snprintf(err, errlen, "redis %s:%d: %s", rs->host, rs->port,
             r ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
    return NULL;
}

/* Whether an idle connection still works: nothing may be waiting to be
 * read on it (Redis closing it makes it readable). */
static int still_open(redisContext *c) {
    struct pollfd p = {c->fd, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

static redisContext *get_conn(rstore *rs) {
    for (;;) {
        pthread_mutex_lock(&rs->mu);
        redisContext *c = rs->nidle ? rs->idle[--rs->nidle] : NULL;
        pthread_mutex_unlock(&rs->mu);
        if (!c)
            break;
        if (still_open(c))
            return c;
        redisFree(c);
    }
    char err[256];
    redisContext *c = connect_to(rs, err, sizeof err);
    if (!c)
        store__seterr("%s", err);
    return c;
}

/* Give a connection back (or drop it when it failed). */
static void put_conn(rstore *rs, redisContext *c, int failed) {
    if (!c)
        return;
    if (!failed && !c->err) {
        pthread_mutex_lock(&rs->mu);
        if (rs->nidle < POOL_MAX) {
            rs->idle[rs->nidle++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&rs->mu);
    }
    redisFree(c);
}

static int load_scripts(rstore *rs, redisContext *c) {
    for (int i = 0; i < NSCRIPTS; i++) {
        redisReply *r = command(c, "SCRIPT LOAD %s", SCRIPTS[i]);
        if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
            store__seterr("redis: script %d does not load: %s", i,
                          r && r->str ? r->str : c->errstr);
            freeReplyObject(r);
            return -1;
        }
        memcpy(rs->sha[i], r->str, 41);
        freeReplyObject(r);
    }
    return 0;
}

/* A command's answer r on c: counted, c given back to the pool (or
 * dropped when it failed), and NULL (errmsg set) for no answer or an error
 * reply. */
static redisReply *answered(rstore *rs, redisContext *c, redisReply *r) {
    atomic_fetch_add(&rs->sent, 1);
    if (!r) {
        atomic_fetch_add(&rs->failed, 1);
        store__seterr("redis: %s", c->errstr);
        put_conn(rs, c, 1);
        return NULL;
    }
    put_conn(rs, c, 0);
    if (r->type == REDIS_REPLY_ERROR) {
        atomic_fetch_add(&rs->failed, 1);
        store__seterr("redis: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* A command with printf-like arguments (%s, %b, %lld). */
static redisReply *cmd(rstore *rs, const char *fmt, ...) {
    redisContext *c = get_conn(rs);
    if (!c)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return answered(rs, c, r);
}

/* A command whose answer is only success or failure: 0 or -1. */
static int done(redisReply *r) {
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

/* EVALSHA script 0 args...; after a Redis restart the script cache is
 * empty (NOSCRIPT: nothing ran), so the scripts are loaded again and the
 * call repeated once. */
static redisReply *eval(rstore *rs, int script, int nargs, const char **args,
                        const size_t *lens) {
    const char *argv[16];
    size_t alen[16];
    if (nargs > 13)
        return NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        redisContext *c = get_conn(rs);
        if (!c)
            return NULL;
        argv[0] = "EVALSHA";
        alen[0] = 7;
        pthread_mutex_lock(&rs->mu);
        char sha[41];
        memcpy(sha, rs->sha[script], sizeof sha);
        pthread_mutex_unlock(&rs->mu);
        argv[1] = sha;
        alen[1] = 40;
        argv[2] = "0";
        alen[2] = 1;
        for (int i = 0; i < nargs; i++) {
            argv[3 + i] = args[i];
            alen[3 + i] = lens ? lens[i] : strlen(args[i]);
        }
        redisReply *r = redisCommandArgv(c, 3 + nargs, argv, alen);
        if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            atomic_fetch_add(&rs->sent, 1);
            freeReplyObject(r);
            pthread_mutex_lock(&rs->mu);
            int rc = load_scripts(rs, c);
            pthread_mutex_unlock(&rs->mu);
            put_conn(rs, c, rc != 0);
            if (rc)
                return NULL;
            continue;
        }
        return answered(rs, c, r);
    }
    return NULL;
}

/* The first element of a script's array reply, the status it names. */
static const char *status_of(const redisReply *r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return "";
    return r->element[0]->str;
}

static long long int_at(const redisReply *r, size_t i) {
    if (i >= r->elements)
        return 0;
    const redisReply *e = r->element[i];
    return e->type == REDIS_REPLY_INTEGER ? e->integer
           : e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10)
                                           : 0;
}

/* A write script's outcome as store.h codes. */
static int outcome(redisReply *r, const char *what, const char *id) {
    if (!r)
        return -1;
    const char *s = status_of(r);
    int rc;
    if (strcmp(s, "ok") == 0) {
        last_version = (long)int_at(r, 1);
        last_seq = (long)int_at(r, 2);
        rc = 0;
    } else if (strcmp(s, "stale") == 0) {
        store__seterr("%s: conversation %.8s changed meanwhile", what, id);
        rc = STORE_STALE;
    } else if (strcmp(s, "nf") == 0) {
        store__seterr("%s: no such conversation or ticket", what);
        rc = STORE_NOT_FOUND;
    } else if (strcmp(s, "already") == 0) {
        rc = STORE_ALREADY;
    } else if (strcmp(s, "conflict") == 0) {
        if (r->elements >= 3 && r->element[1]->type == REDIS_REPLY_STRING)
            store__seterr("the ticket is %s%s%s", r->element[1]->str,
                          r->element[2]->len ? " by " : "",
                          r->element[2]->type == REDIS_REPLY_STRING
                              ? r->element[2]->str : "");
        else
            store__seterr("%s: the ticket is not this agent's", what);
        rc = STORE_CONFLICT;
    } else if (strcmp(s, "dup") == 0) {
        store__seterr("%s: the channel's message was taken already", what);
        rc = -1;
    } else {
        store__seterr("%s: unexpected answer from Redis", what);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* --- subscriber ------------------------------------------------------------ */

static void *subscriber(void *arg) {
    rstore *rs = arg;
    int first = 1;
    while (1) {
        pthread_mutex_lock(&rs->submu);
        int stop = rs->stopping;
        pthread_mutex_unlock(&rs->submu);
        if (stop)
            break;
        char err[256];
        redisContext *c = connect_to(rs, err, sizeof err);
        redisReply *r = NULL;
        if (c) {
            struct timeval none = {0, 0};
            redisSetTimeout(c, none); /* block until an event or close */
            r = command(c, "SUBSCRIBE %s", P "ev");
        }
        if (!c || !r || r->type == REDIS_REPLY_ERROR) {
            freeReplyObject(r);
            redisFree(c);
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        freeReplyObject(r);
        pthread_mutex_lock(&rs->submu);
        stop = rs->stopping;
        if (!stop)
            rs->subc = c;
        pthread_mutex_unlock(&rs->submu);
        if (stop) {
            redisFree(c);
            break;
        }
        if (!first) {
            srv_log("info", "msg=\"redis events: reconnected\"");
            if (rs->ev.on_reset)
                rs->ev.on_reset(rs->ev.ud);
        }
        first = 0;
        void *rep;
        while (redisGetReply(c, &rep) == REDIS_OK) {
            redisReply *m = rep;
            if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
                m->element[2]->type == REDIS_REPLY_STRING) {
                char id[33];
                long v, seq;
                if (sscanf(m->element[2]->str, "%32s %ld %ld", id, &v, &seq) == 3 &&
                    rs->ev.on_event)
                    rs->ev.on_event(rs->ev.ud, id, v, seq);
            }
            freeReplyObject(m);
        }
        pthread_mutex_lock(&rs->submu);
        stop = rs->stopping;
        rs->subc = NULL;
        pthread_mutex_unlock(&rs->submu);
        if (!stop)
            srv_log("error", "msg=\"redis events: connection lost: %s\"", c->errstr);
        redisFree(c);
    }
    return NULL;
}

int rstore_subscribe(rstore *rs, const store_events *ev) {
    rs->ev = *ev;
    if (pthread_create(&rs->sub, NULL, subscriber, rs))
        return -1;
    rs->subscribed = 1;
    return 0;
}

int rstore_open(rstore **out, const char *url, char *err, size_t errlen) {
    *out = NULL;
    rstore *rs = calloc(1, sizeof *rs);
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&rs->mu, NULL);
    pthread_mutex_init(&rs->submu, NULL);
    if (parse_url(rs, url, err, errlen)) {
        rstore_close(rs);
        return -1;
    }
    redisContext *c = connect_to(rs, err, errlen);
    if (!c) {
        rstore_close(rs);
        return -1;
    }
    if (load_scripts(rs, c)) {
        snprintf(err, errlen, "%s", store_errmsg());
        redisFree(c);
        rstore_close(rs);
        return -1;
    }
    put_conn(rs, c, 0);
    *out = rs;
    return 0;
}

void rstore_close(rstore *rs) {
    if (!rs)
        return;
    if (rs->subscribed) {
        pthread_mutex_lock(&rs->submu);
        rs->stopping = 1;
        if (rs->subc)
            shutdown(rs->subc->fd, SHUT_RDWR); /* ends its blocking read */
        pthread_mutex_unlock(&rs->submu);
        pthread_join(rs->sub, NULL);
    }
    for (int i = 0; i < rs->nidle; i++)
        redisFree(rs->idle[i]);
    pthread_mutex_destroy(&rs->mu);
    pthread_mutex_destroy(&rs->submu);
    free(rs);
}

/* --- conversations ---------------------------------------------------------- */

/* A message as JSON text (seq and ts are the script's), like store.c's
 * rows. */
static char *msg_text(const msg_rec *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "role", m->role);
    cJSON_AddStringToObject(o, "text", m->text ? m->text : "");
    if (m->action) {
        cJSON_AddStringToObject(o, "action", m->action);
        if (m->intent)
            cJSON_AddStringToObject(o, "intent", m->intent);
        else
            cJSON_AddNullToObject(o, "intent");
        cJSON_AddNumberToObject(o, "confidence", m->confidence);
        cJSON_AddNumberToObject(o, "turn", m->turn);
    }
    if (m->lang && *m->lang)
        cJSON_AddStringToObject(o, "lang", m->lang);
    if (m->agent)
        cJSON_AddStringToObject(o, "agent", m->agent);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int rstore_conv_create(rstore *rs, const char *id, int64_t now,
                       const char *profile_json, const void *state,
                       size_t state_len) {
    redisReply *r = cmd(rs,
                        "HSET " P "c:%s v 1 created %lld profile %s state %b seq 0"
                        " status 0 ticket 0 agent %s lang %s last_at 0",
                        id, (long long)now, profile_json ? profile_json : "",
                        state, state_len, "", "");
    if (!r)
        return -1;
    freeReplyObject(r);
    last_version = 1;
    last_seq = 0;
    return 0;
}

static const redisReply *field(const redisReply *r, const char *name) {
    if (r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(r->element[i]->str, name) == 0)
            return r->element[i + 1];
    return NULL;
}

static long long field_int(const redisReply *r, const char *name) {
    const redisReply *f = field(r, name);
    return f && f->type == REDIS_REPLY_STRING ? strtoll(f->str, NULL, 10) : 0;
}

static void field_copy(const redisReply *r, const char *name, char *buf,
                       size_t size) {
    const redisReply *f = field(r, name);
    snprintf(buf, size, "%s", f && f->type == REDIS_REPLY_STRING ? f->str : "");
}

int rstore_conv_load(rstore *rs, const char *id, conv_row *out) {
    memset(out, 0, sizeof *out);
    redisReply *r = cmd(rs, "HGETALL " P "c:%s", id);
    if (!r)
        return -1;
    if (r->elements == 0 || !field(r, "v")) {
        freeReplyObject(r);
        store__seterr("no such conversation");
        return STORE_NOT_FOUND;
    }
    out->created = field_int(r, "created");
    out->status = (conv_status)field_int(r, "status");
    out->seq = (long)field_int(r, "seq");
    out->ticket = (long)field_int(r, "ticket");
    out->version = (long)field_int(r, "v");
    field_copy(r, "agent", out->agent, sizeof out->agent);
    field_copy(r, "lang", out->lang, sizeof out->lang);
    const redisReply *st = field(r, "state");
    if (st && st->type == REDIS_REPLY_STRING && st->len > 0) {
        out->state = malloc(st->len);
        if (!out->state) {
            freeReplyObject(r);
            store__seterr("out of memory");
            return -1;
        }
        memcpy(out->state, st->str, st->len);
        out->state_len = st->len;
    }
    freeReplyObject(r);
    return 0;
}

/* Messages as a JSON array text: "[m1,m2,...]". */
static char *msgs_text(const msg_rec *m, size_t n) {
    size_t cap = 2, len = 1;
    char *out = malloc(cap + 1);
    if (!out)
        return NULL;
    out[0] = '[';
    for (size_t i = 0; i < n; i++) {
        char *s = msg_text(&m[i]);
        size_t sl = s ? strlen(s) : 0;
        char *grown = s ? realloc(out, len + sl + 3) : NULL;
        if (!grown) {
            free(s);
            free(out);
            return NULL;
        }
        out = grown;
        if (i)
            out[len++] = ',';
        memcpy(out + len, s, sl);
        len += sl;
        free(s);
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

int rstore_turn(rstore *rs, const turn_rec *t, long *ticket) {
    char ver[24], now[24], status[8];
    snprintf(ver, sizeof ver, "%ld", t->version);
    snprintf(now, sizeof now, "%lld", (long long)t->now);
    snprintf(status, sizeof status, "%d", (int)t->status);
    char *msgs = msgs_text(t->msgs, t->nmsgs);
    char seen[512] = "";
    if (t->msg_channel && t->msg_id)
        snprintf(seen, sizeof seen, "%s:%s", t->msg_channel, t->msg_id);
    if (!msgs) {
        store__seterr("out of memory");
        return -1;
    }
    const char *args[12] = {t->conv, ver, now, t->state ? t->state : "", status,
                            t->lang ? t->lang : "", msgs,
                            t->handoff_reason ? t->handoff_reason : "",
                            t->handoff_text ? t->handoff_text : "",
                            t->handoff_packet ? t->handoff_packet : "",
                            t->handoff_status ? t->handoff_status : "", seen};
    size_t lens[12];
    for (int i = 0; i < 12; i++)
        lens[i] = strlen(args[i]);
    lens[3] = t->state ? t->state_len : 0;
    redisReply *r = eval(rs, S_COMMIT, 12, args, lens);
    free(msgs);
    long tk = r && r->type == REDIS_REPLY_ARRAY ? (long)int_at(r, 3) : 0;
    int rc = outcome(r, "store turn", t->conv);
    if (rc == 0 && ticket)
        *ticket = tk;
    return rc;
}

cJSON *rstore_messages(rstore *rs, const char *conv, long after) {
    redisReply *r = cmd(rs, "LRANGE " P "m:%s %ld -1", conv, after < 0 ? 0 : after);
    if (!r)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < r->elements; i++) {
        cJSON *m = r->element[i]->type == REDIS_REPLY_STRING
                       ? cJSON_Parse(r->element[i]->str) : NULL;
        if (!m || !cJSON_AddItemToArray(arr, m)) {
            cJSON_Delete(m);
            cJSON_Delete(arr);
            arr = NULL;
            store__seterr("redis: a stored message is not JSON");
        }
    }
    freeReplyObject(r);
    return arr;
}

int rstore_rate(rstore *rs, const char *conv, long turn, int rating, int64_t now) {
    char ts[24], rt[8], nw[24];
    snprintf(ts, sizeof ts, "%ld", turn > 0 ? turn : 0);
    snprintf(rt, sizeof rt, "%d", rating);
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    const char *args[4] = {conv, ts, rt, nw};
    redisReply *r = eval(rs, S_RATE, 4, args, NULL);
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

/* A script's array of JSON texts as a cJSON array. */
static cJSON *json_rows(redisReply *r, size_t from) {
    if (!r)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = from; arr && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        cJSON *o = r->element[i]->type == REDIS_REPLY_STRING
                       ? cJSON_Parse(r->element[i]->str) : NULL;
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    return arr;
}

cJSON *rstore_queue(rstore *rs, const char *agent, int64_t now) {
    char nw[24];
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    const char *args[2] = {agent, nw};
    redisReply *r = eval(rs, S_QUEUE, 2, args, NULL);
    cJSON *arr = json_rows(r, 0);
    freeReplyObject(r);
    return arr;
}

int rstore_ticket_conv(rstore *rs, long ticket, char conv[33]) {
    redisReply *r = cmd(rs, "HGET " P "t:%ld conv", ticket);
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (r->type == REDIS_REPLY_STRING) {
        snprintf(conv, 33, "%s", r->str);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

static void add_opt_num(cJSON *o, const char *key, const redisReply *h) {
    const redisReply *f = field(h, key);
    if (f && f->type == REDIS_REPLY_STRING)
        cJSON_AddNumberToObject(o, key, strtod(f->str, NULL));
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *rstore_ticket(rstore *rs, long ticket) {
    redisReply *h = cmd(rs, "HGETALL " P "t:%ld", ticket);
    if (!h)
        return NULL;
    if (!field(h, "conv")) {
        freeReplyObject(h);
        store__seterr("no such ticket");
        return NULL;
    }
    char conv[33], buf[64];
    field_copy(h, "conv", conv, sizeof conv);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ticket", (double)ticket);
    cJSON_AddStringToObject(o, "conversation", conv);
    field_copy(h, "reason", buf, sizeof buf);
    cJSON_AddStringToObject(o, "reason", buf);
    field_copy(h, "status", buf, sizeof buf);
    cJSON_AddStringToObject(o, "status", buf);
    field_copy(h, "agent", buf, sizeof buf);
    if (*buf)
        cJSON_AddStringToObject(o, "agent", buf);
    else
        cJSON_AddNullToObject(o, "agent");
    add_opt_num(o, "created", h);
    add_opt_num(o, "claimed", h);
    add_opt_num(o, "resolved", h);
    const redisReply *pk = field(h, "packet");
    cJSON *packet = pk && pk->type == REDIS_REPLY_STRING ? cJSON_Parse(pk->str) : NULL;
    cJSON_AddItemToObject(o, "packet", packet ? packet : cJSON_CreateNull());
    freeReplyObject(h);
    cJSON *msgs = rstore_messages(rs, conv, 0);
    redisReply *n = cmd(rs, "LRANGE " P "tn:%ld 0 -1", ticket);
    cJSON *notes = json_rows(n, 0);
    freeReplyObject(n);
    if (!msgs || !notes) {
        cJSON_Delete(msgs);
        cJSON_Delete(notes);
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddItemToObject(o, "messages", msgs);
    cJSON_AddItemToObject(o, "notes", notes);
    return o;
}

/* Run a script that adds one message: ARGV id, ticket, agent, now, msg. */
static int ticket_script(rstore *rs, int script, long ticket, const char *conv,
                         const char *agent, int64_t now, const msg_rec *m,
                         const char *what) {
    char tk[24], nw[24];
    snprintf(tk, sizeof tk, "%ld", ticket);
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    char *mt = msg_text(m);
    if (!mt) {
        store__seterr("out of memory");
        return -1;
    }
    const char *args[5] = {conv, tk, agent, nw, mt};
    redisReply *r = eval(rs, script, 5, args, NULL);
    free(mt);
    return outcome(r, what, conv);
}

int rstore_claim(rstore *rs, long ticket, const char *conv, const char *agent,
                 int64_t now, const msg_rec *sys) {
    return ticket_script(rs, S_CLAIM, ticket, conv, agent, now, sys, "claim");
}

int rstore_agent_message(rstore *rs, long ticket, const char *conv,
                         const char *agent, int64_t now, const msg_rec *m) {
    return ticket_script(rs, S_AGENT_SAY, ticket, conv, agent, now, m,
                         "agent message");
}

int rstore_note(rstore *rs, long ticket, const char *agent, const char *text,
                int64_t now) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agent", agent);
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddNumberToObject(o, "ts", (double)now);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) {
        store__seterr("out of memory");
        return -1;
    }
    int rc = done(cmd(rs, "RPUSH " P "tn:%ld %s", ticket, s));
    free(s);
    return rc;
}

static int back(rstore *rs, long ticket, const char *conv, const char *agent,
                int64_t now, const msg_rec *sys, const void *state,
                size_t state_len, const char *note, long version,
                const char *what) {
    char ver[24], tk[24], nw[24];
    snprintf(ver, sizeof ver, "%ld", version);
    snprintf(tk, sizeof tk, "%ld", ticket);
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    char *mt = msg_text(sys);
    if (!mt) {
        store__seterr("out of memory");
        return -1;
    }
    const char *args[8] = {conv, ver, tk, agent, nw, mt, state ? state : "",
                           note ? note : ""};
    size_t lens[8];
    for (int i = 0; i < 8; i++)
        lens[i] = strlen(args[i]);
    lens[6] = state ? state_len : 0;
    redisReply *r = eval(rs, S_BACK, 8, args, lens);
    free(mt);
    return outcome(r, what, conv);
}

int rstore_resolve(rstore *rs, long ticket, const char *conv, const char *agent,
                   int64_t now, const msg_rec *sys, const void *state,
                   size_t state_len, const char *note, long version) {
    return back(rs, ticket, conv, agent, now, sys, state, state_len, note,
                version, "resolve");
}

int rstore_handback(rstore *rs, long ticket, const char *conv, int64_t now,
                    const msg_rec *sys, const void *state, size_t state_len,
                    long version) {
    return back(rs, ticket, conv, "", now, sys, state, state_len, NULL, version,
                "hand back");
}

int rstore_system_message(rstore *rs, const char *conv, int64_t now,
                          const msg_rec *m) {
    char nw[24];
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    char *mt = msg_text(m);
    if (!mt) {
        store__seterr("out of memory");
        return -1;
    }
    const char *args[3] = {conv, nw, mt};
    redisReply *r = eval(rs, S_SAY, 3, args, NULL);
    free(mt);
    return outcome(r, "system message", conv);
}

long rstore_open_handoffs(rstore *rs) {
    redisReply *r = cmd(rs, "GET " P "hopen");
    if (!r)
        return -1;
    long n = r->type == REDIS_REPLY_STRING ? strtol(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return n;
}

/* --- agents and logins ------------------------------------------------------ */

int rstore_agent_add(rstore *rs, const char *name, const char *hash) {
    return done(cmd(rs, "HSET " P "agents %s %s", name, hash));
}

/* GET-like command into buf: 0, STORE_NOT_FOUND (nil), -1. */
static int get_text(redisReply *r, char *buf, size_t size) {
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (r->type == REDIS_REPLY_STRING) {
        snprintf(buf, size, "%s", r->str);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int rstore_agent_hash(rstore *rs, const char *name, char *buf, size_t size) {
    return get_text(cmd(rs, "HGET " P "agents %s", name), buf, size);
}

int rstore_login_add(rstore *rs, const char *token_hash, const char *agent,
                     const char *csrf, int64_t expires) {
    return done(cmd(rs, "SET " P "login:%s %s\n%s PXAT %lld", token_hash, agent,
                        csrf, (long long)expires));
}

int rstore_login_get(rstore *rs, const char *token_hash, int64_t now,
                     char agent[64], char csrf[64]) {
    (void)now; /* Redis expires the key */
    char buf[160];
    int rc = get_text(cmd(rs, "GET " P "login:%s", token_hash), buf, sizeof buf);
    if (rc)
        return rc;
    char *nl = strchr(buf, '\n');
    if (!nl)
        return STORE_NOT_FOUND;
    *nl = '\0';
    snprintf(agent, 64, "%.63s", buf);
    snprintf(csrf, 64, "%.63s", nl + 1);
    return 0;
}

int rstore_login_del(rstore *rs, const char *token_hash) {
    return done(cmd(rs, "DEL " P "login:%s", token_hash));
}

/* --- dashboard -------------------------------------------------------------- */

static double fig(const cJSON *figs, const char *name) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(figs, name);
    return cJSON_IsNumber(n) ? n->valuedouble : 0.0;
}

/* sum/n, or null when n is 0. */
static void add_avg(cJSON *o, const char *key, double sum, double n, double scale) {
    if (n > 0)
        cJSON_AddNumberToObject(o, key, sum / n * scale);
    else
        cJSON_AddNullToObject(o, key);
}

/* {name: count} of the figures named PREFIX+name, largest first. */
static cJSON *prefixed(const cJSON *figs, const char *prefix) {
    size_t pl = strlen(prefix), n = 0;
    const cJSON *kv;
    const cJSON *items[64];
    cJSON_ArrayForEach(kv, figs) {
        if (strncmp(kv->string, prefix, pl) == 0 && kv->valuedouble > 0 && n < 64)
            items[n++] = kv;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && items[j]->valuedouble > items[j - 1]->valuedouble; j--) {
            const cJSON *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++)
        cJSON_AddNumberToObject(o, items[i]->string + pl, items[i]->valuedouble);
    return o;
}

static int by_count(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    if (x->valuedouble != y->valuedouble)
        return x->valuedouble < y->valuedouble ? 1 : -1;
    return strcmp(x->string, y->string);
}

static cJSON *top_intents(const cJSON *intents) {
    size_t n = (size_t)cJSON_GetArraySize(intents), k = 0;
    const cJSON **v = malloc((n ? n : 1) * sizeof *v);
    cJSON *arr = cJSON_CreateArray();
    if (!v)
        return arr;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, intents) v[k++] = kv;
    qsort(v, k, sizeof *v, by_count);
    for (size_t i = 0; i < k && i < 10; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "intent", v[i]->string);
        cJSON_AddNumberToObject(o, "count", v[i]->valuedouble);
        cJSON_AddItemToArray(arr, o);
    }
    free(v);
    return arr;
}

static const char *const ACTIONS[] = {"answer", "ask", "suggest", "fallback",
                                      "handoff"};

cJSON *rstore_dashboard(rstore *rs, int64_t since, int utc_offset_minutes) {
    int64_t now = srv_now_ms();
    char s0[24], s1[24];
    snprintf(s0, sizeof s0, "%lld", (long long)since);
    snprintf(s1, sizeof s1, "%lld", (long long)now);
    const char *args[2] = {s0, s1};
    redisReply *r = eval(rs, S_DASH, 2, args, NULL);
    if (!r)
        return NULL;
    cJSON *raw = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                         r->element[0]->type == REDIS_REPLY_STRING
                     ? cJSON_Parse(r->element[0]->str) : NULL;
    cJSON *unanswered = json_rows(r, 1);
    freeReplyObject(r);
    if (!raw || !unanswered) {
        cJSON_Delete(raw);
        cJSON_Delete(unanswered);
        store__seterr("redis: the dashboard's figures do not read");
        return NULL;
    }
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(raw, "figures");
    double nconvs = fig(raw, "convs"), bot = fig(figs, "bot");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "conversations", nconvs);
    cJSON_AddNumberToObject(o, "customer_messages", fig(figs, "cust"));
    cJSON_AddNumberToObject(o, "bot_replies", bot);
    cJSON *actions = cJSON_AddObjectToObject(o, "actions");
    cJSON *rates = cJSON_AddObjectToObject(o, "rates");
    for (size_t i = 0; i < sizeof ACTIONS / sizeof *ACTIONS; i++) {
        char key[32];
        snprintf(key, sizeof key, "a:%s", ACTIONS[i]);
        double n = fig(figs, key);
        cJSON_AddNumberToObject(actions, ACTIONS[i], n);
        cJSON_AddNumberToObject(rates, ACTIONS[i], bot > 0 ? n / bot : 0.0);
    }
    cJSON *h = cJSON_AddObjectToObject(o, "handoffs");
    cJSON_AddNumberToObject(h, "total", fig(figs, "h"));
    cJSON_AddNumberToObject(h, "open", fig(figs, "hs:open"));
    cJSON_AddNumberToObject(h, "claimed", fig(figs, "hs:claimed"));
    cJSON_AddNumberToObject(h, "resolved", fig(figs, "hs:resolved"));
    cJSON_AddItemToObject(h, "by_reason", prefixed(figs, "r:"));
    add_avg(o, "handoff_rate", fig(raw, "handed"), nconvs, 1.0);
    add_avg(o, "resolution_rate", fig(raw, "resolved"), nconvs, 1.0);
    add_avg(o, "first_response_seconds", fig(figs, "fr_sum"), fig(figs, "fr_n"), 0.001);
    add_avg(o, "handoff_wait_seconds", fig(figs, "w_sum"), fig(figs, "w_n"), 0.001);
    cJSON *sat = cJSON_AddObjectToObject(o, "satisfaction");
    cJSON_AddNumberToObject(sat, "count", fig(figs, "sat_n"));
    add_avg(sat, "average", fig(figs, "sat_sum"), fig(figs, "sat_n"), 1.0);
    double by[5];
    for (int i = 0; i < 5; i++) {
        char key[16];
        snprintf(key, sizeof key, "sat:%d", i + 1);
        by[i] = fig(figs, key);
    }
    cJSON_AddItemToObject(sat, "by_rating", cJSON_CreateDoubleArray(by, 5));
    cJSON *fb = cJSON_AddObjectToObject(o, "answer_feedback");
    cJSON_AddNumberToObject(fb, "count", fig(figs, "fb_n"));
    add_avg(fb, "helpful", fig(figs, "fb_good"), fig(figs, "fb_n"), 1.0);
    /* the figures count UTC hours; the dashboard shows local ones (whole
     * hours: a half-hour offset is rounded down) */
    double hours[24] = {0};
    for (int hr = 0; hr < 24; hr++) {
        char key[16];
        snprintf(key, sizeof key, "hr:%d", hr);
        int local = (int)((((long)hr * 60 + utc_offset_minutes) / 60 % 24 + 24) % 24);
        hours[local] += fig(figs, key);
    }
    cJSON_AddItemToObject(o, "hours", cJSON_CreateDoubleArray(hours, 24));
    cJSON_AddItemToObject(o, "top_intents",
                          top_intents(cJSON_GetObjectItemCaseSensitive(raw, "intents")));
    cJSON_AddItemToObject(o, "unanswered", unanswered);
    cJSON_Delete(raw);
    return o;
}

int rstore_message_text(rstore *rs, long id, char **text, char lang[8]) {
    *text = NULL;
    redisReply *r = cmd(rs, "ZRANGEBYSCORE " P "u %ld %ld", id, id);
    if (!r)
        return -1;
    cJSON *o = r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING
                   ? cJSON_Parse(r->element[0]->str) : NULL;
    freeReplyObject(r);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "lang");
    int rc = STORE_NOT_FOUND;
    if (cJSON_IsString(t)) {
        *text = strdup(t->valuestring);
        snprintf(lang, 8, "%s", cJSON_IsString(l) ? l->valuestring : "");
        rc = *text ? 0 : -1;
    } else {
        store__seterr("no such message");
    }
    cJSON_Delete(o);
    return rc;
}

int rstore_kb_version(rstore *rs, int64_t now, const char *agent,
                      const char *path, const char *json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ts", (double)now);
    cJSON_AddStringToObject(o, "agent", agent ? agent : "");
    cJSON_AddStringToObject(o, "path", path ? path : "");
    cJSON_AddStringToObject(o, "json", json);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) {
        store__seterr("out of memory");
        return -1;
    }
    int rc = done(cmd(rs, "RPUSH " P "kbv %s", s));
    free(s);
    return rc;
}

/* --- channels --------------------------------------------------------------- */

int rstore_channel_conv(rstore *rs, const char *chan, const char *user,
                        char conv[33]) {
    return get_text(cmd(rs, "HGET " P "chu:%s %s", chan, user), conv, 33);
}

int rstore_channel_bind(rstore *rs, const char *chan, const char *user,
                        const char *conv, const char *extra) {
    redisReply *r = cmd(rs, "HSET " P "chu:%s %s %s", chan, user, conv);
    if (!r)
        return -1;
    freeReplyObject(r);
    r = cmd(rs, "HSET " P "c:%s channel %s user %s extra %s", conv, chan, user,
            extra ? extra : "");
    if (!r)
        return -1;
    freeReplyObject(r);
    return 0;
}

int rstore_channel_of(rstore *rs, const char *conv, char chan[16],
                      char user[128], char extra[128]) {
    redisReply *r = cmd(rs, "HMGET " P "c:%s channel user extra", conv);
    if (!r)
        return -1;
    int rc = STORE_NOT_FOUND;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_STRING) {
        snprintf(chan, 16, "%s", r->element[0]->str);
        snprintf(user, 128, "%s", r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : "");
        snprintf(extra, 128, "%s", r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str : "");
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int rstore_channel_seen(rstore *rs, const char *chan, const char *msgid) {
    redisReply *r = cmd(rs, "EXISTS " P "seen:%s:%s", chan, msgid);
    if (!r)
        return -1;
    int seen = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);
    return seen;
}

int64_t rstore_last_message_at(rstore *rs, const char *conv) {
    redisReply *r = cmd(rs, "HGET " P "c:%s last_at", conv);
    if (!r)
        return -1;
    int64_t ts = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return ts;
}

int rstore_cursor_get(rstore *rs, const char *chan, const char *key,
                      char *cursor, size_t size) {
    cursor[0] = '\0';
    int rc = get_text(cmd(rs, "HGET " P "cur:%s %s", chan, key), cursor, size);
    return rc == STORE_NOT_FOUND ? 0 : rc;
}

int rstore_cursor_set(rstore *rs, const char *chan, const char *key,
                      const char *cursor) {
    return done(cmd(rs, "HSET " P "cur:%s %s %s", chan, key, cursor));
}

/* --- shared values and locks ------------------------------------------------ */

int rstore_value_get(rstore *rs, const char *key, char *buf, size_t size,
                     long *ttl_ms) {
    redisReply *r = cmd(rs, "GET " P "val:%s", key);
    int rc = get_text(r, buf, size);
    if (rc)
        return rc;
    r = cmd(rs, "PTTL " P "val:%s", key);
    if (!r)
        return -1;
    *ttl_ms = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -1;
    freeReplyObject(r);
    return *ttl_ms > 0 ? 0 : STORE_NOT_FOUND;
}

int rstore_value_put(rstore *rs, const char *key, const char *value, long ttl_ms) {
    return done(cmd(rs, "SET " P "val:%s %s PX %ld", key, value,
                        ttl_ms > 0 ? ttl_ms : 1));
}

int rstore_lock(rstore *rs, const char *key, long ttl_ms) {
    redisReply *r = cmd(rs, "SET " P "lock:%s 1 NX PX %ld", key,
                        ttl_ms > 0 ? ttl_ms : 1);
    if (!r)
        return -1;
    int taken = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return taken;
}

int rstore_unlock(rstore *rs, const char *key) {
    return done(cmd(rs, "DEL " P "lock:%s", key));
}
