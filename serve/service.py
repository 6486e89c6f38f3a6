"""What the HTTP layer calls: one method per operation, over the engine, the keys, the metrics and the reloader.

Routes and the fast path hold this one object (typed, from `serve.deps`) instead of
reaching into the engine or the app's state, so a handler validates, calls one
method, returns.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from risk.contract import Decision, Order, Outcome
from risk.errors import NotFound
from serve.auth import KeyRing
from serve.engine import Scored, ScoringEngine
from serve.metrics import Metrics
from serve.reviews import ReviewService
from serve.runtime import Reloader


class ReloadRefusal(BaseModel):
    """The latest model the service refused to switch to, and why (it kept the model it serves)."""

    version: str
    reason: str


class Readiness(BaseModel):
    """Ready to score: a model is loaded and the decision log answers (the feature state may be degraded).

    `model_version` is what every decision names; `registry_version` the registry's promoted
    version (null when serving a fixed model directory): they differ only while a reload is
    pending or was refused (`reload_refused` says why).
    """

    ready: bool
    model: str
    model_version: str
    registry_version: str | None
    reload_refused: ReloadRefusal | None
    decision_log: bool
    feature_state: bool


class ScoringService:
    def __init__(self, engine: ScoringEngine, keys: KeyRing, metrics: Metrics, reloader: Reloader,
                 reviews: ReviewService | None = None) -> None:
        self.engine = engine
        self.keys = keys
        self.metrics = metrics
        self.reloader = reloader
        self.reviews = reviews or ReviewService(engine)  # the review queue (serve/reviews), for routes and pages
        self.after_outcomes: Callable[[list[Outcome]], object] | None = None  # e.g. auto-block (serve.main)

    @property
    def in_process(self) -> bool:
        """Scoring never waits on a network peer (state and log in this process): no thread hop needed."""
        return self.engine.in_process

    def score(self, order: Order) -> Scored:
        """The decision for an order (stored first; a replay for an order_id already scored alike)."""
        scored = self.engine.score(order)
        self.metrics.observe(scored)
        return scored

    def record_outcomes(self, outcomes: list[Outcome]) -> int:
        """Store outcomes durably and feed them to the features; how many were new."""
        stored = self.engine.record_outcomes(outcomes)
        if self.after_outcomes is not None:
            self.after_outcomes(outcomes)
        return stored

    def decision(self, order_id: str) -> Decision:
        """The decision logged for an order; NotFound if it was never scored."""
        decision = self.engine.decision(order_id)
        if decision is None:
            raise NotFound(f"no decision for order_id {order_id!r}")
        return decision

    def readiness(self) -> Readiness:
        checks = self.engine.readiness()
        served = self.engine.model_version
        refused = self.reloader.refused
        return Readiness(ready=checks["decision_log"], model=served, model_version=served,
                         registry_version=self.reloader.registry_version(),
                         reload_refused=ReloadRefusal(**refused) if refused else None,
                         decision_log=checks["decision_log"], feature_state=checks["feature_state"])

    def reload_model(self) -> str:
        """Load the promoted model (or the model directory again) now; the version serving after it."""
        return self.reloader.reload_now()

    def metrics_text(self) -> bytes:
        return self.metrics.exposition()
