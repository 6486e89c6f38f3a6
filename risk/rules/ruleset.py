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
import pandas as pd

from risk.contract import RuleMatch, Verdict
from risk.policy import DECISION_CODES, DECISION_NAMES
from risk.rules import batch, online
from risk.rules.compile import CompiledRule, compile_rule
from risk.rules.errors import RuleError
from risk.rules.layout import Layout
from risk.rules.lists import ListSnapshot
from risk.rules.online import AT, RuleInputs, Test
from risk.rules.tree import in_lists

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
    codes: np.ndarray | None = None    # the decisions as codes (risk.policy.DECISION_CODES)


@dataclass(frozen=True)
class _Entry:
    spec: RuleSpec
    rule: CompiledRule
    test: Test
    probes: tuple[tuple[str, str], ...]   # (list name, attribute) of each `x in @list`
    rank: int = field(init=False)         # its action's place in PRECEDENCE; test-mode rules after all
    said: dict[str, RuleMatch] = field(init=False)  # its match as reported, by prefix (built once, not per order)

    def __post_init__(self) -> None:
        rank = PRECEDENCE.index(self.rule.action) if self.live else len(PRECEDENCE)
        object.__setattr__(self, "rank", rank)
        text = self.spec.description or self.spec.text
        said = {prefix: RuleMatch.model_construct(rule_id=self.spec.rule_id, action=self.rule.action,
                                                  description=prefix + text)
                for prefix in ("test mode: ", "decided: ", "matched: ")}
        object.__setattr__(self, "said", said)

    @property
    def live(self) -> bool:
        return self.spec.mode == "live"

    def prefix(self, decider: _Entry | None) -> str:
        return "test mode: " if not self.live else ("decided: " if self is decider else "matched: ")


class RuleSet:
    """Immutable once compiled; one per change of rules or lists, shared by every scoring thread."""

    EMPTY: ClassVar[RuleSet]

    def __init__(self, entries: list[_Entry], lists: ListSnapshot, layout: Layout) -> None:
        self.entries, self.lists, self.layout = entries, lists, layout
        self.tests = [entry.test for entry in entries]
        self.failures: dict[str, int] = {}  # rule id -> evaluations that raised (counted, not locked: a log hint)
        self.rules_version: dict[str, int] = {e.spec.rule_id: e.spec.version for e in entries}
        used = {name for e in entries for name in e.rule.lists}
        self.lists_version: dict[str, int] = {n: v for n, v in lists.versions().items() if n in used}

    @classmethod
    def compile(cls, specs: Iterable[RuleSpec], lists: ListSnapshot) -> RuleSet:
        """Every rule checked against the snapshot's lists; a RuleError naming the rule_id if one is refused."""
        kinds = lists.kinds()
        compiled: list[tuple[RuleSpec, CompiledRule]] = []
        seen: set[str] = set()
        for spec in specs:
            if spec.rule_id in seen:
                raise RuleError(0, 1, 1, f"rule {spec.rule_id!r} appears twice in the set", spec.rule_id)
            if spec.mode not in ("live", "test"):
                raise RuleError(0, 1, 1, f"rule {spec.rule_id!r}: mode is live or test, not {spec.mode!r}",
                                spec.rule_id)
            try:
                rule = compile_rule(spec.text, kinds)
            except RuleError as error:
                raise error.for_rule(spec.rule_id) from None
            compiled.append((spec, rule))
            seen.add(spec.rule_id)
        probes = {rule: tuple((n.list_name, n.operand.name) for n in in_lists(rule.condition)) for _, rule in compiled}
        layout = Layout({a for _, rule in compiled for a in rule.attributes}, [p for ps in probes.values() for p in ps])
        entries = [_Entry(spec, rule, online.compile_condition(rule.condition, layout)[0], probes[rule])
                   for spec, rule in compiled]
        return cls(entries, lists, layout)

    # ---- one order ------------------------------------------------------------------------

    def evaluate(self, inputs: RuleInputs) -> RuleSetResult:
        """The decision after the rules, for one order; never raises (a failing rule is skipped and logged)."""
        if not self.entries:
            return RuleSetResult(inputs.model_decision, None, [])
        try:
            vals = self.layout.read(inputs, self.lists)
        except Exception:
            log.exception("rule inputs unreadable for order %s; rules skipped", getattr(inputs.order, "order_id", "?"))
            return RuleSetResult(inputs.model_decision, None, [])
        hits: list[_Entry] = []
        for entry, test in zip(self.entries, self.tests, strict=True):
            try:
                if test(vals):
                    hits.append(entry)
            except Exception:
                self._failed(entry.spec.rule_id)
        if not hits:
            return RuleSetResult(inputs.model_decision, None, [])
        return self._result(hits, vals, inputs.model_decision)

    def _result(self, hits: list[_Entry], vals: list[Any], model_decision: Verdict) -> RuleSetResult:
        decider = _decider(hits)
        matches: list[RuleMatch] = []
        for entry in hits:
            prefix = entry.prefix(decider)
            matches.append(entry.said[prefix])
            for name, attribute in entry.probes:
                if vals[self.layout.probe(name, attribute)] is not True:
                    continue
                item = self._safe_first_match(name, vals[self.layout.slot(attribute)], vals[AT])
                if item is not None:
                    said = f"{prefix}list @{name} via rule {entry.spec.rule_id}"
                    said += f": {item.reason}" if item.reason else ""
                    matches.append(RuleMatch.model_construct(rule_id=f"@{name}", action=entry.rule.action,
                                                             description=said))
        if decider is None:
            return RuleSetResult(model_decision, None, matches)
        return RuleSetResult(decider.rule.action, decider.spec.rule_id, matches)

    def _failed(self, rule_id: str) -> None:
        """Log a failing rule with its traceback the 1st, 10th, 100th... time: a broken rule must not flood the log."""
        count = self.failures[rule_id] = self.failures.get(rule_id, 0) + 1
        if str(count).rstrip("0") == "1":  # 1, 10, 100, ...
            log.exception("rule %r failed (%d times in this rule set); counted as not matching", rule_id, count)

    def _safe_first_match(self, name: str, value: Any, at_us: int) -> Any:
        try:
            return self.lists.first_match(name, value, at_us)
        except Exception:
            log.exception("list %r failed", name)
            return None

    # ---- a table ------------------------------------------------------------------------

    def evaluate_batch(self, table: Mapping[str, Any] | pd.DataFrame, at_us: np.ndarray) -> BatchResult:
        """Every row's decision after the rules; `table` also holds model_decision (the policy's verdicts)."""
        columns = batch.Columns(table, self.lists, at_us)
        if "model_decision" not in table:
            raise ValueError("the table needs a model_decision column (the model policy's verdict per row)")
        codes = decision_codes(table["model_decision"])
        decided_by = np.full(columns.size, None, dtype=object)
        matches = {entry.spec.rule_id: entry.rule.evaluate_batch(columns) for entry in self.entries}
        undecided = np.ones(columns.size, dtype=bool)
        for action in PRECEDENCE:
            for entry in self.entries:
                if entry.live and entry.rule.action == action:
                    take = matches[entry.spec.rule_id] & undecided
                    codes[take], decided_by[take] = DECISION_CODES[action], entry.spec.rule_id
                    undecided &= ~take
        return BatchResult(DECISION_NAMES[codes], decided_by, matches, codes)

    def __len__(self) -> int:
        return len(self.entries)


def decision_codes(decisions: Any) -> np.ndarray:
    """Verdicts as codes (approve 0, review 1, decline 2): each distinct value looked up once (pd.factorize).

    Comparing a million objects three times, or pandas' map, took 0.2-0.3 s per call.
    """
    codes, names = pd.factorize(np.asarray(decisions, dtype=object))
    unknown = [str(n) for n in names if n not in DECISION_CODES]
    if unknown or (codes < 0).any():
        raise ValueError(f"model_decision holds values other than approve, review, decline: {unknown[:3] or ['null']}")
    return np.array([DECISION_CODES[n] for n in names], dtype="int64")[codes] if len(names) else codes.astype("int64")


def _decider(hits: list[_Entry]) -> _Entry | None:
    """The first live rule of the most preceding action among those that matched."""
    best = min(hits, key=lambda entry: entry.rank)  # min keeps the first of equals: the set's order
    return best if best.live else None


RuleSet.EMPTY = RuleSet([], ListSnapshot([]), Layout([]))
