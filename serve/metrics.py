"""Prometheus metrics of one app instance (own registry, so several apps can live in one process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from serve.engine import Scored

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
TEXT_FORMAT = CONTENT_TYPE_LATEST  # Prometheus' text exposition format (text/plain with a version)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("risk_score_seconds", "Time to score one order, in the engine",
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.decisions = Counter("risk_decisions_total", "Decisions by kind", ["decision"], registry=self.registry)
        self.scores = Histogram("risk_score", "Scores by risk", ["risk"],
                                buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
                                registry=self.registry)
        self.errors = Counter("risk_errors_total", "Requests answered with an error, by status", ["status"],
                              registry=self.registry)
        self.degraded = Counter("risk_degraded_total", "Orders scored without their history", registry=self.registry)
        self.replays = Counter("risk_idempotent_replays_total", "Orders answered from the decision log",
                               registry=self.registry)
        self.model = Gauge("risk_model_info", "The model serving (value 1)", ["version"], registry=self.registry)
        self._children: dict[tuple[Counter | Histogram, str], Any] = {}  # labelled series already made (see `_series`)

    def set_model(self, version: str) -> None:
        self.model.clear()
        self.model.labels(version=version).set(1)

    def observe(self, scored: Scored) -> None:
        """One answered scoring request."""
        decision = scored.decision
        if scored.replayed:
            self.replays.inc()
            return
        self.latency.observe((decision.elapsed_ms or 0.0) / 1000)
        self._series(self.decisions, "decision", decision.decision).inc()
        self._series(self.scores, "risk", "fraud").observe(decision.fraud_score)
        self._series(self.scores, "risk", "regret").observe(decision.regret_score)
        if decision.degraded:
            self.degraded.inc()

    def _series(self, family: Counter | Histogram, label: str, value: str) -> Any:
        """`family.labels(label=value)`, made on first use and kept.

        `labels()` checks the labels and takes a lock and a dict look-up on every call: on the scoring path
        that cost about as much as the observations. Made on first use, a series still appears in the
        exposition only once observed.
        """
        child = self._children.get((family, value))
        if child is None:
            child = self._children[family, value] = family.labels(**{label: value})
        return child

    def count_error(self, status: int) -> None:
        self.errors.labels(status=str(status)).inc()

    def exposition(self) -> bytes:
        """Every metric in the text format (TEXT_FORMAT)."""
        return bytes(generate_latest(self.registry))
