"""The decision policy: thresholds on the two scores, and what each decision costs.

One cost model serves the optimiser (choosing thresholds on a validation slice) and
the evaluation (pricing any set of decisions against known labels), so the two can
never disagree on what a decision is worth.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np

from risk.contract import DECISIONS, Verdict
from risk.money import format_money

DECISION_CODES: dict[str, int] = {name: code for code, name in enumerate(DECISIONS)}
"""Each decision's code in arrays: its rank from the mildest (approve, 0) to the most severe."""
DECISION_NAMES = np.array(DECISIONS, dtype=object)


@dataclass(frozen=True)
class Costs:
    """What outcomes cost, in minor units of the reporting currency `currency` (USD cents by default).

    Order amounts must be converted to that currency first (`risk.money.Rates.to_minor`):
    `decision_costs` adds amounts and fees, so they must be in one currency.

    - an approved fraud loses the amount plus the chargeback fee;
    - a declined genuine order loses its margin (a share of the amount);
    - a review costs a fixed amount, catches fraud, and prevents a share of regret
      (the buyer is asked to confirm);
    - an approved regret costs the refund handling.
    """

    chargeback_fee: float = 1500.0
    margin_rate: float = 0.15
    review_cost: float = 300.0
    refund_cost: float = 800.0
    review_prevents_regret: float = 0.3
    review_capacity_per_day: float = 200.0
    currency: str = "USD"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def names(cls) -> list[str]:
        """The settings a costs section may hold."""
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Policy:
    """decline if fraud >= decline_fraud; else review if fraud >= review_fraud or regret >= review_regret."""

    decline_fraud: float = 1.0
    review_fraud: float = 1.0
    review_regret: float = 1.0

    def decide(self, fraud_score: float, regret_score: float) -> Verdict:
        if fraud_score >= self.decline_fraud:
            return "decline"
        if fraud_score >= self.review_fraud or regret_score >= self.review_regret:
            return "review"
        return "approve"

    def decide_many(self, fraud: np.ndarray, regret: np.ndarray) -> np.ndarray:
        """Decision codes (0 approve, 1 review, 2 decline) for arrays of scores."""
        flagged = (fraud >= self.review_fraud) | (regret >= self.review_regret)
        codes = np.where(flagged, DECISION_CODES["review"], DECISION_CODES["approve"])
        return np.where(fraud >= self.decline_fraud, DECISION_CODES["decline"], codes)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def decision_costs(
    codes: np.ndarray, amount: np.ndarray, is_fraud: np.ndarray, is_regret: np.ndarray, costs: Costs
) -> np.ndarray:
    """The cost of each decision (0 approve, 1 review, 2 decline) given what the order turned out to be."""
    amount = amount.astype("float64")
    genuine = ~is_fraud
    approve = np.where(is_fraud, amount + costs.chargeback_fee, np.where(is_regret, costs.refund_cost, 0.0))
    regret_after_review = costs.refund_cost * (1 - costs.review_prevents_regret)
    review = costs.review_cost + np.where(is_regret & genuine, regret_after_review, 0.0)
    decline = np.where(genuine, costs.margin_rate * amount, 0.0)
    return np.choose(codes, [approve, review, decline])


def decision_rates(codes: np.ndarray) -> dict[str, float]:
    """Share of orders per decision."""
    counts = np.bincount(codes, minlength=len(DECISIONS)) / max(len(codes), 1)
    return {name: float(counts[i]) for name, i in DECISION_CODES.items()}


NEGLIGIBLE = 1e-6
"""A probability below one in a million reads as "near zero": a calibrated score this small says
no measurable risk (the isotonic calibrator's zero level is kept in order by a tie-break of at most
1e-6, `models.calibration.TIE_BREAK`), so a threshold there reviews on practically any signal."""


def percent(probability: float, significant: int = 2) -> str:
    """A probability as a percentage with `significant` digits and never in scientific notation.

    0.45 -> "45%", 0.031 -> "3.1%", 0.00042 -> "0.042%", 9.5e-08 -> "0.0000095%", 0 -> "0%".
    The one formatter of thresholds (and the scores set beside them) in sentences, reasons and reports.
    """
    share = probability * 100
    if math.isnan(share):
        return "n/a"
    if share <= 0:
        return "0%"
    if 99.5 <= share < 100:  # "100%" would misread: as many digits as it takes to stay below it
        digits = next((d for d in range(max(significant, 4), 16) if f"{share:.{d}g}" != "100"), 16)
        return f"{share:.{digits}g}%"
    return f"{Decimal(f'{share:.{significant}g}'):f}%"


def percents_in_order(score: float, threshold: float, significant: int = 3) -> tuple[str, str]:
    """A score and its threshold as percentages whose text keeps their order.

    The score gets `significant` digits and the threshold one fewer ("Fraud 12.2%, review from
    3.1%"), with more of both while the rounded texts would compare otherwise than the values (a
    score just under its threshold never reads as equal to it).
    """
    for digits in range(significant, 17):
        said, limit = percent(score, digits), percent(threshold, max(digits - 1, 1))
        if "n/a" in (said, limit) or (_shown(said) >= _shown(limit)) == (score >= threshold):
            return said, limit
    return said, limit


def _shown(text: str) -> Decimal:
    return Decimal(text.removesuffix("%"))


def _at_least(risk: str, threshold: float) -> str:
    """`fraud >= 3.1%`, saying so when the threshold sits at practically zero."""
    near_zero = " (near zero: any fraud signal)" if risk == "fraud" else f" (near zero: any {risk} signal)"
    return f"{risk} >= {percent(threshold)}" + (near_zero if threshold < NEGLIGIBLE else "")


def rule_in_words(policy: Policy) -> str:
    """The thresholds as a sentence: "decline if fraud >= 45%; review if fraud >= 3.1% or regret >= 17%".

    The policy compares with >=, so a threshold of exactly 0 takes every order ("decline every
    order", "review every order"); a threshold above 0 but below one in a million is printed in
    full and called near zero; one above 1 never fires ("never decline", "never review").
    """
    never = 1.0  # a threshold above every probability: that branch never fires
    if policy.decline_fraud <= 0:
        return "decline every order; never review"
    decline = f"decline if {_at_least('fraud', policy.decline_fraud)}" if policy.decline_fraud <= never else \
        "never decline"
    if min(policy.review_fraud, policy.review_regret) <= 0:
        return f"{decline}; review every order" + (" not declined" if policy.decline_fraud <= never else "")
    triggers = [_at_least(risk, value) for risk, value in
                (("fraud", policy.review_fraud), ("regret", policy.review_regret))
                if value <= never and not (risk == "fraud" and value >= policy.decline_fraud)]
    review = f"review if {' or '.join(triggers)}" if triggers else "never review"
    return f"{decline}; {review}"


def policy_in_words(policy: Policy, reviews_per_day: float, cost_per_order: float, approve_all_per_order: float,
                    currency: str) -> str:
    """The policy and its expected effect in one line a risk analyst can read aloud.

    "decline if fraud >= 45%; review if fraud >= 3.1% or regret >= 17%: about 28 reviews a day,
    expected cost 45.04 USD per order vs 60.02 approving all" (costs in minor units of `currency`).
    """
    approve_all = format_money(approve_all_per_order, currency).removesuffix(f" {currency}")
    return (f"{rule_in_words(policy)}: about {reviews_per_day:,.0f} reviews a day, expected cost "
            f"{format_money(cost_per_order, currency)} per order vs {approve_all} approving all")
