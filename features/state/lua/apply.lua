-- KEYS: the seq counter, the newest order time, then each log, set log, seen key, order
--       record and label mark written, once.
-- ARGV: "key t w0[:w1] ..." per append, "key t ..." per member, "key t ..." per seen key,
--       "key created_us ..." per order, "key ..." per label mark, then the member strings,
--       then the order records.
-- Returns 1, or 0 if a label was already marked or an order already recorded: then nothing is written.
local seq_key, newest_key = KEYS[1], KEYS[2]
local retention, set_retention, trim_at_least, ttl = @LOG_RETENTION@, @SET_RETENTION@, @TRIM@, @TTL@
local BASE = '0000000000000000:'
local CHUNK = 500  -- members per ZADD/ZREM, well below Lua's unpack limit
local appends, members, seen, orders = words(ARGV[1]), words(ARGV[2]), words(ARGV[3]), words(ARGV[4])
local labels = words(ARGV[5])

-- An order already recorded is counted once: its writes again change nothing.
for i = 1, #orders, 2 do
  if redis.call('EXISTS', KEYS[tonumber(orders[i])]) == 1 then return 0 end
end

-- An outcome's label mark and its appends go together: a label counted already skips them all.
for i = 1, #labels do
  if redis.call('EXISTS', KEYS[tonumber(labels[i])]) == 1 then return 0 end
end
for i = 1, #labels do
  redis.call('SET', KEYS[tonumber(labels[i])], 1, 'EX', ttl)
end

local function ints(text)
  local out = {}
  for part in string.gmatch(text, '[^:]+') do out[#out + 1] = tonumber(part) end
  return out
end

local function plus(sums, weights)
  local out = {}
  for j = 1, #weights do out[j] = string.format('%d', sums[j] + weights[j]) end
  return table.concat(out, ':')
end

local function below(horizon) return '(' .. string.format('%d', horizon) end

-- _Log._trim: drop events older than the horizon in chunks; the last one dropped is the base.
local function trim_log(log, horizon)
  local first = redis.call('ZRANGE', log, 1, 1, 'WITHSCORES')  -- rank 0 is the base
  if not first[1] or tonumber(first[2]) >= horizon then return end
  local cut = redis.call('ZCOUNT', log, '-inf', below(horizon)) - 1
  if cut >= trim_at_least or cut == redis.call('ZCARD', log) - 1 then
    local dropped = redis.call('ZRANGE', log, cut, cut)
    redis.call('ZREMRANGEBYRANK', log, 0, cut)
    redis.call('ZADD', log, '-inf', BASE .. string.sub(dropped[1], 18))
  end
end

-- _SetLog.add: the same chunks, and nothing to remember.
local function trim_set(log, horizon)
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  if tonumber(first[2]) >= horizon then return end
  local cut = redis.call('ZCOUNT', log, '-inf', below(horizon))
  if cut >= trim_at_least then redis.call('ZREMRANGEBYRANK', log, 0, cut - 1) end
end

-- A late event: every member after it carries the new weights in its running sums.
local function shift_later(log, t_text, weights)
  local later = redis.call('ZRANGE', log, '(' .. t_text, '+inf', 'BYSCORE', 'WITHSCORES')
  for start = 1, #later, 2 * CHUNK do
    local old, new = {}, {}
    for k = start, math.min(start + 2 * CHUNK - 1, #later), 2 do
      local member = later[k]
      old[#old + 1] = member
      new[#new + 1] = later[k + 1]
      new[#new + 1] = string.sub(member, 1, 17) .. plus(ints(string.sub(member, 18)), weights)
    end
    redis.call('ZREM', log, unpack(old))
    redis.call('ZADD', log, unpack(new))
  end
end

local n_events = #appends / 3 + #members / 2
local seq = redis.call('INCRBY', seq_key, n_events) - n_events
local function tag()
  seq = seq + 1
  return string.format('%016x', seq) .. ':'
end

for i = 1, #appends, 3 do
  local log, t_text, weights = KEYS[tonumber(appends[i])], appends[i + 1], ints(appends[i + 2])
  local t = tonumber(t_text)
  local last = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
  local newest = t
  if not last[1] then  -- a new log: its base is 0s
    local zeros = {}
    for j = 1, #weights do zeros[j] = 0 end
    redis.call('ZADD', log, '-inf', BASE .. plus(zeros, zeros), t_text, tag() .. plus(zeros, weights))
  elseif string.sub(last[1], 1, 17) == BASE or t >= tonumber(last[2]) then
    redis.call('ZADD', log, t_text, tag() .. plus(ints(string.sub(last[1], 18)), weights))
  else
    newest = tonumber(last[2])
    local before = redis.call('ZRANGE', log, t_text, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1)
    shift_later(log, t_text, weights)
    redis.call('ZADD', log, t_text, tag() .. plus(ints(string.sub(before[1], 18)), weights))
  end
  trim_log(log, newest - retention)
end

local arg = 6
for i = 1, #members, 2 do
  local log, t_text = KEYS[tonumber(members[i])], members[i + 1]
  local last = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
  redis.call('ZADD', log, t_text, tag() .. ARGV[arg])
  arg = arg + 1
  trim_set(log, math.max(tonumber(t_text), tonumber(last[2] or t_text)) - set_retention)
end

for i = 1, #seen, 2 do
  local key, t_text = KEYS[tonumber(seen[i])], seen[i + 1]
  local pair = redis.call('GET', key)
  if not pair then
    redis.call('SET', key, t_text .. ':' .. t_text)
  else
    local colon = string.find(pair, ':', 1, true)
    local first, last = string.sub(pair, 1, colon - 1), string.sub(pair, colon + 1)
    local t = tonumber(t_text)
    if t < tonumber(first) or t > tonumber(last) then
      if t < tonumber(first) then first = t_text end
      if t > tonumber(last) then last = t_text end
      redis.call('SET', key, first .. ':' .. last)
    end
  end
end

if #orders > 0 then
  local newest_text = redis.call('GET', newest_key)
  local newest_order, moved = tonumber(newest_text or '0'), false
  for i = 1, #orders, 2 do
    local created_text = orders[i + 1]
    redis.call('SET', KEYS[tonumber(orders[i])], ARGV[arg], 'EX', ttl)
    arg = arg + 1
    if tonumber(created_text) > newest_order then
      newest_order, newest_text, moved = tonumber(created_text), created_text, true
    end
  end
  if moved then redis.call('SET', newest_key, newest_text) end
end
return 1
