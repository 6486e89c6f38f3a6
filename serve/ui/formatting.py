"""How the pages write values: money in its own currency, moments, durations, scores.

Every function returns plain text; the templates escape it (autoescape is on everywhere).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from risk.money import format_money
from risk.policy import percent as policy_percent


def money(amount: Any, currency: Any) -> str:
    """`49.99 USD` from 4999 and USD: an amount always with its own currency, never summed across them."""
    if amount is None:
        return "-"
    return format_money(int(amount), str(currency) if currency else None)


def moment(value: Any) -> str:
    """A moment as `2026-11-24 10:15 UTC` (times are stored and shown in UTC)."""
    if value is None or value == "":
        return "-"
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: Any) -> str:
    """`3 h 05 min`, `12 min`, `2 d 4 h`: how long something waited or is left."""
    if seconds is None:
        return "-"
    total = int(abs(float(seconds)))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    sign = "-" if float(seconds) < 0 else ""
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min"


def percent(score: Any) -> str:
    """A probability as `12.2%` (three significant digits, `0.0000095%` rather than `0.0%` or `9.5e-06%`).

    The same formatter as the reasons and the policy sentence (`risk.policy.percent`), so a page
    never shows a score as 0.0% beside a reason that says it crossed a threshold.
    """
    if score is None:
        return "-"
    return policy_percent(float(score), 3)


def due(due_at: Any, now: datetime | None = None) -> str:
    """`in 3 h 59 min` or `12 min overdue`: the time left against the review SLA."""
    if due_at is None:
        return "-"
    when = due_at if isinstance(due_at, datetime) else datetime.fromisoformat(str(due_at).replace("Z", "+00:00"))
    left = (when - (now or datetime.now(UTC))).total_seconds()
    return f"in {duration(left)}" if left >= 0 else f"{duration(-left)} overdue"
