"""Path attribution reproduces LightGBM's raw score exactly, missing values and categories included."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from models.explain import PathExplainer


def trained_booster() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 4000
    X = rng.normal(size=(n, 5))
    X[:, 3] = rng.integers(0, 6, n)  # a categorical feature
    X[rng.random(n) < 0.2, 0] = np.nan  # missing values
    X[rng.random(n) < 0.3, 1] = 0.0
    y = ((np.nan_to_num(X[:, 0]) + X[:, 1] + (X[:, 3] == 2) * 1.5 + rng.normal(size=n)) > 1).astype(int)
    params = {"objective": "binary", "num_leaves": 15, "verbosity": -1, "seed": 1, "zero_as_missing": False}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[3]), num_boost_round=40)
    return booster, X


def test_contributions_plus_bias_equal_the_raw_score_on_every_row():
    booster, X = trained_booster()
    explainer = PathExplainer(booster)
    raw = booster.predict(X[:500], raw_score=True)
    for row, expected in zip(X[:500], raw, strict=True):
        contributions, score = explainer.contributions(row)
        assert abs(score - expected) < 1e-9
        assert abs(contributions.sum() + explainer.bias - expected) < 1e-9


def test_the_feature_that_drives_the_score_gets_the_largest_contribution():
    booster, X = trained_booster()
    explainer = PathExplainer(booster)
    row = np.array([3.0, 0.5, 0.0, 2.0, 0.0])
    contributions, _ = explainer.contributions(row)
    assert int(np.argmax(contributions)) == 0  # a large value of feature 0 pushes towards the positive class
    assert contributions[2] == 0 or abs(contributions[2]) < abs(contributions[0])
