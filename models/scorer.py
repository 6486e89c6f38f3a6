"""One order's feature row to a contract decision: both models, the policy, the fallback, the reasons.

The rules of online scoring live here, beside the models, so that the service only
sequences its steps (idempotency, features, this, the log, the state) and a test can
hold online decisions against batch scoring (`training/score.py`) order by order.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from features.catalog import FEATURE_NAMES
from features.sentences import order_context, sentence
from models.bundle import ModelBundle
from models.risk_model import FEATURE_DTYPE
from risk.contract import Decision, Order, Reason, Verdict
from risk.policy import DECISION_CODES, percents_in_order

log = logging.getLogger("risk.models")
TOP_REASONS = 3
"""Flagged orders are explained by at most this many features (those that pushed the score up)."""


class Scorer:
    """Decisions of one model bundle, and the scores of a shadow bundle beside it, one feature row at a time.

    Rows are float64 in catalog order (`features.catalog.FEATURE_NAMES`), as the online
    features give them. Both bundles' single-row routes are prepared when the scorer is
    built; nothing in it changes afterwards, so threads share it and a service changes
    model by swapping the whole scorer (`with_model`).
    """

    def __init__(self, bundle: ModelBundle, *, fallback: Verdict = "review", shadow: ModelBundle | None = None) -> None:
        self.bundle = bundle
        self.fallback = fallback  # the decision at least, when the order's history was unavailable
        self.shadow = shadow
        for side in (bundle, shadow):
            if side is not None:
                side.fraud.prepare_one_row()
                side.regret.prepare_one_row()

    @property
    def version(self) -> str:
        return self.bundle.version

    def with_model(self, bundle: ModelBundle) -> Scorer:
        """The same fallback and shadow around another bundle (prepared here, before anyone uses it)."""
        return Scorer(bundle, fallback=self.fallback, shadow=self.shadow)

    def decide(self, order_id: str, row: np.ndarray, *, degraded: bool = False, order: Order | None = None) -> Decision:
        """The decision for one order's features; `degraded`: history was unavailable (row features only).

        The fallback applies to a degraded order when it is more severe than the policy's verdict.
        `order`, when given, lets the reasons say its money in its currency and name its countries.
        """
        bundle = self.bundle
        seen = np.asarray(row, dtype=FEATURE_DTYPE)  # rounded once for both models; reasons quote `row`
        fraud = bundle.fraud.predict_one(seen)
        regret = bundle.regret.predict_one(seen)
        verdict: Verdict = bundle.policy.decide(fraud, regret)
        if degraded and DECISION_CODES[self.fallback] > DECISION_CODES[verdict]:
            verdict = self.fallback
        return Decision(
            order_id=order_id, decision=verdict, fraud_score=fraud, regret_score=regret,
            reasons=self._reasons(row, seen, verdict, fraud, regret, degraded, order), rules=[],
            model_version=bundle.version, degraded=degraded,
        )

    def _reasons(self, row: np.ndarray, seen: np.ndarray, verdict: Verdict, fraud: float, regret: float,
                 degraded: bool, order: Order | None = None) -> list[Reason]:
        reasons = []
        policy = self.bundle.policy
        if degraded:
            reasons.append(Reason(code="DEGRADED_HISTORY", message="Order history unavailable: scored on the "
                                  f"order's own fields, fallback decision {self.fallback}"))
        if verdict == "approve":
            fraud_said, fraud_limit = percents_in_order(fraud, policy.review_fraud)
            regret_said, regret_limit = percents_in_order(regret, policy.review_regret)
            reasons.append(Reason(code="LOW_RISK", message=f"Fraud {fraud_said} and regret {regret_said} are below the "
                                  f"review thresholds ({fraud_limit} and {regret_limit})"))
            return reasons
        # the model that drove the decision explains it: fraud for a decline or a fraud review, else regret
        driver = "fraud" if verdict == "decline" or fraud >= policy.review_fraud else "regret"
        reasons.append(self._score_reason(driver, verdict, fraud, regret))
        context = None if order is None else order_context(order)
        model = self.bundle.fraud if driver == "fraud" else self.bundle.regret
        contributions = model.explain_one(seen)
        for index in np.argsort(-contributions)[:TOP_REASONS]:
            if contributions[index] <= 0:
                break
            name = FEATURE_NAMES[index]
            value = float(row[index])
            reasons.append(Reason(code=f"{driver.upper()}:{name.upper()}", message=sentence(name, value, context),
                                  feature=name, value=None if math.isnan(value) else value,
                                  contribution=round(float(contributions[index]), 4)))
        return reasons

    def _score_reason(self, driver: str, verdict: Verdict, fraud: float, regret: float) -> Reason:
        """The score that decided, against the threshold it crossed: "Fraud 12.2%, review from 3.1%"."""
        policy = self.bundle.policy
        if driver == "fraud":
            score, threshold = fraud, policy.decline_fraud if verdict == "decline" else policy.review_fraud
        else:
            score, threshold = regret, policy.review_regret
        score_text, threshold_text = percents_in_order(score, threshold)
        said = f"{driver.capitalize()} {score_text}"
        if score < threshold:  # the fallback of an order scored without its history decided, not the score
            message = f"{said}, under the {verdict} threshold {threshold_text}: {verdict} is the fallback"
        else:
            message = f"{said}, {verdict} from {threshold_text}"
        return Reason(code=f"{driver.upper()}_SCORE", message=message, value=score)

    def shadow_scores(self, row: np.ndarray) -> dict[str, Any] | None:
        """The shadow bundle's scores and decision for the decision log (None without a shadow or if it fails)."""
        if self.shadow is None:
            return None
        try:
            seen = np.asarray(row, dtype=FEATURE_DTYPE)
            fraud, regret = self.shadow.fraud.predict_one(seen), self.shadow.regret.predict_one(seen)
            return {"model_version": self.shadow.version, "fraud_score": fraud, "regret_score": regret,
                    "decision": self.shadow.policy.decide(fraud, regret)}
        except Exception:  # a challenger must never break the answer
            log.exception("shadow model failed")
            return None
