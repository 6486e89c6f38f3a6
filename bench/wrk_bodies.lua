-- wrk script for bench/bench_http.py: POST a different JSON body on every request.
--
-- Environment (read by every Lua state wrk creates):
--   BENCH_BODIES   file with one JSON request body per line (required)
--   BENCH_RATE     total requests per second over all threads; 0 or unset = as fast as possible
--   BENCH_ONCE     "1": post each body once, then stop the thread (warm-up); otherwise cycle, and
--                  give a wrapped body a fresh order_id ("w<n>-" prefix) so it is never a replay
--   BENCH_API_KEY  sent as X-API-Key (optional)
--   BENCH_PATH     request path (default /v1/orders/score)
--   BENCH_THREADS  the number of wrk threads (-t), for splitting the bodies between them
--
-- Thread i of n takes lines i, i+n, i+2n... so no two threads send the same body.
-- Steady rate: delay() hands each request the next slot of a per-thread schedule
-- (start + k / rate) and waits until it (wrk timers have 1 ms resolution, so a request
-- may leave up to 1 ms early; the schedule, not the sends, sets the rate). Latency is
-- measured by wrk from the moment the request is written, so a send that is late
-- because every connection was busy is counted in `late` / `max_lag_ms`, not in the
-- latency figures (coordinated omission): check `late` before trusting a percentile.
--
-- done() prints one line "BENCH_JSON {...}" with the summary for bench_http.py.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local once = os.getenv("BENCH_ONCE") == "1"
local path = os.getenv("BENCH_PATH") or "/v1/orders/score"
local key = os.getenv("BENCH_API_KEY")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1") -- must equal wrk -t
  local id = tonumber(wrk.thread:get("id"))
  bodies = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if #line > 0 then
      if i % n == id then bodies[#bodies + 1] = line end
      i = i + 1
    end
  end
  if #bodies == 0 then error("no bodies for thread " .. id .. " in " .. os.getenv("BENCH_BODIES")) end
  next_body = 1
  wraps = 0
  sent = 0
  late = 0
  max_lag = 0
  delays = 0
  thread_rate = rate / n
  start_ms = nil
  slot = 0
  stopped = false
  wrk.headers["Content-Type"] = "application/json"
  if key then wrk.headers["X-API-Key"] = key end
end

function request()
  if next_body > #bodies then
    if once then
      if not stopped then
        stopped = true
        wrk.thread:stop()
      end
      return wrk.format("GET", "/healthz", nil, nil)
    end
    next_body = 1
    wraps = wraps + 1
  end
  local body = bodies[next_body]
  next_body = next_body + 1
  if wraps > 0 then
    body = string.gsub(body, '"order_id":"', '"order_id":"w' .. wraps .. '-', 1)
  end
  sent = sent + 1
  return wrk.format("POST", path, nil, body)
end

if rate > 0 then
  function delay()
    local now = now_ms()
    if start_ms == nil then start_ms = now end
    local due = start_ms + slot * 1000.0 / thread_rate
    slot = slot + 1
    delays = delays + 1
    local wait = due - now
    if wait < -1 then
      late = late + 1
      if -wait > max_lag then max_lag = -wait end
    end
    if wait <= 0 then return 0 end
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local late_total, lag, wrapped, sent_total, delay_calls = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    late_total = late_total + (tonumber(t:get("late")) or 0)
    lag = math.max(lag, tonumber(t:get("max_lag")) or 0)
    wrapped = wrapped + (tonumber(t:get("wraps")) or 0)
    sent_total = sent_total + (tonumber(t:get("sent")) or 0)
    delay_calls = delay_calls + (tonumber(t:get("delays")) or 0)
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d',
                  e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"lat_min_us":%d,"lat_mean_us":%.1f,"lat_max_us":%d,"lat_stdev_us":%.1f',
                  latency.min, latency.mean, latency.max, latency.stdev),
    string.format('"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d',
                  latency:percentile(50), latency:percentile(90), latency:percentile(99),
                  latency:percentile(99.9)),
    string.format('"late":%d,"max_lag_ms":%.1f,"wraps":%d,"sent":%d,"delay_calls":%d,"rate":%g',
                  late_total, lag, wrapped, sent_total, delay_calls, rate),
  }
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
