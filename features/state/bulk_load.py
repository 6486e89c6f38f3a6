"""An empty embedded state filled from a whole history at once: the vectorised `risk state load`.

The per-order load (features.loading) makes every write of online replay, one order at
a time, about 65 us an order, most of it the state's own `apply`. The state that replay
leaves behind is a function of the whole history, though, and each of its structures can
be computed for all entities together: sort each log's events by log key and replay
order, take running sums per log, replay each log's trimming on its own times, and make
Python objects only for what the state finally holds. The result is equal, structure for
structure, to what the per-order load builds into an empty state
(tests/features/test_bulk_load.py compares them), which is the only case this handles: an
empty EmbeddedState that nothing else writes meanwhile, and unique order ids (a data set's
are checked on reading; a log's are by construction).

What online replay does, and what each step below reproduces:
- events in replay order: orders by `created_at`, outcomes by their label time
  (`clock.label_time_us`), an outcome before an order of the same instant, ties in row order;
- a log appends each event after those of the same time, so its events are in replay order
  and its running sums are cumulative sums in that order;
- after each append a log drops its events older than its retention behind its newest
  event, but only when at least TRIM_AT_LEAST of them go (`_trim_starts` replays that rule);
- an outcome counts if it is a label, its order is in the history, it was reported within
  ORDER_RETENTION_US of the order, and its order was still within retention behind the
  newest order replayed before it; only the first of an order's labels of each kind counts.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.history import DISTINCT, FIRST_SEEN, HABIT_ENTITIES, LABEL_ENTITIES, LABELS, LOG_AMOUNT_ENTITIES
from features.keys import (
    ENTITY_COLUMNS,
    HABITS_LOG,
    LABELS_LOG,
    LOG_AMOUNTS_LOG,
    ORDERS_LOG,
    PAIR_SEPARATOR,
    PAIRS,
    log_head,
    pairs_log,
    reported_head,
    seen_head,
)
from features.ops import log_amount_units
from features.retention import LOG_RETENTION_US, ORDER_RETENTION_US, SET_LOG_RETENTION_US, TRIM_AT_LEAST
from features.state.base import OrderRecord
from features.state.embedded import EmbeddedState, _Log, _SetLog
from features.state.sharded import SHARDS, ShardedDict
from risk.contract import FRAUD_KINDS, REGRET_KINDS

if TYPE_CHECKING:
    from features.loading import History

_MASK = SHARDS - 1
Say = Callable[[str], None]


class Keys:
    """One entity's (or pair's) keys per order, as codes into its distinct key strings (-1: unknown)."""

    def __init__(self, codes: np.ndarray, strings: np.ndarray) -> None:
        self.codes, self.strings = codes, strings


def can_build(history: History, state: Any) -> bool:
    """Whether `state` is an embedded state holding nothing, and the history's order ids are unique."""
    return (type(state) is EmbeddedState and len(state.orders) == 0 and len(state.logs) == 0
            and len(state.sets) == 0 and len(state.seen_at) == 0 and len(state.labelled) == 0
            and pd.Index(history.order_ids).is_unique)


def build(history: History, state: EmbeddedState, say: Say | None = None) -> tuple[int, int, int]:
    """Fill the empty `state` with what the per-order load would write; (orders, outcomes, skipped) counts.

    The caller must hold the state alone: the structures are built aside and put in place at the end.
    The garbage collector is paused meanwhile (the millions of lists and tuples made here hold
    no cycles, and each collection it would start walks all of them again), and what was built
    is moved out of its sight afterwards (gc.freeze, as the service's Snapshotter does): it is
    the state's long-lived history, and the first full collection would otherwise walk it all.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        counts = _build(history, state, say or (lambda message: None))
        gc.freeze()
        return counts
    finally:
        if paused:
            gc.enable()


def _build(history: History, state: EmbeddedState, say: Say) -> tuple[int, int, int]:
    replay = np.argsort(np.asarray(history.created_us, "int64"), kind="stable")  # orders in replay order
    created = np.asarray(history.created_us, "int64")[replay]
    order_ids = np.asarray(history.order_ids, dtype=object)[replay]
    keys = _entity_keys(history, replay)
    logs: ShardedDict[_Log] = ShardedDict()
    sets: ShardedDict[_SetLog] = ShardedDict()
    seen_at: ShardedDict[list[int]] = ShardedDict()
    habits = np.asarray(history.habits, "int64").reshape(-1, 2)[replay]
    _put_orders(logs, sets, seen_at, keys, created, np.asarray(history.amounts, "int64")[replay], habits, say)
    say("outcomes")
    rows, dims, label_t, skipped = _counted_outcomes(history, replay, created)
    _put_outcomes(logs, seen_at, keys, rows, dims, label_t)
    say("order records")
    orders = _order_records(order_ids, created, [(entity, keys[entity]) for entity in LABEL_ENTITIES])
    labelled: ShardedDict[bool] = ShardedDict()
    _put_all(labelled, list(zip(order_ids[rows].tolist(), dims.tolist(), strict=True)), [True] * len(rows))
    with state.lock:
        state.logs, state.sets, state.seen_at, state.orders, state.labelled = logs, sets, seen_at, orders, labelled
        state.newest_us = max(state.newest_us, int(created[-1])) if len(created) else state.newest_us
    return len(created), len(rows), skipped


def _put_orders(logs: ShardedDict[_Log], sets: ShardedDict[_SetLog], seen_at: ShardedDict[list[int]],
                keys: dict[str, Keys], created: np.ndarray, amounts: np.ndarray, habits: np.ndarray, say: Say) -> None:
    """What the orders write (OnlineFeatures.writes_of): their logs, distinct-count logs and first sightings."""
    say("order logs")
    ones = np.ones(len(created), "int64")
    for entity in ENTITY_COLUMNS:
        _put_logs(logs, keys[entity], log_head(ORDERS_LOG, entity), created, ones, amounts)
    units = _log_amount_units(amounts)
    for entity in LOG_AMOUNT_ENTITIES:
        _put_logs(logs, keys[entity], log_head(LOG_AMOUNTS_LOG, entity), created, units, units * units)
    for entity in HABIT_ENTITIES:
        _put_logs(logs, keys[entity], log_head(HABITS_LOG, entity), created, *habits.T)
    say("distinct sets")
    for entity, other in DISTINCT:
        _put_sets(sets, keys[entity], keys[other], log_head(pairs_log(other), entity), created)
    say("first seen")
    for entity in FIRST_SEEN:
        _put_seen(seen_at, keys[entity], seen_head(entity), created)


def _put_outcomes(logs: ShardedDict[_Log], seen_at: ShardedDict[list[int]], keys: dict[str, Keys],
                  rows: np.ndarray, dims: np.ndarray, label_t: np.ndarray) -> None:
    """What the counted outcomes write (online.outcome_writes_of): label logs and report times per entity."""
    for dim, label in enumerate(LABELS):
        ours = dims == dim
        for entity in LABEL_ENTITIES:
            codes = keys[entity].codes[rows[ours]]
            _put_seen(seen_at, Keys(codes, keys[entity].strings), reported_head(label, entity), label_t[ours])
    for entity in LABEL_ENTITIES:
        codes = Keys(keys[entity].codes[rows], keys[entity].strings)
        _put_logs(logs, codes, log_head(LABELS_LOG, entity), label_t, (dims == 0).astype("int64"),
                  (dims == 1).astype("int64"))


def _entity_keys(history: History, replay: np.ndarray) -> dict[str, Keys]:
    """Every entity's and pair's keys per order (in replay order), as `features.keys.entity_keys` names them."""
    keys: dict[str, Keys] = {}
    for entity, column in ENTITY_COLUMNS.items():
        values = np.asarray(history.entities[column], dtype=object)[replay]
        codes, strings = pd.factorize(values, use_na_sentinel=True)
        keys[entity] = Keys(codes.astype("int64"), np.asarray(strings, dtype=object))
    for pair, (left, right) in PAIRS.items():
        a, b = keys[left], keys[right]
        known = (a.codes >= 0) & (b.codes >= 0)
        combined = np.where(known, a.codes * max(len(b.strings), 1) + b.codes, -1)
        codes, uniques = pd.factorize(combined[known])
        pair_codes = np.full(len(combined), -1, "int64")
        pair_codes[known] = codes
        lefts, rights = np.divmod(np.asarray(uniques, "int64"), max(len(b.strings), 1))
        strings = [f"{x}{PAIR_SEPARATOR}{y}" for x, y in zip(a.strings[lefts].tolist(), b.strings[rights].tolist(),
                                                              strict=True)]
        keys[pair] = Keys(pair_codes, np.asarray(strings, dtype=object))
    return keys


def _log_amount_units(amounts: np.ndarray) -> np.ndarray:
    """ops.log_amount_units of each amount (computed once per distinct amount)."""
    uniques, inverse = np.unique(amounts, return_inverse=True)
    units = np.fromiter((log_amount_units(int(a)) for a in uniques), "int64", len(uniques))
    return units[inverse.reshape(-1)]


def _groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events with a known key, grouped by key keeping their replay order: (positions, group starts, group codes)."""
    known = np.flatnonzero(codes >= 0)
    positions = known[np.argsort(codes[known], kind="stable")]
    sorted_codes = codes[positions]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if len(positions) else known[:0]
    return positions, starts, sorted_codes[starts]


def _trim_starts(times: np.ndarray, starts: np.ndarray, retention_us: int) -> np.ndarray:
    """Where each group's events begin after the trimming `_Log.add` and `_SetLog.add` do on every append.

    After appending event j, a log drops the c_j events older than `t_j - retention`, if at
    least TRIM_AT_LEAST of them are still held: the first kept event moves from s to c_j
    when c_j - s >= TRIM_AT_LEAST. c_j never decreases (times are sorted within a group), so
    each next trim is one binary search away. Only a group of more than TRIM_AT_LEAST events
    spanning more than the retention can ever trim: the others are not looked at.
    """
    first_kept = starts.copy()
    if not len(times):
        return first_kept
    ends = np.r_[starts[1:], len(times)]
    may_trim = (ends - starts > TRIM_AT_LEAST) & (times[ends - 1] - times[starts] > retention_us)
    for g in np.flatnonzero(may_trim).tolist():
        group_times = times[starts[g]:ends[g]]
        older = np.searchsorted(group_times, group_times - retention_us, side="left")  # c_j
        kept = 0
        while True:
            j = int(np.searchsorted(older, kept + TRIM_AT_LEAST, side="left"))
            if j >= len(older):
                break
            kept = int(older[j])
        first_kept[g] += kept
    return first_kept


def _put_logs(into: ShardedDict[_Log], keys: Keys, head: str, times: np.ndarray, *weights: np.ndarray) -> None:
    """One `_Log` per key: events (in replay order) at `times` with `weights` (one array each), trimmed as online."""
    positions, starts, codes = _groups(keys.codes)
    t = times[positions]
    first_kept = _trim_starts(t, starts, LOG_RETENTION_US)
    group_sizes = np.diff(np.r_[starts, len(t)])
    kept = np.arange(len(t)) >= np.repeat(first_kept, group_sizes)
    trimmed = first_kept > starts
    kept_columns, bases = [], []
    for w in weights:
        sums = np.cumsum(w[positions])
        before = np.r_[0, sums][starts]  # running sums restart at each group
        relative = sums - np.repeat(before, group_sizes)
        bases.append(np.where(trimmed, relative[np.maximum(first_kept - 1, 0)], 0).tolist())
        kept_columns.append(relative[kept].tolist())
    kept_times = t[kept].tolist()
    kept_sums: list[tuple[int, ...]] = list(zip(*kept_columns, strict=True))
    pieces = _slices(starts, first_kept, len(t))
    logs = list(map(_new_log, map(kept_times.__getitem__, pieces), map(kept_sums.__getitem__, pieces),
                    zip(*bases, strict=True)))
    _put_all(into, [head + key for key in keys.strings[codes].tolist()], logs)


def _new_log(times: list[int], sums: list[tuple[int, ...]], base: tuple[int, ...]) -> _Log:
    log = _Log.__new__(_Log)
    log.times, log.sums, log.base = times, sums, base
    return log


def _new_set_log(times: list[int], members: list[str]) -> _SetLog:
    set_log = _SetLog.__new__(_SetLog)
    set_log.times, set_log.members = times, members
    return set_log


def _slices(starts: np.ndarray, first_kept: np.ndarray, n: int) -> list[slice]:
    """Each group's kept events, as slices of the kept events only."""
    bounds = np.r_[0, np.cumsum(np.r_[starts[1:], n] - first_kept)].tolist()
    return list(map(slice, bounds[:-1], bounds[1:]))


def _put_sets(into: ShardedDict[_SetLog], keys: Keys, members: Keys, head: str, times: np.ndarray) -> None:
    """One `_SetLog` per key: the (time, member) events of orders with both keys, trimmed as online."""
    codes = np.where(members.codes >= 0, keys.codes, -1)
    positions, starts, group_codes = _groups(codes)
    t = times[positions]
    first_kept = _trim_starts(t, starts, SET_LOG_RETENTION_US)
    group_sizes = np.diff(np.r_[starts, len(t)])
    kept = np.arange(len(t)) >= np.repeat(first_kept, group_sizes)
    kept_times = t[kept].tolist()
    kept_members = members.strings[members.codes[positions[kept]]].tolist()
    pieces = _slices(starts, first_kept, len(t))
    set_logs = list(map(_new_set_log, map(kept_times.__getitem__, pieces), map(kept_members.__getitem__, pieces)))
    _put_all(into, [head + key for key in keys.strings[group_codes].tolist()], set_logs)


def _put_seen(into: ShardedDict[list[int]], keys: Keys, head: str, times: np.ndarray) -> None:
    """[first, last] time of each key among its events."""
    positions, starts, codes = _groups(keys.codes)
    if not len(positions):
        return
    t = times[positions]
    firsts = np.minimum.reduceat(t, starts).tolist()
    lasts = np.maximum.reduceat(t, starts).tolist()
    _put_all(into, [head + key for key in keys.strings[codes].tolist()], list(map(list, zip(firsts, lasts,
                                                                                            strict=True))))


def _counted_outcomes(history: History, replay: np.ndarray,
                      created: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The outcomes that count, in replay order: (order position in replay order, label dim, label time),
    and how many more would have counted but for an earlier label of the same kind on the order."""
    position_of_row = np.empty(len(replay), "int64")
    position_of_row[replay] = np.arange(len(replay))
    rows = pd.Index(history.order_ids).get_indexer(pd.Index(history.outcome_ids, dtype=object))
    known = rows >= 0
    positions = np.where(known, position_of_row[np.where(known, rows, 0)], -1)
    order_t = np.where(known, created[np.maximum(positions, 0)], 0)
    reported = np.asarray(history.reported_us, "int64")
    label_t = np.where(known, np.maximum(reported, order_t + 1), reported)
    dim_of: dict[str, int] = {kind: 0 for kind in FRAUD_KINDS} | {kind: 1 for kind in REGRET_KINDS}
    dims = np.fromiter((dim_of.get(kind, -1) for kind in history.kinds), "int64", len(history.kinds))
    replayed_before = np.searchsorted(created, label_t, side="left")  # orders replayed before the outcome
    newest = np.where(replayed_before > 0, created[np.maximum(replayed_before - 1, 0)], np.iinfo("int64").min)
    counts = (known & (dims >= 0) & (reported - order_t <= ORDER_RETENTION_US)
              & (newest - order_t <= ORDER_RETENTION_US))
    in_order = np.argsort(label_t, kind="stable")
    in_order = in_order[counts[in_order]]
    first = ~pd.DataFrame({"p": positions[in_order], "d": dims[in_order]}).duplicated(keep="first").to_numpy()
    chosen = in_order[first]
    return positions[chosen], dims[chosen], label_t[chosen], int(len(in_order) - len(chosen))


def _order_records(order_ids: np.ndarray, created: np.ndarray,
                   label_keys: Sequence[tuple[str, Keys]]) -> ShardedDict[OrderRecord]:
    """Each order's record: its time and the (entity, key) pairs of the label entities it has, in that order."""
    n = len(order_ids)
    pairs = [_object_array([(entity, key) for key in keys.strings.tolist()]) for entity, keys in label_keys]
    present = np.zeros(n, "int64")
    for bit, (_, keys) in enumerate(label_keys):
        present |= (keys.codes >= 0).astype("int64") << bit
    orders: ShardedDict[OrderRecord] = ShardedDict()
    for pattern in np.unique(present).tolist():  # orders missing the same entities: one zip of the others
        rows = np.flatnonzero(present == pattern)
        columns = [pairs[bit][label_keys[bit][1].codes[rows]].tolist()
                   for bit in range(len(label_keys)) if pattern >> bit & 1]
        record_keys = zip(*columns, strict=True) if columns else [()] * len(rows)
        _put_all(orders, order_ids[rows].tolist(), list(map(OrderRecord, created[rows].tolist(), record_keys)))
    return orders


def _object_array(items: list[Any]) -> np.ndarray:
    """A 1-d object array of `items` (np.asarray would make a list of tuples two-dimensional)."""
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


def _put_all(into: ShardedDict[Any], keys: list[Any], values: list[Any]) -> None:
    """`into[key] = value` for each pair, a shard at a time: one dict.update (a loop in C) per shard."""
    if not keys:
        return
    shard_of = np.fromiter(map(hash, keys), "int64", len(keys)) & _MASK  # as ShardedDict places a key
    order = np.argsort(shard_of, kind="stable")
    bounds = np.searchsorted(shard_of[order], np.arange(SHARDS + 1)).tolist()
    picked = order.tolist()
    keys, values = list(map(keys.__getitem__, picked)), list(map(values.__getitem__, picked))
    for shard, lo, hi in zip(into.shards, bounds[:-1], bounds[1:], strict=True):
        shard.update(zip(keys[lo:hi], values[lo:hi], strict=True))
