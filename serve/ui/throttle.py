"""Login throttling: after a few failed logins for one name or from one address, wait a while.

In memory, per process: enough to make password guessing slow (5 tries per 15 minutes
per name and per address), not a distributed lockout. A success clears the name's count.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    def __init__(self, *, attempts: int = 5, window_s: float = 900.0, max_keys: int = 100_000) -> None:
        self.attempts, self.window_s, self.max_keys = attempts, window_s, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str, now: float | None = None) -> float:
        """Seconds until another attempt for these keys is allowed (0: allowed now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0.0)

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_keys:  # bounded memory under a flood of names
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=self.attempts)).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _wait(self, key: str, now: float) -> float:
        failures = self._failures.get(key)
        if not failures or len(failures) < self.attempts:
            return 0.0
        return max(0.0, failures[0] + self.window_s - now)
