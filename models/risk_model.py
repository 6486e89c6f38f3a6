"""One risk (fraud or regret) as a LightGBM classifier plus a calibrator.

Follows the estimator contract: the keyword-only constructor stores parameters,
`fit` does the work, learned attributes end in `_`, and using an unfitted model or
the wrong feature columns raises a clear error.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from models.calibration import Calibrator, choose_calibrator
from models.explain import PathExplainer
from models.single_row import ConstantMargin, SingleRowPredictor, row_predictor
from risk.errors import DataError, InvalidInput, RiskError

FEATURE_DTYPE = np.float32
"""The precision a model sees features in, on every route: fit, batch (`predict_proba`) and one row
(`predict_one`, `explain_one`). float32 halves the memory of training and batch matrices; then
online rows must be rounded too: LightGBM can put a threshold exactly on a float32 training
value, and a float64 value a hair above it takes the other branch (3 regret scores of 20,000
simulated orders moved, by up to 0.0095, before online rows were rounded)."""

_PREPARING = threading.Lock()  # building a model's one-row route happens once per model, rarely: one lock for all


class NotFitted(RiskError):
    """The model was used before `fit` or `load`."""


@dataclass(frozen=True)
class _OneRow:
    """What scoring one row needs, built from the trees once (immutable, so threads can share it)."""

    predictor: SingleRowPredictor | ConstantMargin
    explainer: PathExplainer


class RiskModel:
    """Gradient-boosted trees on the feature catalog, with calibrated probabilities.

    Class imbalance is handled on purpose: positives get weight `pos_weight`
    (default sqrt(negatives / positives): enough for the trees to look at the rare
    class, not so much that they overfit it), and the calibrator, fitted on the
    untouched validation slice, maps the skewed margin back to real probabilities.

    Two routes to the same probabilities: `predict_proba` for matrices (batch scoring,
    training) and `predict_one` / `explain_one` for one float64 row (the service), whose
    predictor and explainer are prepared once per fitted model and shared by threads.
    """

    booster_: lgb.Booster | None  # None for a constant model (one class only)
    feature_names_: list[str]
    pos_weight_: float
    calibrator_: Calibrator
    calibration_scores_: dict[str, float]
    _one_row: _OneRow | None = None

    def __init__(
        self,
        *,
        num_leaves: int = 31,
        learning_rate: float = 0.05,
        n_estimators: int = 600,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 50,
        metric: str = "average_precision",
        pos_weight: float | None = None,
        seed: int = 7,
        num_threads: int = 2,
        monotone: dict[str, int] | None = None,
        monotone_method: str = "basic",
    ) -> None:
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.metric = metric  # for early stopping; ranking metrics, since the margin is calibrated afterwards
        self.pos_weight = pos_weight
        self.seed = seed
        self.num_threads = num_threads
        self.monotone = monotone  # feature name -> +1 (never lowers the score as it grows) or -1; others free
        self.monotone_method = monotone_method  # LightGBM's monotone_constraints_method: basic, intermediate, advanced

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "num_leaves", "learning_rate", "n_estimators", "min_child_samples", "subsample", "colsample_bytree",
            "reg_lambda", "early_stopping_rounds", "metric", "pos_weight", "seed", "num_threads", "monotone",
            "monotone_method")}

    def _lgb_params(self, feature_names: list[str]) -> dict[str, Any]:
        params = {
            "objective": "binary",
            "metric": self.metric,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
            "max_cat_to_onehot": 16,
        }
        if self.monotone:
            # "basic" (the default): each split on a constrained feature bounds its whole subtrees on either side,
            # so an unknown value (NaN goes to one side) never scores above a known one on the riskier side either;
            # "intermediate" and "advanced" constrain less (LightGBM: more accurate, slower to train)
            params["monotone_constraints"] = [int(self.monotone.get(name, 0)) for name in feature_names]
            params["monotone_constraints_method"] = self.monotone_method
        return params

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_valid: np.ndarray,
        y_valid: np.ndarray,
        feature_names: list[str],
        categorical: list[str] | tuple[str, ...] = (),
        sample_weight: np.ndarray | None = None,
        valid_weight: np.ndarray | None = None,
    ) -> RiskModel:
        """Train with early stopping on (X_valid, y_valid), then calibrate on the same slice.

        `sample_weight` / `valid_weight` weigh orders (the label-delay correction: a reported
        positive of a young order stands for several); early stopping and the calibrator use
        the validation weights, so both aim at the fully reported rates.
        """
        y, y_valid = np.asarray(y, dtype="float64"), np.asarray(y_valid, dtype="float64")
        X, X_valid = np.asarray(X, dtype=FEATURE_DTYPE), np.asarray(X_valid, dtype=FEATURE_DTYPE)
        if X.shape[1] != len(feature_names):
            raise InvalidInput(f"X has {X.shape[1]} columns but {len(feature_names)} feature names")
        base = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        base_valid = np.ones(len(y_valid)) if valid_weight is None else np.asarray(valid_weight, dtype="float64")
        positives = y.sum()
        self.feature_names_ = list(feature_names)
        self._one_row = None  # prepared from the previous trees, if any
        if positives == 0 or positives == len(y):
            return self._fit_constant(np.concatenate([y, y_valid]))
        weighted_positives = float(np.sum(base * y))
        weight = self.pos_weight if self.pos_weight is not None else math.sqrt(
            max(float(np.sum(base)) - weighted_positives, 1.0) / max(weighted_positives, 1e-9))
        categorical_idx = [feature_names.index(c) for c in categorical if c in feature_names]
        train = lgb.Dataset(X, y, weight=base * np.where(y == 1, weight, 1.0), feature_name=list(feature_names),
                            categorical_feature=categorical_idx, free_raw_data=True)
        valid = lgb.Dataset(X_valid, y_valid, weight=None if valid_weight is None else base_valid, reference=train)
        booster = lgb.train(
            self._lgb_params(list(feature_names)), train, num_boost_round=self.n_estimators, valid_sets=[valid],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        return self.adopt(booster, X_valid=X_valid, y_valid=y_valid, feature_names=feature_names, pos_weight=weight,
                          valid_weight=None if valid_weight is None else base_valid)

    def adopt(
        self, booster: lgb.Booster, *, X_valid: np.ndarray, y_valid: np.ndarray, feature_names: list[str],
        pos_weight: float, valid_weight: np.ndarray | None = None,
    ) -> RiskModel:
        """Take trees trained with `pos_weight` (by `fit`, or LightGBM's Dask interface) and calibrate them.

        The calibrator is fitted on the validation slice, as `fit` does for its own trees.
        """
        self.booster_ = booster
        self.feature_names_ = list(feature_names)
        self.pos_weight_ = pos_weight
        self._one_row = None
        margin = self.predict_margin(np.asarray(X_valid, dtype=FEATURE_DTYPE))
        self.calibrator_, self.calibration_scores_ = choose_calibrator(
            margin, np.asarray(y_valid, dtype="float64"), seed=self.seed, weight=valid_weight)
        return self

    def use_calibrator(self, calibrator: Calibrator, scores: dict[str, float]) -> RiskModel:
        """Replace the calibrator `fit` chose, by one fitted elsewhere on the same validation slice (the
        label-delay correction's, training.delay_calibration, which no weight can express)."""
        self.calibrator_, self.calibration_scores_ = calibrator, scores
        return self

    def lgb_params(self, feature_names: list[str]) -> dict[str, Any]:
        """The LightGBM parameters of these settings (number of trees and early stopping aside)."""
        return self._lgb_params(feature_names)

    def fit_constant(self, y: np.ndarray, feature_names: list[str]) -> RiskModel:
        """The constant model of one-class labels `y` (see `fit`), for trainers that do not call `fit`."""
        self.feature_names_ = list(feature_names)
        self._one_row = None
        return self._fit_constant(np.asarray(y, dtype="float64"))

    def _fit_constant(self, y: np.ndarray) -> RiskModel:
        """One class only (a data set without regret outcomes, say): the observed rate, for every order.

        Scoring still works and says nothing; the trees come once both classes exist.
        """
        self.booster_ = None
        self.pos_weight_ = 1.0
        rate = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
        self.calibrator_ = Calibrator("platt", a=0.0, b=math.log(rate / (1 - rate)))
        self.calibration_scores_ = {}
        return self

    @property
    def trees(self) -> int:
        """How many trees the model uses (0 for a constant model)."""
        if self.booster_ is None:
            return 0
        best = self.booster_.best_iteration  # 0 after training without early stopping, -1 once loaded from a file
        return best if best > 0 else self.booster_.current_iteration()

    def _check(self, X: np.ndarray) -> None:
        if not hasattr(self, "booster_"):
            raise NotFitted("this RiskModel is not fitted: call fit() or RiskModel.load()")
        if X.ndim != 2 or X.shape[1] != len(self.feature_names_):
            raise InvalidInput(f"expected {len(self.feature_names_)} feature columns, got shape {X.shape}")

    def predict_margin(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Raw scores of feature rows (a float32 matrix is used as it is; others are rounded to it)."""
        X = np.asarray(X, dtype=FEATURE_DTYPE)
        self._check(X)
        if self.booster_ is None:
            return np.zeros(X.shape[0])
        threads = num_threads if num_threads is not None else self.num_threads
        return np.asarray(self.booster_.predict(X, raw_score=True, num_threads=threads))

    def predict_proba(self, X: np.ndarray, num_threads: int | None = None) -> np.ndarray:
        """Calibrated probability of the positive class for each row."""
        return self.calibrator_.apply(self.predict_margin(X, num_threads))

    def predict_one(self, row: np.ndarray) -> float:
        """Calibrated probability for one row of features in catalog order (float64, or float32 already).

        LightGBM's single-row C route and a scalar calibration: the scoring hot path. The row
        is rounded to FEATURE_DTYPE, so the result equals `predict_proba` on the same values.
        """
        one_row = self._one_row or self._prepare_one_row()
        return self.calibrator_.apply_one(one_row.predictor.margin(np.asarray(row, dtype=FEATURE_DTYPE)))

    def explain_one(self, row: np.ndarray) -> np.ndarray:
        """Each feature's contribution to the raw score of one row (path attribution; all 0 for a constant model).

        The contributions sum to the raw score minus the trees' root values (see models/explain.py).
        """
        one_row = self._one_row or self._prepare_one_row()
        contributions, _ = one_row.explainer.contributions(np.asarray(row, dtype=FEATURE_DTYPE))  # predict_one's path
        return contributions

    def prepare_one_row(self) -> None:
        """Build what `predict_one` and `explain_one` use now, rather than on their first call.

        The explainer reads the whole model dump (a fraction of a second on a large model):
        a service prepares a model before swapping it in, so no request waits for it.
        """
        self._prepare_one_row()

    def _prepare_one_row(self) -> _OneRow:
        with _PREPARING:  # threads scoring a fresh model build it once, and publish it whole
            if self._one_row is None:
                if not hasattr(self, "booster_"):
                    raise NotFitted("this RiskModel is not fitted: call fit() or RiskModel.load()")
                n = len(self.feature_names_)
                self._one_row = _OneRow(row_predictor(self.booster_, n, FEATURE_DTYPE), PathExplainer(self.booster_, n))
            return self._one_row

    def importance(self) -> dict[str, float]:
        """Total gain per feature, as a share of the whole."""
        if self.booster_ is None:
            return dict.fromkeys(self.feature_names_, 0.0)
        gain = self.booster_.feature_importance(importance_type="gain")
        total = gain.sum() or 1.0
        return {name: float(g / total) for name, g in zip(self.feature_names_, gain, strict=True)}

    def save(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.booster_ is not None:
            self.booster_.save_model(str(directory / f"{name}.lgb.txt"))
        meta = {"params": self.get_params(), "feature_names": self.feature_names_, "pos_weight": self.pos_weight_,
                "calibrator": self.calibrator_.to_dict(), "calibration_scores": self.calibration_scores_,
                "constant": self.booster_ is None, "trees": self.trees}
        (directory / f"{name}.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, directory: Path, name: str) -> RiskModel:
        """The model `name` of a model directory; a missing or unreadable file is a DataError naming it.

        A trees file is optional only for a model saved as constant: a fitted model whose trees
        went missing would otherwise score every order with the calibrator alone (a model
        directory without its fraud trees declined 2,418 of 2,418 orders that way).
        """
        path = directory / f"{name}.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise DataError(f"{path}: missing: the {name} model is not in {directory}") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: cannot be read as the {name} model ({exc})") from None
        model = cls(**meta["params"])
        trees = directory / f"{name}.lgb.txt"
        # models saved before "constant" was recorded: only a constant model has no calibration scores
        constant = meta.get("constant", not meta.get("calibration_scores"))
        if not trees.exists() and not constant:
            raise DataError(f"{trees}: missing: the {name} model was trained with trees but its trees file is gone")
        try:
            model.booster_ = lgb.Booster(model_file=str(trees)) if trees.exists() else None
        except lgb.basic.LightGBMError as exc:
            raise DataError(f"{trees}: not a LightGBM model ({str(exc).splitlines()[0]})") from None
        model.feature_names_ = meta["feature_names"]
        model.pos_weight_ = meta["pos_weight"]
        model.calibrator_ = Calibrator.from_dict(meta["calibrator"])
        model.calibration_scores_ = meta.get("calibration_scores", {})
        return model
