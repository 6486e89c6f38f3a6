"""A process that follows the SQLite decision log, keeps its own copy of the embedded state, and snapshots it.

Why: a snapshot forked from the scoring process made every page the service then wrote
a copy-on-write fault, and p99 at 1000 req/s rose from about 3 to 9 ms for the 6-8 s
the child wrote. This process never shares memory with the service: it reads what the
service logged (every decision is in the log before it is answered, every outcome
before it is acknowledged), applies the same writes to a state of its own, and writes
the snapshot the service restores at start-up. The service never forks.

It reads new rows by SQLite rowid (rows are only ever inserted, one writer at a time,
so rowids grow in commit order): each round is an index seek, however long the log.
Applying is idempotent (the state skips an order it holds and counts a label once), so
starting from a snapshot and reading again from a little before it loses nothing.
It costs a second copy of the state in memory, and the CPU of replaying each order's
writes (no features, no models), at the lowest priority.

Run by `risk serve` (embedded state, SQLite log) as `python -m serve.snapshot_follower`.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from features.loading import History, load_history
from features.state import EmbeddedState
from risk.contract import Order, Outcome
from serve.decision_log.encoding import as_utc, utc_text

log = logging.getLogger("risk.serve")
BATCH = 5000  # rows per read
MARGIN = timedelta(seconds=300)  # read again from before the snapshot: replaying is idempotent, missing is not


class SnapshotFollower:
    """The state as the log says it is, snapshotted every `interval_s` to `snapshot`."""

    def __init__(self, log_path: Path, snapshot: Path, interval_s: float, poll_s: float = 1.0) -> None:
        self.log_path, self.snapshot, self.interval_s, self.poll_s = log_path, snapshot, interval_s, poll_s
        self.state = EmbeddedState.load(snapshot) if snapshot.exists() else EmbeddedState()
        since = datetime.fromtimestamp(snapshot.stat().st_mtime, tz=UTC) - MARGIN if snapshot.exists() else None
        self.since = utc_text(since) if since else ""  # rows recorded before it are in the snapshot already
        self.last_order, self.last_outcome = 0, 0  # rowids read
        self.stop = threading.Event()

    def catch_up(self, conn: sqlite3.Connection) -> int:
        """Apply the rows logged since the last call; how many were read."""
        read = 0
        while True:
            orders = conn.execute("SELECT rowid, order_json FROM decisions WHERE rowid > ? AND recorded_at > ? "
                                  "ORDER BY rowid LIMIT ?", (self.last_order, self.since, BATCH)).fetchall()
            outcomes = conn.execute("SELECT rowid, order_id, kind, reported_at, source FROM outcomes WHERE rowid > ? "
                                    "AND recorded_at > ? ORDER BY rowid LIMIT ?",
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
            read += len(orders) + len(outcomes)

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
                if time.monotonic() - last_snapshot >= self.interval_s:
                    self.state.snapshot(self.snapshot)
                    last_snapshot = time.monotonic()
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="the SQLite decision log")
    parser.add_argument("--snapshot", type=Path, required=True, help="the embedded state's snapshot file")
    parser.add_argument("--interval", type=float, required=True, help="seconds between snapshots")
    args = parser.parse_args()
    os.nice(19)  # its work can always wait for scoring
    # Its objects are long-lived history: full collections only burn the cores scoring needs (measured:
    # 0.1-5 s each while unpickling and replaying). Young generations are collected after each round.
    gc.disable()
    follower = SnapshotFollower(args.log, args.snapshot, args.interval)
    gc.freeze()
    signal.signal(signal.SIGTERM, lambda *_: follower.stop.set())
    follower.run()


if __name__ == "__main__":
    main()
