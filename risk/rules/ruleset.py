"""A rule set: every active rule compiled against one list snapshot, and the precedence between them.

Precedence (README "Rules language"): approve rules (allow lists act through them)
first, then decline rules (block lists), then review rules, then the model's policy;
within an action the first rule in the set's order decides. Test-mode rules are
evaluated and reported ("test mode: ...") but never decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from risk.contract import RuleMatch, Verdict
from risk.rules import batch, online
from risk.rules.compile import CompiledRule, SlotTable, compile_rule
from risk.rules.errors import RuleError
from risk.rules.lists import ListSnapshot
from risk.rules.online import AT, RuleInputs, Test
from risk.rules.tree import Condition, InList, children

log = logging.getLogger("risk.rules")

PRECEDENCE: tuple[Verdict, ...] = ("approve", "decline", "review")
"""The order in which live rules' actions win; the model's policy comes after all of them."""


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    text: str
    mode: Literal["live", "test"] = "live"
    version: int = 0
    description: str | None = None


@dataclass(frozen=True)
class RuleSetResult:
    decision: Verdict                  # after precedence
    decided_by: str | None             # the deciding rule's id; None: the model's policy
    matches: list[RuleMatch] = field(default_factory=list)


@dataclass(frozen=True)
class BatchResult:
    decision: np.ndarray               # object array of verdicts
    decided_by: np.ndarray             # object array: rule id, or None for the model's policy
    matches: dict[str, np.ndarray]     # rule id -> bool per row (live and test-mode rules)


@dataclass(frozen=True)
class _Entry:
    spec: RuleSpec
    rule: CompiledRule
    test: Test
    probes: tuple[tuple[str, int], ...]   # (list name, slot of the value it is asked about)

    @property
    def live(self) -> bool:
        return self.spec.mode == "live"


class RuleSet:
    """Immutable once compiled; one per change of rules or lists, shared by every scoring thread."""

    EMPTY: ClassVar[RuleSet]

    def __init__(self, entries: list[_Entry], lists: ListSnapshot, readers: list[Any]) -> None:
        self.entries, self.lists, self.readers = entries, lists, readers
        self.tests = [entry.test for entry in entries]
        self.rules_version: dict[str, int] = {e.spec.rule_id: e.spec.version for e in entries}
        used = {name for e in entries for name in e.rule.lists}
        self.lists_version: dict[str, int] = {n: v for n, v in lists.versions().items() if n in used}

    @classmethod
    def compile(cls, specs: Iterable[RuleSpec], lists: ListSnapshot) -> RuleSet:
        """Every rule checked against the snapshot's lists; a RuleError naming the rule_id if one is refused."""
        kinds, slots = lists.kinds(), SlotTable()
        entries: list[_Entry] = []
        for spec in specs:
            if spec.rule_id in (e.spec.rule_id for e in entries):
                raise RuleError(0, 1, 1, f"rule {spec.rule_id!r} appears twice in the set", spec.rule_id)
            if spec.mode not in ("live", "test"):
                raise RuleError(0, 1, 1, f"rule {spec.rule_id!r}: mode is live or test, not {spec.mode!r}",
                                spec.rule_id)
            try:
                rule = compile_rule(spec.text, kinds)
            except RuleError as error:
                raise error.for_rule(spec.rule_id) from None
            test = online.compile_condition(rule.condition, slots.slot)[0]
            probes = tuple((node.list_name, slots.slot(node.operand.name)) for node in _in_lists(rule.condition))
            entries.append(_Entry(spec, rule, test, probes))
        return cls(entries, lists, slots.readers())

    # ---- one order ------------------------------------------------------------------------

    def evaluate(self, inputs: RuleInputs) -> RuleSetResult:
        """The decision after the rules, for one order; never raises (a failing rule is skipped and logged)."""
        if not self.entries:
            return RuleSetResult(inputs.model_decision, None, [])
        try:
            vals = [inputs.at_us, self.lists, *[read(inputs) for read in self.readers]]
        except Exception:
            log.exception("rule inputs unreadable for order %s; rules skipped", getattr(inputs.order, "order_id", "?"))
            return RuleSetResult(inputs.model_decision, None, [])
        hits: list[_Entry] = []
        for entry, test in zip(self.entries, self.tests, strict=True):
            try:
                if test(vals):
                    hits.append(entry)
            except Exception:
                log.exception("rule %r failed; counted as not matching", entry.spec.rule_id)
        if not hits:
            return RuleSetResult(inputs.model_decision, None, [])
        return self._result(hits, vals, inputs.model_decision)

    def _result(self, hits: list[_Entry], vals: list[Any], model_decision: Verdict) -> RuleSetResult:
        decider = _decider(hits)
        matches: list[RuleMatch] = []
        for entry in hits:
            prefix = "test mode: " if not entry.live else ("decided: " if entry is decider else "matched: ")
            action = entry.spec.description or entry.spec.text
            matches.append(RuleMatch(rule_id=entry.spec.rule_id, action=entry.rule.action, description=prefix + action))
            for name, slot in entry.probes:
                item = self._safe_first_match(name, vals[slot], vals[AT])
                if item is not None:
                    said = f"{prefix}list @{name} via rule {entry.spec.rule_id}"
                    said += f": {item.reason}" if item.reason else ""
                    matches.append(RuleMatch(rule_id=f"@{name}", action=entry.rule.action, description=said))
        if decider is None:
            return RuleSetResult(model_decision, None, matches)
        return RuleSetResult(decider.rule.action, decider.spec.rule_id, matches)

    def _safe_first_match(self, name: str, value: Any, at_us: int) -> Any:
        try:
            return self.lists.first_match(name, value, at_us)
        except Exception:
            log.exception("list %r failed", name)
            return None

    # ---- a table ------------------------------------------------------------------------

    def evaluate_batch(self, table: Mapping[str, Any], at_us: np.ndarray) -> BatchResult:
        """Every row's decision after the rules; `table` also holds model_decision (the policy's verdicts)."""
        columns = batch.Columns(table, self.lists, at_us)
        if "model_decision" not in table:
            raise ValueError("the table needs a model_decision column (the model policy's verdict per row)")
        decision = np.asarray(table["model_decision"], dtype=object).copy()
        decided_by = np.full(columns.size, None, dtype=object)
        matches = {entry.spec.rule_id: entry.rule.evaluate_batch(columns) for entry in self.entries}
        undecided = np.ones(columns.size, dtype=bool)
        for action in PRECEDENCE:
            for entry in self.entries:
                if entry.live and entry.rule.action == action:
                    take = matches[entry.spec.rule_id] & undecided
                    decision[take], decided_by[take] = action, entry.spec.rule_id
                    undecided &= ~take
        return BatchResult(decision, decided_by, matches)

    def __len__(self) -> int:
        return len(self.entries)


def _decider(hits: list[_Entry]) -> _Entry | None:
    for action in PRECEDENCE:
        for entry in hits:
            if entry.live and entry.rule.action == action:
                return entry
    return None


def _in_lists(node: Condition) -> list[InList]:
    found = [node] if isinstance(node, InList) else []
    for child in children(node):
        found += _in_lists(child)  # type: ignore[arg-type]
    return found


RuleSet.EMPTY = RuleSet([], ListSnapshot([]), [])
