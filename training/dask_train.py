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
- The validation slice (the last `valid_days` of the orders learned from) is collected on
  this machine: it chooses the tree count, fits the calibrator (`RiskModel.adopt`) and the
  policy (`training.policy_search`) exactly as `training.train` does.
- Label delay (`config.label_delay`) works as in `training.train`. Under "correct" the
  reporting delays are estimated by `training.label_delay.estimate_delays` on this machine
  from the outcomes known at `as_of` and their orders' creation times only (not the whole
  order table: the base rate's denominator, the number of orders before `as_of`, is counted
  on the cluster); the orders learned from end at `training.train.learnable_end`, and each
  partition gets `training.label_delay.delay_weights` beside its labels. The weights go into
  LightGBM's Dask `sample_weight` (times the positive-class weight, as `RiskModel.fit`
  does), the tree count's validation AP, the calibrator, the metrics and the policy.
- Under "correct", two passes per risk, as `training.train` makes them: the first model,
  calibrated to the validation slice's expected final labels
  (`training.train.calibrate_to_expected_labels`), scores each training partition on the
  worker holding it and gives it its second-pass weights there
  (`training.train.own_risk_weights`: each order's own risk instead of the base rate); only
  the weights are kept (8 bytes an order), the features stay where they are. The second
  model is trained on those weights with the Dask interface, its tree count, calibrator,
  metrics and policy weights from the validation slice's own-risk weights, computed here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dask
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
from risk.policy import DECISION_NAMES, policy_in_words
from training.label_delay import LabelDelay, age_in_days, delay_weights, estimate_delays, with_exposure
from training.policy_search import search_policy
from training.record import canary_record, canary_sample
from training.train import (
    LABEL_DELAY_MODES,
    RISKS,
    TrainConfig,
    TrainingSet,
    TrainResult,
    _metadata,
    _policy_weight,
    _validation_metrics,
    calibrate_to_expected_labels,
    learnable_end,
    model_defaults,
    own_risk_weights,
    say_delays,
    second_pass_words,
    validation_window,
)

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

Progress = Callable[[str], None]
LABEL_COLUMNS = ("fraud", "regret", "w_fraud", "w_regret", "created_at", "amount", "valid")


def train_on_dask(
    client: Client,
    orders: dd.DataFrame,
    outcomes: dd.DataFrame,
    config: TrainConfig,
    say: Progress,
    partitions: int | None = None,
    tree_step: int = 5,
) -> TrainResult:
    """Fit both models on the cluster, choose tree counts, calibrators and the policy on the validation slice."""
    if config.label_delay not in LABEL_DELAY_MODES:
        raise InvalidInput(f"label delay {config.label_delay!r}: use one of {', '.join(LABEL_DELAY_MODES)}")
    delays, usable_end, youngest_days = learning_window(orders, outcomes, config, say)
    valid_start, valid_end = validation_slice(orders, config, delays, usable_end, youngest_days)
    # computed once and held by the workers (spilled to disk past their memory limit)
    frame = labelled_features(orders, outcomes, config, valid_start, partitions, say, usable_end, delays,
                              valid_end).persist()
    counts = frame["valid"].value_counts().compute()
    n_fit, n_valid = int(counts.get(False, 0)), int(counts.get(True, 0))
    if n_fit + n_valid < 1000:
        why = (f"the age by which {config.min_reported:.0%} of outcomes are reported" if delays else
               "the maturity window")
        raise InvalidInput(f"only {n_fit + n_valid} orders are older than {youngest_days:.1f} days ({why}) at "
                           f"{config.as_of.isoformat()}; move --as-of later")
    if n_fit == 0 or n_valid == 0:
        raise InvalidInput("the time split left an empty training or validation slice; give more history")
    say(f"{n_fit:,} training and {n_valid:,} validation orders, features on the workers")
    valid = frame[frame["valid"]].compute().sort_values("order_id", kind="stable").reset_index(drop=True)
    X_valid = valid[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE)
    fit = frame[~frame["valid"]]
    models, metrics = {}, {}
    for risk, params in (("fraud", config.fraud_params), ("regret", config.regret_params)):
        y_valid, w_valid = valid[risk].to_numpy(), valid[f"w_{risk}"].to_numpy(dtype="float64")
        settings = {"seed": config.seed, **model_defaults(risk, config), **params}
        model = _fit_one(client, RiskModel(**settings), fit, fit[f"w_{risk}"], risk, X_valid, y_valid,
                         w_valid if delays else None, tree_step, say)
        if delays and model.booster_ is not None:
            model, w_valid = _refit_with_own_risk(client, settings, model, fit, valid, X_valid, risk, delays[risk],
                                                  config, tree_step, say)
            valid[f"w_{risk}"] = w_valid  # the policy's costs weigh the validation slice as the second pass does
        models[risk] = model
        metrics[risk] = _validation_metrics(model, X_valid, y_valid, w_valid)
        say(f"  {risk}: {model.trees} trees, validation AUC {metrics[risk]['roc_auc']:.4f}, "
            f"AP {metrics[risk]['average_precision']:.4f}")
    return _result(models, metrics, valid, X_valid, config, valid_start, valid_end, n_fit, delays, say)


def learning_window(orders: dd.DataFrame, outcomes: dd.DataFrame, config: TrainConfig, say: Progress
                    ) -> tuple[dict[str, LabelDelay], pd.Timestamp, float]:
    """The label delays (none under maturity), the end of the orders to learn from, and its age in days."""
    if config.label_delay != "correct":
        return {}, config.as_of - config.maturity, config.maturity.total_seconds() / 86400
    delays = estimate_delays_on_dask(orders, outcomes, config.as_of)
    first_created = orders[orders["created_at"] < config.as_of]["created_at"].min().compute()
    usable_end, youngest_days = learnable_end(delays, config.as_of, first_created, config.min_reported)
    say_delays(delays, say)
    return delays, usable_end, youngest_days


def validation_slice(orders: dd.DataFrame, config: TrainConfig, delays: dict[str, LabelDelay],
                     usable_end: pd.Timestamp, youngest_days: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The validation slice single-machine training takes (`training.train.validation_window`): under the
    delay correction the most recent orders with `valid_reported` of their labels reported, not the youngest."""
    if not delays:
        return usable_end - timedelta(days=config.valid_days), usable_end
    kept = orders[orders["created_at"] < usable_end]
    if config.train_from is not None:
        kept = kept[kept["created_at"] >= config.train_from]
    oldest_days = (config.as_of - kept["created_at"].min().compute()).total_seconds() / 86400
    return validation_window(config.as_of, delays, config, youngest_days, oldest_days)


def estimate_delays_on_dask(orders: dd.DataFrame, outcomes: dd.DataFrame, as_of: pd.Timestamp
                            ) -> dict[str, LabelDelay]:
    """`training.label_delay.estimate_delays` of the whole data set, collecting only what it reads.

    The fit reads the outcomes reported by `as_of` and the creation times of their orders;
    the base rate divides the expected reports by the number of orders before `as_of`,
    counted on the cluster (the same sum over the same kinds as `estimate_delays`, so the
    result is the single-machine one).
    """
    history = orders[orders["created_at"] < as_of]
    known = outcomes[outcomes["reported_at"] <= as_of][["order_id", "kind", "reported_at"]].compute()
    known = known.reset_index(drop=True)
    ids = pd.DataFrame({"order_id": known["order_id"].drop_duplicates().to_numpy()})
    ids = ids.astype({"order_id": history._meta["order_id"].dtype})
    import dask.dataframe as dd

    reported = history[["order_id", "created_at"]].merge(dd.from_pandas(ids, npartitions=1), on="order_id")
    reported, created = dask.compute(reported, history["created_at"])
    delays = estimate_delays(reported.reset_index(drop=True), known, as_of)
    return with_exposure(delays, age_in_days(as_of, created))


def labelled_features(
    orders: dd.DataFrame, outcomes: dd.DataFrame, config: TrainConfig, valid_start: pd.Timestamp,
    partitions: int | None, say: Progress, usable_end: pd.Timestamp | None = None,
    delays: dict[str, LabelDelay] | None = None, valid_end: pd.Timestamp | None = None,
) -> dd.DataFrame:
    """Features of the orders a model may learn from, with `fraud`, `regret`, their weights `w_fraud` and
    `w_regret`, `created_at`, `amount`, `valid`.

    `delays` (label-delay correction) with `usable_end` (`training.train.learnable_end`):
    every order before `usable_end`, weighted; without them, mature orders only, weight 1.
    """
    as_of = config.as_of
    history = orders[orders["created_at"] < as_of]
    known = outcomes[outcomes["reported_at"] <= as_of]  # nothing from after as_of, by construction
    say("features on the cluster")
    features = compute_features(history, known, partitions, keep=("created_at", "amount", "currency", *REPORT_COLUMNS),
                                progress=say)
    end = usable_end if usable_end is not None else as_of - config.maturity
    meta = labelled(features._meta, config, valid_start, end, delays or {}, valid_end)
    return features.map_partitions(labelled, config, valid_start, end, delays or {}, valid_end, meta=meta)


def labelled(part: pd.DataFrame, config: TrainConfig, valid_start: pd.Timestamp, usable_end: pd.Timestamp,
             delays: dict[str, LabelDelay], valid_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One partition's orders to learn from (as `training.training_set` keeps them), labels and weights.

    The partition carries REPORT_COLUMNS (`features.dask_batch.with_first_reports`), which are
    dropped. With `delays`: the labels known at `as_of` and the label-delay weights of each
    order's age; without: labels after the maturity window, weight 1.
    """
    as_of, created = config.as_of, part["created_at"]
    maturity = timedelta(0) if delays else config.maturity
    labels = labels_as_of(part, first_reports_as_outcomes(part), as_of, maturity)
    keep = (created < usable_end).to_numpy()
    if not delays:
        keep = keep & labels["labelled"].to_numpy()
    if config.train_from is not None:
        keep = keep & (created >= config.train_from).to_numpy()
    age_days = age_in_days(as_of, created)
    columns: dict[str, Any] = {}
    for risk in RISKS:
        label = labels[risk].fillna(0).astype("int8").to_numpy()
        columns[risk] = label
        columns[f"w_{risk}"] = (delay_weights(label == 1, age_days, delays[risk], config.min_reported) if delays
                                else np.ones(len(part)))
    valid = (created >= valid_start) & (created < (usable_end if valid_end is None else valid_end))
    out = part.drop(columns=list(REPORT_COLUMNS)).assign(**columns, valid=valid.to_numpy())
    return out[keep]


def _refit_with_own_risk(
    client: Client, settings: dict[str, Any], first: RiskModel, fit: dd.DataFrame, valid: pd.DataFrame,
    X_valid: np.ndarray, risk: str, delay: LabelDelay, config: TrainConfig, tree_step: int, say: Progress,
) -> tuple[RiskModel, np.ndarray]:
    """`training.train`'s two passes on the cluster: the first model calibrated to expected final labels, its
    own-risk weights computed partition by partition where the partitions lie, the second model trained on them
    and calibrated the same way. Returns the second model and the validation slice's own-risk weights."""
    positive_valid, age_valid = valid[risk].to_numpy() == 1, age_in_days(config.as_of, valid["created_at"])
    first = calibrate_to_expected_labels(first, X_valid, positive_valid, age_valid, delay)
    say(second_pass_words(risk, first))
    meta = own_risk_weight(fit._meta, first, risk, delay, config)
    weights = fit.map_partitions(own_risk_weight, first, risk, delay, config, meta=meta).persist()
    w_valid = own_risk_weights(first, X_valid, positive_valid, age_valid, delay, config.min_reported)
    second = _fit_one(client, RiskModel(**settings), fit, weights, risk, X_valid, valid[risk].to_numpy(), w_valid,
                      tree_step, say)
    del weights  # released on the workers
    if second.booster_ is None:
        return second, w_valid
    return calibrate_to_expected_labels(second, X_valid, positive_valid, age_valid, delay), w_valid


def own_risk_weight(part: pd.DataFrame, first: RiskModel, risk: str, delay: LabelDelay, config: TrainConfig
                    ) -> pd.Series:
    """One partition's second-pass weights of `risk` (`training.train.own_risk_weights`), on its worker."""
    weight = np.zeros(0)
    if len(part):  # LightGBM refuses to predict no rows
        weight = own_risk_weights(first, part[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE),
                                  part[risk].to_numpy() == 1, age_in_days(config.as_of, part["created_at"]), delay,
                                  config.min_reported)
    return pd.Series(weight, index=part.index, name=f"w_{risk}", dtype="float64")


def _fit_one(
    client: Client, model: RiskModel, fit: dd.DataFrame, weights: dd.Series, risk: str, X_valid: np.ndarray,
    y_valid: np.ndarray, w_valid: np.ndarray | None, tree_step: int, say: Progress,
) -> RiskModel:
    """Trees from DaskLGBMClassifier, cut to the best prefix on validation, then calibrated.

    Each order weighs `weights` (its label-delay weight: `w_{risk}`, or the second pass's; 1 for
    mature training) times the positive-class weight, computed from the weighted counts as
    `RiskModel.fit` computes it.
    """
    # arrays with their partitions' lengths: the second pass's weights (a frame of their own, persisted)
    # line up with the training partitions chunk by chunk, without aligning frames of unknown divisions
    X = fit[list(FEATURE_NAMES)].to_dask_array(lengths=True).astype(FEATURE_DTYPE)
    y = fit[risk].to_dask_array(lengths=True)
    base = weights.to_dask_array(lengths=True).astype("float64")
    n = float(y.shape[0])
    positives, weighted, weighted_positives = (float(v) for v in client.compute(
        [y.sum(), base.sum(), (base * y).sum()], sync=True))
    say(f"training {risk} on the cluster: {int(positives):,} positives in {int(n):,}; validation "
        f"{int(y_valid.sum()):,} in {len(y_valid):,}")
    if positives in (0, n):
        labels = np.concatenate([np.ones(int(positives)), np.zeros(int(n - positives)), y_valid])
        return model.fit_constant(labels, list(FEATURE_NAMES))
    weight = model.pos_weight if model.pos_weight is not None else math.sqrt(
        max(weighted - weighted_positives, 1.0) / max(weighted_positives, 1e-9))
    # the Dask interface sets each worker's threads itself; the metric is `best_prefix`'s
    params = {k: v for k, v in model.lgb_params(list(FEATURE_NAMES)).items() if k not in ("metric", "num_threads")}
    classifier = lgb.DaskLGBMClassifier(client=client, n_estimators=model.n_estimators, **params)
    classifier.fit(X, y, sample_weight=base * (y * (weight - 1.0) + 1.0), feature_name=list(FEATURE_NAMES),
                   categorical_feature=[FEATURE_NAMES.index(c) for c in CATEGORICAL])
    booster = classifier.to_local().booster_
    trees = best_prefix(booster, X_valid, y_valid, tree_step, w_valid)
    say(f"  {risk}: {trees} of {booster.current_iteration()} trees kept (best validation AP of each prefix)")
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))
    return model.adopt(cut, X_valid=X_valid, y_valid=y_valid, feature_names=list(FEATURE_NAMES), pos_weight=weight,
                       valid_weight=w_valid)


def best_prefix(booster: lgb.Booster, X: np.ndarray, y: np.ndarray, step: int, weight: np.ndarray | None = None
                ) -> int:
    """The shortest multiple of `step` trees (or all) whose raw scores give the best average precision on (X, y)
    (weighted by `weight`, the label-delay weights, as early stopping weighs them in `RiskModel.fit`).

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
        ap = float(average_precision_score(y, margin, sample_weight=weight))
        if ap > best_ap:
            best_trees, best_ap = start + count, ap
    return best_trees


def _result(
    models: dict[str, RiskModel], metrics: dict[str, dict[str, float]], valid: pd.DataFrame, X_valid: np.ndarray,
    config: TrainConfig, valid_start: pd.Timestamp, valid_end: pd.Timestamp, n_fit: int,
    delays: dict[str, LabelDelay], say: Progress,
) -> TrainResult:
    """The policy on the validation slice, the metadata and the bundle, as `training.train` makes them."""
    fraud_p, regret_p = models["fraud"].predict_proba(X_valid), models["regret"].predict_proba(X_valid)
    days = (valid_end - valid_start).total_seconds() / 86400
    # costs add amounts to fees: every amount in minor units of the costs' currency first (risk.money)
    valid = valid.assign(amount=config.rates.to_minor(valid["amount"].to_numpy(), valid["currency"].to_numpy(),
                                                      config.costs.currency))
    weights = {risk: valid[f"w_{risk}"].to_numpy(dtype="float64") for risk in RISKS}
    labels = valid[["order_id", "fraud", "regret", "created_at", "amount"]]
    data = TrainingSet(X_valid, labels, np.ones(len(valid), bool), valid_start, valid_end, weights, delays)
    choice = search_policy(fraud_p, regret_p, valid["amount"].to_numpy(), valid["fraud"].to_numpy() == 1,
                           valid["regret"].to_numpy() == 1, days, config.costs, weight=_policy_weight(data))
    n_valid = max(len(valid), 1)
    say("policy: " + policy_in_words(choice.policy, choice.reviews_per_day, choice.cost / n_valid,
                                     choice.cost_approve_all / n_valid, config.costs.currency))
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
