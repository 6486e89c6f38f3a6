"""Live pick-up: a rule saved by another process is in effect in every running scoring process within a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from serve.rules_store.database import SQLiteDatabase
from serve.rules_store.live import ActiveRules, RulesWatcher, build_active
from serve.rules_store.schema import RULE_VERSIONS
from serve.rules_store.store import RulesStore
from tests.builders import make_order
from tests.serve.conftest import CHECKOUT, make_client
from tests.serve.rules_store.conftest import OpenDatabase


def test_a_running_service_picks_up_a_rule_saved_elsewhere_within_one_second(model_dir, tmp_path):
    with make_client(model_dir, tmp_path) as client:  # the lifespan starts the service's watcher thread
        other = RulesStore(SQLiteDatabase(tmp_path / "decisions.sqlite"))  # as `risk rules add` would
        saved = time.monotonic()
        other.create_rule("big", "decline if amount > 1", author="ann")
        picked_up, n = None, 0
        while time.monotonic() - saved < 3 and picked_up is None:
            n += 1
            moment = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
            decision = client.post("/v1/orders/score", json=make_order(order_id=f"o{n}", created_at=moment),
                                   headers=CHECKOUT).json()
            if decision["rules"]:
                picked_up = time.monotonic() - saved
            else:
                time.sleep(0.02)

    assert picked_up is not None and picked_up < 1.0, picked_up
    assert decision["decision"] == "decline"


def test_every_process_sharing_the_database_sees_a_change_within_one_second(open_database: OpenDatabase):
    """Two watchers on connections of their own (two scoring processes) and a writer on a third."""
    seen: dict[str, float] = {}
    watchers = []
    for name in ("worker_1", "worker_2"):
        def use(active: ActiveRules, name: str = name) -> None:
            if active.rules.rules_version:
                seen.setdefault(name, time.monotonic())

        watcher = RulesWatcher(RulesStore(open_database()), use, interval_s=0.25)
        watcher.refresh()
        watcher.job.start()
        watchers.append(watcher)
    try:
        saved = time.monotonic()
        RulesStore(open_database()).create_rule("big", "review if amount > 1", author="ann")
        while len(seen) < 2 and time.monotonic() - saved < 3:
            time.sleep(0.01)
    finally:
        for watcher in watchers:
            watcher.job.stop()

    assert set(seen) == {"worker_1", "worker_2"}
    assert max(seen.values()) - saved < 1.0


def test_a_watcher_keeps_the_rules_in_effect_when_the_store_cannot_be_read(open_database: OpenDatabase):
    store = RulesStore(open_database())
    store.create_rule("big", "review if amount > 1", author="ann")
    used: list[ActiveRules] = []
    watcher = RulesWatcher(store, used.append)
    watcher.refresh()
    store.db.close()

    watcher.job.start()
    time.sleep(0.6)
    assert watcher.job.stop(timeout_s=2)

    assert len(used) == 1 and used[0].rules.rules_version == {"big": 1}


def test_a_stored_rule_that_no_longer_compiles_is_left_out_and_the_others_act(open_database: OpenDatabase):
    store = RulesStore(open_database())
    store.create_rule("good", "review if amount > 1", author="ann")
    store.create_rule("old", "review if amount > 2", author="ann")
    with store.db.transaction(write=True) as s:  # as if saved by an older version of the language
        s.execute(f"UPDATE {s.table(RULE_VERSIONS)} SET text = 'review if amout > 2' WHERE rule_id = 'old'")

    active = build_active(store)

    assert active.rules.rules_version == {"good": 1}
