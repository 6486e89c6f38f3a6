"""The service expires its embedded state's old history in the background, and stops doing so at shutdown."""

from __future__ import annotations

import threading
import time

from features.clock import DAY
from features.state import EmbeddedState
from features.state.base import OrderRecord, Writes
from serve.state_expiry import StateExpiry
from tests.serve.conftest import make_client


def order_writes(order_id: str, t: int) -> Writes:
    return Writes(appends=[(f"orders:card:{order_id}", t, (1, 100))], orders=[(order_id, OrderRecord(t, ()))])


def test_the_job_forgets_what_is_past_retention_and_stops_when_told():
    state = EmbeddedState()
    state.apply(order_writes("old", 0))
    state.apply(order_writes("new", 200 * DAY))
    expiry = StateExpiry(state, interval_s=0.01)
    expiry.job.start()
    deadline = time.monotonic() + 5
    while "old" in state.orders and time.monotonic() < deadline:
        time.sleep(0.01)
    assert expiry.job.stop(timeout_s=5)
    assert "old" not in state.orders and "orders:card:old" not in state.logs
    assert "new" in state.orders and "orders:card:new" in state.logs


def test_a_service_on_the_embedded_state_runs_the_job(model_dir, tmp_path):
    with make_client(model_dir, tmp_path):
        assert "state-expiry" in {thread.name for thread in threading.enumerate()}
    deadline = time.monotonic() + 5
    while "state-expiry" in {thread.name for thread in threading.enumerate()} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "state-expiry" not in {thread.name for thread in threading.enumerate()}
