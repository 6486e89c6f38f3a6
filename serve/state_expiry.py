"""The embedded state's periodic expiry: forgets history past retention while the service runs.

Without it the embedded state only grows: a log trims itself when it gets a new event,
but the logs of keys never seen again, and the record of every order, would stay for
the life of the process (features.state.expiry says what goes and why no feature
changes). A pass takes the state's lock one shard at a time, so scoring waits for one
shard at most. Redis forgets by itself (every key has a TTL): this job runs only for a
state kept in process.
"""

from __future__ import annotations

import logging
import time

from features.state import FeatureState
from serve.periodic import PeriodicJob

log = logging.getLogger("risk.serve")

EXPIRE_EVERY_S = 600.0
"""How often a pass runs: retention is counted in days, so every ten minutes keeps memory within
minutes' worth of orders of its bound. A pass over the state of 1,000,000 orders took 4-7 s of CPU
on a loaded machine (bench/bench_state_load.py, forgetting 727,000 distinct-count logs): about 1% of
a core at this interval, spread over 256 shards."""


class StateExpiry:
    """Calls the state's `expire` every `interval_s` (`job`, the thread "state-expiry")."""

    def __init__(self, state: FeatureState, interval_s: float = EXPIRE_EVERY_S) -> None:
        self.state = state
        self.job = PeriodicJob("state-expiry", self.run_once, interval_s, failure="state expiry failed")

    def run_once(self) -> int:
        started = time.perf_counter()
        forgotten = self.state.expire()
        if forgotten:
            log.info("state expiry forgot %d entries past retention in %.2f s", forgotten,
                     time.perf_counter() - started)
        return forgotten

