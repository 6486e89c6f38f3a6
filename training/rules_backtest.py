"""What a rules backtest replays: a period's orders with the features, scores and outcomes they had.

Features are point-in-time (computed over the history before each order, with the
outcomes known at its moment, as `risk score` does), or read precomputed; the model's
scores and policy decision come from the model bundle; each order's eventual outcome is
what the whole data set knows (fraud, regret, genuine once past the label maturity
window, else unknown). Lists are not here: the caller rebuilds them from the rules
store's history, as they were at each order's moment (`at_us`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from models.bundle import ModelBundle
from models.risk_model import FEATURE_DTYPE
from risk.errors import InvalidInput
from risk.policy import DECISION_NAMES, Costs
from risk.rules.backtest import eventual_outcomes
from risk.rules.table import build_table

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BacktestData:
    """The period's orders as rule-table columns, with what a backtest report needs beside them."""

    table: dict[str, np.ndarray]
    at_us: np.ndarray  # each order's moment: lists as they were then
    order_id: np.ndarray
    outcome: np.ndarray  # "fraud" | "regret" | "genuine" | "unknown", per order
    amount: np.ndarray
    currency: np.ndarray
    costs: Costs


def backtest_data(bundle: ModelBundle, orders: pd.DataFrame, outcomes: pd.DataFrame | None, start: pd.Timestamp,
                  end: pd.Timestamp | None, say: Progress, features: pd.DataFrame | None = None) -> BacktestData:
    """The orders created in [start, end), with point-in-time features (or `features`, precomputed) and scores."""
    if end is not None and end <= start:
        raise InvalidInput(f"--to {end.isoformat()} is not after --from {start.isoformat()}")
    history = (orders if end is None else orders[orders["created_at"] < end]).reset_index(drop=True)
    in_period = (history["created_at"] >= start).to_numpy()
    if not in_period.any():
        raise InvalidInput(f"no orders created in [{start.isoformat()}, {'end' if end is None else end.isoformat()})")
    period = history[in_period].reset_index(drop=True)
    say(f"{len(period):,} orders to replay, {len(history):,} orders of history")
    if features is None:
        features = compute_features(history, outcomes, progress=say)[in_period].reset_index(drop=True)
    else:
        features = _aligned(features, period)
    say("scoring with the model")
    fraud, regret = bundle.scores(features[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE))
    scores = pd.DataFrame({"fraud_score": fraud.astype("float64"), "regret_score": regret.astype("float64"),
                           "model_decision": DECISION_NAMES[bundle.policy.decide_many(fraud, regret)]})
    table, at_us = build_table(period, features, scores)
    return BacktestData(table, at_us, period["order_id"].to_numpy(), _eventual(period, outcomes, orders),
                        period["amount"].to_numpy(dtype="int64"), period["currency"].to_numpy(dtype=object),
                        bundle.costs)


def _eventual(period: pd.DataFrame, outcomes: pd.DataFrame | None, orders: pd.DataFrame) -> np.ndarray:
    """What each order turned out to be, as far as the whole data set knows (its last order or report)."""
    if outcomes is None:
        outcomes = pd.DataFrame({"order_id": pd.Series(dtype=object), "kind": pd.Series(dtype=object),
                                 "reported_at": pd.Series(dtype="datetime64[us, UTC]")})
    ends = [orders["created_at"].max()] + ([outcomes["reported_at"].max()] if len(outcomes) else [])
    return eventual_outcomes(period, outcomes, max(ends))


def _aligned(features: pd.DataFrame, period: pd.DataFrame) -> pd.DataFrame:
    """Precomputed features put in the period's order (by order_id); every order and feature must be there."""
    missing_columns = [name for name in ("order_id", *FEATURE_NAMES) if name not in features.columns]
    if missing_columns:
        raise InvalidInput(f"--features lacks column(s) {', '.join(missing_columns[:5])}"
                           f"{' ...' if len(missing_columns) > 5 else ''} (write it with `risk features`)")
    indexed = features.drop_duplicates("order_id").set_index("order_id")
    absent = ~period["order_id"].isin(indexed.index)
    if absent.any():
        raise InvalidInput(f"--features has no row for {int(absent.sum()):,} order(s) of the period, e.g. "
                           f"{period.loc[absent, 'order_id'].iloc[0]!r}")
    return indexed.loc[period["order_id"].to_numpy(), list(FEATURE_NAMES)].reset_index()
