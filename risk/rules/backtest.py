"""The backtest core: what a candidate rule set would have done to past orders, against the live one.

Pure and vectorised: both rule sets decide every order of a table at once (lists as of
each order's own moment, through the batch evaluator), and the report compares the
two. Decisions are priced with risk.policy.decision_costs, the cost model the policy
optimiser and `risk evaluate` use, per currency (amounts in different currencies are
never added together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from risk.labels import DEFAULT_MATURITY, labels_as_of
from risk.policy import DECISION_CODES, Costs, decision_costs
from risk.rules.ruleset import RuleSet

OUTCOMES = ("fraud", "regret", "genuine", "unknown")
DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class BacktestReport:
    """What the candidate would have changed; `to_dict()` is JSON-ready (the API returns it)."""

    orders: int
    hits: int                                   # orders matched by a rule under test
    hits_by_rule: dict[str, int]
    hits_by_day: list[dict[str, Any]]           # {"day": "2026-01-02", "orders": n, "hits": h}
    by_outcome: dict[str, dict[str, Any]]       # outcome -> {"count": n, "amount": {currency: minor units}}
    precision: float | None                     # fraud among hits whose outcome is known
    fraud_recall: float | None                  # fraud hits among all fraud orders
    overrides: dict[str, Any]                   # changed, stricter, milder, pairs {"approve->decline": n}
    cost: dict[str, dict[str, float]]           # currency -> live, candidate, change (candidate - live)
    priced_orders: int                          # orders with a known outcome (the only ones priced)
    costs: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders, "hits": self.hits, "hits_by_rule": self.hits_by_rule,
            "hits_by_day": self.hits_by_day, "by_outcome": self.by_outcome, "precision": self.precision,
            "fraud_recall": self.fraud_recall, "overrides": self.overrides, "cost": self.cost,
            "priced_orders": self.priced_orders, "costs": self.costs,
        }


def backtest(table: Mapping[str, Any] | pd.DataFrame, at_us: np.ndarray, candidate: RuleSet, live: RuleSet,
             outcomes: np.ndarray, amounts: np.ndarray, currencies: np.ndarray, costs: Costs,
             rule_ids: Iterable[str] | None = None) -> BacktestReport:
    """Replay `candidate` and `live` over the table's orders and compare.

    `candidate` is the whole rule set as it would be (to try one new rule: the live
    rules plus it); `rule_ids` are the rules under test whose hits are counted (default:
    every rule of the candidate). `outcomes` holds each order's eventual outcome, one of
    fraud, regret, genuine, unknown (see `eventual_outcomes`); only orders with a known
    outcome are priced. The table needs model_decision (the policy's verdict per order).
    """
    at_us = np.asarray(at_us, dtype="int64")
    outcomes = np.asarray(outcomes, dtype=object)
    amounts = np.asarray(amounts, dtype="float64")
    currencies = np.asarray(currencies, dtype=object)
    _check(len(at_us), outcomes, amounts, currencies)
    tried = candidate.evaluate_batch(table, at_us)
    current = live.evaluate_batch(table, at_us)
    under_test = list(rule_ids) if rule_ids is not None else list(tried.matches)
    unknown = [r for r in under_test if r not in tried.matches]
    if unknown:
        raise ValueError(f"rule(s) under test not in the candidate set: {', '.join(unknown)}")
    hit = np.zeros(len(at_us), dtype=bool)
    for rule_id in under_test:
        hit |= tried.matches[rule_id]
    is_fraud, known = outcomes == "fraud", outcomes != "unknown"
    fraud_total = int(is_fraud.sum())
    known_hits = int((hit & known).sum())
    return BacktestReport(
        orders=len(at_us),
        hits=int(hit.sum()),
        hits_by_rule={rule_id: int(tried.matches[rule_id].sum()) for rule_id in under_test},
        hits_by_day=_by_day(at_us, hit),
        by_outcome={kind: _count_and_amount(hit & (outcomes == kind), amounts, currencies) for kind in OUTCOMES},
        precision=int((hit & is_fraud).sum()) / known_hits if known_hits else None,
        fraud_recall=int((hit & is_fraud).sum()) / fraud_total if fraud_total else None,
        overrides=_overrides(current.codes, tried.codes),
        cost=_cost(current.codes, tried.codes, outcomes, amounts, currencies, costs),
        priced_orders=int(known.sum()),
        costs=costs.to_dict(),
    )


def eventual_outcomes(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp,
                      maturity: timedelta = DEFAULT_MATURITY) -> np.ndarray:
    """Each order's outcome as known at `as_of` (risk.labels): fraud, regret, genuine, or unknown while unlabelled."""
    labels = labels_as_of(orders, outcomes, as_of, maturity)
    result = np.full(len(orders), "unknown", dtype=object)
    labelled = labels["labelled"].to_numpy(dtype=bool)
    fraud = labels["fraud"].fillna(0).to_numpy(dtype=bool)
    regret = labels["regret"].fillna(0).to_numpy(dtype=bool)
    result[labelled] = "genuine"
    result[labelled & regret] = "regret"
    result[labelled & fraud] = "fraud"
    return result


def _check(size: int, *arrays: np.ndarray) -> None:
    for array in arrays:
        if len(array) != size:
            raise ValueError(f"backtest arrays are not aligned: {len(array)} values for {size} orders")
    bad = set(pd.unique(arrays[0])) - set(OUTCOMES)
    if bad:
        raise ValueError(f"outcomes are {', '.join(OUTCOMES)}; got {sorted(map(str, bad))[:3]}")


def _by_day(at_us: np.ndarray, hit: np.ndarray) -> list[dict[str, Any]]:
    days, index = np.unique(at_us // DAY_US, return_inverse=True)
    orders = np.bincount(index, minlength=len(days))
    hits = np.bincount(index, weights=hit, minlength=len(days))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [{"day": (epoch + timedelta(days=int(day))).date().isoformat(), "orders": int(n), "hits": int(h)}
            for day, n, h in zip(days, orders, hits, strict=True)]


def _per_currency(values: np.ndarray, currencies: np.ndarray) -> dict[str, float]:
    """Sums per currency (never across currencies), sorted by currency code."""
    if not len(values):
        return {}
    codes, names = pd.factorize(np.asarray(currencies, dtype=object), sort=True)
    sums = np.bincount(codes, weights=np.asarray(values, dtype="float64"), minlength=len(names))
    return {str(name): float(total) for name, total in zip(names, sums, strict=True)}


def _count_and_amount(mask: np.ndarray, amounts: np.ndarray, currencies: np.ndarray) -> dict[str, Any]:
    return {"count": int(mask.sum()), "amount": _per_currency(amounts[mask], currencies[mask])}


def _overrides(before_codes: Any, after_codes: Any) -> dict[str, Any]:
    names = list(DECISION_CODES)  # by code: approve 0, review 1, decline 2
    changed = before_codes != after_codes
    pair_counts = np.bincount(before_codes[changed] * len(names) + after_codes[changed], minlength=len(names) ** 2)
    pairs = {f"{names[i // len(names)]}->{names[i % len(names)]}": int(n) for i, n in enumerate(pair_counts) if n}
    return {"changed": int(changed.sum()), "stricter": int((after_codes > before_codes).sum()),
            "milder": int((after_codes < before_codes).sum()), "pairs": pairs}


def _cost(before: Any, after: Any, outcomes: np.ndarray, amounts: np.ndarray,
          currencies: np.ndarray, costs: Costs) -> dict[str, dict[str, float]]:
    known = outcomes != "unknown"
    is_fraud, is_regret = outcomes[known] == "fraud", outcomes[known] == "regret"
    live = decision_costs(before[known], amounts[known], is_fraud, is_regret, costs)
    tried = decision_costs(after[known], amounts[known], is_fraud, is_regret, costs)
    live_sums, tried_sums = _per_currency(live, currencies[known]), _per_currency(tried, currencies[known])
    return {currency: {"live": live_sums[currency], "candidate": tried_sums[currency],
                       "change": tried_sums[currency] - live_sums[currency]} for currency in live_sums}
