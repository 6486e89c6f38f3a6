"""The service's Prometheus metrics: what one scored request adds, and what the exposition lists."""

from __future__ import annotations

from risk.contract import Decision
from serve.engine import Scored
from serve.metrics import Metrics


def _scored(decision: str, fraud: float = 0.2, regret: float = 0.05, *, replayed: bool = False) -> Scored:
    answer = Decision(order_id="o1", decision=decision, fraud_score=fraud, regret_score=regret,  # type: ignore[arg-type]
                      model_version="m1", elapsed_ms=0.4)
    return Scored(answer, replayed=replayed, json=answer.model_dump_json())


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in metrics.registry.collect() for s in family.samples if not s.name.endswith("_created")}


def test_each_decision_counts_in_its_own_series_and_scores_in_both_histograms():
    metrics = Metrics()
    for decision in ("approve", "review", "approve", "decline"):
        metrics.observe(_scored(decision))
    samples = _samples(metrics)
    assert samples["risk_decisions_total", (("decision", "approve"),)] == 2
    assert samples["risk_decisions_total", (("decision", "review"),)] == 1
    assert samples["risk_decisions_total", (("decision", "decline"),)] == 1
    assert samples["risk_score_count", (("risk", "fraud"),)] == 4
    assert samples["risk_score_count", (("risk", "regret"),)] == 4
    assert samples["risk_score_sum", (("risk", "fraud"),)] == 0.8
    assert samples["risk_score_seconds_count", ()] == 4


def test_a_series_appears_only_once_observed_and_replays_touch_no_decision_series():
    metrics = Metrics()
    metrics.observe(_scored("approve", replayed=True))
    text = metrics.exposition().decode()
    assert "risk_idempotent_replays_total 1.0" in text
    assert "risk_decisions_total{" not in text and 'risk_score_count{risk="fraud"}' not in text
    metrics.observe(_scored("review"))
    text = metrics.exposition().decode()
    assert 'risk_decisions_total{decision="review"} 1.0' in text
    assert 'decision="approve"' not in text and 'decision="decline"' not in text


def test_two_apps_in_one_process_keep_their_counts_apart():
    first, second = Metrics(), Metrics()
    first.observe(_scored("approve"))
    assert _samples(second).get(("risk_decisions_total", (("decision", "approve"),))) is None
    second.observe(_scored("approve"))
    assert _samples(first)["risk_decisions_total", (("decision", "approve"),)] == 1
