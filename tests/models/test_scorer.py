"""The Scorer turns one feature row into a decision: policy, fallback when degraded, reasons, shadow scores."""

from __future__ import annotations

import dataclasses
import logging
import re

import numpy as np
import pytest

from features.catalog import FEATURE_NAMES
from features.sentences import sentence
from models.bundle import ModelBundle
from models.risk_model import RiskModel
from models.scorer import TOP_REASONS, Scorer
from risk.policy import Costs, Policy, percent

CARDS = FEATURE_NAMES.index("distinct_cards_by_device_1h")  # drives fraud here
VIEW = FEATURE_NAMES.index("view_to_buy_seconds")  # drives regret here (quick buys)


def bundle(version: str, seed: int = 1) -> ModelBundle:
    """Both models on synthetic rows in catalog order, with thresholds that flag the obvious rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, len(FEATURE_NAMES)))
    X[:, CARDS] = rng.integers(1, 8, 3000)
    X[:, VIEW] = rng.uniform(1, 600, 3000)
    fraud = (X[:, CARDS] >= 5) & (rng.random(3000) < 0.6)
    regret = (X[:, VIEW] < 30) & (rng.random(3000) < 0.6)
    X[regret & (rng.random(3000) < 0.5), VIEW] = np.nan  # an unknown view time is a sign of regret here
    models = []
    for y in (fraud, regret):
        model = RiskModel(n_estimators=30, num_leaves=7, min_child_samples=20, num_threads=1)
        models.append(model.fit(X[:2000], y[:2000], X_valid=X[2000:], y_valid=y[2000:],
                                feature_names=list(FEATURE_NAMES)))
    policy = Policy(decline_fraud=0.5, review_fraud=0.3, review_regret=0.3)
    return ModelBundle(models[0], models[1], policy, Costs(), {"version": version})


def row(cards: float = 1.0, view: float = 300.0) -> np.ndarray:
    values = np.zeros(len(FEATURE_NAMES))
    values[CARDS], values[VIEW] = cards, view
    return values


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(bundle("m1"))


@pytest.fixture(scope="module")
def shadow() -> ModelBundle:
    return bundle("m2", seed=2)


def test_a_quiet_order_is_approved_with_low_risk_as_its_reason(scorer):
    decision = scorer.decide("o-1", row())
    assert decision.decision == "approve" and decision.model_version == "m1" and not decision.degraded
    assert [r.code for r in decision.reasons] == ["LOW_RISK"]
    assert decision.reasons[0].message == (f"Fraud {percent(decision.fraud_score, 3)} and regret "
                                           f"{percent(decision.regret_score, 3)} are below the review thresholds "
                                           "(30% and 30%)")


def test_a_threshold_at_the_calibrators_zero_level_reads_as_a_plain_percentage_above_the_score(scorer):
    quiet = scorer.decide("o-0", row())
    near_zero = quiet.fraud_score * 1.0001  # just above this order's score: it stays approved
    policy = Policy(decline_fraud=0.5, review_fraud=near_zero, review_regret=0.9)
    decision = Scorer(dataclasses.replace(scorer.bundle, policy=policy)).decide("o-0", row())
    message = decision.reasons[0].message
    assert decision.decision == "approve" and "e-" not in message and "0.00%" not in message
    shown = re.fullmatch(r"Fraud ([0-9.]+)% and regret [0-9.]+% are below the review thresholds \(([0-9.]+)% and 90%\)",
                         message)
    assert shown is not None, message
    assert float(shown[1]) < float(shown[2])  # the text keeps the order of the values, however close they are


def test_scores_are_the_bundles_calibrated_probabilities(scorer):
    x = row(cards=6)
    fraud, regret = scorer.bundle.scores(x.reshape(1, -1))
    decision = scorer.decide("o-2", x)
    assert decision.fraud_score == pytest.approx(fraud[0], rel=1e-12)
    assert decision.regret_score == pytest.approx(regret[0], rel=1e-12)


def test_a_declined_order_is_explained_by_the_fraud_models_top_contributions(scorer):
    x = row(cards=7)
    decision = scorer.decide("o-3", x)
    assert decision.decision == "decline"
    contributions = scorer.bundle.fraud.explain_one(x)
    top = [i for i in np.argsort(-contributions)[:TOP_REASONS] if contributions[i] > 0]
    score, *factors = decision.reasons
    assert score.code == "FRAUD_SCORE"
    assert score.message == f"Fraud {percent(decision.fraud_score, 3)}, decline from 50%"
    assert [r.code for r in factors] == [f"FRAUD:{FEATURE_NAMES[i].upper()}" for i in top]
    first = factors[0]
    assert first.code == "FRAUD:DISTINCT_CARDS_BY_DEVICE_1H"
    assert first.message == sentence("distinct_cards_by_device_1h", 7.0)
    assert first.message == "7 cards used with this device in the last hour"
    assert first.feature == "distinct_cards_by_device_1h" and first.value == 7.0
    assert first.contribution == round(float(contributions[CARDS]), 4) > 0


def test_a_regret_review_is_explained_by_the_regret_model(scorer):
    decision = scorer.decide("o-4", row(view=5))
    assert decision.decision == "review" and decision.fraud_score < scorer.bundle.policy.review_fraud
    score, *factors = decision.reasons
    assert score.code == "REGRET_SCORE"
    assert score.message == f"Regret {percent(decision.regret_score, 3)}, review from 30%"
    assert factors[0].code == "REGRET:VIEW_TO_BUY_SECONDS"
    assert all(r.code.startswith("REGRET:") for r in factors)


def test_an_unknown_value_is_said_unknown_and_carries_no_value(scorer):
    reason = scorer.decide("o-5", row(view=np.nan)).reasons[1]
    assert reason.code == "REGRET:VIEW_TO_BUY_SECONDS" and reason.value is None
    assert reason.message == sentence("view_to_buy_seconds", np.nan) == "View to buy seconds: unknown"


def test_a_degraded_order_gets_the_fallback_when_it_is_more_severe(scorer):
    decision = Scorer(scorer.bundle, fallback="review").decide("o-6", row(), degraded=True)
    assert decision.decision == "review" and decision.degraded
    assert decision.reasons[0].code == "DEGRADED_HISTORY"
    assert decision.reasons[0].message == ("Order history unavailable: scored on the order's own fields, "
                                           "fallback decision review")
    assert decision.reasons[1].message == (f"Regret {percent(decision.regret_score, 3)}, under the review threshold "
                                           "30%: review is the fallback")  # the fallback decided, not a score
    declined = Scorer(scorer.bundle, fallback="review").decide("o-7", row(cards=7), degraded=True)
    assert declined.decision == "decline"  # the more severe wins
    approved = Scorer(scorer.bundle, fallback="approve").decide("o-8", row(), degraded=True)
    assert approved.decision == "approve" and [r.code for r in approved.reasons] == ["DEGRADED_HISTORY", "LOW_RISK"]


def test_the_shadow_bundle_is_scored_beside_and_never_answers(scorer, shadow):
    with_shadow = Scorer(scorer.bundle, shadow=shadow)
    x = row(cards=6)
    scores = with_shadow.shadow_scores(x)
    fraud, regret = shadow.scores(x.reshape(1, -1))
    assert scores is not None and scores["model_version"] == "m2"
    assert scores["fraud_score"] == pytest.approx(fraud[0], rel=1e-12)
    assert scores["regret_score"] == pytest.approx(regret[0], rel=1e-12)
    assert scores["decision"] == shadow.policy.decide(scores["fraud_score"], scores["regret_score"])
    assert with_shadow.decide("o-9", x) == scorer.decide("o-9", x)
    assert scorer.shadow_scores(x) is None


def test_a_failing_shadow_is_logged_and_skipped(scorer, shadow, caplog):
    with_shadow = Scorer(scorer.bundle, shadow=shadow)
    with caplog.at_level(logging.ERROR, logger="risk.models"):
        assert with_shadow.shadow_scores(np.zeros(3)) is None  # a row of the wrong size makes it fail
    assert "shadow model failed" in caplog.text


def test_another_model_keeps_the_fallback_and_the_shadow(scorer, shadow):
    first = Scorer(scorer.bundle, fallback="decline", shadow=shadow)
    second = first.with_model(bundle("m3", seed=3))
    assert second.version == "m3" and second.fallback == "decline" and second.shadow is shadow
    assert second.decide("o-10", row(), degraded=True).decision == "decline"


def test_reasons_say_money_in_the_orders_currency_and_name_mismatched_countries(scorer, monkeypatch):
    from risk.contract import Order
    from tests.builders import make_order

    amount, mismatch = FEATURE_NAMES.index("amount"), FEATURE_NAMES.index("ip_country_differs_card")
    pushes = np.zeros(len(FEATURE_NAMES))
    pushes[amount], pushes[mismatch] = 0.5, 0.4  # these two drive the fraud score here
    monkeypatch.setattr(scorer.bundle.fraud, "explain_one", lambda seen: pushes)
    x = row(cards=7)
    x[amount], x[mismatch] = 4999.0, 1.0
    order = Order.model_validate(make_order(amount=4999, currency="JPY", **{"session.ip_country": "NG",
                                                                             "payment.card_country": "US"}))

    said = [r.message for r in scorer.decide("o-9", x, order=order).reasons[1:]]
    assert said == ["Amount 4,999 JPY", "IP in Nigeria (NG), card issued in United States (US)"]
    assert [r.message for r in scorer.decide("o-9", x).reasons[1:]] == [  # without the order: no currency, no names
        "Amount 49.99", "IP country differs from the card's country"]
