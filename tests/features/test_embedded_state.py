"""The embedded state: exact prefixes after trimming, late events, and clear snapshot errors."""

from __future__ import annotations

import pickle

import pytest

from features.online import OnlineFeatures
from features.retention import LOG_RETENTION_US
from features.state import EmbeddedState, OrderRecord, Writes
from risk.errors import DataError

DAY = 86_400_000_000


def test_prefix_stays_exact_after_old_events_are_dropped():
    state = EmbeddedState()
    for day in range(200):
        state.apply(Writes(appends=[("orders:card:c", day * DAY, (1, 10))]))
    log = state.logs["orders:card:c"]
    assert log.times[0] >= 199 * DAY - LOG_RETENTION_US - 64 * DAY  # old events were dropped
    (sums,), _, _ = state.fetch([("orders:card:c", 150 * DAY, False)], [])
    assert sums == (150, 1500)  # events on days 0..149, most of them dropped, still counted


def test_late_event_shifts_the_running_sums_after_it():
    state = EmbeddedState()
    state.apply(Writes(appends=[("l", 10, (1,)), ("l", 30, (1,)), ("l", 20, (5,))]))
    sums, _, _ = state.fetch([("l", 25, False), ("l", 30, True), ("l", 10, False)], [])
    assert sums == [(6,), (7,), (0,)]


def test_missing_or_foreign_snapshot_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no state snapshot"):
        EmbeddedState.load(tmp_path / "absent.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="not a feature state snapshot"):
        EmbeddedState.load(tmp_path / "junk.pkl")
    (tmp_path / "old.pkl").write_bytes(pickle.dumps((1, {}, {}, {}, set(), 0)))
    with pytest.raises(DataError, match="snapshot version 1"):
        EmbeddedState.load(tmp_path / "old.pkl")


def test_background_snapshot_writes_the_same_state(tmp_path):
    import os

    state = EmbeddedState()
    state.apply(Writes(appends=[("orders:card:c", 5, (1, 10)), ("orders:card:c", 9, (1, 20))], seen=[("s", 3)]))
    pid = state.snapshot_in_background(tmp_path / "state.pkl")
    if pid is not None:
        assert os.waitpid(pid, 0)[1] == 0
    restored = EmbeddedState.load(tmp_path / "state.pkl")
    query = ([("orders:card:c", 10, False)], ["s"])
    assert restored.fetch(*query) == state.fetch(*query)


def test_writes_of_a_label_already_marked_are_skipped_whole():
    state = EmbeddedState()
    outcome = Writes(appends=[("labels:card:c", 10, (1, 0))], seen=[("reported:fraud:card:c", 10)], labels=[("o1", 0)])
    assert state.apply(outcome) is True
    assert state.apply(outcome) is False
    assert state.apply(Writes(appends=[("labels:card:c", 20, (0, 1))], labels=[("o1", 1)])) is True
    (sums,), (seen,), _ = state.fetch([("labels:card:c", 30, False)], ["reported:fraud:card:c"])
    assert sums == (1, 1) and seen == (10, 10)


def test_outcome_writes_change_nothing_until_applied():
    state = EmbeddedState()
    state.apply(Writes(orders=[("o1", OrderRecord(0, (("card", "c"),)))]))
    online = OnlineFeatures(state)
    first = online.outcome_writes("o1", "fraud_chargeback", DAY)
    assert first is not None and online.outcome_writes("o1", "fraud_chargeback", DAY) == first  # nothing marked
    for _ in range(2):
        state.apply(first)
    (sums,), _, _ = state.fetch([("labels:card:c", 2 * DAY, False)], [])
    assert sums == (1, 0)


def test_writes_of_an_order_already_recorded_are_skipped_whole():
    state = EmbeddedState()
    writes = Writes(appends=[("orders:card:c1", 10, (1, 500))], orders=[("o1", OrderRecord(10, (("card", "c1"),)))])
    assert state.apply(writes) is True
    assert state.apply(writes) is False
    assert state.fetch([("orders:card:c1", 10, True)], [])[0] == [(1, 500)]
    assert state.held(["o1", "o2"]) == {"o1"}
