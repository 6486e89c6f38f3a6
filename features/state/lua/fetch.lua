-- KEYS: each log, seen key and set log read, once.
-- ARGV: "key bound ..." per prefix (bound "t" or "(t"), "key ..." per seen key,
--       "key after before ..." per slice; keys are positions in KEYS.
-- Returns one string: the answers (sums, or "first:last" per seen key, "" for none) joined
-- by ",", then "|" and the slices in JSON, [[t, member, t, member, ...], ...], in time order.
local answers, slices = {}, {}
local prefixes, seen, ranges = words(ARGV[1]), words(ARGV[2]), words(ARGV[3])
for i = 1, #prefixes, 2 do
  local hit = redis.call('ZRANGE', KEYS[tonumber(prefixes[i])], prefixes[i + 1], '-inf',
                         'BYSCORE', 'REV', 'LIMIT', 0, 1)
  answers[#answers + 1] = hit[1] and string.sub(hit[1], 18) or ''
end
for i = 1, #seen do
  answers[#answers + 1] = redis.call('GET', KEYS[tonumber(seen[i])]) or ''
end
for i = 1, #ranges, 3 do
  local events = redis.call('ZRANGE', KEYS[tonumber(ranges[i])], '(' .. ranges[i + 1], '(' .. ranges[i + 2],
                            'BYSCORE', 'WITHSCORES')
  local flat = {}
  for k = 1, #events, 2 do
    flat[k] = string.format('%d', tonumber(events[k + 1]))
    flat[k + 1] = cjson.encode(string.sub(events[k], 18))
  end
  slices[#slices + 1] = '[' .. table.concat(flat, ',') .. ']'
end
return table.concat(answers, ',') .. '|[' .. table.concat(slices, ',') .. ']'
