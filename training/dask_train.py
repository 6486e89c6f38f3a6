"""`risk train --dask`: the same models as `training.train`, with features and trees computed on a Dask cluster.

What differs from `training.train`, and why:
- Features come from `features.dask_batch` (equal to `features.batch` on every order),
  labels from `risk.labels.labels_as_of` per partition, and the training slice stays
  on the workers (persisted, spilled to disk past their memory limit).
- The trees come from LightGBM's Dask interface, which has no early stopping. The
  number of trees is chosen afterwards, as early stopping would have chosen it: train
  `n_estimators` (the maximum), then score the validation slice with every prefix of
  `tree_step` trees (adding each step's raw scores: one pass over the trees) and keep
  the shortest prefix with the best average precision (the metric early stopping
  watches in `RiskModel`). The booster is cut to that many trees.
- The validation slice (the last `valid_days` of mature orders) is collected on this
  machine: it chooses the tree count, fits the calibrator (`RiskModel.adopt`) and the
  policy (`training.policy_search`) exactly as `training.train` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from features.catalog import CATEGORICAL, FEATURE_NAMES
from features.dask_batch import REPORT_COLUMNS, compute_features, first_reports_as_outcomes
from models.bundle import ModelBundle
from models.risk_model import FEATURE_DTYPE, RiskModel
from risk.errors import InvalidInput
from risk.labels import labels_as_of
from risk.policy import DECISION_NAMES
from training.policy_search import search_policy
from training.record import canary_record, canary_sample
from training.train import TrainConfig, TrainingSet, TrainResult, _metadata, _validation_metrics

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

Progress = Callable[[str], None]
LABEL_COLUMNS = ("fraud", "regret", "created_at", "amount", "valid")


def train_on_dask(
    client: Client,
    orders: dd.DataFrame,
    outcomes: dd.DataFrame,
    config: TrainConfig,
    say: Progress,
    partitions: int | None = None,
    tree_step: int = 5,
) -> TrainResult:
    """Fit both models on the cluster, choose tree counts, calibrators and the policy on the validation slice.

    Learns from mature orders (`config.maturity`) whatever `config.label_delay` says: the
    delay-corrected weights are not built on the cluster yet, and saying so beats pretending.
    """
    if config.label_delay != "mature":
        say(f"dask: learning from mature orders (older than {config.maturity.days} days); the label-delay "
            "correction runs on one machine only")
    mature_end = config.as_of - config.maturity
    valid_start = mature_end - timedelta(days=config.valid_days)
    # computed once and held by the workers (spilled to disk past their memory limit)
    frame = labelled_features(orders, outcomes, config, valid_start, partitions, say).persist()
    counts = frame["valid"].value_counts().compute()
    n_fit, n_valid = int(counts.get(False, 0)), int(counts.get(True, 0))
    if n_fit + n_valid < 1000:
        raise InvalidInput(f"only {n_fit + n_valid} orders are older than the maturity window "
                           f"({config.maturity.days} days) at {config.as_of.isoformat()}; move --as-of later")
    if n_fit == 0 or n_valid == 0:
        raise InvalidInput("the time split left an empty training or validation slice; give more history")
    say(f"{n_fit:,} training and {n_valid:,} validation orders, features on the workers")
    valid = frame[frame["valid"]].compute().sort_values("order_id", kind="stable").reset_index(drop=True)
    X_valid = valid[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE)
    fit = frame[~frame["valid"]]
    models, metrics = {}, {}
    for risk, params in (("fraud", config.fraud_params), ("regret", config.regret_params)):
        y_valid = valid[risk].to_numpy()
        model = RiskModel(**{"seed": config.seed, **params})
        models[risk] = _fit_one(client, model, fit, risk, X_valid, y_valid, tree_step, say)
        metrics[risk] = _validation_metrics(models[risk], X_valid, y_valid, np.ones(len(y_valid)))
        say(f"  {risk}: {models[risk].trees} trees, validation AUC {metrics[risk]['roc_auc']:.4f}, "
            f"AP {metrics[risk]['average_precision']:.4f}")
    return _result(models, metrics, valid, X_valid, config, valid_start, mature_end, n_fit, say)


def labelled_features(
    orders: dd.DataFrame, outcomes: dd.DataFrame, config: TrainConfig, valid_start: pd.Timestamp,
    partitions: int | None, say: Progress,
) -> dd.DataFrame:
    """Features of the orders a model may learn from, with `fraud`, `regret`, `created_at`, `amount`, `valid`."""
    as_of = config.as_of
    history = orders[orders["created_at"] < as_of]
    known = outcomes[outcomes["reported_at"] <= as_of]  # nothing from after as_of, by construction
    say("features on the cluster")
    features = compute_features(history, known, partitions, keep=("created_at", "amount", "currency", *REPORT_COLUMNS),
                                progress=say)
    meta = _labelled(features._meta, config, valid_start)
    return features.map_partitions(_labelled, config, valid_start, meta=meta)


def _labelled(part: pd.DataFrame, config: TrainConfig, valid_start: pd.Timestamp) -> pd.DataFrame:
    """One partition's mature, labelled orders (as `training.training_set` keeps them) with their labels."""
    labels = labels_as_of(part, first_reports_as_outcomes(part), config.as_of, config.maturity)
    created = part["created_at"]
    keep = labels["labelled"].to_numpy() & (created < config.as_of - config.maturity).to_numpy()
    if config.train_from is not None:
        keep &= (created >= config.train_from).to_numpy()
    out = part.drop(columns=list(REPORT_COLUMNS)).assign(
        fraud=labels["fraud"].fillna(0).astype("int8").to_numpy(),
        regret=labels["regret"].fillna(0).astype("int8").to_numpy(),
        valid=(created >= valid_start).to_numpy())
    return out[keep]


def _fit_one(
    client: Client, model: RiskModel, fit: dd.DataFrame, risk: str, X_valid: np.ndarray, y_valid: np.ndarray,
    tree_step: int, say: Progress,
) -> RiskModel:
    """Trees from DaskLGBMClassifier, cut to the best prefix on validation, then calibrated."""
    positives, n = (int(v) for v in client.compute([fit[risk].sum(), fit[risk].count()], sync=True))
    say(f"training {risk} on the cluster: {positives:,} positives in {n:,}; validation {int(y_valid.sum()):,} "
        f"in {len(y_valid):,}")
    if positives in (0, n):
        labels = np.concatenate([np.ones(positives), np.zeros(n - positives), y_valid])
        return model.fit_constant(labels, list(FEATURE_NAMES))
    weight = model.pos_weight if model.pos_weight is not None else math.sqrt((n - positives) / positives)
    X = fit[list(FEATURE_NAMES)].to_dask_array(lengths=True).astype(FEATURE_DTYPE)
    y = fit[risk].to_dask_array(lengths=True)
    # the Dask interface sets each worker's threads itself; the metric is `best_prefix`'s
    params = {k: v for k, v in model.lgb_params(list(FEATURE_NAMES)).items() if k not in ("metric", "num_threads")}
    classifier = lgb.DaskLGBMClassifier(client=client, n_estimators=model.n_estimators, **params)
    classifier.fit(X, y, sample_weight=(y * (weight - 1.0) + 1.0).astype("float64"), feature_name=list(FEATURE_NAMES),
                   categorical_feature=[FEATURE_NAMES.index(c) for c in CATEGORICAL])
    booster = classifier.to_local().booster_
    trees = best_prefix(booster, X_valid, y_valid, tree_step)
    say(f"  {risk}: {trees} of {booster.current_iteration()} trees kept (best validation AP of each prefix)")
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))
    return model.adopt(cut, X_valid=X_valid, y_valid=y_valid, feature_names=list(FEATURE_NAMES), pos_weight=weight)


def best_prefix(booster: lgb.Booster, X: np.ndarray, y: np.ndarray, step: int) -> int:
    """The shortest multiple of `step` trees (or all) whose raw scores give the best average precision on (X, y).

    Raw scores add up over trees (the first tree carries the initial score), so each
    step predicts only its own trees.
    """
    total = booster.current_iteration()
    if not 0 < y.sum() < len(y):
        return total
    margin = np.zeros(len(y))
    best_trees, best_ap = total, -1.0
    for start in range(0, total, step):
        count = min(step, total - start)
        margin += booster.predict(X, raw_score=True, start_iteration=start, num_iteration=count)
        ap = float(average_precision_score(y, margin))
        if ap > best_ap:
            best_trees, best_ap = start + count, ap
    return best_trees


def _result(
    models: dict[str, RiskModel], metrics: dict[str, dict[str, float]], valid: pd.DataFrame, X_valid: np.ndarray,
    config: TrainConfig, valid_start: pd.Timestamp, valid_end: pd.Timestamp, n_fit: int, say: Progress,
) -> TrainResult:
    """The policy on the validation slice, the metadata and the bundle, as `training.train` makes them."""
    fraud_p, regret_p = models["fraud"].predict_proba(X_valid), models["regret"].predict_proba(X_valid)
    days = (valid_end - valid_start).total_seconds() / 86400
    # costs add amounts to fees: every amount in minor units of the costs' currency first (risk.money)
    valid = valid.assign(amount=config.rates.to_minor(valid["amount"].to_numpy(), valid["currency"].to_numpy(),
                                                      config.costs.currency))
    choice = search_policy(fraud_p, regret_p, valid["amount"].to_numpy(), valid["fraud"].to_numpy() == 1,
                           valid["regret"].to_numpy() == 1, days, config.costs)
    say(f"policy: {choice.policy.to_dict()} -> {choice.rates}, {choice.reviews_per_day:.0f} reviews/day")
    labels = valid[["order_id", "fraud", "regret", "created_at", "amount"]]
    data = TrainingSet(X_valid, labels, np.ones(len(valid), bool), valid_start, valid_end)
    metadata = _metadata(_fingerprint(valid), config, data, metrics, choice, models)
    metadata["training"]["n_train"] = n_fit
    metadata["training"].pop("from")  # the earliest training order is on the workers; as_of and the slices say it
    metadata["trainer"] = _trainer(models)
    canary = canary_sample(X_valid, fraud_p, regret_p, config.seed)  # what the registry's canary checks against
    metadata["canary"] = canary_record(canary, choice.policy)
    bundle = ModelBundle(models["fraud"], models["regret"], choice.policy, config.costs, metadata, canary)
    validation = pd.DataFrame({
        "order_id": valid["order_id"].to_numpy(), "fraud_score": fraud_p.astype("float64"),
        "regret_score": regret_p.astype("float64"),
        "decision": DECISION_NAMES[choice.policy.decide_many(fraud_p, regret_p)],
    })
    return TrainResult(bundle, validation)


def _trainer(models: dict[str, RiskModel]) -> dict[str, Any]:
    return {"kind": "dask", "trees": {risk: model.trees for risk, model in models.items()},
            "tree_count": "shortest prefix with the best validation average precision"}


def _fingerprint(valid: pd.DataFrame) -> str:
    """A hash of the validation slice's orders (the whole data set stays on the workers)."""
    import hashlib

    frame = valid[["order_id", "created_at", "amount", "fraud", "regret"]]
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()[:16]
