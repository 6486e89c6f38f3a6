"""A Redis outage loses no velocity: orders scored while it was away reach the state once it is back.

Each test runs a redis-server of its own, kills it (-9) in the middle of scoring, scores
on (degraded), restarts it, empty or with its data (append-only file), lets the
service's repair job replay the decision log, then compares every feature of a probe
order with a run that had no outage.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from features.catalog import FEATURE_NAMES
from features.state import EmbeddedState, FeatureState
from features.state.redis_state import RedisState
from models.bundle import load_bundle
from risk.contract import Order
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.state_repair import StateRepair
from tests.serve.servers import OwnRedis, card_order

pytestmark = pytest.mark.integration
ORDERS = [card_order(f"o{i}", minute=i, amount=1000 + 37 * i) for i in range(36)]
PROBE = card_order("probe", minute=40)


def engine_on(model_dir: Path, state: FeatureState, tmp_path: Path) -> ScoringEngine:
    return ScoringEngine(load_bundle(model_dir), state, SQLiteDecisionLog(tmp_path / "decisions.sqlite"))


def probe_features(engine: ScoringEngine) -> list[float]:
    features, _ = engine.online.compute(Order.model_validate(PROBE))
    return features


def same(a: list[float], b: list[float]) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))


def wait_until(condition, timeout_s: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def without_outage(model_dir, tmp_path) -> list[float]:
    engine = engine_on(model_dir, EmbeddedState(), tmp_path / "reference")
    for order in ORDERS:
        engine.score(Order.model_validate(order))
    return probe_features(engine)


@pytest.mark.parametrize("keeps_data", [False, True], ids=["restarted-empty", "restarted-with-its-data"])
def test_orders_scored_during_a_redis_outage_count_once_it_is_back(model_dir, tmp_path, without_outage, keeps_data):
    server = OwnRedis(tmp_path / "redis", appendonly=keeps_data)
    server.start()
    engine = engine_on(model_dir, RedisState(url=server.url, timeout_s=0.2), tmp_path / "outage")
    repair = StateRepair(engine, interval_s=0.05)
    repair.job.start()
    try:
        wait_until(engine.state.complete)  # a new state: marked complete after an (empty) replay
        degraded = []
        for i, order in enumerate(ORDERS):
            if i == 12:
                server.kill()
            if i == 24:
                server.start()  # the repair job notices within its interval
            degraded.append(engine.score(Order.model_validate(order)).decision.degraded)
        wait_until(lambda: engine.unapplied_since is None and engine.state.complete())
        assert same(probe_features(engine), without_outage)
    finally:
        repair.job.stop()
        engine.state.close()
        server.kill()
    assert not any(degraded[:12]) and all(degraded[12:24])  # the outage was real, and only then
    # the comparison covers the card's velocity: every order of the run, the degraded ones included
    assert without_outage[FEATURE_NAMES.index("order_count_by_card_24h")] == len(ORDERS)
