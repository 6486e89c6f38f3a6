"""Features of one order at a time, from a FeatureState, then the state update.

Scoring reads first, then writes, so an order never counts itself. The reads and the
`combine` functions are those of features.history, evaluated on scalars; the writes
are the online form of what features.batch rebuilds from the whole data set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from features import catalog
from features.clock import label_time_us
from features.history import (
    DISTINCT,
    DISTINCT_WINDOWS,
    ENTITY_COLUMNS,
    FIRST_SEEN,
    LABEL_ENTITIES,
    LABELS_LOG,
    ORDERS_LOG,
    FirstSeen,
    Prefix,
    distinct_log,
)
from features.keys import ORDER_RETENTION_US, entity_keys
from features.state.base import FeatureState, OrderRecord, Writes
from risk.contract import FRAUD_KINDS, ORDER_COLUMNS, REGRET_KINDS, SECTIONS, Order

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_NAN = math.nan
_LOG_WIDTH = {ORDERS_LOG: 2, LABELS_LOG: 2}


def to_us(moment: datetime) -> int:
    """Exact integer microseconds since the epoch of an aware datetime."""
    return (moment - _EPOCH) // _ONE_US


def _fields() -> list[tuple[str, str | None, str, str]]:
    """(column, section, field, kind) for every flat column, to read an Order without flattening it."""
    fields = []
    for column, kind in ORDER_COLUMNS.items():
        section = next((s for s in SECTIONS if column.startswith(s + "_") and
                        column[len(s) + 1:] in SECTIONS[s].model_fields), None)
        name = column[len(section) + 1:] if section else column
        fields.append((column, section, name, kind))
    return fields


_FIELDS = _fields()


def row_from_order(order: Order) -> dict[str, Any]:
    """The order as row features read it online: floats (times in epoch seconds), str or None."""
    row: dict[str, Any] = {}
    for column, section, name, kind in _FIELDS:
        holder = getattr(order, section) if section else order
        value = None if holder is None else getattr(holder, name)
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
        reads: dict[Prefix | FirstSeen, int] = {}
        for feature in catalog.HISTORY_FEATURES:
            for read in feature.reads:
                reads.setdefault(read, len(reads))
        self.reads = list(reads)
        self.plan = [(f.combine, [reads[r] for r in f.reads]) for f in catalog.HISTORY_FEATURES]
        self.row_features = [f.compute for f in catalog.ROW_FEATURES]

    def compute(self, order: Order) -> tuple[list[float], Writes]:
        """Feature values in catalog order, and the writes that record this order."""
        row = row_from_order(order)
        t = to_us(order.created_at)
        keys = entity_keys(row)
        pair_keys = _pair_keys(keys)
        values, last_seen = self._read(t, keys, pair_keys)
        features = [float(compute(row)) for compute in self.row_features]
        t_float = float(t)
        for combine, indexes in self.plan:
            features.append(float(combine(row, t_float, *[values[i] for i in indexes])))
        return features, self._writes(order, t, keys, pair_keys, last_seen)

    def _read(self, t: int, keys: Mapping[str, str | None], pair_keys: dict) -> tuple[list[Any], dict]:
        prefixes, seen, slots = [], [], []
        for read in self.reads:
            key = keys[read.entity]
            if key is None:
                slots.append(("u", 0, _LOG_WIDTH.get(read.log, 1) if isinstance(read, Prefix) else 0))
            elif isinstance(read, Prefix):
                slots.append(("p", len(prefixes), _LOG_WIDTH.get(read.log, 1)))
                prefixes.append((f"{read.log}:{read.entity}:{key}", t - read.offset_us, read.inclusive))
            else:
                slots.append(("s", len(seen), 0))
                seen.append(f"seen:{read.entity}:{key}")
        first_pair = len(seen)
        seen.extend(pair_keys.values())
        sums, times = self.state.fetch(prefixes, seen)
        last_seen = dict(zip(pair_keys, times[first_pair:], strict=True))
        values: list[Any] = []
        for slot in slots:
            if slot[0] == "u":  # the order has no such entity: unknown, not zero
                values.append((_NAN,) * slot[2] if slot[2] else _NAN)
            elif slot[0] == "p":
                found = sums[slot[1]]
                values.append((0.0,) * slot[2] if found is None else tuple(float(v) for v in found))
            else:
                found_times = times[slot[1]]
                first = _NAN if found_times is None else float(found_times[0])
                values.append(first if first < t else _NAN)
        return values, last_seen

    def _writes(self, order: Order, t: int, keys: Mapping, pair_keys: dict, last_seen: dict) -> Writes:
        writes = Writes()
        amount = order.amount
        for entity in ENTITY_COLUMNS:
            if keys[entity] is not None:
                writes.appends.append((f"{ORDERS_LOG}:{entity}:{keys[entity]}", t, (1, amount)))
        for entity in FIRST_SEEN:
            if keys[entity] is not None:
                writes.seen.append((f"seen:{entity}:{keys[entity]}", t))
        for (entity, other), pair_key in pair_keys.items():
            last = last_seen[(entity, other)]
            previous = None if last is None else last[1]
            writes.seen.append((pair_key, t))
            if previous == t:
                continue  # the same pair at the same instant counts once
            for wname, window in DISTINCT_WINDOWS.items():
                log = f"{distinct_log(other, wname)}:{entity}:{keys[entity]}"
                opens = t + 1 if previous is None else max(t + 1, previous + window)
                writes.appends.append((log, opens, (1,)))
                writes.appends.append((log, t + window, (-1,)))
        label_keys = tuple((e, keys[e]) for e in LABEL_ENTITIES if keys[e] is not None)
        writes.orders.append((order.order_id, OrderRecord(t, label_keys)))  # type: ignore[arg-type]
        return writes

    def outcome_writes(self, order_id: str, kind: str, reported_us: int) -> Writes | None:
        """The writes of an outcome, or None if it changes no feature (already counted, unknown order)."""
        dim = 0 if kind in FRAUD_KINDS else 1 if kind in REGRET_KINDS else None
        if dim is None:
            return None
        record = self.state.order(order_id)
        if record is None or reported_us - record.created_us > ORDER_RETENTION_US:
            return None
        if not self.state.mark_label(order_id, dim):
            return None
        when = label_time_us(reported_us, record.created_us)
        weights = (1, 0) if dim == 0 else (0, 1)
        return Writes(appends=[(f"{LABELS_LOG}:{entity}:{key}", when, weights) for entity, key in record.keys])


def _pair_keys(keys: Mapping[str, str | None]) -> dict[tuple[str, str], str]:
    """The seen-keys of the (entity, other) pairs behind distinct counts, where both are known."""
    return {
        (entity, other): f"pair:{entity}>{other}:{keys[entity]}|{keys[other]}"
        for entity, other in DISTINCT
        if keys[entity] is not None and keys[other] is not None
    }
