"""Every feature of every order of a data set, point-in-time, vectorised.

The history an order sees is rebuilt per read: one PrefixIndex per (log, entity)
answers all orders' prefixes at once, and the shared `combine` functions of
features.history turn them into feature values exactly as the online path does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features import catalog, ops
from features.clock import to_seconds, to_us
from features.history import DISTINCT_WINDOWS, HISTORY_BLOCKS, LABELS
from features.keys import HABITS_LOG, LABELS_LOG, LOG_AMOUNTS_LOG, ORDERS_LOG, entity_key_columns
from features.prefix import PrefixIndex
from features.reads import Distinct, FirstSeen, Prefix, Read, Reported
from features.retention import ORDER_RETENTION_US
from risk.contract import FRAUD_KINDS, ORDER_COLUMNS, REGRET_KINDS

Progress = Callable[[str], None]


class BatchRow(Mapping[str, Any]):
    """Columns as row features want them: float64 with NaN, or object arrays with None."""

    def __init__(self, orders: pd.DataFrame) -> None:
        self.orders = orders
        self.cache: dict[str, np.ndarray] = {}

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self.cache:
            self.cache[column] = _as_feature_input(self.orders[column], ORDER_COLUMNS[column])
        return self.cache[column]

    def __iter__(self) -> Iterator[str]:
        return iter(ORDER_COLUMNS)

    def __len__(self) -> int:
        return len(ORDER_COLUMNS)


def _as_feature_input(values: pd.Series, kind: str) -> np.ndarray:
    if kind == "time":
        return to_seconds(values)
    if kind == "str":
        return values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    return values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def compute_features(
    orders: pd.DataFrame, outcomes: pd.DataFrame | None = None, progress: Progress | None = None
) -> pd.DataFrame:
    """One row per order (same order as `orders`): `order_id` then every feature of the catalog."""
    say = progress or (lambda message: None)
    orders = orders.reset_index(drop=True)
    row = BatchRow(orders)
    t_us = to_us(orders["created_at"])
    history = _History(orders, outcomes, t_us, say)
    say(f"row features for {len(orders):,} orders")
    columns = {"order_id": orders["order_id"].to_numpy(), **row_features(row, len(orders))}
    say("history features")
    columns.update(history_features(row, t_us, history.read))
    return pd.DataFrame(columns)


def row_features(row: BatchRow, n: int) -> dict[str, np.ndarray]:
    """Every row feature of n orders, as float64 columns."""
    return {feature.name: np.broadcast_to(np.asarray(feature.compute(row), dtype="float64"), n)
            for feature in catalog.ROW_FEATURES}


def history_features(row: BatchRow, t_us: np.ndarray, read: Callable[[Read], Any]) -> dict[str, Any]:
    """Every history feature, each block's `combine` applied to the values `read` gives its reads.

    The reads may come from one `_History` over all orders (compute_features) or from
    partitions of orders grouped by entity (training.dask_features): `combine` is
    elementwise per order, so where the reads were computed does not change the result.
    """
    t_float = t_us.astype("float64")
    columns: dict[str, Any] = {}
    for block in HISTORY_BLOCKS:
        named = {name: tuple(read(r) for r in each) if isinstance(each, tuple) else read(each)
                 for name, each in block.reads.items()}
        columns.update(zip(block.names, block.combine(row, t_float, **named), strict=True))
    return columns


def all_reads() -> list[Read]:
    """Every read the history blocks name, once each, in block order."""
    reads: dict[Read, None] = {}
    for block in HISTORY_BLOCKS:
        for each in block.reads.values():
            reads.update(dict.fromkeys(each if isinstance(each, tuple) else (each,)))
    return list(reads)


def read_values(
    orders: pd.DataFrame, outcomes: pd.DataFrame | None, reads: list[Read], keys: Mapping[str, pd.Series]
) -> dict[Read, Any]:
    """The values of `reads` for every order of `orders`, with the entity keys given in `keys`.

    Exact as long as `orders` holds every order of each entity the reads name (and
    `outcomes` every outcome of those orders): a partition of orders grouped by entity key.
    """
    orders = orders.reset_index(drop=True)
    history = _History(orders, outcomes, to_us(orders["created_at"]), lambda message: None, keys)
    return {read: history.read(read) for read in reads}


class _History:
    """Evaluates reads for all orders; builds each PrefixIndex once, on first use."""

    def __init__(self, orders: pd.DataFrame, outcomes: pd.DataFrame | None, t_us: np.ndarray, say: Progress,
                 keys: Mapping[str, pd.Series] | None = None) -> None:
        self.orders, self.outcomes, self.t_us, self.say = orders, outcomes, t_us, say
        keys = entity_key_columns(orders) if keys is None else keys
        self.keys = {name: _codes(values) for name, values in keys.items()}
        self.indexes: dict[tuple[str, str], PrefixIndex] = {}
        self.reads: dict[Any, Any] = {}
        self.label_events: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def read(self, read: Read) -> Any:
        if read not in self.reads:
            if isinstance(read, FirstSeen):
                self.reads[read] = self._first_seen(read)
            elif isinstance(read, Reported):
                self.reads[read] = self._reported(read)
            elif isinstance(read, Distinct):
                self.say(f"  distinct {read.other}s by {read.entity}")
                index = _distinct_index(self.keys[read.entity], self.keys[read.other], self.t_us)
                self.reads[read] = index.before(self.keys[read.entity], self.t_us, inclusive=True)
            else:
                self.reads[read] = self._prefix(read)
        return self.reads[read]

    def _prefix(self, read: Prefix) -> tuple[np.ndarray, ...]:
        index = self._index(read.log, read.entity)
        return index.before(self.keys[read.entity], self.t_us - read.offset_us, read.inclusive)

    def _first_seen(self, read: FirstSeen) -> np.ndarray:
        codes = self.keys[read.entity]
        known = codes >= 0
        first = np.full(codes.max(initial=-1) + 2, np.iinfo("int64").max, dtype="int64")  # no orders: no codes
        np.minimum.at(first, codes[known], self.t_us[known])
        result = first[np.where(known, codes, -1)].astype("float64")
        result[~known | (result >= self.t_us)] = np.nan
        return result

    def _reported(self, read: Reported) -> tuple[np.ndarray, np.ndarray]:
        rows, times, weights = self._label_events()
        mine = weights[:, LABELS.index(read.label)] == 1
        codes = self.keys[read.entity]
        index = PrefixIndex(codes[rows[mine]], times[mine], np.ones((int(mine.sum()), 1), "int64"))
        return index.first_and_last(codes, self.t_us)

    def _label_events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.label_events is None:
            self.label_events = _label_events(self.orders, self.outcomes, self.t_us)
        return self.label_events

    def _index(self, log: str, entity: str) -> PrefixIndex:
        if (log, entity) not in self.indexes:
            self.say(f"  index {log} by {entity}")
            self.indexes[(log, entity)] = self._build(log, entity)
        return self.indexes[(log, entity)]

    def _build(self, log: str, entity: str) -> PrefixIndex:
        codes = self.keys[entity]
        if log == ORDERS_LOG:
            weights = np.column_stack([np.ones(len(codes), "int64"), self.orders["amount"].to_numpy("int64")])
            return PrefixIndex(codes, self.t_us, weights)
        if log == LOG_AMOUNTS_LOG:
            units = ops.log_amount(self.orders["amount"].to_numpy("float64")).astype("int64")
            return PrefixIndex(codes, self.t_us, np.column_stack([units, units * units]))
        if log == HABITS_LOG:
            row = BatchRow(self.orders)
            units = ops.view_units(row["created_at"], row["session_post_viewed_at"])
            return PrefixIndex(codes, self.t_us, np.column_stack([u.astype("int64") for u in units]))
        if log == LABELS_LOG:
            rows, times, weights = self._label_events()
            return PrefixIndex(codes[rows], times, weights)
        raise KeyError(f"no log {log!r} for {entity!r}")


def _codes(keys: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(keys, use_na_sentinel=True)
    return codes.astype("int64")


def _distinct_index(codes: np.ndarray, others: np.ndarray, t_us: np.ndarray) -> PrefixIndex:
    """+1 when a pair enters a window, -1 when it leaves; the running sums are the distinct counts.

    (Online counts the set of keys in the window directly; this is its vectorised equal.)

    A pair (entity, other) seen at s is in the window w at t iff s lies in (t - w, t);
    its event at s opens at max(s + 1, previous + w), so that each pair is counted by
    exactly one of its events at any moment, and closes at s + w. One weight per window.
    """
    valid = (codes >= 0) & (others >= 0)
    pairs = pd.DataFrame({"e": codes[valid], "o": others[valid], "t": t_us[valid]}).drop_duplicates()
    pairs = pairs.sort_values(["e", "o", "t"], kind="stable")
    previous = pairs.groupby(["e", "o"], sort=False)["t"].shift(1)
    s = pairs["t"].to_numpy("int64")
    e = pairs["e"].to_numpy("int64")
    has_previous = previous.notna().to_numpy()
    previous_t = previous.fillna(0).to_numpy("int64")
    n, width = len(s), len(DISTINCT_WINDOWS)
    codes_out, times_out, weights_out = [], [], []
    for dim, window in enumerate(DISTINCT_WINDOWS.values()):
        step = np.zeros((n, width), "int64")
        step[:, dim] = 1
        opens = np.where(has_previous, np.maximum(s + 1, previous_t + window), s + 1)
        codes_out += [e, e]
        times_out += [opens, s + window]
        weights_out += [step, -step]
    return PrefixIndex(np.concatenate(codes_out), np.concatenate(times_out), np.concatenate(weights_out))


def _label_events(
    orders: pd.DataFrame, outcomes: pd.DataFrame | None, t_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order row, time, weights) of each order's first fraud and first regret report.

    The time is clock.label_time_us (never before the order itself), and reports later
    than the order's retention are dropped, as the online state forgets the order.
    """
    if outcomes is None or len(outcomes) == 0:
        return np.zeros(0, "int64"), np.zeros(0, "int64"), np.zeros((0, 2), "int64")
    rows = pd.Index(orders["order_id"]).get_indexer(outcomes["order_id"])
    known = rows >= 0
    rows, kinds = rows[known], outcomes["kind"].to_numpy()[known]
    reported = to_us(outcomes["reported_at"])[known]
    parts = []
    for dim, label_kinds in enumerate((FRAUD_KINDS, REGRET_KINDS)):
        mine = np.isin(kinds, list(label_kinds))
        first = pd.Series(reported[mine]).groupby(rows[mine]).min()
        order_rows = first.index.to_numpy("int64")
        created = t_us[order_rows]
        usable = first.to_numpy() - created <= ORDER_RETENTION_US
        when = np.maximum(first.to_numpy(), created + 1)
        weights = np.zeros((int(usable.sum()), 2), "int64")
        weights[:, dim] = 1
        parts.append((order_rows[usable], when[usable], weights))
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]
