"""One row through a RiskModel: the same probability as a matrix, explained along the same path, prepared once."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

import models.risk_model as risk_model
from models.calibration import Calibrator
from models.explain import PathExplainer
from models.risk_model import NotFitted, RiskModel
from tests.models.threads import run_in_threads

# One tree, one split on `ratio` just above the float32 value 1.1480177640914917: where LightGBM
# put a threshold on a model trained on simulated orders (on a value many training orders had).
ONE_SPLIT = """tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=binary sigmoid:1
feature_names=ratio other
feature_infos=[0:2] [0:2]

Tree=0
num_leaves=2
num_cat=0
split_feature=0
split_gain=1
threshold=1.1480177640914919
decision_type=2
left_child=-1
right_child=-2
leaf_value=-1 1
leaf_weight=1 1
leaf_count=1 1
internal_value=0
internal_weight=2
internal_count=2
is_linear=0
shrinkage=1


end of trees

pandas_categorical:null
"""


def data(n: int = 3000, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = ((X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=n)) > 1.2).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values take the trees' default sides
    return X, y


def fitted(seed: int = 5) -> RiskModel:
    X, y = data(seed=seed)
    model = RiskModel(n_estimators=40, num_leaves=15, min_child_samples=20, num_threads=1)
    return model.fit(X[:2000], y[:2000], X_valid=X[2000:], y_valid=y[2000:], feature_names=list("abcdef"))


@pytest.fixture(scope="module")
def model() -> RiskModel:
    return fitted()


def test_one_row_gets_the_probability_predict_proba_gives_it(model):
    rows, _ = data(500, seed=9)
    expected = model.predict_proba(rows)
    got = np.array([model.predict_one(row) for row in rows])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)  # only the calibration's rounding differs


def test_a_float64_value_a_hair_above_a_threshold_takes_the_branch_the_model_was_trained_with():
    model = RiskModel()
    model.booster_, model.feature_names_ = lgb.Booster(model_str=ONE_SPLIT), ["ratio", "other"]
    model.calibrator_ = Calibrator("platt", a=1.0, b=0.0)
    row = np.array([1.1480177843645796, 0.0])  # above the threshold; its float32 rounding is not
    assert model.predict_one(row) == pytest.approx(1 / (1 + np.e))  # the left leaf (-1), as in training
    assert model.predict_one(row) == model.predict_proba(row.reshape(1, -1))[0]
    assert model.explain_one(row)[0] == -1.0  # the explanation follows the same branch


def test_contributions_of_one_row_add_up_to_its_raw_score(model):
    rows, _ = data(50, seed=11)
    bias = PathExplainer(model.booster_).bias  # the trees' root values
    for row, margin in zip(rows, model.predict_margin(rows), strict=True):
        assert model.explain_one(row).sum() + bias == pytest.approx(margin, abs=1e-9)


def test_a_constant_model_predicts_its_rate_and_explains_nothing():
    X, _ = data(400)
    model = RiskModel().fit(X[:300], np.zeros(300), X_valid=X[300:], y_valid=np.zeros(100),
                            feature_names=list("abcdef"))
    assert model.booster_ is None
    assert model.predict_one(X[0]) == pytest.approx(model.predict_proba(X[:1])[0])
    assert model.predict_one(X[0]) == pytest.approx(1e-6)
    assert not model.explain_one(X[0]).any() and model.explain_one(X[0]).shape == (6,)


def test_threads_scoring_a_fresh_model_prepare_it_once(monkeypatch):
    model, built = fitted(), []
    real = risk_model.PathExplainer

    def counting(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(risk_model, "PathExplainer", counting)
    rows, _ = data(200, seed=13)
    expected, wrong = model.predict_proba(rows), []

    def work() -> None:
        for row, probability in zip(rows, expected, strict=True):
            if abs(model.predict_one(row) - probability) > 1e-12:
                wrong.append(probability)

    run_in_threads(work)
    assert wrong == [] and len(built) == 1


def test_refitting_replaces_what_was_prepared_from_the_old_trees():
    model, rows = fitted(seed=5), data(20, seed=17)[0]
    model.predict_one(rows[0])
    X, y = data(seed=6)
    model.fit(X[:2000], y[:2000], X_valid=X[2000:], y_valid=y[2000:], feature_names=list("abcdef"))
    assert model.predict_one(rows[0]) == pytest.approx(model.predict_proba(rows[:1])[0], rel=1e-12)


def test_an_unfitted_model_says_how_to_fit_it():
    with pytest.raises(NotFitted, match="call fit"):
        RiskModel().predict_one(np.zeros(6))
