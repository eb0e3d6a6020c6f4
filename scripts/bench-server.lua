-- scripts/bench-server.lua - wrk script of scripts/bench-server.sh.
--
-- POSTs customer messages (Chinese and English shop questions) round-robin
-- to the conversations listed one id a line in $CSBOT_BENCH_IDS. Request g
-- (counted over all $CSBOT_BENCH_THREADS threads) goes to conversation
-- g % N with message (g / N + g % N) % M, so a conversation never gets the
-- same message twice in a row (that would hand it off as a repeat).
-- done() prints one line for the shell script:
--   CSBOT_RESULT requests=R duration_us=D p50_us=P p99_us=Q non2xx=X socket_errors=S

local messages = {
    "请问怎么开发票呢",
    "how can i get an invoice for my order",
    "请问多久发货",
    "how long does shipping usually take",
    "支持花呗分期付款吗",
    "can i pay with a credit card",
    "多久能收到退款",
    "what's your return policy please",
    "我要换个尺码",
    "hi, anyone there?",
    "请问你们的退货政策是什么",
    "do you ship on weekends",
    "满多少包邮",
    "is this in stock?",
    "会员有什么权益",
    "how do i use my points",
    "我的快递到哪了",
    "thanks a lot",
    "請問可以幫我開發票嗎",
    "你好，在吗",
}

local threads = {}
-- set per thread by setup() before init()
tid = 0
non2xx = 0

local counter = 0
local nthreads = 1
local nconv = 0
local reqs = {}

local function json_string(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    nthreads = tonumber(os.getenv("CSBOT_BENCH_THREADS") or "1")
    local path = os.getenv("CSBOT_BENCH_IDS")
    local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
    local headers = { ["Content-Type"] = "application/json" }
    local bodies = {}
    for i, m in ipairs(messages) do
        bodies[i] = '{"text":' .. json_string(m) .. '}'
    end
    for id in f:lines() do
        if id:match("^%x+$") then
            for _, b in ipairs(bodies) do
                reqs[#reqs + 1] = wrk.format("POST", "/api/v1/conversations/" .. id .. "/messages", headers, b)
            end
            nconv = nconv + 1
        end
    end
    f:close()
    assert(nconv > 0, "no conversation ids in " .. path)
end

function request()
    local g = counter * nthreads + tid
    counter = counter + 1
    local conv = g % nconv
    local msg = (math.floor(g / nconv) + conv) % #messages
    return reqs[conv * #messages + msg + 1]
end

-- With CSBOT_BENCH_DELAY_MS, each connection waits that long after each
-- answer before its next message: a customer who types, not a flood, so the
-- latency is measured at a set load rather than at saturation.
local think = tonumber(os.getenv("CSBOT_BENCH_DELAY_MS") or "") or 0
if think > 0 then
    function delay()
        return think
    end
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    end
end

function done(summary, latency, requests)
    local bad = 0
    for _, t in ipairs(threads) do
        bad = bad + (tonumber(t:get("non2xx")) or 0)
    end
    local e = summary.errors
    io.write(string.format(
        "CSBOT_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        bad, e.connect + e.read + e.write + e.timeout))
end
