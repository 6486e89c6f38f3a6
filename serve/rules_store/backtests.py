"""A backtest of candidate rules against the live ones, with lists as they were at each order's moment.

Shared by `risk rules backtest` and POST /v1/rules/backtest: the lists come from the
store's item history (every span an item was in its list), the live rule set is the
store's current one, and one rule given alone is tried on top of the live set (replacing
a live rule of the same id); a whole set replaces it. The figures are
`risk.rules.backtest`'s.
"""

from __future__ import annotations

import re
from typing import Any

from risk.errors import DataError
from risk.rules import ListSnapshot, RuleError, RuleSet, RuleSpec
from risk.rules.backtest import backtest
from serve.rules_store.errors import InvalidRule
from serve.rules_store.store import RulesStore
from training.rules_backtest import BacktestData

CANDIDATE_ID = "candidate"
_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\s*:\s*(.+?)\s*$")


def parse_rules_file(text: str, source: str) -> list[RuleSpec]:
    """Rules written one per line as `rule_id: text` (blank lines and # comments skipped)."""
    specs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise DataError(f"{source} line {number}: expected `rule_id: decline if ...`")
        specs.append(RuleSpec(match.group(1), match.group(2)))
    if not specs:
        raise DataError(f"{source}: no rules")
    return specs


def candidate_specs(store: RulesStore, rule: str | None, rules: list[RuleSpec] | None, replaces: str | None = None
                    ) -> tuple[list[RuleSpec], list[str] | None]:
    """The candidate set and the rules under test: a rule alone joins the live set (as `candidate`) and is the one
    under test, in place of the live rule `replaces` if given (a stored rule's latest text against the version in
    effect); a whole set stands on its own, every rule of it under test."""
    if rules is not None:
        return rules, None
    assert rule is not None
    live = [spec for spec in store.live()[1] if spec.rule_id not in (CANDIDATE_ID, replaces)]
    return [*live, RuleSpec(CANDIDATE_ID, rule)], [CANDIDATE_ID]


def run_backtest(store: RulesStore, data: BacktestData, candidate: list[RuleSpec],
                 under_test: list[str] | None = None) -> dict[str, Any]:
    """The report (JSON-ready) of `candidate` against the live rules over `data`; hits counted for `under_test`."""
    lists = ListSnapshot(store.lists_history())
    epoch, live_specs, _ = store.live()
    live = RuleSet.compile(live_specs, lists)
    try:
        candidates = RuleSet.compile(candidate, lists)
    except RuleError as exc:
        raise InvalidRule(exc.rule_id or CANDIDATE_ID, exc.position, exc.line, exc.column, exc.reason) from None
    report = backtest(data.table, data.at_us, candidates, live, outcomes=data.outcome, amounts=data.amount,
                      currencies=data.currency, costs=data.costs, rule_ids=under_test)
    return {"orders": len(data.order_id), "store_epoch": epoch,
            "candidate": [{"rule_id": s.rule_id, "text": s.text, "mode": s.mode} for s in candidate],
            "live_rules": live.rules_version, "lists": lists.versions(), **report.to_dict()}
