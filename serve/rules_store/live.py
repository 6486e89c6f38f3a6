"""Live pick-up: each scoring process polls the store's change counter and swaps in a rebuilt rule set.

Why a poll: one indexed one-row SELECT every `interval_s` (0.25 s by default) per process
is cheap on SQLite and PostgreSQL alike, needs no notification channel, and works for any
number of processes sharing the database. When the epoch moves, the rules and lists are
read from one snapshot and compiled here, off the request path; the engine then swaps one
reference (`ScoringEngine.use_rules`), so a request sees either the old set or the new one.
A store that cannot be read or a set that does not compile keeps the set in effect (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from risk.rules import ListSnapshot, RuleError, RuleSet
from serve.periodic import PeriodicJob
from serve.rules_store.store import RulesStore

log = logging.getLogger("risk.serve")


@dataclass(frozen=True)
class ActiveRules:
    """A compiled rule set and the store epoch it was built from (what the decision log records)."""

    epoch: int | None
    rules: RuleSet

    @property
    def empty(self) -> bool:
        return not self.rules.rules_version


NO_RULES = ActiveRules(None, RuleSet.EMPTY)


def build_active(store: RulesStore) -> ActiveRules:
    """The rules in effect now, compiled; raises what the store raises.

    Every stored rule compiled when it was saved; should one no longer compile (a newer
    version of the language, say), it alone is left out and logged: the others act.
    """
    epoch, specs, lists = store.live()
    snapshot = ListSnapshot(lists)
    while True:
        try:
            return ActiveRules(epoch, RuleSet.compile(specs, snapshot))
        except RuleError as exc:
            if exc.rule_id is None or not any(spec.rule_id == exc.rule_id for spec in specs):
                raise
            log.error("rule %s left out of the rules in effect: %s", exc.rule_id, exc)
            specs = [spec for spec in specs if spec.rule_id != exc.rule_id]


class RulesWatcher:
    """Keeps `use(active)` fed with the store's current rules; `job` polls in the thread "rules-watch"."""

    def __init__(self, store: RulesStore, use: Callable[[ActiveRules], None], *, interval_s: float = 0.25) -> None:
        self.store, self.use = store, use
        self.epoch: int | None = None
        # a failing store or rule set stops neither the watcher nor scoring: the set in effect stays
        self.job = PeriodicJob("rules-watch", self.refresh, interval_s,
                               failure=lambda: f"rules refresh failed; keeping epoch {self.epoch}")

    def refresh(self) -> bool:
        """Rebuild if the store changed since the last build; True if a new set was swapped in."""
        epoch = self.store.epoch()
        if epoch == self.epoch:
            return False
        active = build_active(self.store)
        self.use(active)
        self.epoch = active.epoch
        log.info("rules in effect: epoch %s, %d rule(s)", active.epoch, len(active.rules.rules_version))
        return True

