"""Several scoring processes on one Redis state and one PostgreSQL log behave as one service.

Real `risk serve` processes on free ports, sharing the test Redis (a fresh key prefix)
and the test PostgreSQL database (a fresh table prefix): concurrent requests for one
card lose no increment, an order_id is decided once whichever replica it reaches, and
a promoted model reaches every worker of every replica.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from cli.main import main
from features.catalog import FEATURE_NAMES
from features.state import EmbeddedState
from models.bundle import load_bundle
from models.registry import Registry
from risk.contract import Order
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from tests.serve.servers import (
    ADMIN_KEY,
    CHECKOUT_KEY,
    DATABASE_URL,
    REDIS_URL,
    Service,
    card_order,
    postgres_prefix,
    redis_prefix,
    service_env,
)

pytestmark = pytest.mark.integration
CHECKOUT = {"X-API-Key": CHECKOUT_KEY}


@pytest.fixture(scope="module")
def prefixes() -> Iterator[tuple[str, str]]:
    """(Redis key prefix, PostgreSQL table prefix), both fresh."""
    for keys in redis_prefix():
        for tables in postgres_prefix():
            yield keys, tables


def start(count: int, args: list[str], prefixes: tuple[str, str], tmp_path: Path) -> list[Service]:
    keys, tables = prefixes
    env = service_env(redis_url=REDIS_URL, database_url=DATABASE_URL, redis_prefix=keys,
                      database_table_prefix=tables)
    services = [Service([*args, "--data-dir", str(tmp_path / f"data{i}")], env, tmp_path / f"service{i}.log")
                for i in range(count)]
    for service in services:
        service.wait_ready()
    return services


@pytest.fixture(scope="module")
def two_replicas(model_dir, prefixes, tmp_path_factory) -> Iterator[list[Service]]:
    """Two replicas for the module's tests (each test uses its own cards and order ids)."""
    services = start(2, ["--model", str(model_dir)], prefixes, tmp_path_factory.mktemp("replicas"))
    yield services
    for service in services:
        service.stop()


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/v1/orders/score", json=body, headers=CHECKOUT, timeout=30)


def logged_features(table_prefix: str, order_id: str) -> list[float]:
    with psycopg.connect(DATABASE_URL) as conn:
        row = conn.execute(f'SELECT features_json FROM "{table_prefix}decisions" WHERE order_id = %s',
                           [order_id]).fetchone()
    return json.loads(row[0])


def sequential_features(model_dir: Path, tmp_path: Path, orders: list[dict[str, Any]], probe: dict[str, Any]
                        ) -> list[float]:
    """The probe's features after the orders were scored one at a time by one process."""
    engine = ScoringEngine(load_bundle(model_dir), EmbeddedState(), SQLiteDecisionLog(tmp_path / "seq.sqlite"))
    for order in orders:
        engine.score(Order.model_validate(order))
    return engine.online.compute(Order.model_validate(probe))[0]


def models_of(service: Service) -> dict[int, str]:
    """The model each worker process (by pid) of a service serves now, from its log lines (start-up, reloads)."""
    serving: dict[int, str] = {}
    for line in service.log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry["message"] == "scoring process started":
                serving[entry["pid"]] = entry["model"]
            elif entry["message"].startswith("model ") and " loaded from " in entry["message"]:
                serving[entry["pid"]] = entry["message"].split()[1]
    return serving


def same(a: list[float], b: list[float]) -> bool:
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))


def test_one_card_hammered_through_two_replicas_counts_every_order(two_replicas, prefixes, model_dir, tmp_path):
    orders = [card_order(f"v{i}", minute=i % 50, amount=500 + i) for i in range(120)]
    with ThreadPoolExecutor(8) as pool:  # both replicas, eight requests in flight at a time
        answers = list(pool.map(lambda i: post(two_replicas[i % 2].url, orders[i]), range(len(orders))))
    assert [answer.status_code for answer in answers] == [200] * len(orders)
    assert not any(answer.json()["degraded"] for answer in answers)
    probe = card_order("probe", minute=55)
    assert post(two_replicas[0].url, probe).status_code == 200

    served = logged_features(prefixes[1], "probe")
    expected = sequential_features(model_dir, tmp_path, orders, probe)
    assert served[FEATURE_NAMES.index("order_count_by_card_1h")] == len(orders)
    assert same(served, expected)


def test_an_order_id_is_decided_once_whichever_replica_it_reaches(two_replicas, prefixes, model_dir, tmp_path):
    a, b = (service.url for service in two_replicas)
    same_body, other_body = [], []
    for i in range(12):
        order = card_order(f"twice{i}", minute=i, card="card-idem")
        barrier = threading.Barrier(2)

        def send(url: str, body: dict[str, Any], barrier: threading.Barrier = barrier) -> httpx.Response:
            barrier.wait()
            return post(url, body)

        with ThreadPoolExecutor(2) as pool:  # the same body to both replicas at once
            same_body.append(list(pool.map(send, (a, b), (order, order))))
        clash = card_order(f"clash{i}", minute=20 + i, card="card-idem")
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:  # two bodies under one order_id, one to each replica, at once
            other_body.append(list(pool.map(send, (a, b), (clash, {**clash, "amount": clash["amount"] + 1}))))

    for first, second in same_body:
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()  # the stored decision, whoever stored it
        assert sorted([first.headers.get("Idempotent-Replay"), second.headers.get("Idempotent-Replay")],
                      key=str) == [None, "true"]
    for first, second in other_body:
        assert sorted([first.status_code, second.status_code]) == [200, 409]

    probe = card_order("probe-idem", minute=40, card="card-idem")
    assert post(a, probe).status_code == 200
    served = logged_features(prefixes[1], "probe-idem")
    assert served[FEATURE_NAMES.index("order_count_by_card_1h")] == 24  # each order_id counted once
    with psycopg.connect(DATABASE_URL) as conn:
        stored = conn.execute(f'SELECT count(*) FROM "{prefixes[1]}decisions" WHERE order_id LIKE %s '
                              "OR order_id LIKE %s OR order_id = 'probe-idem'", ["twice%", "clash%"]).fetchone()[0]
    assert stored == 25


def test_a_promoted_model_reaches_every_worker_of_every_replica(model_dir, other_model_dir, prefixes, tmp_path):
    (tmp_path / "registry").mkdir()
    registry = Registry(tmp_path / "registry")
    first, second = registry.add(model_dir), registry.add(other_model_dir)
    assert first != second
    registry.promote(first)
    services = start(2, ["--registry", str(registry.root), "--workers", "2"], prefixes, tmp_path)
    try:
        before = post(services[0].url, card_order("before", minute=0, card="card-reload"))
        assert before.json()["model_version"] == first
        deadline = time.monotonic() + 60  # every worker up on the first model: each must then reload
        while time.monotonic() < deadline and not all(
                list(models_of(service).values()) == [first, first] for service in services):
            time.sleep(0.2)
        registry.promote(second)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
                list(models_of(service).values()) == [second, second] for service in services):
            time.sleep(0.2)
        for service in services:  # two workers each, both serving the promoted model
            assert list(models_of(service).values()) == [second, second]
        later = [post(services[i % 2].url, card_order(f"later{i}", minute=i, card="card-reload")) for i in range(20)]
        versions = {answer.json()["model_version"] for answer in later}
        assert versions == {second}
    finally:
        for service in services:
            service.stop()


@pytest.mark.parametrize("flags, needs", [
    ([], "needs --redis-url"),
    (["--redis-url", "redis://127.0.0.1:6379/0"], "needs --database-url postgresql://"),
    (["--redis-url", "redis://127.0.0.1:6379/0", "--database-url", "sqlite:///x.db"], "SQLite decision log"),
])
def test_several_workers_refuse_per_process_state_or_log_in_one_line(flags, needs, model_dir, capsys):
    assert main(["serve", "--model", str(model_dir), "--workers", "2", *flags]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("risk: error: --workers 2 ") and needs in lines[0]


def test_the_admin_reload_route_still_answers_on_a_replica(two_replicas):
    answer = httpx.post(f"{two_replicas[0].url}/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY}, timeout=30)
    assert answer.status_code == 200
