"""The decision policy: thresholds on the two scores, and what each decision costs.

One cost model serves the optimiser (choosing thresholds on a validation slice) and
the evaluation (pricing any set of decisions against known labels), so the two can
never disagree on what a decision is worth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from risk.contract import DECISIONS, Verdict

DECISION_CODES: dict[str, int] = {name: code for code, name in enumerate(DECISIONS)}
"""Each decision's code in arrays: its rank from the mildest (approve, 0) to the most severe."""
DECISION_NAMES = np.array(DECISIONS, dtype=object)


@dataclass(frozen=True)
class Costs:
    """What outcomes cost, in the orders' minor units (amounts are in cents).

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

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


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
