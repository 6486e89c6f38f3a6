"""Training and scoring on a Dask cluster: the single path's models within noise, the same scores, no workers left."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from datetime import timedelta

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

from cli.main import main
from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from features.dask_batch import with_first_reports
from models.calibration import choose_calibrator
from models.risk_model import RiskModel
from risk import partitioned
from risk.datasets import ORDERS, OUTCOMES, normalise, write_orders, write_outcomes
from risk.labels import labels_as_of
from training.cluster import ClusterSpec, dask_client
from training.dask_score import score_period as score_on_dask
from training.dask_train import (
    best_prefix,
    labelled,
    labelled_features,
    learning_window,
    own_risk_weight,
    train_on_dask,
    validation_slice,
)
from training.delay_calibration import calibrate_delayed
from training.label_delay import LabelDelay
from training.score import score_period
from training.simulator import simulate
from training.train import TrainConfig, own_risk_weights, train, training_set

START = pd.Timestamp("2026-01-01T00:00:00Z")
AS_OF = START + pd.Timedelta(days=60)
LATER_DAYS = 20  # after AS_OF in `later_world`: orders the models score, judged on every outcome they ever get
QUIET = lambda message: None  # noqa: E731
DASK_SAID: list[str] = []  # the Dask training's progress lines
CONFIG = TrainConfig(as_of=AS_OF, maturity=timedelta(days=15), valid_days=10, label_delay="correct",
                     fraud_params={"n_estimators": 40}, regret_params={"n_estimators": 40})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    orders, outcomes = simulate(6_000, 60, 5, start=START)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    root = tmp_path_factory.mktemp("dask_train")
    partitioned.write_parts(orders, root / "orders", 4, write_orders)
    partitioned.write_parts(outcomes, root / "outcomes", 2, write_outcomes)
    return root, orders, outcomes


@pytest.fixture(scope="module")
def client():
    # worker processes: LightGBM's network is one per process, so two thread workers could not share one
    with dask_client(ClusterSpec("local", workers=2, memory_limit="1GB")) as client:
        yield client


@pytest.fixture(scope="module")
def trained(data, client):
    """Both trainers on the same data, then both scorers with the Dask-trained bundle."""
    root, orders, outcomes = data
    single = train(orders, outcomes, CONFIG, QUIET)
    dask_orders, dask_outcomes = partitioned.read_orders(root / "orders"), partitioned.read_outcomes(root / "outcomes")
    distributed = train_on_dask(client, dask_orders, dask_outcomes, CONFIG, DASK_SAID.append, partitions=4)
    start = AS_OF - pd.Timedelta(days=10)
    dask_scores = score_on_dask(distributed.bundle, dask_orders, dask_outcomes, start, None, QUIET,
                                partitions=3).compute()
    single_scores = score_period(distributed.bundle, orders, outcomes, start, None, QUIET)
    return single, distributed, single_scores, dask_scores


@pytest.fixture(scope="module")
def trained_mature(data, client):
    """Both trainers on mature orders (one pass each, no delay correction)."""
    root, orders, outcomes = data
    config = dataclasses.replace(CONFIG, label_delay="mature")
    dask_orders, dask_outcomes = partitioned.read_orders(root / "orders"), partitioned.read_outcomes(root / "outcomes")
    return (train(orders, outcomes, config, QUIET),
            train_on_dask(client, dask_orders, dask_outcomes, config, QUIET, partitions=4))


def test_dask_models_are_within_noise_of_the_single_machine_models(trained_mature):
    """On the same validation slice: regret (~40 positives here) within noise in AUC and in ranking. Fraud has
    3 positives at this size, too few to compare by any metric: bench/bench_dask.py compares both on 200k orders."""
    single, distributed = trained_mature
    for risk in ("fraud", "regret"):
        ours, theirs = distributed.bundle.metadata["metrics"][risk], single.bundle.metadata["metrics"][risk]
        assert ours["n"] == theirs["n"] and ours["positives"] == theirs["positives"]  # the same validation slice
    ours, theirs = distributed.bundle.metadata["metrics"]["regret"], single.bundle.metadata["metrics"]["regret"]
    assert abs(ours["roc_auc"] - theirs["roc_auc"]) < 0.08, (ours, theirs)
    valid = distributed.validation.merge(single.validation, on="order_id", suffixes=("_dask", "_single"))
    assert len(valid) == len(single.validation)
    assert spearmanr(valid["regret_score_dask"], valid["regret_score_single"]).statistic > 0.6


@pytest.mark.parametrize("mode", ["correct", "mature"])
def test_dask_labels_and_label_delay_weights_equal_the_single_machine_ones(data, client, mode):
    """The orders learned from, their labels, validation flags and weights, order by order (no features needed)."""
    root, orders, outcomes = data
    config = dataclasses.replace(CONFIG, label_delay=mode)
    single = training_set(orders, outcomes, config, QUIET,
                          features=pd.DataFrame(0.0, index=orders.index, columns=list(FEATURE_NAMES)))
    dask_orders, dask_outcomes = partitioned.read_orders(root / "orders"), partitioned.read_outcomes(root / "outcomes")
    delays, usable_end, youngest_days = learning_window(dask_orders, dask_outcomes, config, QUIET)
    valid_start, valid_end = validation_slice(dask_orders, config, delays, usable_end, youngest_days)
    assert (valid_start, valid_end) == (single.valid_start, single.valid_end) and set(delays) == set(single.delays)
    for risk, delay in delays.items():
        assert delay.base_rate == pytest.approx(single.delays[risk].base_rate, rel=1e-12)
    before = dask_orders[dask_orders["created_at"] < AS_OF]
    parts = with_first_reports(before, dask_outcomes[dask_outcomes["reported_at"] <= AS_OF])
    ours = parts.map_partitions(labelled, config, valid_start, usable_end, delays, valid_end).compute()
    ours = ours.set_index(ours["order_id"].astype(str)).loc[single.labels["order_id"].astype(str)]
    assert len(ours) == len(single.labels) > 1000
    for risk in ("fraud", "regret"):
        np.testing.assert_array_equal(ours[risk].to_numpy(), single.labels[risk].to_numpy())
        np.testing.assert_allclose(ours[f"w_{risk}"].to_numpy(), single.weight(risk), rtol=1e-9, atol=0)
    np.testing.assert_array_equal(ours["valid"].to_numpy(), single.valid)
    if mode == "correct":  # young orders are in, and weighted: a reported fraud stands for those still to come
        assert (single.weight("fraud") != 1.0).any() and ours["created_at"].max() > AS_OF - config.maturity


@pytest.fixture(scope="module")
def single_set(data):
    """The single-machine trainer's orders learned from, features, labels, first-pass weights and delays."""
    _, orders, outcomes = data
    return training_set(orders, outcomes, CONFIG, QUIET)


def _weights_by_order(part: pd.DataFrame, first: RiskModel, risk: str, delay: LabelDelay) -> pd.DataFrame:
    return part[["order_id"]].assign(weight=own_risk_weight(part, first, risk, delay, CONFIG))


def test_dask_second_pass_weights_equal_the_single_machine_ones_given_the_same_first_model(data, client, single_set):
    """Each order's own-risk weight, computed on the worker holding its partition, equals `training.train`'s for
    every order learned from (validation slice included), given one first-pass model."""
    root, _, _ = data
    dask_orders, dask_outcomes = partitioned.read_orders(root / "orders"), partitioned.read_outcomes(root / "outcomes")
    delays, usable_end, youngest_days = learning_window(dask_orders, dask_outcomes, CONFIG, QUIET)
    valid_start, valid_end = validation_slice(dask_orders, CONFIG, delays, usable_end, youngest_days)
    frame = labelled_features(dask_orders, dask_outcomes, CONFIG, valid_start, 4, QUIET, usable_end, delays,
                              valid_end).persist()
    fit, valid, X = ~single_set.valid, single_set.valid, single_set.X
    for risk in ("fraud", "regret"):
        y, w = single_set.labels[risk].to_numpy(), single_set.weight(risk)
        first = RiskModel(n_estimators=20, seed=3).fit(
            X[fit], y[fit], X_valid=X[valid], y_valid=y[valid], feature_names=list(FEATURE_NAMES),
            sample_weight=w[fit], valid_weight=w[valid])
        expected = own_risk_weights(first, X, y == 1, single_set.age_days, single_set.delays[risk],
                                    CONFIG.min_reported)
        ours = frame.map_partitions(_weights_by_order, first, risk, delays[risk]).compute()
        ours = ours.set_index(ours["order_id"].astype(str))["weight"].loc[single_set.labels["order_id"].astype(str)]
        assert len(ours) == len(expected) > 1000
        np.testing.assert_allclose(ours.to_numpy(), expected, rtol=1e-9, atol=0)
        assert np.abs(expected - w).max() > 0.01  # the own risk moved weights the base rate had set


def test_dask_training_trains_each_risk_twice_the_second_time_with_each_orders_own_risk(trained):
    assert not any("one pass" in line for line in DASK_SAID)
    for risk in ("fraud", "regret"):
        assert sum(line.startswith(f"  {risk}: first pass ") and "own risk in its weight" in line
                   for line in DASK_SAID) == 1
        assert sum(line.startswith(f"training {risk} on the cluster") for line in DASK_SAID) == 2


def test_dask_models_are_calibrated_to_the_validation_slices_expected_final_labels(trained, single_set):
    """The calibrator `training.train` fits (training.delay_calibration), not one fitted to the labels reported so
    far: refitted here from the Dask model's margins on the validation slice, it gives the same probabilities."""
    _, distributed, _, _ = trained
    valid = single_set.valid
    rows = pd.Index(single_set.labels["order_id"][valid]).get_indexer(distributed.validation["order_id"])
    assert len(rows) == valid.sum() and (rows >= 0).all()  # the same slice, in the Dask trainer's row order
    X, age = single_set.X[valid][rows], single_set.age_days[valid][rows]
    for risk in ("fraud", "regret"):
        model = getattr(distributed.bundle, risk)
        positive = single_set.labels[risk].to_numpy()[valid][rows] == 1
        refitted = calibrate_delayed(model.predict_margin(X), positive, single_set.delays[risk].cdf(age),
                                     seed=model.seed)[0]
        np.testing.assert_allclose(model.predict_proba(X), refitted.apply(model.predict_margin(X)), rtol=1e-6)
        plain = choose_calibrator(model.predict_margin(X), positive.astype("float64"), seed=model.seed)[0]
        assert model.predict_proba(X).sum() > plain.apply(model.predict_margin(X)).sum()  # unreported labels count


@pytest.fixture(scope="module")
def later_world(tmp_path_factory, client):
    """A larger world going on LATER_DAYS after AS_OF: both trainers' bundles as of AS_OF, and the later orders'
    features and labels once every outcome is in."""
    orders, outcomes = simulate(16_000, 60 + LATER_DAYS, 0, start=START, world="varied")
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    root = tmp_path_factory.mktemp("later_world")
    partitioned.write_parts(orders, root / "orders", 4, write_orders)
    partitioned.write_parts(outcomes, root / "outcomes", 2, write_outcomes)
    single = train(orders, outcomes, CONFIG, QUIET).bundle
    distributed = train_on_dask(client, partitioned.read_orders(root / "orders"),
                                partitioned.read_outcomes(root / "outcomes"), CONFIG, QUIET, partitions=4).bundle
    later = (orders["created_at"] >= AS_OF).to_numpy()
    truth = labels_as_of(orders[later], outcomes, outcomes["reported_at"].max(), timedelta(0))
    X = compute_features(orders, outcomes)[list(FEATURE_NAMES)].to_numpy(dtype="float32")[later]
    return single, distributed, X, truth


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two trainings and features of 16,000 orders: about 2 minutes on a quiet machine
def test_dask_models_predict_later_orders_as_well_calibrated_as_the_single_machine_ones(later_world):
    """Predicted / observed frauds and regrets over the LATER_DAYS after the as-of, judged on every outcome those
    orders ever get: the Dask models' within two standard errors of the observed count of the single machine's."""
    single, distributed, X, truth = later_world
    ratios = {}
    for name, bundle in (("single", single), ("dask", distributed)):
        for risk, scores in zip(("fraud", "regret"), bundle.scores(X), strict=True):
            ratios[name, risk] = float(scores.sum()) / int(truth[risk].sum())
    print(ratios, {risk: int(truth[risk].sum()) for risk in ("fraud", "regret")})
    for risk in ("fraud", "regret"):
        observed = int(truth[risk].sum())
        assert observed >= 20, observed
        assert abs(ratios["dask", risk] - ratios["single", risk]) < 2 * ratios["single", risk] / np.sqrt(observed), (
            risk, observed, ratios)


def test_dask_training_records_the_label_delay_correction(trained):
    single, distributed, _, _ = trained
    ours, theirs = distributed.bundle.metadata["training"], single.bundle.metadata["training"]
    assert ours["label_delay"] == "correct" and ours["valid_from"] == theirs["valid_from"]
    assert ours["reporting_delays"].keys() == theirs["reporting_delays"].keys() == {"fraud", "regret"}
    for risk in ("fraud", "regret"):
        assert ours["reporting_delays"][risk]["base_rate"] == pytest.approx(
            theirs["reporting_delays"][risk]["base_rate"], rel=1e-9)


def test_dask_training_says_its_policy_in_words_as_single_machine_training_does(trained):
    policy = [line for line in DASK_SAID if line.startswith("policy: ")]
    assert len(policy) == 1 and "reviews a day, expected cost" in policy[0] and "decline_fraud" not in policy[0]


def test_dask_training_records_the_tree_count_it_chose(trained):
    _, distributed, _, _ = trained
    trainer = distributed.bundle.metadata["trainer"]
    assert trainer["kind"] == "dask"
    for risk in ("fraud", "regret"):
        trees = trainer["trees"][risk]
        assert 0 < trees <= 40 and (trees % 5 == 0 or trees == 40)
        assert getattr(distributed.bundle, risk).trees == trees


def test_dask_scores_equal_single_machine_scores_on_every_order(trained):
    _, _, single_scores, dask_scores = trained
    assert len(dask_scores) == len(single_scores) > 0
    dask_scores = dask_scores.set_index("order_id").loc[single_scores["order_id"]].reset_index()
    pd.testing.assert_frame_equal(dask_scores, single_scores, check_dtype=False)


def test_best_prefix_keeps_the_shortest_prefix_with_the_best_average_precision():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 5))
    y = (X[:, 0] + rng.normal(scale=2.0, size=3000) > 2.5).astype(int)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "num_leaves": 63, "min_data_in_leaf": 2,
                         "num_threads": 1}, lgb.Dataset(X[:2000], y[:2000]), num_boost_round=30)
    aps = {k: average_precision_score(y[2000:], booster.predict(X[2000:], raw_score=True, num_iteration=k))
           for k in range(5, 31, 5)}
    best = max(aps.values())
    assert best_prefix(booster, X[2000:], y[2000:], 5) == min(k for k, ap in aps.items() if ap == best)
    assert best_prefix(booster, X[2000:], np.zeros(1000), 5) == 30  # one class: nothing to choose by


def test_the_local_cluster_stops_its_worker_processes_on_the_way_out():
    with dask_client(ClusterSpec("local", workers=1, memory_limit="500MB")) as client:
        pids = list(client.run(os.getpid).values())
        assert len(pids) == 1
    deadline = time.monotonic() + 10  # a worker slow to stop is killed by its nanny after a few seconds
    while any(child.pid in pids for child in multiprocessing.active_children()) and time.monotonic() < deadline:
        time.sleep(0.1)  # active_children() also reaps the exited ones
    assert not any(child.pid in pids for child in multiprocessing.active_children())
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


def test_risk_features_dask_on_a_scheduler_address_writes_part_files(data, client, tmp_path):
    _, orders, _ = data
    orders = orders.head(1000)
    partitioned.write_parts(orders, tmp_path / "orders", 2, write_orders)
    out = tmp_path / "features"
    code = main(["features", "--dask", client.scheduler.address, "--quiet", "--orders", str(tmp_path / "orders"),
                 "--partitions", "2", "--out", str(out)])
    assert code == 0
    written = pd.read_parquet(out)
    assert sorted(written["order_id"]) == sorted(orders["order_id"])
    assert len(client.scheduler_info()["workers"]) == 2  # a scheduler it did not start is left running


def test_risk_features_dask_refuses_a_non_empty_output_directory(data, tmp_path, capsys):
    root, _, _ = data
    (tmp_path / "old.txt").write_text("x")
    code = main(["features", "--dask", "local", "--orders", str(root / "orders"), "--out", str(tmp_path)])
    assert code == 2
    assert "new or empty directory" in capsys.readouterr().err


def test_risk_score_dask_writes_the_same_predictions(data, client, trained, tmp_path):
    root, _, _ = data
    _, distributed, single_scores, _ = trained
    distributed.bundle.save(tmp_path / "model")
    start = (AS_OF - pd.Timedelta(days=10)).isoformat()
    code = main(["score", "--dask", client.scheduler.address, "--quiet", "--model", str(tmp_path / "model"),
                 "--orders", str(root / "orders"), "--outcomes", str(root / "outcomes"), "--from", start,
                 "--out", str(tmp_path / "predictions.parquet")])
    assert code == 0
    written = pd.read_parquet(tmp_path / "predictions.parquet").set_index("order_id").loc[single_scores["order_id"]]
    pd.testing.assert_frame_equal(written.reset_index(), single_scores, check_dtype=False)
