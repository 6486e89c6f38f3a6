"""`risk score --dask`: `training.score.score_period` with features and predictions computed on the cluster.

Features come from `features.dask_batch` (equal to the single path on every order); each
partition of the period's orders is then scored where it lies, by the same bundle
(`ModelBundle.scores` and the policy), so no machine holds more than its partitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.catalog import FEATURE_NAMES
from features.dask_batch import compute_features
from models.bundle import ModelBundle
from models.risk_model import FEATURE_DTYPE
from risk.errors import InvalidInput
from risk.policy import DECISION_NAMES

if TYPE_CHECKING:
    import dask.dataframe as dd

Progress = Callable[[str], None]
PREDICTION_COLUMNS = ("order_id", "fraud_score", "regret_score", "decision")


def score_period(
    bundle: ModelBundle,
    orders: dd.DataFrame,
    outcomes: dd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp | None,
    say: Progress,
    partitions: int | None = None,
) -> dd.DataFrame:
    """A lazy frame of `order_id, fraud_score, regret_score, decision` for the orders created in [start, end)."""
    if end is not None and end <= start:
        raise InvalidInput(f"--to {end.isoformat()} is not after --from {start.isoformat()}")
    history = orders if end is None else orders[orders["created_at"] < end]
    say("features on the cluster")
    features = compute_features(history, outcomes, partitions, keep=("created_at",), progress=say)
    in_period = features[features["created_at"] >= start]
    return in_period.map_partitions(_score, bundle, meta=_score(features._meta, bundle))


def _score(features: pd.DataFrame, bundle: ModelBundle) -> pd.DataFrame:
    """One partition's predictions, as `training.score.score_period` makes them."""
    X = features[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE)
    fraud, regret = bundle.scores(X) if len(X) else (np.zeros(0), np.zeros(0))  # LightGBM refuses no rows
    result = pd.DataFrame({
        "order_id": features["order_id"].to_numpy(),
        "fraud_score": fraud.astype("float64"),
        "regret_score": regret.astype("float64"),
        "decision": DECISION_NAMES[bundle.policy.decide_many(fraud, regret)],
    })
    result["order_id"] = result["order_id"].astype(features["order_id"].dtype)
    result["decision"] = result["decision"].astype("str")
    return result
