"""A review is written in its decision's transaction: a process killed mid-stream leaves no decision without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from serve.decision_log import SQLiteDecisionLog
from serve.decision_log.schema import REVIEWS

CHILD = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime, timedelta
    from serve.decision_log import SQLiteDecisionLog
    from serve.decision_log.schema import ReviewRow

    log = SQLiteDecisionLog(sys.argv[1])
    now = datetime.now(UTC)
    for i in range(1_000_000):
        order_id = f"o{i}"
        review = ReviewRow(order_id, now, now + timedelta(hours=4), "open", 100, "EUR", "s", "b", None, 0.5, 0.5,
                           " ", " ")
        order = {"order_id": order_id, "payment": {"card_fingerprint": "c"}}
        log.record(order_id, "h", now, order, None, {"decision": "review"}, "m", review=review)
        print(order_id, flush=True)  # acknowledged: the record call returned
""")


def test_a_killed_process_leaves_every_logged_review_decision_with_its_review(tmp_path: Path) -> None:
    path = tmp_path / "decisions.sqlite"
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    acknowledged = []
    assert child.stdout is not None
    deadline = time.monotonic() + 30
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        acknowledged.append(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)  # mid-stream: no clean shutdown
    child.wait()

    log = SQLiteDecisionLog(path)
    try:
        decisions = log.count()
        reviews = log.read("count", lambda c: c.execute(f"SELECT count(*) FROM {log.table(REVIEWS)}").fetchone()[0])
        assert decisions >= len(acknowledged) >= 300  # nothing acknowledged was lost
        assert reviews == decisions  # and no decision without its review
        assert all(log.get(order_id) is not None for order_id in acknowledged)
    finally:
        log.close()
