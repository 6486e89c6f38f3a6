"""Scoring one order: idempotency, features, the scorer, the decision log, the state update.

The engine only sequences; what a decision is (both models, policy, fallback, reasons)
is the scorer's (models/scorer.py). The order of the steps is the service's promise:
1. an order_id already decided returns the stored decision (same body) or 409;
2. features are read from the state (degraded to the order's own fields if the state
   is unreachable, never an error);
3. the decision is written to the decision log *before* it is returned (a `review`
   opens a review in the same transaction: serve/reviews);
4. only then is the state updated, once, by the request that logged it.
An order or outcome logged without its state writes (the state was unreachable) is
noted in `unapplied_since`, and `serve.state_repair` replays it from the log once the
state answers again.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from features.catalog import FEATURE_NAMES
from features.online import OnlineFeatures, to_us
from features.state import FeatureState, StateUnavailable, Writes
from models.bundle import ModelBundle
from models.scorer import Scorer
from risk.contract import Decision, Order, Outcome, Verdict
from risk.errors import Conflict
from serve.decision_log import DecisionLog, StoredDecision
from serve.decision_log.schema import entity_values
from serve.reviews.opening import ReviewOpener
from serve.rules_store.apply import apply_rules
from serve.rules_store.live import NO_RULES, ActiveRules

log = logging.getLogger("risk.serve")


def body_hash(order: Order, canonical: str | None = None) -> str:
    """Fingerprint of what the order says (unknown fields are not part of it: they were ignored).

    `canonical` is `order.model_dump_json()` when the caller has it already.
    """
    return hashlib.sha256((canonical or order.model_dump_json()).encode()).hexdigest()


@dataclass(frozen=True)
class Scored:
    """A decision as answered: `replayed` when it is the stored one for an order_id seen before."""

    decision: Decision
    replayed: bool
    json: str  # the decision as the response body (serialised once, also what the log stores)


class ScoringEngine:
    """Everything behind POST /v1/orders/score and POST /v1/outcomes."""

    def __init__(
        self,
        bundle: ModelBundle,
        state: FeatureState,
        decisions: DecisionLog,
        *,
        fallback: Verdict = "review",
        shadow: ModelBundle | None = None,
        review_opener: ReviewOpener | None = None,
    ) -> None:
        self.scorer = Scorer(bundle, fallback=fallback, shadow=shadow)
        self.review_opener = review_opener or ReviewOpener()  # the app sets its SLA and webhooks from settings
        self.state = state
        self.online = OnlineFeatures(state)
        self.decisions = decisions
        self._history_nan = [math.nan] * (len(FEATURE_NAMES) - len(self.online.row_features))
        self._reload_lock = threading.Lock()
        self.rules: ActiveRules = NO_RULES  # swapped whole by use_rules: a request reads it once
        # the earliest moment something was logged without reaching the state (None: nothing pending)
        self.unapplied_since: datetime | None = None
        # state and log in this process and on local disk: scoring never waits on a network peer
        self.in_process = state.in_process and decisions.in_process

    @property
    def model_version(self) -> str:
        return self.scorer.version

    def reload(self, bundle: ModelBundle) -> None:
        """Swap the model; requests in flight finish with the one they started with."""
        with self._reload_lock:
            self.scorer = self.scorer.with_model(bundle)  # prepared before the swap: no request waits for it

    def use_rules(self, active: ActiveRules) -> None:
        """Swap the analyst rules (built off the request path); requests in flight keep the set they read."""
        self.rules = active

    def score(self, order: Order) -> Scored:
        """The order's decision, logged before it is returned (or the stored one, for an order_id seen before)."""
        started = time.perf_counter()
        order_json = order.model_dump_json()
        fingerprint = body_hash(order, order_json)
        stored = self.decisions.get(order.order_id)
        if stored is not None:
            return self._replay(stored, fingerprint)
        scorer = self.scorer  # one model for the whole request, even if a reload lands meanwhile
        features, writes, degraded = self._features(order)
        row = np.asarray(features, dtype=np.float64)  # the models round it to the float32 they were trained on
        decision = scorer.decide(order.order_id, row, degraded=degraded, order=order)
        active = self.rules  # one rule set for the whole request
        if not active.empty:
            apply_rules(active.rules, decision, order, features, to_us(order.created_at))
        decision.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        decision_json = decision.model_dump_json()
        review, events = self.review_opener.open(order, decision, datetime.now(UTC))  # on the final decision
        kept = self.decisions.record(
            order.order_id, fingerprint, order.created_at, order_json, features, decision_json,
            scorer.version, scorer.shadow_scores(row), entities=entity_values(order), review=review, events=events,
            rules_epoch=active.epoch,
        )
        if not kept.inserted:  # another request logged this order_id first: answer as a replay
            return self._replay(kept, fingerprint)
        if writes is not None:
            self._update_state(writes, order.order_id)
        return Scored(decision, replayed=False, json=decision_json)

    def _replay(self, stored: StoredDecision, fingerprint: str) -> Scored:
        if stored.body_hash != fingerprint:
            raise Conflict(f"order_id {stored.order_id!r} was already scored with a different body")
        decision = Decision.model_validate(stored.decision)
        return Scored(decision, replayed=True, json=decision.model_dump_json())

    def _features(self, order: Order) -> tuple[list[float], Writes | None, bool]:
        try:
            features, writes = self.online.compute(order)
            return features, writes, False  # numbers (counts may be ints): numpy and JSON take them as they are
        except StateUnavailable as exc:
            self.note_unapplied()
            log.warning("feature state unavailable, scoring degraded", extra={"order_id": order.order_id,
                                                                               "error": exc.message})
            return self.online.row_features_only(order) + self._history_nan, None, True

    def _update_state(self, writes: Writes, order_id: str) -> None:
        try:
            self.state.apply(writes)
        except StateUnavailable as exc:
            # the decision is logged: the order is replayed into the state from the log later (state_repair)
            self.note_unapplied()
            log.error("state update failed after the decision was logged", extra={"order_id": order_id,
                                                                                  "error": exc.message})

    def note_unapplied(self) -> None:
        """Something logged now did not reach the state: the repair job replays the log from about now."""
        if self.unapplied_since is None:
            self.unapplied_since = datetime.now(UTC)

    def catch_up(self, orders: list[dict], outcomes: list[Outcome]) -> tuple[int, int]:
        """Apply logged orders and outcomes the state has not seen (after a restart from a snapshot).

        Idempotent: an order the state already holds is skipped, and an outcome's label
        counts once per order whatever the number of times it is replayed.
        """
        applied = 0
        for data in orders:
            order = Order.model_validate(data)
            if self.state.order(order.order_id) is None:
                self.state.apply(self.online.writes_for(order))
                applied += 1
        fed = 0
        for outcome in outcomes:
            writes = self.online.outcome_writes(outcome.order_id, outcome.kind, to_us(outcome.reported_at))
            if writes is not None and self.state.apply(writes):  # False: its label was counted already
                fed += 1
        return applied, fed

    def record_outcomes(self, outcomes: list[Outcome]) -> int:
        """Store outcomes durably, then feed them to the label-aware features."""
        stored = self.decisions.record_outcomes([o.model_dump(mode="json") for o in outcomes])
        self.feed_outcomes(outcomes)
        return stored

    def feed_outcomes(self, outcomes: list[Outcome]) -> None:
        """Feed outcomes already stored in the log to the label-aware features (e.g. an analyst's, stored
        in the transaction closing a review); replayed from the log after a restart like any other."""
        for outcome in outcomes:
            try:
                writes = self.online.outcome_writes(outcome.order_id, outcome.kind, to_us(outcome.reported_at))
            except StateUnavailable as exc:
                self.note_unapplied()
                log.error("outcome not fed to the state", extra={"order_id": outcome.order_id, "error": exc.message})
                continue
            if writes is not None:
                self._update_state(writes, outcome.order_id)

    def decision(self, order_id: str) -> Decision | None:
        """The decision logged for `order_id`, None if it was never scored."""
        stored = self.decisions.get(order_id)
        return None if stored is None else Decision.model_validate(stored.decision)

    def readiness(self) -> dict[str, bool]:
        """Whether the decision log and the feature state answer now (for /readyz)."""
        try:
            self.state.order("__readyz__")
            state_ok = True
        except Exception:  # whatever the backend raises, the answer is "not reachable", never a 500
            state_ok = False
        return {"decision_log": self.decisions.ping(), "feature_state": state_ok}
