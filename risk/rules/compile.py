"""compile_rule: rule text -> a CompiledRule that decides one order (online) or a table (batch).

One parse, one check, one tree; both evaluators are built from that tree, so a rule
cannot mean one thing in the service and another in a backtest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import cast

import numpy as np

from risk.contract import Verdict
from risk.rules import batch, online
from risk.rules.check import Checker
from risk.rules.errors import RuleError
from risk.rules.grammar import parse
from risk.rules.layout import Layout
from risk.rules.lists import ListKind, ListSnapshot
from risk.rules.online import RuleInputs
from risk.rules.tree import Condition, attributes_of, depth, in_lists, lists_of

log = logging.getLogger("risk.rules")


class CompiledRule:
    """One rule, checked: its action, the attributes and lists it reads, and both evaluators."""

    def __init__(self, text: str, action: Verdict, condition: Condition) -> None:
        self.text, self.action, self.condition = text, action, condition
        self.attributes: frozenset[str] = frozenset(attributes_of(condition))
        self.lists: frozenset[str] = frozenset(lists_of(condition))
        self.layout = Layout(self.attributes, [(n.list_name, n.operand.name) for n in in_lists(condition)])
        self.test = online.compile_condition(condition, self.layout)[0]

    def matches(self, inputs: RuleInputs, lists: ListSnapshot) -> bool:
        """Whether the rule's condition is definitely true for this order; never raises (logs and says no)."""
        try:
            return bool(self.test(self.layout.read(inputs, lists)))
        except Exception:
            log.exception("rule %r failed on order %s; counted as not matching", self.text,
                          getattr(inputs.order, "order_id", "?"))
            return False

    def matches_batch(self, table: Mapping[str, np.ndarray], lists: ListSnapshot, at_us: np.ndarray) -> np.ndarray:
        """Whether the rule matches each row of a table (columns by attribute), lists as of each row's at_us."""
        return self.evaluate_batch(batch.Columns(table, lists, at_us))

    def evaluate_batch(self, columns: batch.Columns) -> np.ndarray:
        """`matches_batch` on columns already converted (shared by the rules of a rule set)."""
        return batch.evaluate(self.condition, columns)[0]

    def __repr__(self) -> str:
        return f"CompiledRule({self.text!r})"


MAX_RULE_LENGTH = 10_000
MAX_DEPTH = 64
"""Nesting deeper than this is refused: evaluation recurses once per level, and no analyst needs it."""


def compile_rule(text: str, lists: Mapping[str, ListKind]) -> CompiledRule:
    """Parse and check `{action} if {condition}`; RuleError (position, line, column, reason) if it cannot be."""
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError.at(text, MAX_RULE_LENGTH, f"a rule is at most {MAX_RULE_LENGTH:,} characters")
    checker = Checker(text, lists)
    try:
        action, condition = checker.rule(parse(text))
    except RecursionError:
        raise RuleError.at(text, 0, f"the rule is nested too deeply (at most {MAX_DEPTH} levels)") from None
    if depth(condition) > MAX_DEPTH:
        raise RuleError.at(text, 0, f"the rule is nested too deeply (at most {MAX_DEPTH} levels)")
    return CompiledRule(text, cast(Verdict, action), condition)
