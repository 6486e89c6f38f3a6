"""Snapshots of the embedded state written by a follower of the decision log, never by a fork of the service."""

from __future__ import annotations

import os
import sqlite3
import time

from features.state import EmbeddedState
from features.state.snapshot_file import covered_until
from models.bundle import load_bundle
from risk.contract import Order, Outcome
from serve.decision_log import SQLiteDecisionLog
from serve.decision_log.encoding import as_utc
from serve.engine import ScoringEngine
from serve.snapshot_follower import SnapshotFollower
from tests.features.test_loading import contents
from tests.serve.conftest import CHECKOUT, make_client
from tests.serve.servers import T0, card_order


def test_the_follower_builds_the_state_the_service_built_from_its_log(model_dir, tmp_path):
    engine = ScoringEngine(load_bundle(model_dir), EmbeddedState(), SQLiteDecisionLog(tmp_path / "decisions.sqlite"))
    follower = SnapshotFollower(tmp_path / "decisions.sqlite", tmp_path / "state.pkl", interval_s=60)
    conn = sqlite3.connect(tmp_path / "decisions.sqlite")
    for i in range(60):
        engine.score(Order.model_validate(card_order(f"f{i}", minute=i, card=f"card-{i % 4}")))
        if i % 20 == 19:
            follower.catch_up(conn)  # rounds as they come, while the service goes on
    engine.record_outcomes([Outcome(order_id="f3", kind="fraud_chargeback", reported_at=T0.replace(hour=18)),
                            Outcome(order_id="f7", kind="refund", reported_at=T0.replace(hour=19))])
    assert follower.catch_up(conn) == 2
    follower.state.snapshot(tmp_path / "state.pkl")
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(engine.state)
    assert len(engine.state.labelled) == 2


def test_a_restarted_follower_starts_from_the_snapshot_and_reads_on(model_dir, tmp_path):
    engine = ScoringEngine(load_bundle(model_dir), EmbeddedState(), SQLiteDecisionLog(tmp_path / "decisions.sqlite"))
    conn = sqlite3.connect(tmp_path / "decisions.sqlite")
    first = SnapshotFollower(tmp_path / "decisions.sqlite", tmp_path / "state.pkl", interval_s=60)
    for i in range(20):
        engine.score(Order.model_validate(card_order(f"r{i}", minute=i)))
    first.catch_up(conn)
    first.state.snapshot(tmp_path / "state.pkl")
    for i in range(20, 30):
        engine.score(Order.model_validate(card_order(f"r{i}", minute=i)))
    second = SnapshotFollower(tmp_path / "decisions.sqlite", tmp_path / "state.pkl", interval_s=60)
    second.catch_up(conn)  # the last 5 minutes again (skipped: held), and the 10 new orders
    assert contents(second.state) == contents(engine.state)


def test_the_service_snapshots_through_the_follower_without_forking(model_dir, tmp_path, monkeypatch):
    def no_fork() -> int:
        raise AssertionError("the service forked")

    monkeypatch.setattr(os, "fork", no_fork)
    with make_client(model_dir, tmp_path, snapshot_interval_s=1.0, snapshot_writer="follower") as client:
        for i in range(15):
            assert client.post("/v1/orders/score", json=card_order(f"s{i}", minute=i), headers=CHECKOUT
                               ).status_code == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "state.pkl").exists() and len(EmbeddedState.load(tmp_path / "state.pkl").orders) == 15:
                break
            time.sleep(0.2)
        snapshot = EmbeddedState.load(tmp_path / "state.pkl")
    assert sorted(snapshot.orders) == sorted(f"s{i}" for i in range(15))


def test_the_follower_snapshot_covers_the_log_time_of_the_rows_it_applied_not_its_write_time(model_dir, tmp_path):
    engine = ScoringEngine(load_bundle(model_dir), EmbeddedState(), SQLiteDecisionLog(tmp_path / "decisions.sqlite"))
    for i in range(5):
        engine.score(Order.model_validate(card_order(f"c{i}", minute=i)))
    conn = sqlite3.connect(tmp_path / "decisions.sqlite")
    follower = SnapshotFollower(tmp_path / "decisions.sqlite", tmp_path / "state.pkl", interval_s=60, cpu_share=0.5)
    assert follower.catch_up(conn) == 5
    time.sleep(0.2)  # a follower behind the log: a restart must replay from what it applied, not from now
    follower.write_snapshot()
    newest = as_utc(conn.execute("SELECT max(recorded_at) FROM decisions").fetchone()[0])
    assert covered_until(tmp_path / "state.pkl") == newest
    assert (tmp_path / "state.pkl").stat().st_mtime > newest.timestamp() + 0.1
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(engine.state)
