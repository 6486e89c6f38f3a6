"""A small search over LightGBM settings, validated forward in time (rolling origin).

One time split flatters whichever setting happens to suit that fortnight. Here each
candidate is trained on the orders before each of several cutoffs and scored on the
slice that follows it, as it would be used: the setting with the best mean average
precision over the folds wins (AP: the ranking at the top is what the policy uses, and
each candidate's calibration is refitted anyway). The label-delay weights go everywhere,
so young folds are judged on their fully reported rates. The winner is then trained with
a few seeds on the last fold, and the spread of its AP is reported: a difference between
candidates smaller than that spread is noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from models.risk_model import RiskModel

CANDIDATES: tuple[dict[str, Any], ...] = (
    {},  # the defaults: 31 leaves, 100 per leaf, rate 0.05, 80% of features
    {"num_leaves": 15, "min_child_samples": 200},
    {"num_leaves": 63, "min_child_samples": 50},
    {"num_leaves": 31, "min_child_samples": 30},
    {"num_leaves": 31, "min_child_samples": 300, "reg_lambda": 10.0},
    {"num_leaves": 31, "colsample_bytree": 0.5},
    {"num_leaves": 63, "min_child_samples": 100, "colsample_bytree": 0.5},
    {"num_leaves": 15, "learning_rate": 0.1},
)
"""Eight settings around the defaults: tree size, leaf size, regularisation, feature sampling, rate."""

SEEDS = (7, 11, 23)


@dataclass(frozen=True)
class SearchResult:
    best: dict[str, Any]
    table: list[dict[str, Any]]  # per candidate: params, AP per fold, mean
    seed_spread: dict[str, float]  # the winner's AP on the last fold over SEEDS: mean, std, min, max
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"best": self.best, "candidates": self.table, "seed_spread": self.seed_spread,
                "seconds": round(self.seconds, 1)}


def folds(created: pd.Series, n_folds: int, fold_days: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validate) masks: validate on consecutive `fold_days` slices ending at the data's end, each
    training on everything before its slice."""
    end = created.max()
    out = []
    for k in range(n_folds, 0, -1):
        start = end - pd.Timedelta(days=fold_days * k)
        stop = start + pd.Timedelta(days=fold_days)
        before_stop = created <= stop if k == 1 else created < stop  # the last slice keeps the last order
        validate = ((created >= start) & before_stop).to_numpy()
        train = (created < start).to_numpy()
        if validate.any() and train.any():
            out.append((train, validate))
    return out


def _fold_ap(params: dict[str, Any], X: np.ndarray, y: np.ndarray, w: np.ndarray, split: tuple[np.ndarray, np.ndarray],
             fit_args: dict[str, Any]) -> float:
    train, validate = split
    if y[train].sum() == 0 or y[validate].sum() == 0:
        return float("nan")
    model = RiskModel(**params).fit(X[train], y[train], X_valid=X[validate], y_valid=y[validate],
                                    sample_weight=w[train], valid_weight=w[validate], **fit_args)
    return float(average_precision_score(y[validate], model.predict_margin(X[validate]), sample_weight=w[validate]))


def search(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, created: pd.Series, base: dict[str, Any], fit_args: dict[str, Any],
    say: Callable[[str], None], candidates: Sequence[dict[str, Any]] = CANDIDATES, n_folds: int = 3,
    fold_days: float = 7.0,
) -> SearchResult:
    """The candidate with the best mean AP over rolling-origin folds, and its spread over seeds."""
    started = time.monotonic()
    splits = folds(created, n_folds, fold_days)
    table: list[dict[str, Any]] = []
    for candidate in candidates:
        params = {**base, **candidate}
        aps = [_fold_ap(params, X, y, w, split, fit_args) for split in splits]
        mean = float(np.nanmean(aps)) if not all(np.isnan(aps)) else float("nan")
        table.append({"params": candidate, "ap_per_fold": [round(a, 4) for a in aps], "mean_ap": round(mean, 4)})
        say(f"  search {candidate or 'defaults'}: AP per fold {[round(a, 3) for a in aps]}, mean {mean:.4f}")
    scored = [row for row in table if not np.isnan(row["mean_ap"])]
    best = max(scored, key=lambda row: row["mean_ap"])["params"] if scored else {}
    last = splits[-1:] if splits else []
    spread = [_fold_ap({**base, **best, "seed": seed}, X, y, w, split, fit_args) for split in last for seed in SEEDS]
    values = np.array([v for v in spread if not np.isnan(v)])
    seed_spread = ({"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
                    "max": float(values.max()), "seeds": len(values)} if values.size else {})
    return SearchResult(dict(best), table, seed_spread, time.monotonic() - started)
