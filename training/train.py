"""Train the fraud and regret models as of a moment, exactly as production could have.

Only orders created before `as_of` are used, labelled with outcomes reported by then;
an order with no outcome counts as genuine only once older than the maturity window
(younger ones are left out). Features are point-in-time, so no later knowledge leaks.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from features.batch import compute_features
from features.catalog import CATEGORICAL, FEATURE_NAMES, schema_hash
from models.bundle import ModelBundle
from models.provenance import code_version
from models.risk_model import RiskModel
from risk.errors import InvalidInput
from risk.labels import labels_as_of
from risk.money import Rates, load_rates
from risk.policy import DECISION_NAMES, Costs, policy_in_words
from training.diagnostics import diagnostics
from training.policy_search import PolicyChoice, search_policy
from training.record import canary_record, canary_sample, model_facts

Progress = Callable[[str], None]


@dataclass
class TrainConfig:
    as_of: pd.Timestamp
    maturity: timedelta = timedelta(days=60)
    train_from: pd.Timestamp | None = None  # learn only from orders created at or after this (history still counts)
    valid_days: float = 14.0
    fraud_params: dict[str, Any] = field(default_factory=dict)
    regret_params: dict[str, Any] = field(default_factory=dict)
    costs: Costs = field(default_factory=Costs)  # in minor units of costs.currency, the reporting currency
    rates: Rates = field(default_factory=load_rates)  # order amounts -> costs.currency, before any cost
    seed: int = 7


@dataclass
class TrainingSet:
    """Features and labels of the orders a model may learn from, split in time."""

    X: np.ndarray
    labels: pd.DataFrame  # order_id, fraud, regret (0/1), created_at, amount (minor units of costs.currency)
    valid: np.ndarray  # bool mask of the validation slice
    valid_start: pd.Timestamp
    valid_end: pd.Timestamp


def training_set(orders: pd.DataFrame, outcomes: pd.DataFrame, config: TrainConfig, say: Progress) -> TrainingSet:
    """Labelled orders before `as_of` with their point-in-time features, split in time.

    Only *mature* orders (older than the maturity window at `as_of`) are learned from:
    among younger ones only those with an outcome are labelled yet, mostly the bad ones,
    and they would teach the models that fraud and regret are far more common than they
    are. The validation slice is the most recent `valid_days` of the mature orders.
    """
    as_of = config.as_of
    known_outcomes = outcomes[outcomes["reported_at"] <= as_of]  # nothing from after as_of, by construction
    history = orders[orders["created_at"] < as_of].reset_index(drop=True)
    if history.empty:
        raise InvalidInput(f"no orders created before --as-of {as_of.isoformat()}")
    # converted before the feature work, so a currency the rates lack fails in seconds, not minutes
    amount = config.rates.to_minor(history["amount"].to_numpy(), history["currency"].to_numpy(), config.costs.currency)
    labels = labels_as_of(history, known_outcomes, as_of, config.maturity)
    created = history["created_at"]
    mature_end = as_of - config.maturity
    keep = labels["labelled"].to_numpy() & (created < mature_end).to_numpy()
    if config.train_from is not None:
        keep &= (created >= config.train_from).to_numpy()
    if keep.sum() < 1000:
        window = "" if config.train_from is None else f" and created after --from {config.train_from.isoformat()}"
        raise InvalidInput(
            f"only {int(keep.sum())} orders are older than the maturity window ({config.maturity.days} days) "
            f"at {as_of.isoformat()}{window}; move --as-of later, --from earlier or lower --maturity-days")
    say(f"{len(history):,} orders before as-of, {int(keep.sum()):,} mature and labelled; computing features")
    features = compute_features(history, known_outcomes, progress=say)
    valid_start = mature_end - timedelta(days=config.valid_days)
    valid = (created >= valid_start).to_numpy()
    frame = pd.DataFrame({
        "order_id": labels["order_id"], "fraud": labels["fraud"].fillna(0).astype("int8"),
        "regret": labels["regret"].fillna(0).astype("int8"), "created_at": created, "amount": amount,
    })
    X = features[list(FEATURE_NAMES)].to_numpy(dtype="float32")[keep]
    return TrainingSet(X, frame[keep].reset_index(drop=True), valid[keep], valid_start, mature_end)


@dataclass
class TrainResult:
    bundle: ModelBundle
    validation: pd.DataFrame  # order_id, fraud_score, regret_score, decision on the validation slice


def train(orders: pd.DataFrame, outcomes: pd.DataFrame, config: TrainConfig, say: Progress) -> TrainResult:
    """Fit both models, choose the policy on the validation slice, and describe it all in metadata."""
    data = training_set(orders, outcomes, config, say)
    valid, fit = data.valid, ~data.valid
    if valid.sum() == 0 or fit.sum() == 0:
        raise InvalidInput("the time split left an empty training or validation slice; give more history")
    models, metrics = {}, {}
    for risk, params in (("fraud", config.fraud_params), ("regret", config.regret_params)):
        y = data.labels[risk].to_numpy()
        say(f"training {risk}: {int(y[fit].sum()):,} positives in {int(fit.sum()):,}; "
            f"validation {int(y[valid].sum()):,} in {int(valid.sum()):,}")
        model = RiskModel(**{"seed": config.seed, **params}).fit(
            data.X[fit], y[fit], X_valid=data.X[valid], y_valid=y[valid],
            feature_names=list(FEATURE_NAMES), categorical=CATEGORICAL)
        models[risk] = model
        metrics[risk] = _validation_metrics(model, data.X[valid], y[valid])
        say(f"  {risk}: {model.trees} trees, "
            f"calibration {model.calibrator_.kind}, validation AUC {metrics[risk]['roc_auc']:.4f}")
    fraud_p, regret_p = models["fraud"].predict_proba(data.X[valid]), models["regret"].predict_proba(data.X[valid])
    days = (data.valid_end - data.valid_start).total_seconds() / 86400
    choice = search_policy(fraud_p, regret_p, data.labels["amount"].to_numpy()[valid],
                           data.labels["fraud"].to_numpy()[valid] == 1, data.labels["regret"].to_numpy()[valid] == 1,
                           days, config.costs)
    n_valid = max(int(valid.sum()), 1)
    words = policy_in_words(choice.policy, choice.reviews_per_day, choice.cost / n_valid,
                            choice.cost_approve_all / n_valid, config.costs.currency)
    say(f"policy: {words}")
    metadata = _metadata(data_fingerprint(orders, outcomes), config, data, metrics, choice, models)
    history = orders[orders["created_at"] < config.as_of]
    metadata["diagnostics"] = diagnostics(history, outcomes, config.as_of, data.labels, data.valid, metadata["models"])
    canary = canary_sample(data.X[valid], fraud_p, regret_p, config.seed)
    metadata["canary"] = canary_record(canary, choice.policy)
    bundle = ModelBundle(models["fraud"], models["regret"], choice.policy, config.costs, metadata, canary)
    validation = pd.DataFrame({
        "order_id": data.labels["order_id"].to_numpy()[valid], "fraud_score": fraud_p.astype("float64"),
        "regret_score": regret_p.astype("float64"),
        "decision": DECISION_NAMES[choice.policy.decide_many(fraud_p, regret_p)],
    })
    return TrainResult(bundle, validation)


def _validation_metrics(model: RiskModel, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    p = model.predict_proba(X)
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(np.mean((p - y) ** 2)),
        "positives": int(y.sum()),
        "n": int(len(y)),
    }


def _metadata(
    fingerprint: str,
    config: TrainConfig,
    data: TrainingSet,
    metrics: dict[str, dict[str, float]],
    choice: PolicyChoice,
    models: dict[str, RiskModel],
) -> dict[str, Any]:
    """What the model directory records about its training: window, data, features, metrics, policy."""
    now = datetime.now(UTC)
    n_valid = max(int(data.valid.sum()), 1)
    return {
        "version": f"{now:%Y%m%d-%H%M%S}-{fingerprint[:6]}",
        "created_at": now.isoformat(),
        "training": {
            "from": data.labels["created_at"].min().isoformat(),
            "as_of": config.as_of.isoformat(),
            "maturity_days": config.maturity.total_seconds() / 86400,
            "valid_from": data.valid_start.isoformat(),
            "valid_to": data.valid_end.isoformat(),
            "n_train": int((~data.valid).sum()),
            "n_valid": int(data.valid.sum()),
        },
        "data_fingerprint": fingerprint,
        "feature_names": list(FEATURE_NAMES),
        "schema_hash": schema_hash(),
        "library_versions": {name: _version(name) for name in ("lightgbm", "numpy", "pandas", "scikit-learn")},
        "metrics": metrics,
        "expected": {"cost": choice.cost, "cost_approve_all": choice.cost_approve_all,
                     "reviews_per_day": choice.reviews_per_day, "rates": choice.rates,
                     "currency": config.costs.currency, "cost_per_order": choice.cost / n_valid,
                     "cost_approve_all_per_order": choice.cost_approve_all / n_valid},
        "importance": {risk: _top(model.importance()) for risk, model in models.items()},
        "money": {"reporting_currency": config.costs.currency, "rates": config.rates.describe()},
        "code": code_version(),
        "models": {risk: model_facts(model, data.labels[risk].to_numpy(), data.valid)
                   for risk, model in models.items()},
    }


def _top(importance: dict[str, float], n: int = 25) -> dict[str, float]:
    return dict(sorted(importance.items(), key=lambda kv: -kv[1])[:n])


def data_fingerprint(orders: pd.DataFrame, outcomes: pd.DataFrame) -> str:
    """A hash of the data the model saw: which orders, when, and which outcomes."""
    digest = hashlib.sha256()
    for frame in (orders[["order_id", "created_at", "amount"]], outcomes[["order_id", "kind", "reported_at"]]):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"

