"""Money in its own currency and minor units, durations, moments, percentages."""

from __future__ import annotations

from datetime import UTC, datetime

from serve.ui.formatting import due, duration, moment, money, percent


def test_money_uses_each_currencys_minor_unit() -> None:
    assert money(4999, "USD") == "49.99 USD"
    assert money(4999, "JPY") == "4,999 JPY"
    assert money(4999, "KWD") == "4.999 KWD"
    assert money(None, "USD") == "-"


def test_durations_and_moments_read_at_a_glance() -> None:
    assert duration(59) == "0 min"
    assert duration(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert duration(2 * 86_400 + 4 * 3600) == "2 d 4 h"
    assert duration(-600) == "-10 min"
    assert moment(datetime(2026, 11, 24, 10, 15, tzinfo=UTC)) == "2026-11-24 10:15 UTC"
    assert moment("2026-11-24T11:15:00+01:00") == "2026-11-24 10:15 UTC"
    assert percent(0.1224) == "12.2%"
    assert percent(9.5e-08) == "0.0000095%" and percent(0.0) == "0%"  # never 0.0% for a score above zero


def test_due_says_the_time_left_or_how_late() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    assert due(datetime(2026, 11, 24, 13, 59, tzinfo=UTC), now) == "in 3 h 59 min"
    assert due(datetime(2026, 11, 24, 9, 48, tzinfo=UTC), now) == "12 min overdue"
