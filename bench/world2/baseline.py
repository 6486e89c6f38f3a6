"""The yardstick a data scientist would build in an afternoon: a dozen point-in-time history counts + LightGBM.

Each count sees only orders before the one it describes (earlier in time, or at the same
second and earlier in the table), never an outcome: it measures how much of a world's
signal plain velocity and entity ages already carry.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

HOUR = 3_600
WINDOWS = {"1h": HOUR, "24h": 24 * HOUR}
BIG = np.int64(1) << np.int64(40)  # keys apart: more seconds than any history spans


def _codes(values: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64)


def prior_counts(key: np.ndarray, seconds: np.ndarray, window: float | None) -> np.ndarray:
    """Orders with the same key in [t - window, t) before each row (all before it if window is None); NaN: no key."""
    n = len(key)
    order = np.lexsort((np.arange(n), seconds, key))
    combined = key[order] * BIG + seconds[order]
    position = np.arange(n)
    if window is None:
        since = np.searchsorted(combined, key[order] * BIG, side="left")
    else:
        since = np.searchsorted(combined, combined - int(window), side="left")
    counts = np.empty(n)
    counts[order] = position - since
    counts[key < 0] = np.nan
    return counts


def distinct_so_far(key: np.ndarray, other: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Distinct `other` values seen with each key up to and including this row; NaN where either is unknown."""
    n = len(key)
    known = (key >= 0) & (other >= 0)
    order = np.lexsort((np.arange(n), seconds, key))
    pair = pd.Series(key[order] * BIG + other[order])
    first = (~pair.duplicated()).to_numpy() & known[order]
    running = pd.Series(first.astype(np.int64)).groupby(key[order]).cumsum().to_numpy()
    out = np.empty(n)
    out[order] = running
    out[~known] = np.nan
    return out


def simple_features(orders: pd.DataFrame) -> pd.DataFrame:
    """Fourteen columns, row for row with `orders` (the contract's typed orders table)."""
    since_epoch = orders["created_at"] - pd.Timestamp("1970-01-01", tz="UTC")
    seconds = since_epoch.dt.total_seconds().to_numpy(dtype="float64").astype(np.int64)
    keys = {name: _codes(orders[column]) for name, column in (
        ("card", "payment_card_fingerprint"), ("device", "session_device_id"), ("ip", "session_ip"),
        ("buyer", "buyer_account_id"))}
    columns: dict[str, np.ndarray] = {}
    for name, key in keys.items():
        for label, window in WINDOWS.items():
            if name != "buyer" or label == "24h":
                columns[f"{name}_orders_{label}"] = prior_counts(key, seconds, window)
    columns["buyer_orders_ever"] = prior_counts(keys["buyer"], seconds, None)
    columns["cards_on_device"] = distinct_so_far(keys["device"], keys["card"], seconds)
    columns["cards_of_buyer"] = distinct_so_far(keys["buyer"], keys["card"], seconds)
    columns["account_age_days"] = ((orders["created_at"] - orders["buyer_created_at"]).dt.total_seconds()
                                   / 86_400).to_numpy(dtype="float64", na_value=np.nan)
    columns["amount"] = orders["amount"].to_numpy(dtype="float64")
    columns["seconds_view_to_buy"] = (orders["created_at"] - orders["session_post_viewed_at"]).dt.total_seconds(
    ).to_numpy(dtype="float64", na_value=np.nan)
    columns["hour_utc"] = orders["created_at"].dt.hour.to_numpy(dtype="float64")
    return pd.DataFrame(columns)


def fit_and_score(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, seed: int = 7) -> np.ndarray:
    """A plain LightGBM (fixed settings, no tuning) trained on X_train, scores of X_test."""
    if y_train.min() == y_train.max():
        return np.full(len(X_test), float(y_train[0]))
    model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, min_child_samples=50,
                               subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed, n_jobs=1,
                               verbose=-1)
    model.fit(X_train, y_train)
    return np.asarray(model.predict_proba(X_test))[:, 1]
