"""Features of one order at a time, from a FeatureState, then the state update.

Scoring reads first, then writes, so an order never counts itself. The reads and the
`combine` functions are those of features.history, evaluated on scalars; the writes
are the online form of what features.batch rebuilds from the whole data set.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from features import catalog
from features.clock import label_time_us
from features.history import (
    DISTINCT,
    DISTINCT_WINDOWS,
    FIRST_SEEN,
    HABIT_ENTITIES,
    HISTORY_BLOCKS,
    LABEL_ENTITIES,
    LABELS,
    LOG_AMOUNT_ENTITIES,
)
from features.keys import (
    ENTITY_COLUMNS,
    HABITS_LOG,
    LABELS_LOG,
    LOG_AMOUNTS_LOG,
    ORDERS_LOG,
    entity_keys,
    log_head,
    pairs_log,
    reported_head,
    seen_head,
)
from features.ops import log_amount_units, view_units
from features.reads import Distinct, FirstSeen, NamedRead, Prefix, Read, Reported
from features.retention import ORDER_RETENTION_US
from features.state.base import FeatureState, OrderRecord, Writes
from risk.contract import FRAUD_KINDS, ORDER_COLUMNS, REGRET_KINDS, SECTIONS, Order

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_NAN = math.nan
_LOG_WIDTH = {ORDERS_LOG: 2, LABELS_LOG: 2, LOG_AMOUNTS_LOG: 2, HABITS_LOG: 2}
_DISTINCT_WIDTH = len(DISTINCT_WINDOWS)
_LONGEST_DISTINCT = max(DISTINCT_WINDOWS.values())
_UNKNOWN = {n: (_NAN,) * n for n in (1, 2, _DISTINCT_WIDTH)}
_ZEROS = {n: (0,) * n for n in (1, 2, _DISTINCT_WIDTH)}
_NOT_REPORTED = (_NAN, _NAN)
Gather = Callable[[Sequence[Any]], Any]
"""Picks values out of an order's read values: one value, or a tuple of several."""


def to_us(moment: datetime) -> int:
    """Exact integer microseconds since the epoch of an aware datetime."""
    return (moment - _EPOCH) // _ONE_US


def _fields() -> list[tuple[str | None, list[tuple[str, str, str]]]]:
    """(section, [(column, field, kind)]) for every flat column, to read an Order without flattening it."""
    sections: dict[str | None, list[tuple[str, str, str]]] = {}
    for column, kind in ORDER_COLUMNS.items():
        section = next((s for s in SECTIONS if column.startswith(s + "_") and
                        column[len(s) + 1:] in SECTIONS[s].model_fields), None)
        name = column[len(section) + 1:] if section else column
        sections.setdefault(section, []).append((column, name, kind))
    return list(sections.items())


_FIELDS = _fields()


def row_from_order(order: Order) -> dict[str, Any]:
    """The order as row features read it online: floats (times in epoch seconds), str or None."""
    row: dict[str, Any] = {}
    for section, fields in _FIELDS:  # one getattr per section, not per column
        holder = getattr(order, section) if section else order
        if holder is None:
            for column, _, kind in fields:
                row[column] = None if kind == "str" else _NAN
            continue
        for column, name, kind in fields:
            value = getattr(holder, name)
            if kind == "str":
                row[column] = value
            elif value is None:
                row[column] = _NAN
            elif kind == "time":
                row[column] = to_us(value) / 1_000_000
            else:
                row[column] = float(value)
    return row


class OnlineFeatures:
    """Computes the catalog's features for one order against `state`, and updates it."""

    def __init__(self, state: FeatureState) -> None:
        self.state = state
        reads, self.n_reads, self.gathers, self.plan = _slot_layout()
        # flattened once, so the per-order loop only concatenates a key and looks it up
        groups: dict[tuple[str, str], list[tuple[int, int, bool]]] = {}
        for r, slot in reads.items():
            if isinstance(r, Prefix):
                groups.setdefault((r.log, r.entity), []).append((slot, r.offset_us, r.inclusive))
        self.prefix_groups = [(entity, log_head(log, entity), _LOG_WIDTH[log],
                               [(slot, _LOG_WIDTH[log]) for slot, _, _ in items],
                               [(offset, inclusive) for _, offset, inclusive in items])
                              for (log, entity), items in groups.items()]
        # first-seen and report times share the state's (first, last) primitive: (slot, entity, key head, is report)
        self.seen_reads = [(slot, r.entity, seen_head(r.entity), False) for r, slot in reads.items()
                           if isinstance(r, FirstSeen)]
        self.seen_reads += [(slot, r.entity, reported_head(r.label, r.entity), True) for r, slot in reads.items()
                            if isinstance(r, Reported)]
        self.distinct_reads = [(slot, r.entity, log_head(pairs_log(r.other), r.entity))
                               for r, slot in reads.items() if isinstance(r, Distinct)]
        self.row_features = [f.compute for f in catalog.ROW_FEATURES]
        # key heads of the writes, built once: per order only the entity's key is appended
        self.order_heads = [(entity, log_head(ORDERS_LOG, entity)) for entity in ENTITY_COLUMNS]
        self.log_amount_heads = [(entity, log_head(LOG_AMOUNTS_LOG, entity)) for entity in LOG_AMOUNT_ENTITIES]
        self.habit_heads = [(entity, log_head(HABITS_LOG, entity)) for entity in HABIT_ENTITIES]
        self.seen_heads = [(entity, seen_head(entity)) for entity in FIRST_SEEN]
        self.pair_heads = [(entity, other, log_head(pairs_log(other), entity)) for entity, other in DISTINCT]

    def compute(self, order: Order) -> tuple[list[float], Writes]:
        """Feature values in catalog order, and the writes that record this order."""
        row = row_from_order(order)
        t = to_us(order.created_at)
        keys = entity_keys(row)
        values = self._read(t, keys)
        features = [compute(row) for compute in self.row_features]
        t_float = float(t)
        extend = features.extend
        for combine, pick, single in self.plan:
            picked = pick(values)  # itemgetter of one index gives the value itself, not a 1-tuple
            extend(combine(row, t_float, picked) if single else combine(row, t_float, *picked))
        return features, self.writes_of(order.order_id, t, order.amount, keys, habits_of(row))

    def writes_for(self, order: Order) -> Writes:
        """The writes that record an order, without computing its features (replaying a log)."""
        row = row_from_order(order)
        return self.writes_of(order.order_id, to_us(order.created_at), order.amount, entity_keys(row), habits_of(row))

    def row_features_only(self, order: Order) -> list[float]:
        """The order's own-field features, for when the state cannot be read (degraded scoring)."""
        row = row_from_order(order)
        return [float(compute(row)) for compute in self.row_features]

    def _read(self, t: int, keys: Mapping[str, str | None]) -> list[Any]:
        values: list[Any] = [None] * self.n_reads
        prefixes, prefix_slots, seen, seen_slots, slices, slice_slots = [], [], [], [], [], []
        for entity, head, width, slots, bounds in self.prefix_groups:
            key = keys[entity]
            if key is None:  # the order has no such entity: unknown, not zero
                for slot, _ in slots:
                    values[slot] = _UNKNOWN[width]
                continue
            log_key = head + key  # one string per log: the state sees the same object repeated
            prefix_slots += slots
            prefixes += [(log_key, t - offset, inclusive) for offset, inclusive in bounds]
        for slot, entity, head, report in self.seen_reads:
            key = keys[entity]
            if key is None:
                values[slot] = _NOT_REPORTED if report else _NAN
            else:
                seen_slots.append((slot, report))
                seen.append(head + key)
        for slot, entity, head in self.distinct_reads:
            key = keys[entity]
            if key is None:
                values[slot] = _UNKNOWN[_DISTINCT_WIDTH]
            else:
                slice_slots.append(slot)
                slices.append((head + key, t - _LONGEST_DISTINCT, t))
        sums, times, members = self.state.fetch(prefixes, seen, slices)
        for (slot, width), found in zip(prefix_slots, sums, strict=True):
            values[slot] = _ZEROS[width] if found is None else found
        for (slot, report), found in zip(seen_slots, times, strict=True):
            if report:
                values[slot] = reported_up_to(found, t)
            else:
                values[slot] = _NAN if found is None or found[0] >= t else found[0]
        for slot, events in zip(slice_slots, members, strict=True):
            values[slot] = distinct_counts(events, t)
        for slot, gather in self.gathers:
            values[slot] = gather(values)
        return values

    def writes_of(self, order_id: str, t: int, amount: int, keys: Mapping[str, str | None],
                  habits: tuple[int, int]) -> Writes:
        """The writes that record an order, from what they depend on: its id, time, amount, entity keys and habits.

        `habits`: what the order adds to its buyer's habits log (`habits_of`).
        `risk state load` calls it straight from a data set's columns, skipping the Order model.
        """
        writes = Writes()
        appends, seen, members = writes.appends, writes.seen, writes.members
        for entity, head in self.order_heads:
            key = keys[entity]
            if key is not None:
                appends.append((head + key, t, (1, amount)))
        for entity, head in self.log_amount_heads:
            key = keys[entity]
            if key is not None:
                units = log_amount_units(amount)
                appends.append((head + key, t, (units, units * units)))
        for entity, head in self.habit_heads:
            key = keys[entity]
            if key is not None:
                appends.append((head + key, t, habits))
        for entity, head in self.seen_heads:
            key = keys[entity]
            if key is not None:
                seen.append((head + key, t))
        for entity, other, head in self.pair_heads:
            key, member = keys[entity], keys[other]
            if key is not None and member is not None:
                members.append((head + key, t, member))
        label_keys = tuple((e, keys[e]) for e in LABEL_ENTITIES if keys[e] is not None)
        writes.orders.append((order_id, OrderRecord(t, label_keys)))  # type: ignore[arg-type]
        return writes

    def outcome_writes(self, order_id: str, kind: str, reported_us: int) -> Writes | None:
        """The writes of an outcome, or None if it changes no feature (not a label, unknown order).

        Reads the order's record but changes nothing: the label's mark is part of the writes,
        so the state counts an outcome sent twice once, and one whose apply failed when re-sent.
        """
        if label_dim(kind) is None:
            return None
        return outcome_writes_of(self.state.order(order_id), order_id, kind, reported_us)


def habits_of(row: Mapping[str, Any]) -> tuple[int, int]:
    """The weights an order appends to its buyer's habits log (features.ops.view_units, as whole numbers)."""
    known, view = view_units(row["created_at"], row["session_post_viewed_at"])
    return int(known), int(view)


def label_dim(kind: str) -> int | None:
    """0 for a fraud outcome, 1 for a regret one, None for a kind that is no label."""
    return 0 if kind in FRAUD_KINDS else 1 if kind in REGRET_KINDS else None


def outcome_writes_of(record: OrderRecord | None, order_id: str, kind: str, reported_us: int) -> Writes | None:
    """The writes of an outcome given its order's record (None: the order is unknown or past retention)."""
    dim = label_dim(kind)
    if dim is None or record is None or reported_us - record.created_us > ORDER_RETENTION_US:
        return None
    when = label_time_us(reported_us, record.created_us)
    weights = (1, 0) if dim == 0 else (0, 1)
    return Writes(appends=[(log_head(LABELS_LOG, entity) + key, when, weights) for entity, key in record.keys],
                  seen=[(reported_head(LABELS[dim], entity) + key, when) for entity, key in record.keys],
                  labels=[(order_id, dim)])  # counted once: the state skips writes of a marked label


def _slot_layout() -> tuple[dict[Read, int], int, list[tuple[int, Gather]], list[tuple[Any, Gather, bool]]]:
    """Where each read's value goes in an order's list of read values, and how each block picks its arguments.

    Every read gets a slot; so does every tuple of reads (one per window), gathered once
    per order from its reads' slots, so a block's arguments are one itemgetter away and
    its combine gets each named read as one positional argument (the block checked that
    its combine's parameters are named and ordered as its reads).
    Returns (read slots, number of slots, [(tuple slot, gather)], [(combine, pick, one argument)]).
    """
    reads: dict[Read, int] = {}
    for block in HISTORY_BLOCKS:
        for named in block.reads.values():
            for read in named if isinstance(named, tuple) else (named,):
                reads.setdefault(read, len(reads))
    tuples: dict[tuple[Read, ...], int] = {}
    for block in HISTORY_BLOCKS:
        for named in block.reads.values():
            if isinstance(named, tuple):
                tuples.setdefault(named, len(reads) + len(tuples))
    gathers = [(slot, _gather([reads[r] for r in named])) for named, slot in tuples.items()]

    def slot_of(named: NamedRead) -> int:
        return tuples[named] if isinstance(named, tuple) else reads[named]

    plan: list[tuple[Any, Gather, bool]] = [
        (b.combine, operator.itemgetter(*[slot_of(n) for n in b.reads.values()]), len(b.reads) == 1)
        for b in HISTORY_BLOCKS]
    return reads, len(reads) + len(tuples), gathers, plan


def _gather(slots: Sequence[int]) -> Gather:
    """A function picking the values of `slots` as a tuple (itemgetter of one index gives no tuple)."""
    if len(slots) == 1:
        only = slots[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*slots)


def reported_up_to(found: tuple[int, int] | None, t: int) -> tuple[float, float]:
    """(first, last) report times known at t from the stored (earliest, latest).

    The latest stored report may be after t only for an order scored late; its last
    report up to t is then not known here, so it is unknown rather than a leak.
    """
    if found is None or found[0] > t:
        return _NOT_REPORTED
    return (found[0], found[1] if found[1] <= t else _NAN)


def distinct_counts(events: Sequence[tuple[int, str]], t: int) -> tuple[int, ...]:
    """Distinct members per window (t - w, t), from time-ordered events of the longest window."""
    counts, members = [], set()
    newest_first = reversed(events)
    pending = next(newest_first, None)
    for window in DISTINCT_WINDOWS.values():
        while pending is not None and pending[0] > t - window:
            if pending[0] < t:
                members.add(pending[1])
            pending = next(newest_first, None)
        counts.append(len(members))
    return tuple(counts)
