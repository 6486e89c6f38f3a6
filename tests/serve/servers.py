"""Real servers for the multi-process tests: a redis-server of a test's own, and `risk serve` processes.

Ports come from the bind-to-port-0 trick, so parallel runs never collide (or from RISK_TEST_PORTS,
"low-high", taken in turn, on a machine that gives each job a range). Without a
redis-server binary (or a reachable PostgreSQL) the tests skip, saying what to install,
and fail instead when RISK_REQUIRE_SERVICES is set (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.builders import make_order

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("RISK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHECKOUT_KEY = "checkout-key-1"
ADMIN_KEY = "admin-key-0001"
KEYS = {CHECKOUT_KEY: "checkout", ADMIN_KEY: "admin"}
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # after the example order's account and post times


def missing(what: str) -> None:
    if os.environ.get("RISK_REQUIRE_SERVICES"):
        pytest.fail(f"{what} and RISK_REQUIRE_SERVICES is set")
    pytest.skip(what)


_handed_out = [0]  # the last port free_port gave from RISK_TEST_PORTS


def free_port() -> int:
    """A free port: any, or one in RISK_TEST_PORTS ("low-high") on a machine whose jobs share out port ranges."""
    span = os.environ.get("RISK_TEST_PORTS")
    candidates = [0]
    if span:  # taken in turn, so that ports handed out before their servers bind them are not handed out again
        low, high = (int(part) for part in span.split("-"))
        start = _handed_out[0] + 1 if low <= _handed_out[0] < high else low
        candidates = [*range(start, high + 1), *range(low, start)]
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            _handed_out[0] = port
            return int(probe.getsockname()[1])
    raise RuntimeError(f"no free port in RISK_TEST_PORTS={span}")


def card_order(order_id: str, minute: int, *, card: str = "card-h7", amount: int = 2500) -> dict[str, Any]:
    """An order of `card` at T0 + `minute` minutes, from one of three devices and buyers."""
    return make_order(order_id=order_id, created_at=(T0 + timedelta(minutes=minute)).isoformat(), amount=amount,
                      **{"payment.card_fingerprint": card, "session.device_id": f"dev-{minute % 3}",
                         "buyer.account_id": f"buyer-{minute % 3}"})


class OwnRedis:
    """A redis-server on a free port, without snapshots; `appendonly` keeps its data across a kill -9."""

    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        if shutil.which("redis-server") is None:
            missing("no redis-server binary: apt-get install redis-server")
        self.port, self.directory, self.appendonly = free_port(), directory, appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof,
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """kill -9: no shutdown save, connections dropped."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class Service:
    """One `risk serve` process (any flags); stopped with SIGTERM, killed if it lingers."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(self.port),
                                             *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"service not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def service_env(**variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RISK_")}
    env.update(RISK_API_KEYS=json.dumps(KEYS), PYTHONPATH=str(ROOT))
    env.update({f"RISK_{name.upper()}": value for name, value in variables.items()})
    return env


def postgres_prefix() -> Iterator[str]:
    """A fresh table prefix in the test database (dropped afterwards); skips without PostgreSQL."""
    from serve.decision_log import PostgresDecisionLog

    prefix = f"test_{uuid.uuid4().hex[:12]}_"
    try:
        cleaner = PostgresDecisionLog(DATABASE_URL, table_prefix=prefix)
    except Exception as exc:
        missing(f"PostgreSQL not reachable at {DATABASE_URL} ({exc.__class__.__name__})")
    yield prefix
    cleaner.drop_tables()
    cleaner.close()


def redis_prefix() -> Iterator[str]:
    """A fresh key prefix in the test Redis (its keys deleted afterwards); skips without Redis."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        missing(f"Redis not reachable at {REDIS_URL} ({exc})")
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()
