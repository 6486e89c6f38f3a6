"""The single-row fast path gives LightGBM's own margins, including missing values and categories."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from models.single_row import ConstantMargin, SingleRowPredictor, row_predictor
from tests.models.threads import run_in_threads


@pytest.fixture(scope="module")
def booster_and_rows() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 12))
    X[:, 3] = rng.integers(0, 6, 3000)  # a categorical column
    y = ((X[:, 0] + (X[:, 3] == 2) + rng.normal(scale=0.5, size=3000)) > 1).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 15, "seed": 1},
                        lgb.Dataset(X, y, categorical_feature=[3]), num_boost_round=40)
    return booster, rng.normal(size=(300, 12)) * np.where(rng.random((300, 12)) < 0.1, np.nan, 1.0)


def test_margins_equal_booster_predict(booster_and_rows):
    booster, rows = booster_and_rows
    predictor = SingleRowPredictor(booster, rows.shape[1])
    expected = booster.predict(rows, raw_score=True)
    got = np.array([predictor.margin(np.ascontiguousarray(row)) for row in rows])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_float32_route_gives_the_margins_of_a_float32_matrix(booster_and_rows):
    booster, rows = booster_and_rows
    rows32 = rows.astype(np.float32)
    predictor = SingleRowPredictor(booster, rows.shape[1], np.float32)
    got = np.array([predictor.margin(np.ascontiguousarray(row)) for row in rows32])
    np.testing.assert_allclose(got, booster.predict(rows32, raw_score=True), rtol=0, atol=1e-12)


def test_a_reloaded_model_keeps_its_trees(booster_and_rows, tmp_path):
    booster, rows = booster_and_rows
    booster.save_model(str(tmp_path / "m.txt"))
    loaded = lgb.Booster(model_file=str(tmp_path / "m.txt"))
    predictor = row_predictor(loaded, rows.shape[1])
    assert predictor.margin(rows[0].copy()) == pytest.approx(booster.predict(rows[:1], raw_score=True)[0], abs=1e-12)


def test_threads_sharing_a_predictor_get_their_own_answers(booster_and_rows):
    booster, rows = booster_and_rows
    predictor, expected = SingleRowPredictor(booster, rows.shape[1]), booster.predict(rows, raw_score=True)
    wrong = []

    def work() -> None:
        for _ in range(20):
            for i, row in enumerate(rows):
                if abs(predictor.margin(np.ascontiguousarray(row)) - expected[i]) > 1e-12:
                    wrong.append(i)

    run_in_threads(work)
    assert wrong == []


def test_a_row_of_the_wrong_shape_is_refused(booster_and_rows):
    predictor = SingleRowPredictor(booster_and_rows[0], 12)
    with pytest.raises(ValueError, match="12 values"):
        predictor.margin(np.zeros(11))
    with pytest.raises(ValueError, match="float64"):
        predictor.margin(np.zeros(12, dtype="float32"))
    with pytest.raises(ValueError, match="float32"):
        SingleRowPredictor(booster_and_rows[0], 12, np.float32).margin(np.zeros(12))


def test_a_constant_model_has_margin_zero():
    assert row_predictor(None, 4).margin(np.zeros(4)) == 0.0
    assert isinstance(row_predictor(None, 4), ConstantMargin)
