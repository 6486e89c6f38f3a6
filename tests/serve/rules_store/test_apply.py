"""A rule set's verdict applied to the model's decision; a failing rule set never fails the scoring call."""

from __future__ import annotations

from risk.contract import Decision, Order
from risk.rules import ListSnapshot, RuleSet, RuleSpec
from serve.rules_store.apply import apply_rules
from tests.builders import make_order

ORDER = Order.model_validate(make_order())
AT = 1_800_000_000_000_000


def _decision(verdict: str = "review") -> Decision:
    return Decision(order_id=ORDER.order_id, decision=verdict, fraud_score=0.2, regret_score=0.1, model_version="m")


def _rules(*texts: str, mode: str = "live") -> RuleSet:
    return RuleSet.compile([RuleSpec(f"r{i}", t, mode) for i, t in enumerate(texts)], ListSnapshot([]))


def test_the_deciding_rule_sets_the_decision_and_leads_the_reasons() -> None:
    decision = _decision("review")

    apply_rules(_rules("approve if amount > 1", "decline if amount > 1"), decision, ORDER, [], AT)

    assert decision.decision == "approve"  # approve rules come first
    assert decision.reasons[0].code == "RULE:r0"
    assert [(m.rule_id, m.description.split(":")[0]) for m in decision.rules] == [("r0", "decided"),
                                                                                 ("r1", "matched")]


def test_test_mode_matches_are_reported_without_changing_the_decision() -> None:
    decision = _decision("review")

    apply_rules(_rules("decline if amount > 1", mode="test"), decision, ORDER, [], AT)

    assert decision.decision == "review" and decision.reasons == []
    assert decision.rules[0].description.startswith("test mode:")


def test_a_rule_set_that_raises_leaves_the_models_decision_untouched() -> None:
    class Broken(RuleSet):
        def __init__(self) -> None:
            pass

        def evaluate(self, inputs):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    decision = _decision("review")

    apply_rules(Broken(), decision, ORDER, [], AT)

    assert decision == _decision("review")
