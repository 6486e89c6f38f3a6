"""The backtest core on a small hand-built history, every figure computed by hand below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.policy import Costs
from risk.rules import ListItem, ListSnapshot, NamedList, RuleSet, RuleSpec
from risk.rules.backtest import backtest, eventual_outcomes
from tests.risk.rules.inputs import us

DAY2 = us("2026-03-02T00:00:00+00:00")
# order: (created_at, card, amount, currency, the model's decision, eventual outcome)
HISTORY = [
    ("2026-03-01T10:00:00+00:00", "c1", 5000, "USD", "approve", "fraud"),     # c1 not listed yet
    ("2026-03-01T11:00:00+00:00", "c2", 20000, "USD", "approve", "genuine"),  # c2 listed from the start
    ("2026-03-01T12:00:00+00:00", "c3", 3000, "EUR", "review", "regret"),
    ("2026-03-02T09:00:00+00:00", "c1", 8000, "USD", "approve", "fraud"),     # c1 listed from day 2
    ("2026-03-02T10:00:00+00:00", "c1", 12000, "EUR", "approve", "unknown"),
    ("2026-03-02T11:00:00+00:00", "c4", 4000, "EUR", "decline", "fraud"),
    ("2026-03-03T08:00:00+00:00", "c2", 1500, "USD", "approve", "genuine"),
    ("2026-03-03T09:00:00+00:00", "c5", 2500, "USD", "approve", "fraud"),
]
LISTS = ListSnapshot([NamedList("bad_cards", "card_fingerprint",
                                (ListItem("c1", added_at_us=DAY2), ListItem("c2", added_at_us=0)))])
BIG = RuleSpec("big", "review if amount > 10000")
BAD = RuleSpec("bad", "decline if card_fingerprint in @bad_cards")


@pytest.fixture
def report():
    frame = pd.DataFrame(HISTORY, columns=["created_at", "payment_card_fingerprint", "amount", "currency",
                                           "model_decision", "outcome"])
    at_us = np.array([us(t) for t in frame["created_at"]])
    live, candidate = RuleSet.compile([BIG], LISTS), RuleSet.compile([BIG, BAD], LISTS)
    return backtest(frame, at_us, candidate, live, frame["outcome"].to_numpy(), frame["amount"].to_numpy(),
                    frame["currency"].to_numpy(), Costs(), rule_ids=["bad"])


def test_hits_follow_the_list_as_it_was_at_each_order(report):
    # bad: order 2 (c2), 4 and 5 (c1 from day 2), 7 (c2); order 1 is c1 before it was listed
    assert (report.orders, report.hits, report.hits_by_rule) == (8, 4, {"bad": 4})
    assert report.hits_by_day == [{"day": "2026-03-01", "orders": 3, "hits": 1},
                                  {"day": "2026-03-02", "orders": 3, "hits": 2},
                                  {"day": "2026-03-03", "orders": 2, "hits": 1}]


def test_count_and_amount_by_outcome_per_currency(report):
    assert report.by_outcome == {
        "fraud": {"count": 1, "amount": {"USD": 8000.0}},
        "regret": {"count": 0, "amount": {}},
        "genuine": {"count": 2, "amount": {"USD": 21500.0}},
        "unknown": {"count": 1, "amount": {"EUR": 12000.0}},
    }


def test_precision_over_known_hits_and_fraud_recall(report):
    assert report.precision == pytest.approx(1 / 3)    # hits with a known outcome: 2, 4, 7; fraud: 4
    assert report.fraud_recall == pytest.approx(1 / 4)  # fraud orders 1, 4, 6, 8; caught: 4


def test_overrides_against_the_live_rules(report):
    # live:      approve review review approve review decline approve approve
    # candidate: approve decline review decline decline decline decline approve
    assert report.overrides == {"changed": 4, "stricter": 4, "milder": 0,
                                "pairs": {"approve->decline": 2, "review->decline": 2}}


def test_cost_change_per_currency_under_the_model_costs(report):
    # Costs(): chargeback 1500, margin 15%, review 300, refund 800, review prevents 30% of regret
    # USD live: 6500 (1: fraud approved) + 300 (2: review) + 9500 (4: fraud approved) + 0 (7) + 4000 (8) = 20300
    # USD candidate: 6500 + 3000 (2: genuine declined) + 0 (4: declined) + 225 (7: declined) + 4000 = 13725
    # EUR: 3 (regret reviewed: 300 + 560) and 6 (fraud declined: 0) unchanged; 5 unknown is not priced
    assert report.cost == {"EUR": {"live": 860.0, "candidate": 860.0, "change": 0.0},
                           "USD": {"live": 20300.0, "candidate": 13725.0, "change": -6575.0}}
    assert report.priced_orders == 7


def test_report_is_json_ready(report):
    import json

    assert json.loads(json.dumps(report.to_dict()))["overrides"]["changed"] == 4


def test_eventual_outcomes_as_known_at_a_moment():
    orders = pd.DataFrame({"order_id": ["a", "b", "c", "d"], "created_at": pd.to_datetime(
        ["2026-01-01", "2026-01-01", "2026-03-20", "2026-03-20"], utc=True)})
    outcomes = pd.DataFrame({"order_id": ["a", "b", "d"], "kind": ["fraud_chargeback", "refund", "refund"],
                             "reported_at": pd.to_datetime(["2026-02-01", "2026-02-01", "2026-04-02"], utc=True)})
    found = eventual_outcomes(orders, outcomes, pd.Timestamp("2026-04-01", tz="UTC"))
    assert found.tolist() == ["fraud", "regret", "unknown", "unknown"]  # d's refund is reported after as_of
