"""A process that follows the SQLite decision log, keeps its own copy of the embedded state, and snapshots it.

Why: a snapshot forked from the scoring process made every page the service then wrote
a copy-on-write fault, and p99 at 1000 req/s rose from about 3 to 9 ms for the 6-8 s
the child wrote. This process never shares memory with the service: it reads what the
service logged (every decision is in the log before it is answered, every outcome
before it is acknowledged), applies the same writes to a state of its own, and writes
the snapshot the service restores at start-up. The service never forks.

A first version did that work in bursts (unpickling the snapshot at its start, pickling
all of it every interval: seconds of CPU each) and still raised the service's p99 on two
cores. So all of its work is now small and spread out (`risk.pacing`): it reads the
snapshot and writes it piece by piece (`features.state.snapshot_file`), replays the log a
few rows at a time, and pauses between bursts of BURST_S of CPU so it uses at most
`--cpu-share` of one core; and it runs under SCHED_IDLE, so a scoring process that wakes
up takes the core from it at once. While it writes a snapshot it applies nothing (the
snapshot is of one moment), and catches up afterwards.

It reads new rows by SQLite rowid (rows are only ever inserted, one writer at a time,
so rowids grow in commit order): each round is an index seek, however long the log.
Applying is idempotent (the state skips an order it holds and counts a label once), so
starting from a snapshot and reading again from a little before the log time it covers
loses nothing. Its cost: a second copy of the state in memory, and the CPU of replaying
each order's writes (no features, no models) and of the snapshot, spread thin.

Run by `risk serve` (embedded state, SQLite log) as `python -m serve.snapshot_follower`.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

from features.loading import History, load_history
from features.state import EmbeddedState
from features.state.snapshot_file import covered_until, write_snapshot
from risk.contract import Order, Outcome
from risk.pacing import Interrupted, Pacer, lowest_priority
from serve.decision_log.encoding import as_utc, utc_text

log = logging.getLogger("risk.serve")
BATCH = 20  # rows per read and apply: about 1-2 ms of work between two checks of the pacer
ROUND = 20_000  # rows per round at most: a follower that cannot keep up still writes its snapshots
MARGIN = timedelta(seconds=300)  # read again from before the snapshot: replaying is idempotent, missing is not
CPU_SHARE = 0.25  # of one core, at most (README: what replay and snapshots took at 1000 orders/s)


class SnapshotFollower:
    """The state as the log says it is, snapshotted every `interval_s` to `snapshot`, at most `cpu_share` of a core."""

    def __init__(self, log_path: Path, snapshot: Path, interval_s: float, poll_s: float = 1.0,
                 cpu_share: float = 1.0) -> None:
        self.log_path, self.snapshot, self.interval_s, self.poll_s = log_path, snapshot, interval_s, poll_s
        self.stop = threading.Event()
        self.pacer = Pacer(cpu_share, stop=self.stop)
        covers = covered_until(snapshot)
        started, cpu = time.monotonic(), time.thread_time()
        self.state = EmbeddedState.load(snapshot, self.pacer) if covers else EmbeddedState()
        if covers:
            log.info("read %s in %.1f s (%.1f s of CPU)", snapshot, time.monotonic() - started,
                     time.thread_time() - cpu)
        self.since = utc_text(covers - MARGIN) if covers else ""  # rows recorded before it are in the snapshot
        self.covers_until_us = int(covers.timestamp() * 1e6) if covers else None  # newest row applied, so far
        self.last_order, self.last_outcome = 0, 0  # rowids read
        self.unsaved = 0  # rows applied since the last snapshot: none, and there is nothing new to write

    def catch_up(self, conn: sqlite3.Connection) -> int:
        """Apply the rows logged since the last call (up to ROUND), a few at a time; how many were read."""
        read = 0
        while read < ROUND:
            orders = conn.execute("SELECT rowid, order_json, recorded_at FROM decisions WHERE rowid > ? "
                                  "AND recorded_at > ? ORDER BY rowid LIMIT ?",
                                  (self.last_order, self.since, BATCH)).fetchall()
            outcomes = conn.execute("SELECT rowid, order_id, kind, reported_at, source, recorded_at FROM outcomes "
                                    "WHERE rowid > ? AND recorded_at > ? ORDER BY rowid LIMIT ?",
                                    (self.last_outcome, self.since, BATCH)).fetchall()
            if not orders and not outcomes:
                return read
            if orders:
                self.last_order = orders[-1][0]
            if outcomes:
                self.last_outcome = outcomes[-1][0]
            history = History.from_log((Order.model_validate_json(row[1]) for row in orders),
                                       (Outcome(order_id=o[1], kind=o[2], reported_at=as_utc(o[3]), source=o[4])
                                        for o in outcomes))
            load_history(history, self.state)
            newest = max(as_utc(row[-1]) for row in orders + outcomes)
            self.covers_until_us = max(self.covers_until_us or 0, int(newest.timestamp() * 1e6))
            read += len(orders) + len(outcomes)
            self.unsaved += len(orders) + len(outcomes)
            self.pacer.tick()
        return read

    def write_snapshot(self) -> None:
        """The state as of the rows applied so far, written piece by piece at the pacer's rate."""
        started, cpu = time.monotonic(), time.thread_time()
        write_snapshot(self.snapshot, self.state.snapshot_parts(self.covers_until_us), self.pacer)
        self.unsaved = 0
        log.info("wrote %s (%d orders) in %.1f s (%.1f s of CPU; longest burst so far %.1f ms)", self.snapshot,
                 len(self.state.orders), time.monotonic() - started, time.thread_time() - cpu,
                 self.pacer.longest_burst_s * 1e3)

    def run(self) -> None:
        conn = sqlite3.connect(f"file:{self.log_path}?mode=ro", uri=True, timeout=30)
        last_snapshot = time.monotonic()
        try:
            while not self.stop.wait(self.poll_s):
                try:
                    if self.catch_up(conn):
                        gc.collect(1)
                        gc.freeze()  # history is long-lived: keep it out of full collections, as the service does
                except sqlite3.OperationalError:  # tables not created yet, or a busy moment: next round
                    continue
                if self.unsaved and time.monotonic() - last_snapshot >= self.interval_s:
                    last_snapshot = time.monotonic()
                    self.write_snapshot()
        except Interrupted:  # stopped mid-way: a snapshot being written is dropped, the last one stays whole
            pass
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="the SQLite decision log")
    parser.add_argument("--snapshot", type=Path, required=True, help="the embedded state's snapshot file")
    parser.add_argument("--interval", type=float, required=True, help="seconds between snapshots")
    parser.add_argument("--cpu-share", type=float, default=CPU_SHARE, help="of one core, at most (default %(default)s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="snapshot follower: %(message)s")
    lowest_priority()  # its work can always wait for scoring
    # Its objects are long-lived history: full collections only burn the cores scoring needs (measured:
    # 0.1-5 s each while unpickling and replaying). Young generations are collected after each round.
    gc.disable()
    follower = SnapshotFollower(args.log, args.snapshot, args.interval, cpu_share=args.cpu_share)
    signal.signal(signal.SIGTERM, lambda *_: follower.stop.set())
    gc.freeze()
    follower.run()


if __name__ == "__main__":
    main()
