"""The decision log keeps the first decision of an order, survives restarts and gives the rows of its export.

Every test runs on SQLite and on PostgreSQL. PostgreSQL comes from RISK_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test): skipped without a server, failed
instead when RISK_REQUIRE_SERVICES is set (CI). Each test uses its own table prefix and
drops its tables afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from risk.contract import Decision, Order, flatten
from risk.datasets import read_orders, read_outcomes
from risk.errors import InvalidInput
from risk.export import export_dataset
from serve.decision_log import (
    DecisionLog,
    DecisionLogUnavailable,
    PostgresDecisionLog,
    SQLiteDecisionLog,
    StoredDecision,
    open_decision_log,
)
from serve.decision_log.schema import DECISIONS, REVIEWS
from tests.builders import DATABASE_URL, make_order, require_postgres
from tests.serve.conftest import MakeLog

FEATURES = [0.5, float("nan"), 3.0, float("inf")]



def _order(order_id: str, **overrides: object) -> dict:
    return Order.model_validate(make_order(order_id=order_id, **overrides)).model_dump(mode="json")


def _hash(order: dict) -> str:
    return hashlib.sha256(json.dumps(order, sort_keys=True).encode()).hexdigest()


def _decision(order_id: str, decision: str = "approve", fraud: float = 0.01) -> dict:
    return Decision(
        order_id=order_id, decision=decision, fraud_score=fraud, regret_score=0.02, model_version="m1"
    ).model_dump(mode="json")


def _record(log: DecisionLog, order: dict, **changes: object) -> StoredDecision:
    arguments: dict = {
        "order_id": order["order_id"],
        "body_hash": _hash(order),
        "created_at": datetime.fromisoformat(order["created_at"]),
        "order": order,
        "features": FEATURES,
        "decision": _decision(order["order_id"]),
        "model_version": "m1",
    }
    arguments.update(changes)
    return log.record(**arguments)


def test_recorded_decision_is_returned_and_found_by_get(make_log: MakeLog) -> None:
    log = make_log()
    order = _order("ord_1")
    assert log.get("ord_1") is None

    stored = _record(log, order, shadow={"model_version": "m2", "fraud_score": 0.3})

    assert stored == StoredDecision("ord_1", _hash(order), _decision("ord_1"))
    assert stored.inserted
    assert log.get("ord_1") == stored and not log.get("ord_1").inserted
    assert log.count() == 1
    assert log.ping()


def test_second_record_of_an_order_returns_the_first_row_unchanged(make_log: MakeLog) -> None:
    log = make_log()
    order = _order("ord_1")
    first = _record(log, order)

    again = _record(log, order, body_hash="another-hash", decision=_decision("ord_1", "decline", 0.9))

    assert again == first and not again.inserted
    assert log.get("ord_1") == first
    assert log.count() == 1


@pytest.mark.parametrize("shared", [True, False], ids=["one-log", "a-log-per-thread"])
def test_concurrent_records_of_one_order_store_exactly_one(make_log: MakeLog, shared: bool) -> None:
    order = _order("ord_race")
    logs = [make_log()] * 8 if shared else [make_log() for _ in range(8)]
    barrier = threading.Barrier(8)
    results: list[StoredDecision | BaseException] = [None] * 8  # type: ignore[list-item]

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = _record(logs[i], order, body_hash=f"hash-{i}", decision=_decision("ord_race", fraud=i / 10))
        except BaseException as exc:  # reported below, with the others
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not [r for r in results if isinstance(r, BaseException)], results
    winners = [r for r in results if r.inserted]
    assert len(winners) == 1
    winner = winners[0]
    assert all(r == winner for r in results)  # every thread got the winner's row
    assert winner.decision == _decision("ord_race", fraud=int(winner.body_hash.split("-")[1]) / 10)
    assert logs[0].count() == 1


def test_outcomes_are_stored_once_per_order_kind_and_reported_time(make_log: MakeLog) -> None:
    log = make_log()
    refund = {"order_id": "ord_1", "kind": "refund", "reported_at": "2026-11-25T10:00:00Z", "source": "buyer"}
    same_instant = {**refund, "reported_at": "2026-11-25T11:00:00+01:00"}
    later = {**refund, "reported_at": "2026-11-26T10:00:00Z"}

    assert log.record_outcomes([refund, refund]) == 1
    assert log.record_outcomes([same_instant, later]) == 1
    assert log.record_outcomes([]) == 0


def test_an_invalid_outcome_stores_nothing_of_its_batch(make_log: MakeLog, tmp_path: Path) -> None:
    log = make_log()
    good = {"order_id": "ord_1", "kind": "refund", "reported_at": "2026-11-25T10:00:00Z"}

    with pytest.raises(InvalidInput, match=r"outcome 2 of 2: reported_at"):
        log.record_outcomes([good, {**good, "reported_at": "2026-11-25T10:00:00"}])

    assert log.record_outcomes([good]) == 1


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_the_contract_tables_with_the_recorded_values(
    make_log: MakeLog, tmp_path: Path, fmt: str
) -> None:
    log = make_log()
    orders = [
        _order("ord_a"),
        _order("ord_b", created_at="2026-11-24T11:00:00+01:00", amount=150, **{"buyer.email_verified": None}),
        _order("ord_c", created_at="2026-11-23T08:00:00Z", post=..., shipping=..., **{"session.ip": "2001:db8::1"}),
    ]
    for order in orders:
        _record(log, order)
    outcomes = [
        {"order_id": "ord_a", "kind": "fraud_chargeback", "reported_at": "2026-12-20T09:00:00Z", "source": "processor"},
        {"order_id": "ord_c", "kind": "refund", "reported_at": "2026-11-30T12:30:00+02:00"},
    ]
    log.record_outcomes(outcomes)

    counts = _export(log, tmp_path / "export", fmt)

    assert counts == (3, 2)
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == [f"orders.{fmt}", f"outcomes.{fmt}"]
    back = read_orders(tmp_path / "export" / f"orders.{fmt}")
    assert list(back["order_id"]) == ["ord_c", "ord_b", "ord_a"]  # in time order (b at 10:00Z, a at 10:15Z)
    expected = pd.DataFrame([_flat(o) for o in orders]).set_index("order_id")
    for order_id, row in back.set_index("order_id").iterrows():
        for column, value in row.items():
            want = expected.loc[order_id, column] if column in expected.columns else None
            assert _same(value, want), (order_id, column, value, want)
    assert back.set_index("order_id").loc["ord_b", "created_at"] == pd.Timestamp("2026-11-24T10:00:00Z")
    assert pd.isna(back.set_index("order_id").loc["ord_c", "post_post_id"])

    back_outcomes = read_outcomes(tmp_path / "export" / f"outcomes.{fmt}")
    assert back_outcomes[["order_id", "kind", "reported_at"]].to_dict("records") == [
        {"order_id": "ord_c", "kind": "refund", "reported_at": pd.Timestamp("2026-11-30T10:30:00Z")},
        {"order_id": "ord_a", "kind": "fraud_chargeback", "reported_at": pd.Timestamp("2026-12-20T09:00:00Z")},
    ]
    assert pd.isna(back_outcomes["source"].iloc[0]) and back_outcomes["source"].iloc[1] == "processor"


def test_export_of_an_empty_log_writes_empty_tables(make_log: MakeLog, tmp_path: Path) -> None:
    assert _export(make_log(), tmp_path, "parquet") == (0, 0)
    assert len(read_orders(tmp_path / "orders.parquet")) == 0
    assert len(read_outcomes(tmp_path / "outcomes.parquet")) == 0


def test_decisions_survive_closing_and_reopening(make_log: MakeLog) -> None:
    log = make_log()
    stored = _record(log, _order("ord_1"))
    log.record_outcomes([{"order_id": "ord_1", "kind": "refund", "reported_at": "2026-11-25T10:00:00Z"}])
    log.close()

    with pytest.raises(DecisionLogUnavailable, match="closed"):
        log.get("ord_1")
    assert not log.ping()

    reopened = make_log()
    assert reopened.get("ord_1") == stored
    assert reopened.count() == 1
    outcome = {"order_id": "ord_1", "kind": "refund", "reported_at": "2026-11-25T10:00:00Z"}
    assert reopened.record_outcomes([outcome]) == 0


def test_a_time_without_timezone_is_refused(make_log: MakeLog) -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        _record(make_log(), _order("ord_1"), created_at=datetime(2026, 11, 24, 10, 15))


def test_non_finite_numbers_in_the_decision_are_stored_as_null(make_log: MakeLog) -> None:
    decision = {**_decision("ord_1"), "reasons": [{"code": "x", "message": "m", "value": float("nan")}]}

    stored = _record(make_log(), _order("ord_1"), decision=decision)

    assert stored.decision["reasons"][0]["value"] is None


def test_unreachable_postgres_raises_unavailable_quickly_without_the_password() -> None:
    started = time.monotonic()
    with pytest.raises(DecisionLogUnavailable) as caught:
        PostgresDecisionLog("postgresql://risk:s3cret@127.0.0.1:1/test", connect_timeout_s=2)
    assert time.monotonic() - started < 3
    assert caught.value.status == 503
    assert "s3cret" not in caught.value.message and "\n" not in caught.value.message
    assert "127.0.0.1:1/test" in caught.value.message


@pytest.mark.integration
def test_postgres_reconnects_once_after_its_connection_is_killed(tmp_path: Path) -> None:
    require_postgres(DATABASE_URL)
    log = PostgresDecisionLog(DATABASE_URL, table_prefix=f"test_{uuid.uuid4().hex[:12]}_")
    try:
        stored = _record(log, _order("ord_1"))
        assert log.get("ord_1") == stored
        pids = [log._conn.info.backend_pid, log._getter.info.backend_pid]  # the writing and the look-up connection
        killer = PostgresDecisionLog(DATABASE_URL, table_prefix=log.table_prefix)
        killer._run("kill", lambda c: c.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
                                                [pids]))
        killer.close()

        second = _record(log, _order("ord_2"))
        assert second.inserted
        assert log.get("ord_1") == stored and log.get("ord_2") == second
        assert log.ping()
    finally:
        log.drop_tables()
        log.close()


def test_open_decision_log_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    with open_decision_log(None, tmp_path / "default.db") as log:
        assert isinstance(log, SQLiteDecisionLog) and log.path == tmp_path / "default.db"
    with open_decision_log(f"sqlite:///{tmp_path}/named.db", tmp_path / "default.db") as log:
        assert isinstance(log, SQLiteDecisionLog) and log.path == tmp_path / "named.db"
        assert log.synchronous == "NORMAL"
    with open_decision_log(f"sqlite:///{tmp_path}/full.db?synchronous=full", tmp_path / "default.db") as log:
        assert isinstance(log, SQLiteDecisionLog) and log.path == tmp_path / "full.db" and log.synchronous == "FULL"
    with pytest.raises(InvalidInput, match="mode unknown"):
        open_decision_log(f"sqlite:///{tmp_path}/x.db?mode=ro", tmp_path / "default.db")
    with pytest.raises(DecisionLogUnavailable):
        open_decision_log("postgresql://postgres@127.0.0.1:1/test", tmp_path / "default.db")
    with pytest.raises(InvalidInput, match="'mysql' is not supported"):
        open_decision_log("mysql://db/risk", tmp_path / "default.db")


def test_read_since_gives_only_what_was_recorded_after_the_moment(make_log: MakeLog) -> None:
    log = make_log()
    _record(log, _order("ord_old"))
    log.record_outcomes([{"order_id": "ord_old", "kind": "refund", "reported_at": "2026-11-25T10:00:00Z"}])
    time.sleep(0.01)
    moment = datetime.now(UTC)
    _record(log, _order("ord_new"))

    orders, outcomes = log.read_since(moment)

    assert [order["order_id"] for order in orders] == ["ord_new"] and outcomes == []
    assert len(log.read_since(None)[0]) == 2


def test_only_the_sqlite_log_writes_from_this_process_without_a_network_peer(tmp_path: Path) -> None:
    assert SQLiteDecisionLog.in_process and not PostgresDecisionLog.in_process


def test_sqlite_log_in_an_unwritable_place_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DecisionLogUnavailable, match="SQLite decision log"):
        SQLiteDecisionLog(tmp_path / "file" / "decisions.db")


# ---- helpers -----------------------------------------------------------------------------


def _export(log: DecisionLog, directory: Path, fmt: str) -> tuple[int, int]:
    """What `risk export` does: the log gives its rows, risk/export.py writes them."""
    orders, outcomes = log.read_since(None)
    return export_dataset(directory, orders, outcomes, fmt)


def _flat(order: dict) -> dict:
    row = flatten(Order.model_validate(order))
    return {k: (pd.Timestamp(v).tz_convert("UTC") if isinstance(v, datetime) else v) for k, v in row.items()}


def _same(got: object, want: object) -> bool:
    if want is None or (not isinstance(want, str) and pd.isna(want)):
        return bool(pd.isna(got))
    if isinstance(want, pd.Timestamp):
        return got == want
    return bool(got == want) and not pd.isna(got)



def _rules_epochs(log: DecisionLog) -> dict[str, int | None]:
    statement = f"SELECT order_id, rules_epoch FROM {_decisions_table(log)}"
    rows = log._run("test", lambda c: c.execute(statement).fetchall())
    return dict(rows)


def _decisions_table(log: DecisionLog) -> str:
    return f'"{getattr(log, "table_prefix", "")}decisions"'


def test_a_log_written_before_the_rules_epoch_column_gains_it_when_opened(make_log: MakeLog) -> None:
    old = make_log()
    _record(old, _order("ord_old"))
    old._run("drop", lambda c: c.execute(f"ALTER TABLE {_decisions_table(old)} DROP COLUMN rules_epoch"))
    old.close()

    log = make_log()
    _record(log, _order("ord_new"), rules_epoch=7)

    assert _rules_epochs(log) == {"ord_old": None, "ord_new": 7}
    assert log.get("ord_old") is not None


def test_the_logged_order_of_a_decision_is_found_by_its_order_id(make_log: MakeLog) -> None:
    log = make_log()
    order = _order("ord_1")
    _record(log, order)

    assert log.logged_order("ord_1") == order
    assert log.logged_order("ord_2") is None


GROUPED_CHILD = """
import sys, threading
from datetime import UTC, datetime, timedelta
from serve.decision_log import PostgresDecisionLog
from serve.decision_log.schema import ReviewRow

log = PostgresDecisionLog(sys.argv[1], table_prefix=sys.argv[2])
now = datetime.now(UTC)
printing = threading.Lock()

def work(thread):
    for i in range(1_000_000):
        order_id = f"t{thread}-{i}"
        review = None if i % 3 else ReviewRow(order_id, now, now + timedelta(hours=4), "open", 100, "EUR", "s", "b",
                                              None, 0.5, 0.5, " ", " ")
        order = {"order_id": order_id, "payment": {"card_fingerprint": "c"}}
        log.record(order_id, "h", now, order, None, {"decision": "review" if review else "approve"}, "m",
                   review=review)
        with printing:
            print(order_id, flush=True)  # acknowledged: the record call returned

for thread in range(8):
    threading.Thread(target=work, args=(thread,)).start()
"""


@pytest.mark.integration
def test_grouped_commits_killed_mid_stream_lose_no_acknowledged_decision_nor_a_review(tmp_path: Path) -> None:
    require_postgres(DATABASE_URL)
    prefix = f"test_{uuid.uuid4().hex[:12]}_"
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    child = subprocess.Popen([sys.executable, "-c", GROUPED_CHILD, DATABASE_URL, prefix], stdout=subprocess.PIPE,
                             text=True, env=env)
    assert child.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 600 and time.monotonic() < deadline:
        acknowledged.append(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)  # mid-stream, with commits of 8 threads in flight
    child.wait()

    log = PostgresDecisionLog(DATABASE_URL, table_prefix=prefix)
    try:
        reviews = log.read("reviews", lambda c: {row[0] for row in c.execute(
            f"SELECT order_id FROM {log.table(REVIEWS)}").fetchall()})
        decided = log.read("decisions", lambda c: {row[0]: row[1] for row in c.execute(
            f"SELECT order_id, decision_json->>'decision' FROM {log.table(DECISIONS)}").fetchall()})
        assert len(acknowledged) >= 600
        assert set(acknowledged) <= set(decided)  # nothing acknowledged was lost
        assert reviews == {order_id for order_id, verdict in decided.items() if verdict == "review"}  # all or none
    finally:
        log.drop_tables()
        log.close()



def _wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence: SQLite adds one each time the WAL starts over from its beginning."""
    with open(path.with_name(path.name + "-wal"), "rb") as handle:
        return int.from_bytes(handle.read(16)[12:16], "big")


def test_a_wal_past_its_bound_starts_over_while_decisions_keep_coming_and_none_is_lost(tmp_path):
    bound = 256 * 1024
    log = SQLiteDecisionLog(tmp_path / "log.sqlite", wal_restart_bytes=bound)
    written: list[str] = []
    stop = threading.Event()

    def keep_writing() -> None:  # a steady stream: a checkpoint without the hold never catches up with it
        while not stop.is_set():
            order = _order(f"ord_{len(written)}")
            _record(log, order)
            written.append(order["order_id"])

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while (tmp_path / "log.sqlite-wal").stat().st_size <= bound:
            time.sleep(0.01)
        before = _wal_restarts(log.path)
        checkpointer = log._connect()
        log.checkpoint(checkpointer)
        checkpointer.close()
        count = len(written)
        while len(written) < count + 5:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    assert _wal_restarts(log.path) > before
    assert log.count() == len(written) and all(log.get(order_id) for order_id in written[-3:])
    log.close()
