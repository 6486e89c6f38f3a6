"""The overview: decision rates over time, score distributions, backlog against the SLA, throughput, models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from serve.ui import charts
from serve.ui.pages.deps import UiDep, UserDep

router = APIRouter()
WINDOWS: dict[str, tuple[timedelta, Literal["hour", "day"]]] = {
    "24h": (timedelta(hours=24), "hour"), "7d": (timedelta(days=7), "day"), "30d": (timedelta(days=30), "day"),
    "90d": (timedelta(days=90), "day")}
VERDICTS = ("approve", "review", "decline")


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, ui: UiDep, user: UserDep, window: Literal["24h", "7d", "30d", "90d"] = "7d",
                  until: str = "") -> Response:
    """How the engine and the team are doing over a window ending now (or at `until`, ISO 8601)."""
    length, bucket = WINDOWS[window]
    end = _until(until)
    stats = ui.reviews.stats(since=end - length, until=end, bucket=bucket)
    return ui.page(request, "overview.html", user, stats=stats, window=window, windows=list(WINDOWS),
                   until=until, **_charts(stats))


def _until(text: str) -> datetime:
    from risk.errors import InvalidInput

    if not text.strip():
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"until: an ISO 8601 time like 2026-03-31T00:00Z, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def every_bucket(stats: Any) -> list[tuple[datetime, dict[str, int]]]:
    """Each bucket of the window, oldest first, with its decision counts (empty ones too: gaps show as zero)."""
    step = timedelta(hours=1) if stats.bucket == "hour" else timedelta(days=1)
    start = stats.since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if stats.bucket == "day":
        start = start.replace(hour=0)
    counted = {bucket.start.astimezone(UTC): bucket.counts for bucket in stats.decisions}
    buckets = []
    while start < stats.until:
        buckets.append((start, counted.pop(start, {})))
        start += step
    return sorted(buckets + list(counted.items()), key=lambda bucket: bucket[0])  # any the grid missed, kept


def _charts(stats: Any) -> dict[str, Any]:
    fmt = "%m-%d %H:%M" if stats.bucket == "hour" else "%Y-%m-%d"
    buckets = every_bucket(stats)
    labels = [start.strftime(fmt) for start, _ in buckets]
    totals = [sum(counts.values()) or 1 for _, counts in buckets]
    rates = {verdict: [counts.get(verdict, 0) / total for (_, counts), total in zip(buckets, totals, strict=True)]
             for verdict in VERDICTS}
    counts = {"orders": [float(sum(counts.values())) for _, counts in buckets]}
    backlog = stats.backlog
    return {
        "rates_chart": charts.line_chart(labels, rates, label="share of orders per decision", percent=True),
        "volume_chart": charts.line_chart(labels, counts, label="orders scored"),
        "fraud_chart": charts.histogram(stats.fraud_scores.counts, stats.fraud_scores.edges,
                                        label="fraud score distribution", css="s1"),
        "regret_chart": charts.histogram(stats.regret_scores.counts, stats.regret_scores.edges,
                                         label="regret score distribution", css="s2"),
        "backlog_chart": charts.hbars([("open", backlog.open), ("claimed", backlog.claimed),
                                       ("overdue", backlog.overdue)], label="review backlog", css="s1"),
        "throughput_chart": charts.hbars(sorted(stats.closed_by_analyst.items(), key=lambda kv: -kv[1]),
                                         label="reviews closed per analyst", css="s3"),
    }
