"""The overview: decision rates over time, score distributions, backlog against the SLA, throughput.

Aggregated in SQL (grouped counts, and score histograms as counts at or above each
edge), so a period of a million decisions sends back a few hundred numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from serve.decision_log.encoding import as_utc
from serve.decision_log.schema import DECISIONS, REVIEWS
from serve.reviews.models import Backlog, DecisionBucket, Histogram, Overview

if TYPE_CHECKING:
    from serve.reviews.service import ReviewService

BINS = 20
EDGES = [i / BINS for i in range(BINS + 1)]


def overview(service: ReviewService, *, since: datetime, until: datetime, bucket: str, now: datetime) -> Overview:
    log = service.engine.decisions
    d, p = log.dialect, log.dialect.placeholder
    decisions, reviews = log.table(DECISIONS), log.table(REVIEWS)
    verdict, in_period = d.json_text("decision_json", "decision"), f"recorded_at >= {p} AND recorded_at < {p}"
    period = [d.moment(since), d.moment(until)]
    by_bucket = (f"SELECT {d.time_bucket('recorded_at', bucket)} AS b, {verdict} AS v, count(*) FROM {decisions} "
                 f"WHERE {in_period} GROUP BY b, v ORDER BY b")
    scores = ", ".join(f"sum(CASE WHEN CAST({d.json_text('decision_json', name)} AS REAL) >= {edge} THEN 1 ELSE 0 END)"
                       for name in ("fraud_score", "regret_score") for edge in EDGES[1:-1])
    histogram = f"SELECT count(*), {scores} FROM {decisions} WHERE {in_period}"
    versions = f"SELECT model_version, count(*) FROM {decisions} WHERE {in_period} GROUP BY model_version"
    backlog = (f"SELECT count(*), sum(CASE WHEN due_at < {p} THEN 1 ELSE 0 END), "
               f"sum(CASE WHEN claimed_at >= {p} THEN 1 ELSE 0 END), min(opened_at) "
               f"FROM {reviews} WHERE status = 'open'")
    closed = (f"SELECT decided_by, count(*) FROM {reviews} WHERE status = 'closed' AND decided_at >= {p} "
              f"AND decided_at < {p} GROUP BY decided_by")

    def work(conn: Any) -> tuple:
        return (conn.execute(by_bucket, period).fetchall(), conn.execute(histogram, period).fetchone(),
                conn.execute(versions, period).fetchall(),
                conn.execute(backlog, [d.moment(now), d.moment(now - service.claim_idle)]).fetchone(),
                conn.execute(closed, period).fetchall())

    buckets, hist, model_rows, backlog_row, closed_rows = log.read("overview", work)
    counts: dict[str, dict[str, int]] = {}
    for start, verdict_name, n in buckets:
        counts.setdefault(start, {"approve": 0, "review": 0, "decline": 0})[str(verdict_name)] = int(n)
    total = int(hist[0] or 0)
    at_or_above = [total, *[int(x or 0) for x in hist[1:BINS]], 0]
    regret_at_or_above = [total, *[int(x or 0) for x in hist[BINS:]], 0]
    open_count, overdue, claimed, oldest = backlog_row
    return Overview(
        since=since, until=until, bucket=bucket,  # type: ignore[arg-type]
        decisions=[DecisionBucket(start=_bucket_start(start), counts=c) for start, c in sorted(counts.items())],
        fraud_scores=_histogram(at_or_above), regret_scores=_histogram(regret_at_or_above),
        backlog=Backlog(open=int(open_count or 0), overdue=int(overdue or 0), claimed=int(claimed or 0),
                        oldest_opened_at=None if oldest is None else as_utc(oldest)),
        closed_by_analyst={str(who): int(n) for who, n in closed_rows},
        model_versions={str(v): int(n) for v, n in model_rows},
        sla_minutes=service.sla.total_seconds() / 60,
    )


def _histogram(at_or_above: list[int]) -> Histogram:
    """Counts per bin [edge_i, edge_i+1) from counts at or above each edge (the last bin includes 1.0)."""
    return Histogram(edges=EDGES, counts=[at_or_above[i] - at_or_above[i + 1] for i in range(BINS)])


def _bucket_start(text: str) -> datetime:
    text = str(text)
    return datetime.fromisoformat(text + (":00:00" if "T" in text else "T00:00:00")).replace(tzinfo=UTC)
