"""A rule set's verdict applied to the model's decision: the final decision, the matches, the deciding reason.

Kept out of the engine so that it stays a sequence of steps; `apply_rules` never raises
(a rule can never make a scoring call fail): on any error the model's decision stands
and the error is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from risk.contract import Decision, Order, Reason
from risk.rules import RuleInputs, RuleSet

log = logging.getLogger("risk.serve")


def apply_rules(rules: RuleSet, decision: Decision, order: Order, features: Sequence[float], at_us: int) -> None:
    """Evaluate `rules` on the scored order and put their outcome in `decision` (in place)."""
    try:
        inputs = RuleInputs(order=order, features=features, fraud_score=decision.fraud_score,
                            regret_score=decision.regret_score, model_decision=decision.decision, at_us=at_us)
        result = rules.evaluate(inputs)
    except Exception:
        log.exception("rules failed; the model's decision stands", extra={"order_id": decision.order_id})
        return
    decision.rules = list(result.matches)
    if result.decided_by is None:
        return
    decision.decision = result.decision
    decision.reasons.insert(0, Reason(code=f"RULE:{result.decided_by}",
                                      message=f"analyst rule {result.decided_by} decided {result.decision}"))
