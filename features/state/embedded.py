"""In-process FeatureState: Python lists and dicts, bisect for windows, pickled snapshots (`snapshot_file`).

The default backend for a single scoring process: no network, microsecond reads.
Memory stays bounded: each log drops events older than LOG_RETENTION_US behind its
newest event (keeping their sum as a base, so prefixes stay exact), and `expire`
forgets order records past their retention.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from pathlib import Path

from features.retention import LOG_RETENTION_US, ORDER_RETENTION_US, SET_LOG_RETENTION_US, TRIM_AT_LEAST
from features.state.base import FeatureState, FetchResult, OrderRecord, PrefixQuery, SliceQuery, Writes
from features.state.sharded import SHARDS, ShardedDict
from features.state.snapshot_file import SnapshotParts, read_snapshot, write_snapshot
from risk.pacing import UNPACED, Pacer, lowest_priority

_SHARD_MASK = SHARDS - 1
_NO_TIMES: list[int] = []  # the times of a log never written: never read, never grown


class _Log:
    """One entity's events in time order with running sums (and the sum of dropped events)."""

    __slots__ = ("times", "sums", "base")

    def __init__(self, width: int) -> None:
        self.times: list[int] = []
        self.sums: list[tuple[int, ...]] = []
        self.base: tuple[int, ...] = (0,) * width

    def prefix(self, t: int, inclusive: bool) -> tuple[int, ...]:
        i = bisect_right(self.times, t) if inclusive else bisect_left(self.times, t)
        return self.sums[i - 1] if i else self.base

    def add(self, t: int, weights: tuple[int, ...]) -> None:
        times, sums = self.times, self.sums
        if not times or t >= times[-1]:
            last = sums[-1] if sums else self.base
            times.append(t)
            if len(weights) == 1:  # the common widths spelled out: this is the hot path
                sums.append((last[0] + weights[0],))
            elif len(weights) == 2:
                sums.append((last[0] + weights[0], last[1] + weights[1]))
            else:
                sums.append(tuple(a + b for a, b in zip(last, weights, strict=True)))
        else:  # late event: shift the running sums of everything after it
            i = bisect_right(times, t)
            before = sums[i - 1] if i else self.base
            times.insert(i, t)
            sums.insert(i, tuple(a + b for a, b in zip(before, weights, strict=True)))
            for j in range(i + 1, len(sums)):
                sums[j] = tuple(a + b for a, b in zip(sums[j], weights, strict=True))
        if times[0] < times[-1] - LOG_RETENTION_US:
            self._trim(times[-1] - LOG_RETENTION_US)

    def _trim(self, horizon: int) -> None:
        cut = bisect_left(self.times, horizon)
        if cut >= TRIM_AT_LEAST:
            self.base = self.sums[cut - 1]
            del self.times[:cut]
            del self.sums[:cut]


class _SetLog:
    """One entity's (time, member) events in time order, for distinct counts."""

    __slots__ = ("times", "members")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.members: list[str] = []

    def between(self, after: int, before: int) -> list[tuple[int, str]]:
        lo, hi = bisect_right(self.times, after), bisect_left(self.times, before)
        return list(zip(self.times[lo:hi], self.members[lo:hi], strict=True))

    def add(self, t: int, member: str) -> None:
        times = self.times
        if not times or t >= times[-1]:
            times.append(t)
            self.members.append(member)
        else:
            i = bisect_right(times, t)
            times.insert(i, t)
            self.members.insert(i, member)
        horizon = times[-1] - SET_LOG_RETENTION_US
        if times[0] < horizon:
            cut = bisect_left(times, horizon)
            if cut >= TRIM_AT_LEAST:
                del times[:cut]
                del self.members[:cut]


class EmbeddedState(FeatureState):
    """All history in this process; `snapshot` and `EmbeddedState.load` survive a restart."""

    in_process = True
    persists_by_snapshot = True

    def __init__(self) -> None:
        # millions of keys each: sharded, so that growing one never stalls a request (see sharded.py)
        self.logs: ShardedDict[_Log] = ShardedDict()
        self.sets: ShardedDict[_SetLog] = ShardedDict()
        self.seen_at: ShardedDict[list[int]] = ShardedDict()
        self.orders: ShardedDict[OrderRecord] = ShardedDict()
        self.labelled: ShardedDict[bool] = ShardedDict()  # (order_id, dim) already counted
        self.newest_us = 0
        self.lock = threading.Lock()

    def fetch(
        self, prefixes: Sequence[PrefixQuery], seen: Sequence[str], slices: Sequence[SliceQuery] = ()
    ) -> FetchResult:
        # shards indexed inline (hash & mask, as ShardedDict does): a method call per key costs more here
        logs, seen_at, sets = self.logs.shards, self.seen_at.shards, self.sets.shards
        with self.lock:
            sums: list[tuple[int, ...] | None] = []
            append = sums.append
            last_key: str | None = None
            log: _Log | None = None
            times = _NO_TIMES
            for log_key, t, inclusive in prefixes:
                if log_key is not last_key:  # callers repeat one key object for the reads of one log
                    last_key, log = log_key, logs[hash(log_key) & _SHARD_MASK].get(log_key)
                    times = _NO_TIMES if log is None else log.times
                if log is None:
                    append(None)
                    continue
                i = bisect_right(times, t) if inclusive else bisect_left(times, t)  # _Log.prefix, inlined
                append(log.sums[i - 1] if i else log.base)
            first_last: list[tuple[int, int] | None] = []
            for key in seen:
                pair = seen_at[hash(key) & _SHARD_MASK].get(key)
                first_last.append(None if pair is None else (pair[0], pair[1]))
            members: list[list[tuple[int, str]]] = []
            for log_key, after, before in slices:
                set_log = sets[hash(log_key) & _SHARD_MASK].get(log_key)
                members.append([] if set_log is None else set_log.between(after, before))
        return sums, first_last, members

    def apply(self, writes: Writes) -> bool:
        logs, sets, seen_at = self.logs.shards, self.sets.shards, self.seen_at.shards
        with self.lock:
            if writes.orders and any(order_id in self.orders for order_id, _ in writes.orders):
                return False  # recorded already: an order counts once
            if writes.labels:  # marks and writes under one lock: together or not at all
                labelled = self.labelled
                if any(label in labelled for label in writes.labels):
                    return False
                for label in writes.labels:
                    labelled[label] = True
            for log_key, t, weights in writes.appends:
                log_shard = logs[hash(log_key) & _SHARD_MASK]
                log = log_shard.get(log_key)
                if log is None:
                    log = log_shard[log_key] = _Log(len(weights))
                log.add(t, weights)
            for log_key, t, member in writes.members:
                set_shard = sets[hash(log_key) & _SHARD_MASK]
                set_log = set_shard.get(log_key)
                if set_log is None:
                    set_log = set_shard[log_key] = _SetLog()
                set_log.add(t, member)
            for key, t in writes.seen:
                seen_shard = seen_at[hash(key) & _SHARD_MASK]
                pair = seen_shard.get(key)
                if pair is None:
                    seen_shard[key] = [t, t]
                elif t < pair[0]:
                    pair[0] = t
                elif t > pair[1]:
                    pair[1] = t
            for order_id, record in writes.orders:
                self.orders[order_id] = record
                self.newest_us = max(self.newest_us, record.created_us)
        return True

    def order(self, order_id: str) -> OrderRecord | None:
        record = self.orders.get(order_id)
        if record is None or self.newest_us - record.created_us > ORDER_RETENTION_US:
            return None
        return record

    def held(self, order_ids: Sequence[str]) -> set[str]:
        orders = self.orders
        return {order_id for order_id in order_ids if order_id in orders}

    def expire(self) -> int:
        """Forget order records, logs and set logs past retention (features.state.expiry); returns how many."""
        from features.state.expiry import expire

        return expire(self).total

    def snapshot(self, path: Path) -> None:
        """Write the whole state atomically (temp file + rename), so a crash never leaves half a file.

        Holds the state's lock throughout: for a large state that is seconds, so a live
        service uses `snapshot_in_background` and keeps this for shutdown.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            self._write(path)

    def snapshot_in_background(self, path: Path) -> int | None:
        """Snapshot from a forked child (copy-on-write memory): the lock is held for the fork only.

        Returns the child's pid (reap it with os.waitpid), or None where fork is not available.
        """
        if not hasattr(os, "fork"):
            self.snapshot(path)
            return None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock:
            pid = os.fork()
            if pid == 0:  # the child: a frozen copy of the state, nothing else to do but write it
                gc.disable()  # its collections only burn the cores the scoring process needs
                lowest_priority()
                code = 0
                try:
                    self._write(path)
                except BaseException:
                    code = 1
                os._exit(code)
        return pid

    def _write(self, path: Path) -> None:
        """The whole state, in the piecewise format of `snapshot_file`: it covers every row logged until now."""
        write_snapshot(path, self.snapshot_parts(time.time_ns() // 1000))

    def snapshot_parts(self, covers_until_us: int | None) -> SnapshotParts:
        """The maps a snapshot holds (the live ones, not copies: write them while nothing applies)."""
        maps = {"logs": self.logs, "sets": self.sets, "seen_at": self.seen_at, "orders": self.orders,
                "labelled": self.labelled}
        return SnapshotParts(maps, self.newest_us, covers_until_us)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path, pacer: Pacer = UNPACED) -> EmbeddedState:
        """A state restored from `snapshot`; a missing, foreign or cut file is a clear error."""
        parts = read_snapshot(Path(path), pacer)
        state = cls()
        state.logs, state.sets, state.seen_at = parts.maps["logs"], parts.maps["sets"], parts.maps["seen_at"]
        state.orders, state.labelled, state.newest_us = parts.maps["orders"], parts.maps["labelled"], parts.newest_us
        return state
