"""Scoring one order: idempotency, features, both models, policy, reasons, log, state update.

The order of the steps is the service's promise:
1. an order_id already decided returns the stored decision (same body) or 409;
2. features are read from the state (degraded to the order's own fields if the state
   is unreachable, never an error);
3. the decision is written to the decision log *before* it is returned;
4. only then is the state updated, once, by the request that logged the decision.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from features.catalog import FEATURE_NAMES
from features.online import OnlineFeatures, to_us
from features.sentences import sentence
from features.state import FeatureState, StateUnavailable
from models.bundle import ModelBundle
from models.explain import PathExplainer
from models.single_row import ConstantMargin, SingleRowPredictor, row_predictor
from risk.contract import Decision, Order, Outcome, Reason, Verdict
from risk.errors import Conflict
from risk.policy import DECISION_CODES
from serve.decision_log import DecisionLog

log = logging.getLogger("risk.serve")
_SEVERITY = DECISION_CODES  # decision codes rank the decisions from the mildest
_TOP_REASONS = 3


def body_hash(order: Order, canonical: str | None = None) -> str:
    """Fingerprint of what the order says (unknown fields are not part of it: they were ignored).

    `canonical` is `order.model_dump_json()` when the caller has it already.
    """
    return hashlib.sha256((canonical or order.model_dump_json()).encode()).hexdigest()


@dataclass(frozen=True)
class Loaded:
    """A model bundle with what scoring needs prepared once (explainers), swapped as a whole on reload."""

    bundle: ModelBundle
    fraud_explainer: PathExplainer
    regret_explainer: PathExplainer
    fraud_row: SingleRowPredictor | ConstantMargin
    regret_row: SingleRowPredictor | ConstantMargin

    @classmethod
    def of(cls, bundle: ModelBundle) -> Loaded:
        n = len(bundle.fraud.feature_names_)
        return cls(bundle, PathExplainer(bundle.fraud.booster_, n), PathExplainer(bundle.regret.booster_, n),
                   row_predictor(bundle.fraud.booster_, n), row_predictor(bundle.regret.booster_, n))


@dataclass(frozen=True)
class Scored:
    decision: Decision
    replayed: bool
    json: str  # the decision as the response body (serialised once, also what the log stores)


class ScoringEngine:
    """Everything behind POST /v1/orders/score and POST /v1/outcomes."""

    def __init__(
        self,
        bundle: ModelBundle,
        state: FeatureState,
        decisions: DecisionLog,
        *,
        fallback: Verdict = "review",
        shadow: ModelBundle | None = None,
    ) -> None:
        self.loaded = Loaded.of(bundle)
        self.shadow = shadow
        self.state = state
        self.online = OnlineFeatures(state)
        self.decisions = decisions
        self.fallback = fallback
        self._history_nan = [math.nan] * (len(FEATURE_NAMES) - len(self.online.row_features))
        self._reload_lock = threading.Lock()
        # state and log in this process and on local disk: scoring never waits on a network peer
        self.in_process = state.in_process and decisions.in_process

    @property
    def model_version(self) -> str:
        return self.loaded.bundle.version

    def reload(self, bundle: ModelBundle) -> None:
        """Swap the model; requests in flight finish with the one they started with."""
        prepared = Loaded.of(bundle)
        with self._reload_lock:
            self.loaded = prepared

    def score(self, order: Order) -> Scored:
        started = time.perf_counter()
        order_json = order.model_dump_json()
        fingerprint = body_hash(order, order_json)
        stored = self.decisions.get(order.order_id)
        if stored is not None:
            return self._replay(stored, fingerprint)
        loaded = self.loaded  # one model for the whole request, even if a reload lands meanwhile
        features, writes, degraded = self._features(order)
        decision = self._decide(loaded, order, features, degraded)
        decision.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        decision_json = decision.model_dump_json()
        kept = self.decisions.record(
            order.order_id, fingerprint, order.created_at, order_json, features, decision_json,
            loaded.bundle.version, self._shadow(features),
        )
        if not kept.inserted:  # another request logged this order_id first: answer as a replay
            return self._replay(kept, fingerprint)
        if writes is not None:
            self._update_state(writes, order.order_id)
        return Scored(decision, replayed=False, json=decision_json)

    def _replay(self, stored, fingerprint: str) -> Scored:  # noqa: ANN001
        if stored.body_hash != fingerprint:
            raise Conflict(f"order_id {stored.order_id!r} was already scored with a different body")
        decision = Decision.model_validate(stored.decision)
        return Scored(decision, replayed=True, json=decision.model_dump_json())

    def _features(self, order: Order) -> tuple[list[float], object | None, bool]:
        try:
            features, writes = self.online.compute(order)
            return features, writes, False  # numbers (counts may be ints): numpy and JSON take them as they are
        except StateUnavailable as exc:
            log.warning("feature state unavailable, scoring degraded", extra={"order_id": order.order_id,
                                                                               "error": exc.message})
            return self.online.row_features_only(order) + self._history_nan, None, True

    def _decide(self, loaded: Loaded, order: Order, features: list[float], degraded: bool) -> Decision:
        bundle = loaded.bundle
        x = np.asarray(features, dtype="float64")
        fraud = bundle.fraud.calibrator_.apply_one(loaded.fraud_row.margin(x))
        regret = bundle.regret.calibrator_.apply_one(loaded.regret_row.margin(x))
        verdict = bundle.policy.decide(fraud, regret)
        if degraded and _SEVERITY[self.fallback] > _SEVERITY[verdict]:
            verdict = self.fallback
        return Decision(
            order_id=order.order_id, decision=verdict, fraud_score=fraud, regret_score=regret,
            reasons=self._reasons(loaded, x, verdict, fraud, regret, degraded), rules=[],
            model_version=bundle.version, degraded=degraded,
        )

    def _reasons(self, loaded: Loaded, x: np.ndarray, verdict: str, fraud: float, regret: float,
                 degraded: bool) -> list[Reason]:
        reasons = []
        if degraded:
            reasons.append(Reason(code="DEGRADED_HISTORY", message="order history unavailable: scored on the "
                                  f"order's own fields, fallback decision {self.fallback}"))
        if verdict == "approve":
            reasons.append(Reason(code="LOW_RISK", message=f"fraud {fraud:.2%} and regret {regret:.2%} are below "
                                  "the review thresholds"))
            return reasons
        policy = loaded.bundle.policy
        driver = "fraud" if verdict == "decline" or fraud >= policy.review_fraud else "regret"
        explainer = loaded.fraud_explainer if driver == "fraud" else loaded.regret_explainer
        contributions, _ = explainer.contributions(x)
        for index in np.argsort(-contributions)[:_TOP_REASONS]:
            if contributions[index] <= 0:
                break
            name = FEATURE_NAMES[index]
            reasons.append(Reason(code=f"{driver.upper()}:{name.upper()}", message=sentence(name, float(x[index])),
                                  feature=name, value=None if math.isnan(x[index]) else float(x[index]),
                                  contribution=round(float(contributions[index]), 4)))
        return reasons

    def _shadow(self, features: list[float]) -> dict | None:
        if self.shadow is None:
            return None
        try:
            X = np.asarray(features, dtype="float64").reshape(1, -1)
            fraud, regret = (float(p[0]) for p in self.shadow.scores(X, num_threads=1))
            return {"model_version": self.shadow.version, "fraud_score": fraud, "regret_score": regret,
                    "decision": self.shadow.policy.decide(fraud, regret)}
        except Exception:  # a challenger must never break the answer
            log.exception("shadow model failed")
            return None

    def _update_state(self, writes, order_id: str) -> None:  # noqa: ANN001
        try:
            self.state.apply(writes)
        except StateUnavailable as exc:
            # the decision is logged: the order can be replayed into the state from the log later
            log.error("state update failed after the decision was logged", extra={"order_id": order_id,
                                                                                  "error": exc.message})

    def catch_up(self, orders: list[dict], outcomes: list[Outcome]) -> tuple[int, int]:
        """Apply logged orders and outcomes the state has not seen (after a restart from a snapshot).

        Idempotent: an order the state already holds is skipped, and an outcome's label
        counts once per order whatever the number of times it is replayed.
        """
        applied = 0
        for data in orders:
            order = Order.model_validate(data)
            if self.state.order(order.order_id) is None:
                self.state.apply(self.online.writes_for(order))
                applied += 1
        fed = 0
        for outcome in outcomes:
            writes = self.online.outcome_writes(outcome.order_id, outcome.kind, to_us(outcome.reported_at))
            if writes is not None:
                self.state.apply(writes)
                fed += 1
        return applied, fed

    def record_outcomes(self, outcomes: list[Outcome]) -> int:
        """Store outcomes durably, then feed them to the label-aware features."""
        stored = self.decisions.record_outcomes([o.model_dump(mode="json") for o in outcomes])
        for outcome in outcomes:
            try:
                writes = self.online.outcome_writes(outcome.order_id, outcome.kind, to_us(outcome.reported_at))
            except StateUnavailable as exc:
                log.error("outcome not fed to the state", extra={"order_id": outcome.order_id, "error": exc.message})
                continue
            if writes is not None:
                self._update_state(writes, outcome.order_id)
        return stored
