"""Paced background work: it stays within its share of a core, stops when told, and yields to every other process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from risk.pacing import Interrupted, Pacer


def busy(pacer: Pacer, cpu_s: float) -> tuple[float, float]:
    """Spend `cpu_s` of CPU in small pieces, checking in with `pacer`; (wall, cpu) seconds taken."""
    wall, cpu = time.perf_counter(), time.thread_time()
    while time.thread_time() - cpu < cpu_s:
        sum(range(2000))
        pacer.tick()
    return time.perf_counter() - wall, time.thread_time() - cpu


def test_paced_work_uses_at_most_its_share_of_a_core_in_short_bursts():
    pacer = Pacer(0.2, burst_s=0.002)
    wall, cpu = busy(pacer, 0.05)
    assert cpu <= 0.2 * wall * 1.1 + 0.003  # slept at least four times what it worked
    assert pacer.bursts >= 10 and pacer.longest_burst_s < 0.05


def test_unpaced_work_never_sleeps():
    pacer = Pacer(1.0)
    busy(pacer, 0.02)
    assert pacer.bursts == 0 and pacer.slept_s == 0


def test_a_stopped_pacer_interrupts_the_work_even_mid_pause():
    pacer = Pacer(0.001, burst_s=0.001)  # a pause of about a second after the first burst
    started = time.monotonic()
    threading.Timer(0.1, pacer.stop.set).start()  # as SIGTERM does to the follower
    with pytest.raises(Interrupted):
        busy(pacer, 1.0)
    assert pacer.bursts == 1 and time.monotonic() - started < 0.7


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux only")
def test_lowest_priority_puts_the_process_under_sched_idle():
    code = "import os; from risk.pacing import lowest_priority; lowest_priority(); print(os.sched_getscheduler(0))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))).stdout
    assert int(out) == os.SCHED_IDLE
