"""Fill a FeatureState with a history, giving exactly the state online replay would have built.

A new service would otherwise start with empty history, and its first weeks of
decisions would differ from the backtest. `risk state load` fills a state from a data
set and `risk state rebuild` from the decision log; both come here.

Exactly the writes of online replay (`features.replay`), in the same order: orders at
their `created_at`, outcomes at their label time (`clock.label_time_us`), an outcome
before an order of the same instant. What online replay reads back from the state
between events (an outcome's order record, and whether it is still within retention)
is kept here in a local map instead, so no write waits for a read: Redis gets the
writes pipelined in batches (`RedisState.apply_many`), and the embedded state gets
them straight, without the pydantic Order model, the features or the models that
scoring computes (only the writes: ids, times, amounts and entity keys).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import ops
from features.clock import label_time_us, to_seconds, to_us
from features.keys import ENTITY_COLUMNS, entity_keys
from features.online import OnlineFeatures, habits_of, outcome_writes_of, row_from_order
from features.online import to_us as moment_us
from features.retention import ORDER_RETENTION_US
from features.state import bulk_load
from features.state.base import FeatureState, OrderRecord, Writes
from risk.contract import Order, Outcome

BATCH = 2000  # writes per pipelined round trip to Redis
_ENTITY_COLUMNS = tuple(ENTITY_COLUMNS.values())


@dataclass
class History:
    """Orders and outcomes as the writes need them: columns of plain Python values."""

    order_ids: list[str]
    created_us: list[int]
    amounts: list[int]
    entities: dict[str, list[str | None]]  # flat entity column -> value per order (None: unknown)
    habits: list[tuple[int, int]] = field(default_factory=list)  # per order: online.habits_of
    outcome_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    reported_us: list[int] = field(default_factory=list)

    @classmethod
    def from_frames(cls, orders: pd.DataFrame, outcomes: pd.DataFrame | None) -> History:
        """From the contract's tables as `risk.datasets` reads them."""
        unknown: list[str | None] = [None] * len(orders)
        entities = {column: _strings(orders[column]) if column in orders else unknown for column in _ENTITY_COLUMNS}
        history = cls(orders["order_id"].tolist(), to_us(orders["created_at"]).tolist(),
                      [int(a) for a in orders["amount"].tolist()], entities, _habits(orders))
        if outcomes is not None and len(outcomes):
            history.outcome_ids = outcomes["order_id"].tolist()
            history.kinds = outcomes["kind"].tolist()
            history.reported_us = to_us(outcomes["reported_at"]).tolist()
        return history

    @classmethod
    def from_log(cls, orders: Iterable[Order], outcomes: Iterable[Outcome]) -> History:
        """From what the decision log holds (contract orders and outcomes)."""
        history = cls([], [], [], {column: [] for column in _ENTITY_COLUMNS})
        for order in orders:
            row = row_from_order(order)
            history.order_ids.append(order.order_id)
            history.created_us.append(moment_us(order.created_at))
            history.amounts.append(order.amount)
            history.habits.append(habits_of(row))
            for column in _ENTITY_COLUMNS:
                history.entities[column].append(row[column])
        for outcome in outcomes:
            history.outcome_ids.append(outcome.order_id)
            history.kinds.append(outcome.kind)
            history.reported_us.append(moment_us(outcome.reported_at))
        return history

    def events(self) -> Iterator[tuple[bool, int]]:
        """(is an order, its row) in replay order: by time, outcomes first at equal times."""
        created = dict(zip(self.order_ids, self.created_us, strict=True))
        label_t = [label_time_us(reported, created[order_id]) if order_id in created else reported
                   for order_id, reported in zip(self.outcome_ids, self.reported_us, strict=True)]
        times = np.concatenate([np.asarray(self.created_us, "int64"), np.asarray(label_t, "int64")])
        is_order = np.concatenate([np.ones(len(self.order_ids), "int8"), np.zeros(len(label_t), "int8")])
        rows = np.concatenate([np.arange(len(self.order_ids)), np.arange(len(label_t))])
        for i in np.lexsort((is_order, times)):
            yield bool(is_order[i]), int(rows[i])


@dataclass
class Loaded:
    """What a load wrote: orders recorded, outcomes counted, and those skipped as already there."""

    orders: int = 0
    outcomes: int = 0
    skipped: int = 0


def load_history(history: History, state: FeatureState, *, on_progress: Callable[[int, int], None] | None = None,
                 batch: int = BATCH, exclusive: bool = False) -> Loaded:
    """Apply every order and outcome of `history` to `state`, as online replay would; idempotent.

    `exclusive`: nothing else reads or writes `state` during the load (`risk state load`
    before the service starts). An empty embedded state is then built at once
    (features.state.bulk_load: the same structures, several times faster); otherwise,
    and always for Redis or a state in use, the writes are applied one order at a time.
    """
    if exclusive and bulk_load.can_build(history, state):
        orders, outcomes, skipped = bulk_load.build(history, state)  # type: ignore[arg-type]  # checked above
        total = len(history.order_ids) + len(history.outcome_ids)
        if on_progress is not None:
            on_progress(total, total)
        return Loaded(orders, outcomes, skipped)
    online = OnlineFeatures(state)
    records: dict[str, OrderRecord] = {}
    newest = 0
    loaded = Loaded()
    pending: list[Writes] = []
    many = getattr(state, "apply_many", None)
    total = len(history.order_ids) + len(history.outcome_ids)
    entity_lists = [(column, history.entities[column]) for column in _ENTITY_COLUMNS]

    def flush() -> None:
        results = many(pending) if many is not None else [state.apply(writes) for writes in pending]
        for writes, applied in zip(pending, results, strict=True):
            if not applied:
                loaded.skipped += 1
            elif writes.orders:
                loaded.orders += 1
            else:
                loaded.outcomes += 1
        pending.clear()

    for done, (is_order, row) in enumerate(history.events(), start=1):
        if is_order:
            order_id, t = history.order_ids[row], history.created_us[row]
            keys = entity_keys({column: values[row] for column, values in entity_lists})
            writes: Writes | None = online.writes_of(order_id, t, history.amounts[row], keys, history.habits[row])
            records[order_id] = writes.orders[0][1]  # type: ignore[union-attr]
            newest = max(newest, t)
        else:
            order_id = history.outcome_ids[row]
            record = records.get(order_id)
            if record is None:  # an order from before this history (a replay of part of a log): the state's
                record = state.order(order_id)
            elif newest - record.created_us > ORDER_RETENTION_US:
                record = None  # what the state's `order` answers past retention
            writes = outcome_writes_of(record, order_id, history.kinds[row], history.reported_us[row])
        if writes is not None:
            pending.append(writes)
            if len(pending) >= batch:
                flush()
        if on_progress is not None and done % 100_000 == 0:
            on_progress(done, total)
    flush()
    return loaded


def _habits(orders: pd.DataFrame) -> list[tuple[int, int]]:
    """online.habits_of of every order, computed on the columns at once."""
    column = "session_post_viewed_at"
    viewed = to_seconds(orders[column]) if column in orders else np.full(len(orders), np.nan)
    units = ops.view_units(to_seconds(orders["created_at"]), viewed)
    return list(zip(*(u.astype("int64").tolist() for u in units), strict=True))


def _strings(column: pd.Series) -> list[str | None]:
    """A text column's values, None where unknown (pandas gives NaN)."""
    return [value if isinstance(value, str) else None for value in column.tolist()]
