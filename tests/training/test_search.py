"""Model search: folds validate forward in time, and the winner is the best mean AP over them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.search import folds, search

START = pd.Timestamp("2026-01-01T00:00:00Z")


def built(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Two features, one of them the signal; orders spread over 40 days."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype("float32")
    y = (rng.random(n) < 1 / (1 + np.exp(-(3 * X[:, 0] - 4)))).astype(float)
    created = pd.Series(START + pd.to_timedelta(np.sort(rng.uniform(0, 40, n)), unit="D"))
    return X, y, created


def test_each_fold_trains_only_on_orders_before_the_slice_it_validates():
    _, _, created = built()
    splits = folds(created, 3, 7.0)
    assert len(splits) == 3
    for train, validate in splits:
        assert created[train].max() < created[validate].min()
        span = created[validate].max() - created[validate].min()
        assert span <= pd.Timedelta(days=7)
    assert [v.sum() > 0 for _, v in splits] == [True] * 3
    assert created[splits[-1][1]].max() == created.max()  # the last fold ends with the data


def test_search_picks_the_candidate_with_the_best_mean_fold_ap_and_reports_seed_spread():
    X, y, created = built()
    hopeless = {"num_leaves": 2, "n_estimators": 1, "learning_rate": 0.001, "colsample_bytree": 0.5,
                "subsample": 0.5}
    decent = {"num_leaves": 7, "n_estimators": 60, "min_child_samples": 20}
    result = search(X, y, np.ones(len(y)), created, {"early_stopping_rounds": 10},
                    {"feature_names": ["signal", "noise"]}, lambda message: None,
                    candidates=[hopeless, decent], n_folds=2)
    means = [row["mean_ap"] for row in result.table]
    assert result.best == (decent if means[1] > means[0] else hopeless)
    assert means[1] > means[0]
    assert result.seed_spread["seeds"] == 3 and result.seed_spread["min"] <= result.seed_spread["max"]
