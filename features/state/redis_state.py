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

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, TypeVar

import redis
from redis import exceptions as redis_errors
from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.retry import Retry

from features.retention import LOG_RETENTION_US, ORDER_RETENTION_US, ORDER_TTL_S, SET_LOG_RETENTION_US, TRIM_AT_LEAST
from features.state.base import (
    FeatureState,
    FetchResult,
    OrderRecord,
    PrefixQuery,
    SliceQuery,
    StateUnavailable,
    Writes,
)
from risk.urls import redacted_url

LAYOUT_VERSION = 3  # 2: report times (seen "reported:...") and buyer log amounts; 3: the buyers' habits log
_UNAVAILABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ResponseError)
_T = TypeVar("_T")

# The scripts are package files (features/state/lua/*.lua), read once at import.
# Members are "{seq:016x}:{payload}", so a payload starts at byte 18. A log's first member,
# at score -inf with seq 0, holds its base: the sums of the events it dropped (0s at first),
# so that a prefix before every event is the same one ZRANGE, and a log never written has
# no member at all. Numbers leave Lua through %d: tostring would print 1.7672256e+15.
# Each key is passed once in KEYS and the queries refer to it by position, in a few
# space-separated ARGV strings: redis-py took ~70 us to pack a hundred separate arguments,
# more than half of what the whole fetch script takes in Redis.
_RETENTION = {"@LOG_RETENTION@": LOG_RETENTION_US, "@SET_RETENTION@": SET_LOG_RETENTION_US,
              "@TRIM@": TRIM_AT_LEAST, "@TTL@": ORDER_TTL_S}


def lua_script(name: str, constants: Mapping[str, int] | None = None) -> str:
    """The script `lua/{name}.lua` after the shared helpers, with each @CONSTANT@ written in."""
    folder = resources.files("features.state") / "lua"
    text = (folder / "words.lua").read_text(encoding="utf-8") + (folder / f"{name}.lua").read_text(encoding="utf-8")
    for placeholder, value in (constants or {}).items():
        text = text.replace(placeholder, str(value))
    left = re.search(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError(f"lua/{name}.lua: no value given for {left.group()}")
    return text


_FETCH = lua_script("fetch")
_APPLY = lua_script("apply", _RETENTION)
_FETCH_SHA, _APPLY_SHA = (hashlib.sha1(text.encode()).hexdigest() for text in (_FETCH, _APPLY))


def _resp(words: list[str]) -> bytes:
    """A command in the Redis protocol (RESP): what redis-py's packer writes, at a quarter of its cost
    (measured: 34 vs 139 us for a fetch of 38 keys; it checks and encodes each word in several calls)."""
    encoded = [word.encode() for word in words]
    return b"*%d\r\n" % len(encoded) + b"".join([b"$%d\r\n%b\r\n" % (len(word), word) for word in encoded])


class RedisState(FeatureState):
    """Feature state in one Redis database, under keys that start with `prefix`.

    Every call is one round trip and fails within about `timeout_s` with StateUnavailable.
    Nothing is retried: a timed-out `apply` may have run, and running an order's writes
    again would count the order twice. (An outcome's writes carry their label mark, so
    an outcome re-sent after a failure counts once whether or not the first apply ran.)
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
        self._apply = self.client.register_script(_APPLY)  # for pipelines (apply_many): redis-py's Script
        # Connections for the per-order scripts, each used by one thread at a time, without the client's
        # pool: see _evalsha. list.append and list.pop are atomic, so the idle list needs no lock.
        self._idle: list[Connection] = []
        self._made: list[Connection] = []
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
        reply = self._guarded("fetch", lambda: self._evalsha(_FETCH, _FETCH_SHA, list(at), args))
        head, _, tail = reply.partition(b"|")
        # "1:500,,7:9" read as the JSON [[1,500],[],[7,9]]: one parse in C instead of a split and
        # an int() per number in Python (every number is an integer printed by %d or by Python)
        answers = json.loads(b"[[" + head.replace(b",", b"],[").replace(b":", b",") + b"]]") if (
            prefixes or seen) else []
        n = len(prefixes)
        sums = [tuple(part) if part else None for part in answers[:n]]
        times: list[tuple[int, int] | None] = [(part[0], part[1]) if part else None for part in answers[n:]]
        members = [list(zip(flat[::2], flat[1::2], strict=True)) for flat in json.loads(tail)]
        return sums, times, members

    def apply(self, writes: Writes) -> bool:
        if not (writes.appends or writes.members or writes.seen or writes.orders or writes.labels):
            return True
        keys, args = self._apply_call(writes)
        return bool(self._guarded("apply", lambda: self._evalsha(_APPLY, _APPLY_SHA, keys, args)))

    def apply_many(self, batch: Sequence[Writes]) -> list[bool]:
        """`apply` of each, in order, in one pipelined round trip (each script still atomic on its own).

        For loading and rebuilding a state: a million orders one round trip each would
        spend most of their time waiting on the network.
        """
        pipe = self.client.pipeline(transaction=False)
        for writes in batch:
            keys, args = self._apply_call(writes)
            self._apply(keys=keys, args=args, client=pipe)
        return [bool(done) for done in self._guarded("apply_many", pipe.execute)]

    def _apply_call(self, writes: Writes) -> tuple[list[str], list[str]]:
        """The KEYS and ARGV of the apply script for `writes`."""
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
        return list(at), args

    def held(self, order_ids: Sequence[str]) -> set[str]:
        if not order_ids:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for order_id in order_ids:
            pipe.exists(self._order + order_id)
        found = self._guarded("held", pipe.execute)
        return {order_id for order_id, exists in zip(order_ids, found, strict=True) if exists}

    def complete(self) -> bool:
        return bool(self._guarded("complete", lambda: self.client.exists(self.prefix + "complete")))

    def mark_complete(self) -> None:
        self._guarded("mark_complete", lambda: self.client.set(self.prefix + "complete", 1))

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
        for connection in self._made:
            connection.disconnect()

    def _evalsha(self, script: str, sha: str, keys: list[str], args: list[str]) -> Any:
        """EVALSHA of `script` on an idle connection of this state's own; loads the script if Redis lacks it.

        Why not redis-py's Script and client: per call, its connection pool (locks,
        connection-count metrics, events), retry wrapper, Script checks and command packer
        cost more Python than the rest of the call. Behaviour is the client's: an idle
        connection that Redis closed is reconnected before use, one that failed during a
        call is closed by redis-py and reconnects on its next use, and a script missing
        after a Redis restart or SCRIPT FLUSH is loaded and run again.
        """
        try:
            connection = self._idle.pop()
        except IndexError:
            pool = self.client.connection_pool
            connection = pool.connection_class(**pool.connection_kwargs)
            self._made.append(connection)
        if connection.is_connected:  # as redis-py's pool does: one closed by Redis (or with stray bytes) reconnects
            try:
                stale = connection.can_read()
            except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError):
                stale = True
            if stale:
                connection.disconnect()
        command = [_resp(["EVALSHA", sha, str(len(keys)), *keys, *args])]
        try:
            try:
                connection.send_packed_command(command, check_health=False)
                return connection.read_response()
            except redis_errors.NoScriptError:
                connection.send_packed_command([_resp(["SCRIPT", "LOAD", script])], check_health=False)
                connection.read_response()
                connection.send_packed_command(command, check_health=False)
                return connection.read_response()
        finally:
            self._idle.append(connection)

    def _guarded(self, what: str, call: Callable[[], _T]) -> _T:
        """The call's result; a Redis that is down, slow or refusing becomes StateUnavailable."""
        try:
            return call()
        except _UNAVAILABLE as exc:
            detail = " ".join(str(exc).split()) or "no detail"
            raise StateUnavailable(f"Redis feature state at {redacted_url(self.url)} failed in {what}: "
                                   f"{exc.__class__.__name__}: {detail}") from exc
