"""Background work kept to a share of one core, in bursts of a millisecond or two.

Why: on this project's 2-core machines a process writing a state snapshot beside the
scoring service raised the service's p99, even at the lowest priority, because it ran
in long bursts (seconds of pickling at a time). Work that checks in with a `Pacer`
every few hundred microseconds runs for at most `burst_s` of CPU, then sleeps long
enough that it uses `share` of a core on average: the same work, spread thin.
`lowest_priority` puts such a process behind every other one (SCHED_IDLE: any
ordinary process that wakes up takes the core from it at once).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

BURST_S = 0.002  # CPU seconds of work between two pauses


class Interrupted(Exception):
    """The pacer's stop event was set: the work gives up (its caller cleans up)."""


class Pacer:
    """Sleeps between bursts of work so it uses `share` of a core; `share` >= 1 never sleeps."""

    def __init__(self, share: float, burst_s: float = BURST_S, stop: threading.Event | None = None) -> None:
        if share <= 0:
            raise ValueError(f"pacer share must be positive, got {share}")
        self.share, self.burst_s = share, burst_s
        self.stop = stop or threading.Event()
        self.started = time.thread_time()
        self.slept_s = 0.0  # totals, for reports and tests
        self.bursts = 0
        self.longest_burst_s = 0.0  # the most CPU spent between two pauses

    def tick(self) -> None:
        """Call between small pieces of work: pauses once a burst is spent, raises Interrupted when stopped."""
        if self.stop.is_set():
            raise Interrupted
        if self.share >= 1:
            return
        spent = time.thread_time() - self.started
        if spent < self.burst_s:
            return
        pause = spent * (1 - self.share) / self.share
        self.bursts += 1
        self.longest_burst_s = max(self.longest_burst_s, spent)
        self.slept_s += pause
        if self.stop.wait(pause):
            raise Interrupted
        self.started = time.thread_time()


UNPACED = Pacer(1.0)


def lowest_priority() -> None:
    """Run this process only when no other wants the core (SCHED_IDLE where there is one, else nice 19)."""
    with contextlib.suppress(AttributeError, OSError):  # not on every platform
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined,unused-ignore]
    with contextlib.suppress(OSError):
        os.nice(19)
