"""FeatureState in Redis, so that several scoring processes share one history.

Same answers as EmbeddedState, laid out for one round trip per `fetch` and per `apply`:
- a log is a sorted set: score = event time in integer microseconds (exact in a double
  up to 2**53), member = "{seq:016x}:{sum0}[:{sum1}]", the running sums of the weights
  up to and including the event; `seq` comes from one counter, so events of the same
  time sort in insertion order, as `bisect_right` inserts them in `_Log`;
- a prefix (< t or <= t) is the last member at or before the bound: one reverse
  ZRANGE BYSCORE LIMIT 0 1, O(log n). The log's base (the sums of its trimmed events)
  is its member at -inf, so it answers when no event qualifies, and a log never
  written has no member: None, as in EmbeddedState;
- a set log (for distinct counts) is a sorted set too, member = "{seq:016x}:{other key}",
  and a slice is one ZRANGE BYSCORE of the open interval (after, before);
- all reads of an order are one Lua call, and all its writes another, so a write is
  atomic against other processes (a late event rewrites the running sums after it).
Order records and label marks expire a day after ORDER_RETENTION_US (features.retention). Logs, set logs and
seen keys are kept as EmbeddedState keeps them: trimmed, never forgotten.

Every key lives under `{prefix}v{LAYOUT_VERSION}:`. A release whose state layout differs
(new logs or seen keys, as the report times and buyer log amounts were) bumps the
version, so it starts from an empty history of its own instead of reading an older
engine's keys, which would lack the new logs and give wrong features (EmbeddedState
refuses an older snapshot for the same reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis import exceptions as redis_errors
from redis.backoff import NoBackoff
from redis.retry import Retry

from features.retention import (
    LOG_RETENTION_US,
    ORDER_RETENTION_US,
    ORDER_TTL_S,
    SET_LOG_RETENTION_US,
    TRIM_AT_LEAST,
)
from features.state.base import (
    FeatureState,
    FetchResult,
    OrderRecord,
    PrefixQuery,
    SliceQuery,
    StateUnavailable,
    Writes,
)

LAYOUT_VERSION = 2  # 2: report times (seen "reported:...") and buyer log amounts
_UNAVAILABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ResponseError)
_T = TypeVar("_T")

# Members are "{seq:016x}:{payload}", so a payload starts at byte 18. A log's first member,
# at score -inf with seq 0, holds its base: the sums of the events it dropped (0s at first),
# so that a prefix before every event is the same one ZRANGE, and a log never written has
# no member at all. Numbers leave Lua through %d: tostring would print 1.7672256e+15.
# Each key is passed once in KEYS and the queries refer to it by position, in a few
# space-separated ARGV strings: redis-py took ~70 us to pack a hundred separate arguments,
# more than half of what the whole fetch script takes in Redis.
_LUA_WORDS = """
local function words(text)
  local out = {}
  for word in string.gmatch(text, '%S+') do out[#out + 1] = word end
  return out
end
"""

_FETCH = _LUA_WORDS + """
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
"""

_APPLY = _LUA_WORDS + """
-- KEYS: the seq counter, the newest order time, then each log, set log, seen key, order
--       record and label mark written, once.
-- ARGV: "key t w0[:w1] ..." per append, "key t ..." per member, "key t ..." per seen key,
--       "key created_us ..." per order, "key ..." per label mark, then the member strings,
--       then the order records.
-- Returns 1, or 0 if a label was already marked: then nothing is written.
local seq_key, newest_key = KEYS[1], KEYS[2]
local retention, set_retention, trim_at_least, ttl = @LOG_RETENTION@, @SET_RETENTION@, @TRIM@, @TTL@
local BASE = '0000000000000000:'
local CHUNK = 500  -- members per ZADD/ZREM, well below Lua's unpack limit
local appends, members, seen, orders = words(ARGV[1]), words(ARGV[2]), words(ARGV[3]), words(ARGV[4])
local labels = words(ARGV[5])

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
"""
_APPLY = (_APPLY.replace("@LOG_RETENTION@", str(LOG_RETENTION_US))
          .replace("@SET_RETENTION@", str(SET_LOG_RETENTION_US))
          .replace("@TRIM@", str(TRIM_AT_LEAST))
          .replace("@TTL@", str(ORDER_TTL_S)))


class RedisState(FeatureState):
    """Feature state in one Redis database, under keys that start with `prefix`.

    Every call is one round trip and fails within about `timeout_s` with StateUnavailable.
    Nothing is retried: a timed-out `apply` may have run, and running it again would
    count the order twice.
    """

    def __init__(
        self, *, url: str = "redis://127.0.0.1:6379/0", prefix: str = "risk:", timeout_s: float = 0.05
    ) -> None:
        self.url = url
        prefix = f"{prefix}v{LAYOUT_VERSION}:"
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0))
        self._fetch = self.client.register_script(_FETCH)
        self._apply = self.client.register_script(_APPLY)
        self._log, self._set, self._seen = prefix + "log:", prefix + "set:", prefix + "seen:"
        self._order, self._label = prefix + "order:", prefix + "label:"
        self._fixed = [prefix + "seq", prefix + "newest"]

    def fetch(
        self, prefixes: Sequence[PrefixQuery], seen: Sequence[str], slices: Sequence[SliceQuery] = ()
    ) -> FetchResult:
        if not (prefixes or seen or slices):
            return [], [], []
        at: dict[str, int] = {}  # key -> its position in KEYS (1-based)
        log, seen_head, set_head = self._log, self._seen, self._set
        prefix_words = []
        for log_key, t, inclusive in prefixes:
            k = at.setdefault(log + log_key, len(at) + 1)
            prefix_words.append(f"{k} {t}" if inclusive else f"{k} ({t}")
        seen_words = [str(at.setdefault(seen_head + key, len(at) + 1)) for key in seen]
        slice_words = [f"{at.setdefault(set_head + set_key, len(at) + 1)} {after} {before}"
                       for set_key, after, before in slices]
        args = [" ".join(prefix_words), " ".join(seen_words), " ".join(slice_words)]
        reply = self._guarded("fetch", lambda: self._fetch(keys=list(at), args=args))
        head, _, tail = reply.partition(b"|")
        answers = head.split(b",") if prefixes or seen else []
        n = len(prefixes)
        sums = [tuple(map(int, part.split(b":"))) if part else None for part in answers[:n]]
        times: list[tuple[int, int] | None] = []
        for part in answers[n:]:
            if part:
                first, last = part.split(b":")
                times.append((int(first), int(last)))
            else:
                times.append(None)
        members = [list(zip(flat[::2], flat[1::2], strict=True)) for flat in json.loads(tail)]
        return sums, times, members

    def apply(self, writes: Writes) -> bool:
        if not (writes.appends or writes.members or writes.seen or writes.orders or writes.labels):
            return True
        at: dict[str, int] = dict.fromkeys(self._fixed, 0)  # key -> its position in KEYS (1-based)
        log, set_head, seen_head, order_head = self._log, self._set, self._seen, self._order
        append_words = [f"{at.setdefault(log + log_key, len(at) + 1)} {t} {':'.join(map(str, weights))}"
                        for log_key, t, weights in writes.appends]
        member_words = [f"{at.setdefault(set_head + set_key, len(at) + 1)} {t}" for set_key, t, _ in writes.members]
        seen_words = [f"{at.setdefault(seen_head + key, len(at) + 1)} {t}" for key, t in writes.seen]
        order_words = [f"{at.setdefault(order_head + order_id, len(at) + 1)} {record.created_us}"
                       for order_id, record in writes.orders]
        label_words = [str(at.setdefault(f"{self._label}{order_id}:{dim}", len(at) + 1))
                       for order_id, dim in writes.labels]
        args = [" ".join(append_words), " ".join(member_words), " ".join(seen_words), " ".join(order_words),
                " ".join(label_words)]
        args += [member for _, _, member in writes.members]
        args += [json.dumps([record.created_us, record.keys]) for _, record in writes.orders]
        return bool(self._guarded("apply", lambda: self._apply(keys=list(at), args=args)))

    def order(self, order_id: str) -> OrderRecord | None:
        raw, newest = self._guarded("order", lambda: self.client.mget(self._order + order_id, self._fixed[1]))
        if raw is None:
            return None
        created_us, keys = json.loads(raw)
        if int(newest or 0) - created_us > ORDER_RETENTION_US:
            return None
        return OrderRecord(created_us, tuple((entity, key) for entity, key in keys))

    def close(self) -> None:
        self.client.close()
        self.client.connection_pool.disconnect()

    def _guarded(self, what: str, call: Callable[[], _T]) -> _T:
        """The call's result; a Redis that is down, slow or refusing becomes StateUnavailable."""
        try:
            return call()
        except _UNAVAILABLE as exc:
            detail = " ".join(str(exc).split()) or "no detail"
            raise StateUnavailable(f"Redis feature state at {_where(self.url)} failed in {what}: "
                                   f"{exc.__class__.__name__}: {detail}") from exc


def _where(url: str) -> str:
    """The URL without its credentials, fit for a log line."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
