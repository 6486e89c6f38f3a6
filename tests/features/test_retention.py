"""Retention keeps every window a feature reads, with room for a late order."""

from __future__ import annotations

from features.history import BUYER_MEAN_WINDOWS, BUYER_SPREAD_WINDOWS, DISTINCT_WINDOWS, LABEL_WINDOWS, VELOCITY_WINDOWS
from features.retention import LATENESS_US, LOG_RETENTION_US, ORDER_RETENTION_US, ORDER_TTL_S, SET_LOG_RETENTION_US


def test_logs_keep_the_longest_window_read_from_a_log_and_a_late_order():
    windows = {**VELOCITY_WINDOWS, **LABEL_WINDOWS, **BUYER_MEAN_WINDOWS, **BUYER_SPREAD_WINDOWS}
    assert max(windows.values()) + LATENESS_US <= LOG_RETENTION_US


def test_set_logs_keep_the_longest_distinct_window_and_a_late_order():
    assert max(DISTINCT_WINDOWS.values()) + LATENESS_US <= SET_LOG_RETENTION_US


def test_redis_forgets_orders_only_after_their_event_time_retention():
    assert ORDER_TTL_S * 1_000_000 > ORDER_RETENTION_US
