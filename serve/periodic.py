"""One way to run a background job: call it every so often in a thread of its own until the service stops.

The service's periodic work (state expiry and repair, the rules watcher, the model reloader,
the GC freezer and snapshots, webhook delivery, SQLite checkpoints) all runs on this: a run
that fails is logged and the next one still happens, and `stop` ends the wait at once and
waits a bounded time for a run in progress, so shutdown stays prompt.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable

log = logging.getLogger("risk.serve")


class PeriodicJob:
    """Calls `run` every `interval_s` seconds (counted from the end of a run) in a daemon thread named `name`.

    The first run comes one interval after `start` (`run_at_start`: at once). A run that raises
    is logged at error level with `failure` (a message, or a callable making it when needed, so
    it can say what is kept) and the job's name, and the next run comes on time. The traceback
    goes with the first failure of a series and with any failure unlike the one before; the same
    failure again is one line naming its exception, so a store down for an hour does not log
    thousands of tracebacks.
    """

    def __init__(self, name: str, run: Callable[[], object], interval_s: float, *,
                 failure: str | Callable[[], str] | None = None, run_at_start: bool = False) -> None:
        self.name, self.run, self.interval_s = name, run, interval_s
        self.failure = failure or f"{name} failed"
        self.run_at_start = run_at_start
        self.stopping = threading.Event()  # set by `stop`: a long run may check it to end early
        self.thread: threading.Thread | None = None
        self._last_failure: str | None = None

    def start(self) -> None:
        if self.thread is not None:
            raise RuntimeError(f"background job {self.name} was started already")
        self.thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
        self.thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """No more runs; waits up to `timeout_s` for a run in progress. Whether the thread has ended."""
        self.stopping.set()
        thread = self.thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def run_once(self) -> bool:
        """One run now, a failure logged as the thread logs it; whether it succeeded."""
        try:
            self.run()
        except Exception as exc:  # one failing round never ends a background job
            self._log_failure(exc)
            return False
        self._last_failure = None
        return True

    def _loop(self) -> None:
        if self.run_at_start and not self.stopping.is_set():
            self.run_once()
        while not self.stopping.wait(self.interval_s):
            self.run_once()

    def _log_failure(self, exc: Exception) -> None:
        message = self.failure() if callable(self.failure) else self.failure
        # the line the service's JSON log keeps of a traceback (serve.logs), so a repeat reads like the first
        last_line = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        if last_line == self._last_failure:
            log.error(message, extra={"job": self.name, "exception": last_line})
        else:
            log.error(message, exc_info=exc, extra={"job": self.name})
        self._last_failure = last_line


def stop_all(jobs: Iterable[PeriodicJob], timeout_s: float) -> None:
    """Stop every job at once, then wait for their runs in progress: `timeout_s` for all of them together."""
    jobs = list(jobs)
    for job in jobs:
        job.stopping.set()
    deadline = time.monotonic() + timeout_s
    for job in jobs:
        if not job.stop(max(0.0, deadline - time.monotonic())):
            log.warning("background job %s still running at shutdown; not waiting for it", job.name,
                        extra={"job": job.name})
