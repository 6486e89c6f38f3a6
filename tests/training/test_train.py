"""Training as of a moment: time split, label availability, reproducibility, model directory."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from features.catalog import FEATURE_NAMES
from models.bundle import SchemaMismatch, load_bundle
from risk.datasets import ORDERS, OUTCOMES, normalise
from risk.errors import InvalidInput
from training.score import score_period
from training.simulator import simulate
from training.train import TrainConfig, fit_risk, train, training_set

START = pd.Timestamp("2026-01-01T00:00:00Z")
AS_OF = START + pd.Timedelta(days=50)
QUIET = lambda message: None  # noqa: E731


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    orders, outcomes = simulate(40_000, 60, 5)
    return normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)


def config(**overrides) -> TrainConfig:
    """Maturity settings (the tests of the mature mode); `corrected(...)` for the default, delay-corrected one."""
    settings = dict(as_of=AS_OF, maturity=timedelta(days=20), valid_days=7, label_delay="mature",
                    fraud_params={"n_estimators": 60}, regret_params={"n_estimators": 60})
    return TrainConfig(**{**settings, **overrides})


def corrected(**overrides) -> TrainConfig:
    return config(**{"label_delay": "correct", **overrides})


def test_training_uses_only_mature_orders_before_as_of_split_in_time(data):
    orders, outcomes = data
    split = training_set(orders, outcomes, config(), QUIET)
    created = split.labels["created_at"]
    assert created.max() < AS_OF - pd.Timedelta(days=20)
    assert created[split.valid].min() >= split.valid_start
    assert created[~split.valid].max() < created[split.valid].min()  # validation is the most recent slice


def test_a_label_reported_after_as_of_never_reaches_training(data):
    orders, outcomes = data
    fraud = outcomes[outcomes["kind"].isin(["fraud_chargeback", "confirmed_fraud"])]
    created = orders.set_index("order_id")["created_at"]
    mature = fraud[created.reindex(fraud["order_id"]).to_numpy() < AS_OF - pd.Timedelta(days=25)]
    victim = mature["order_id"].iloc[0]
    late = outcomes.copy()
    late.loc[late["order_id"] == victim, "reported_at"] = AS_OF + pd.Timedelta(seconds=1)
    on_time = training_set(orders, outcomes, config(), QUIET).labels.set_index("order_id")
    too_late = training_set(orders, late, config(), QUIET).labels.set_index("order_id")
    assert on_time.loc[victim, "fraud"] == 1
    assert too_late.loc[victim, "fraud"] == 0  # unknown at as_of: a mature silent order counts as genuine


def test_from_limits_the_learned_orders_but_not_the_history_their_features_see(data):
    orders, outcomes = data
    start = START + pd.Timedelta(days=15)
    everything = training_set(orders, outcomes, config(), QUIET)
    recent = training_set(orders, outcomes, config(train_from=start), QUIET)
    assert recent.labels["created_at"].min() >= start
    assert recent.labels["order_id"].isin(everything.labels["order_id"]).all()
    same = everything.labels["order_id"].isin(recent.labels["order_id"]).to_numpy()
    np.testing.assert_array_equal(recent.X, everything.X[same])  # features still see the older orders


def test_too_little_mature_history_is_a_clear_error(data):
    orders, outcomes = data
    with pytest.raises(InvalidInput, match="older than the maturity window"):
        training_set(orders, outcomes, config(maturity=timedelta(days=49, hours=12)), QUIET)


def test_delay_correction_learns_from_young_orders_and_weighs_their_reported_positives_up(data):
    orders, outcomes = data
    split = training_set(orders, outcomes, corrected(), QUIET)
    created = split.labels["created_at"]
    assert created.max() > AS_OF - pd.Timedelta(days=20)  # younger than the 20-day maturity
    assert created[split.valid].min() >= split.valid_start
    assert created[split.valid].max() < split.valid_end
    # validation: the most recent orders with half their frauds reported; younger ones are learned from
    valid_age = (AS_OF - split.valid_end).total_seconds() / 86400
    assert split.delays["fraud"].cdf(np.array([valid_age]))[0] >= 0.5 - 1e-6
    assert created[~split.valid].max() > split.valid_end
    fraud, weight = split.labels["fraud"].to_numpy() == 1, split.weight("fraud")
    young = (created > created.max() - pd.Timedelta(days=7)).to_numpy()
    assert weight[fraud & young].min() > 1.2  # stands for the frauds of young orders not reported yet
    assert weight[~fraud].max() <= 1.0
    assert weight[fraud & ~young].min() >= 1.0


def test_delay_correction_never_sees_a_label_reported_after_as_of(data):
    orders, outcomes = data
    fraud = outcomes[outcomes["kind"].isin(["fraud_chargeback", "confirmed_fraud"])]
    created = orders.set_index("order_id")["created_at"]
    old = fraud[created.reindex(fraud["order_id"]).to_numpy() < AS_OF - pd.Timedelta(days=25)]
    victim = old["order_id"].iloc[0]
    late = outcomes.copy()
    late.loc[late["order_id"] == victim, "reported_at"] = AS_OF + pd.Timedelta(seconds=1)
    assert training_set(orders, outcomes, corrected(), QUIET).labels.set_index("order_id").loc[victim, "fraud"] == 1
    assert training_set(orders, late, corrected(), QUIET).labels.set_index("order_id").loc[victim, "fraud"] == 0


def test_an_unknown_label_delay_mode_is_a_clear_error(data):
    orders, outcomes = data
    with pytest.raises(InvalidInput, match="correct, mature"):
        training_set(orders, outcomes, config(label_delay="fresh"), QUIET)


@pytest.fixture(scope="module")
def model_dir(data, tmp_path_factory):
    orders, outcomes = data
    bundle = train(orders, outcomes, corrected(), QUIET).bundle
    path = tmp_path_factory.mktemp("model")
    bundle.save(path)
    return path


@pytest.mark.slow
def test_fit_risk_fits_the_model_train_fits_and_leaves_the_training_set_as_it_was(data, model_dir):
    orders, outcomes = data
    split = training_set(orders, outcomes, corrected(), QUIET)
    first_pass = split.weight("fraud").copy()
    fitted = fit_risk(split, "fraud", corrected().fraud_params, corrected(), QUIET)
    np.testing.assert_array_equal(split.weight("fraud"), first_pass)  # a second setting starts from the same set
    assert not np.array_equal(fitted.weight, first_pass)  # the second pass weighs by each order's own risk
    trained = load_bundle(model_dir).fraud
    np.testing.assert_allclose(fitted.model.predict_proba(split.X[:2000]), trained.predict_proba(split.X[:2000]))


@pytest.mark.slow
def test_model_directory_is_self_contained_and_scores_reproducibly(data, model_dir):
    orders, outcomes = data
    metadata = json.loads((model_dir / "metadata.json").read_text())
    for key in ("version", "training", "data_fingerprint", "feature_names", "schema_hash", "library_versions",
                "metrics", "policy", "costs", "expected"):
        assert key in metadata, key
    assert metadata["metrics"]["fraud"]["roc_auc"] > 0.8
    bundle = load_bundle(model_dir)
    first = score_period(bundle, orders, outcomes, AS_OF, None, QUIET)
    again = score_period(load_bundle(model_dir), orders, outcomes, AS_OF, None, QUIET)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["decision"]) <= {"approve", "review", "decline"}
    assert first["fraud_score"].between(0, 1).all()
    assert len(first) == (orders["created_at"] >= AS_OF).sum()


@pytest.mark.slow
def test_training_is_reproducible_for_a_seed(data, model_dir):
    orders, outcomes = data
    again = train(orders, outcomes, corrected(), QUIET).bundle
    X = np.random.default_rng(0).normal(size=(50, len(FEATURE_NAMES))).astype("float32")
    np.testing.assert_array_equal(load_bundle(model_dir).scores(X)[0], again.scores(X)[0])


def test_loading_a_model_with_another_feature_schema_fails_clearly(model_dir, tmp_path):
    import shutil

    copy = tmp_path / "old_model"
    shutil.copytree(model_dir, copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["feature_names"] = metadata["feature_names"][:-1] + ["retired_feature"]
    metadata["schema_hash"] = "0000"
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(SchemaMismatch, match="retired_feature.*retrain"):
        load_bundle(copy)


def test_a_data_set_without_regret_outcomes_trains_a_constant_regret_model(data, tmp_path):
    orders, outcomes = data
    fraud_only = outcomes[outcomes["kind"].isin(["fraud_chargeback", "confirmed_fraud"])]
    bundle = train(orders, fraud_only, config(), QUIET).bundle
    assert bundle.regret.trees == 0 and bundle.fraud.trees > 0
    bundle.save(tmp_path / "m")
    loaded = load_bundle(tmp_path / "m")
    assert loaded.fraud.trees == bundle.fraud.trees  # the count survives saving (LightGBM says -1 once loaded)
    X = np.random.default_rng(1).normal(size=(5, len(FEATURE_NAMES)))
    fraud, regret = loaded.scores(X)
    assert np.all(regret == regret[0]) and regret[0] < 0.01
    from models.explain import PathExplainer

    contributions, raw = PathExplainer(loaded.regret.booster_, len(FEATURE_NAMES)).contributions(X[0])
    assert raw == 0 and not contributions.any()
