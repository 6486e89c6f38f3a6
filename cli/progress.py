"""Progress lines for long commands, on stderr so stdout stays for results."""

from __future__ import annotations

import sys
import time


class Progress:
    """Prints `[  1.2s] message` lines, timed from creation."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)
