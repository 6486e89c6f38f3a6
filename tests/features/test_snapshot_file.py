"""The piecewise state snapshot: what is restored equals what was written, and no failure leaves half a state."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from features.state import EmbeddedState, OrderRecord, Writes, snapshot_file
from features.state.snapshot_file import covered_until, read_snapshot, write_snapshot
from risk.errors import DataError
from risk.pacing import Interrupted, Pacer
from tests.features.test_loading import contents

ROOT = Path(__file__).resolve().parents[2]


def filled(orders: int, tag: str = "o") -> EmbeddedState:
    """A state with every kind of entry: logs (one trimmed by a late event), set logs, seen keys, orders, labels."""
    state = EmbeddedState()
    for i in range(orders):
        state.apply(Writes(appends=[(f"orders:card:{i % 7}", i * 1000, (1, i)), ("orders:seller:s", i * 1000, (1,))],
                           members=[(f"pairs:card:{i % 5}", i * 1000, f"dev{i}")], seen=[(f"seen:{i % 11}", i * 1000)],
                           orders=[(f"{tag}{i}", OrderRecord(i * 1000, (("card", str(i % 7)),)))]))
    state.apply(Writes(appends=[("orders:card:3", 5, (1, 2))]))  # late: shifts the sums after it
    state.apply(Writes(appends=[("labels:card:1", 7000, (1, 0))], labels=[(f"{tag}1", 0)]))
    return state


def test_a_state_read_back_equals_the_state_written(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_file, "PIECE_ITEMS", 2)  # many pieces per shard, as a large state has
    state = filled(300)
    state.snapshot(tmp_path / "state.pkl")
    restored = EmbeddedState.load(tmp_path / "state.pkl")
    assert contents(restored) == contents(state)
    assert len(restored.orders) == 300 and len(restored.labelled) == 1
    query = ([("orders:card:3", 4000, False)], ["seen:2"], [("pairs:card:1", 0, 10**9)])
    assert restored.fetch(*query) == state.fetch(*query)


def test_a_paced_write_and_read_sleep_between_pieces_and_give_the_same_state(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_file, "PIECE_ITEMS", 1)
    state = filled(200)
    writer = Pacer(0.5, burst_s=0.0)  # a pause after every piece
    write_snapshot(tmp_path / "state.pkl", state.snapshot_parts(123), writer)
    reader = Pacer(0.5, burst_s=0.0)
    assert contents(EmbeddedState.load(tmp_path / "state.pkl", reader)) == contents(state)
    assert writer.bursts > 200 and reader.bursts > 200


def test_the_snapshot_says_which_log_time_it_covers(tmp_path):
    state = filled(3)
    write_snapshot(tmp_path / "state.pkl", state.snapshot_parts(1_764_547_200_000_000))
    assert covered_until(tmp_path / "state.pkl") == datetime(2025, 12, 1, tzinfo=UTC)
    assert covered_until(tmp_path / "absent.pkl") is None
    before = time.time()
    state.snapshot(tmp_path / "own.pkl")  # the service's own snapshot covers what it logged until then
    assert before - 1 <= covered_until(tmp_path / "own.pkl").timestamp() <= time.time() + 1


class StoppedAfter(Pacer):
    def __init__(self, ticks: int) -> None:
        super().__init__(1.0)
        self.ticks = ticks

    def tick(self) -> None:
        self.ticks -= 1
        if self.ticks == 0:
            self.stop.set()
        super().tick()


def test_a_write_stopped_midway_leaves_the_last_snapshot_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_file, "PIECE_ITEMS", 1)
    old, new = filled(50, "old"), filled(80, "new")
    old.snapshot(tmp_path / "state.pkl")
    pacer = StoppedAfter(10)  # as a SIGTERM to the follower sets its stop event mid-write
    with pytest.raises(Interrupted):
        write_snapshot(tmp_path / "state.pkl", new.snapshot_parts(None), pacer)
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(old)
    assert list(tmp_path.iterdir()) == [tmp_path / "state.pkl"]  # no temporary file left


def test_a_writer_killed_midway_leaves_the_last_snapshot_whole(tmp_path):
    old = filled(50, "old")
    old.snapshot(tmp_path / "state.pkl")
    slow_writer = (  # a large state written at 2% of a core: it is mid-way for seconds
        "import sys\nfrom features.state.snapshot_file import write_snapshot\nfrom risk.pacing import Pacer\n"
        "from tests.features.test_snapshot_file import filled\n"
        "write_snapshot(sys.argv[1], filled(3000, 'new').snapshot_parts(None), Pacer(0.02, burst_s=0.0005))\n")
    writer = subprocess.Popen([sys.executable, "-c", slow_writer, str(tmp_path / "state.pkl")], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".state.") and p.stat().st_size > 1000 for p in tmp_path.iterdir()):
        assert writer.poll() is None and time.monotonic() < deadline, "the writer ended before it was killed"
        time.sleep(0.02)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(old)


def test_a_cut_or_foreign_snapshot_is_a_clear_error(tmp_path):
    filled(100).snapshot(tmp_path / "state.pkl")
    data = (tmp_path / "state.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError, match="not a feature state snapshot"):
        read_snapshot(tmp_path / "cut.pkl")
    (tmp_path / "other.pkl").write_bytes(snapshot_file.MAGIC + pickle.dumps({"version": 99}))
    with pytest.raises(DataError, match="snapshot version 99"):
        read_snapshot(tmp_path / "other.pkl")


def test_a_snapshot_of_an_older_state_layout_is_refused_naming_the_rebuild(tmp_path):
    state = filled(20)
    legacy = (4, state.logs, state.sets, state.seen_at, state.orders, state.labelled, state.newest_us)
    (tmp_path / "v4.pkl").write_bytes(pickle.dumps(legacy))
    (tmp_path / "v5.pkl").write_bytes(snapshot_file.MAGIC + pickle.dumps({"version": 5, "newest_us": 0}))
    for name in ("v4.pkl", "v5.pkl"):
        with pytest.raises(DataError, match="older state layout.*risk state rebuild"):
            EmbeddedState.load(tmp_path / name)
    mtime = (tmp_path / "v4.pkl").stat().st_mtime
    assert covered_until(tmp_path / "v4.pkl") == datetime.fromtimestamp(mtime, tz=UTC)  # it does not say: mtime
