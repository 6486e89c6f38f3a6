"""Replay a data set through the online path in time order, as production would have seen it.

Outcomes are delivered at the moment they start to count (clock.label_time_us: their
`reported_at`, but never before their own order), before any order of the same instant
(an outcome known at t is visible at t). Used by the parity test and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.catalog import FEATURE_NAMES
from features.clock import to_us
from features.online import OnlineFeatures
from risk.contract import unflatten


def events_in_time_order(orders: pd.DataFrame, outcomes: pd.DataFrame | None) -> Iterator[tuple[str, int]]:
    """("outcome", row) and ("order", row) positions, by time; outcomes first at equal times."""
    order_t = to_us(orders["created_at"])
    times = [order_t]
    kinds = [np.ones(len(orders), "int8")]
    rows = [np.arange(len(orders))]
    if outcomes is not None and len(outcomes):
        created = pd.Series(order_t, index=orders["order_id"].to_numpy())
        order_created = created.reindex(outcomes["order_id"].to_numpy()).to_numpy()
        reported = to_us(outcomes["reported_at"]).astype("float64")
        times.append(np.fmax(reported, order_created + 1).astype("int64"))  # label_time_us
        kinds.append(np.zeros(len(outcomes), "int8"))
        rows.append(np.arange(len(outcomes)))
    all_t, all_kind, all_rows = (np.concatenate(parts) for parts in (times, kinds, rows))
    for i in np.lexsort((all_kind, all_t)):
        yield ("order" if all_kind[i] else "outcome"), int(all_rows[i])


def replay(
    orders: pd.DataFrame,
    outcomes: pd.DataFrame | None,
    online: OnlineFeatures,
    on_order: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Features of every order computed online, one at a time, in the row order of `orders`."""
    orders = orders.reset_index(drop=True)
    records = orders.to_dict("records")
    values = np.full((len(orders), len(FEATURE_NAMES)), np.nan)
    outcome_ids: list[str] = [] if outcomes is None else outcomes["order_id"].tolist()
    outcome_kinds: list[str] = [] if outcomes is None else outcomes["kind"].tolist()
    reported: list[int] = to_us(outcomes["reported_at"]).tolist() if outcomes is not None and len(outcomes) else []
    for kind, row in events_in_time_order(orders, outcomes):
        if kind == "outcome":
            writes = online.outcome_writes(outcome_ids[row], outcome_kinds[row], reported[row])
            if writes is not None:
                online.state.apply(writes)
            continue
        features, writes = online.compute(unflatten(_clean(records[row])))
        online.state.apply(writes)
        values[row] = features
        if on_order is not None:
            on_order(row)
    frame = pd.DataFrame(values, columns=list(FEATURE_NAMES))
    frame.insert(0, "order_id", orders["order_id"].to_numpy())
    return frame


def _clean(record: Mapping[Any, Any]) -> dict[str, Any]:
    """pandas scalars as the plain Python values the contract models take."""
    clean: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            clean[str(key)] = None
        elif isinstance(value, pd.Timestamp):
            clean[str(key)] = value.to_pydatetime()
        elif isinstance(value, np.generic):
            clean[str(key)] = value.item()
        else:
            clean[str(key)] = value
    return clean
