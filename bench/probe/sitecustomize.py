"""Diagnostics bench/bench_http.py injects into the service it measures (PYTHONPATH=bench/probe).

Only when BENCH_PROBE_LOG is set: appends one JSON line per full (generation 2) cyclic
garbage collection and per feature-state snapshot, with the process id (a forked child
inherits the hooks), its wall-clock start and its duration, to that file, so the
benchmark can tell what a stall of the service was.
Costs nothing per request (gen-0/1 collections return at once; snapshots are rare).
"""

import os

_PATH = os.environ.get("BENCH_PROBE_LOG")

if _PATH:
    import gc
    import json
    import threading
    import time

    _out = open(_PATH, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    _lock = threading.Lock()
    _gc_started: dict = {}

    def _new_lock_in_child() -> None:  # a fork taken while another thread held the lock must not deadlock
        global _lock
        _lock = threading.Lock()

    os.register_at_fork(after_in_child=_new_lock_in_child)

    def _emit(kind: str, start: float, seconds: float, **extra) -> None:
        with _lock:
            _out.write(json.dumps({"kind": kind, "pid": os.getpid(), "start": start, "seconds": seconds,
                                   **extra}) + "\n")

    def _on_gc(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            _gc_started["wall"], _gc_started["perf"] = time.time(), time.perf_counter()
        elif "perf" in _gc_started:
            _emit("gc2", _gc_started["wall"], time.perf_counter() - _gc_started["perf"],
                  collected=info.get("collected"))

    gc.callbacks.append(_on_gc)

    try:
        from features.state import embedded as _embedded

        def _timed(name: str, kind: str) -> None:
            original = getattr(_embedded.EmbeddedState, name, None)
            if original is None:
                return

            def timed(self, *args, **kwargs):
                wall, perf = time.time(), time.perf_counter()
                try:
                    return original(self, *args, **kwargs)
                finally:
                    _emit(kind, wall, time.perf_counter() - perf)

            setattr(_embedded.EmbeddedState, name, timed)

        _timed("snapshot", "snapshot")  # the whole snapshot in the calling process (blocking, or fork + wait)
        _timed("snapshot_in_background", "snapshot_fork")  # the fork only, when the service snapshots this way
        _timed("_write", "snapshot_write")  # the pickling and writing, in whichever process does it
    except Exception as exc:  # never break the service over a diagnostic
        _emit("probe_error", time.time(), 0.0, error=repr(exc))
