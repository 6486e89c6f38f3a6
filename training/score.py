"""Batch scoring of a period, each order with the features production would have had."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from models.bundle import ModelBundle
from models.risk_model import FEATURE_DTYPE
from risk.errors import InvalidInput
from risk.policy import DECISION_NAMES

Progress = Callable[[str], None]


def score_period(
    bundle: ModelBundle,
    orders: pd.DataFrame,
    outcomes: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp | None,
    say: Progress,
) -> pd.DataFrame:
    """`order_id, fraud_score, regret_score, decision` for the orders created in [start, end).

    Features use all history before each order and the outcomes known at its moment
    (later history and later reports are never seen: the features are point-in-time).
    """
    if end is not None and end <= start:
        raise InvalidInput(f"--to {end.isoformat()} is not after --from {start.isoformat()}")
    history = orders if end is None else orders[orders["created_at"] < end]
    history = history.reset_index(drop=True)
    in_period = (history["created_at"] >= start).to_numpy()
    if not in_period.any():
        raise InvalidInput(f"no orders created in [{start.isoformat()}, {'end' if end is None else end.isoformat()})")
    say(f"{int(in_period.sum()):,} orders to score, {len(history):,} orders of history")
    features = compute_features(history, outcomes, progress=say)
    X = features[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE)[in_period]  # as the models see features
    say("predicting")
    fraud, regret = bundle.scores(X)
    codes = bundle.policy.decide_many(fraud, regret)
    return pd.DataFrame({
        "order_id": history["order_id"].to_numpy()[in_period],
        "fraud_score": fraud.astype("float64"),
        "regret_score": regret.astype("float64"),
        "decision": DECISION_NAMES[codes],
    })


def parse_time(text: str, flag: str) -> pd.Timestamp:
    """An RFC 3339 time given on the command line; a naive or malformed one is a clear error."""
    try:
        moment = pd.Timestamp(text)
    except ValueError:
        raise InvalidInput(f"{flag} {text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{flag} {text!r} has no timezone (add Z or +00:00)")
    return moment.tz_convert("UTC")


