"""Replaying into the feature state what the decision log holds and the state missed.

Two ways a shared state (Redis) misses orders, and one answer to both: read the
decision log and apply what the state does not hold, in time order.
- A replica scored orders while the state was unreachable (degraded decisions), or
  logged an order or outcome whose state writes then failed: the engine notes when
  (`ScoringEngine.unapplied_since`), and once the state answers again the log is
  replayed from a little before that moment, so their velocity is not lost.
- The state lost its history (a Redis restarted without its data, or a new key layout
  version starts empty): its completeness marker is gone, and the whole log is replayed.
Replays are idempotent and safe beside live scoring and other replicas' replays: the
state skips an order it already holds (atomically, in the same script that writes it)
and counts an outcome's label once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from features.loading import History, Loaded, load_history
from features.state import StateUnavailable
from risk.contract import Order
from serve.decision_log import DecisionLogUnavailable
from serve.engine import ScoringEngine
from serve.periodic import PeriodicJob

log = logging.getLogger("risk.serve")

# recorded_at is the recording replica's clock: a margin covers clock skew between replicas and the
# requests that were between their log write and their state write when the outage was noticed
REPLAY_MARGIN = timedelta(seconds=10)


@dataclass(frozen=True)
class Repair:
    """What one repair did: from when the log was replayed (None: all of it) and what it wrote."""

    since: datetime | None
    loaded: Loaded


class StateRepair:
    """Checks every `interval_s` whether the state misses logged orders, and replays them when it answers.

    `job` runs it in the thread "state-repair".
    """

    def __init__(self, engine: ScoringEngine, interval_s: float = 1.0) -> None:
        self.engine = engine
        self.job = PeriodicJob("state-repair", self.run_once, interval_s,
                               failure="feature state repair failed; trying again")

    def run_once(self) -> Repair | None:
        """Replay what the state misses, if anything and if it answers now; what was done (None: nothing)."""
        engine = self.engine
        pending = engine.unapplied_since
        try:
            complete = engine.state.complete()
        except StateUnavailable:
            return None  # still away: the next round tries again
        if pending is None and complete:
            return None
        engine.unapplied_since = None  # taken: a failure from now on notes itself again
        since = pending - REPLAY_MARGIN if complete and pending is not None else None
        try:
            orders, outcomes = engine.decisions.read_since(since)
            history = History.from_log((Order.model_validate(order) for order in orders), outcomes)
            loaded = load_history(history, engine.state)
            if not complete:
                engine.state.mark_complete()
        except (StateUnavailable, DecisionLogUnavailable):
            self._keep_pending(pending)
            raise
        log.info("feature state repaired from the decision log", extra={
            "since": since.isoformat() if since else "the beginning", "orders": loaded.orders,
            "outcomes": loaded.outcomes, "already_held": loaded.skipped})
        return Repair(since, loaded)

    def _keep_pending(self, pending: datetime | None) -> None:
        """A replay that failed half-way is done again from the same moment (or earlier) next time."""
        noted = self.engine.unapplied_since
        if pending is not None:
            self.engine.unapplied_since = pending if noted is None else min(noted, pending)

