"""Per-order cost of the online path on each FeatureState backend, over a replayed simulation.

    .venv/bin/python bench/bench_state.py [--orders 50000] [--redis-url redis://127.0.0.1:6379/0]

Times `OnlineFeatures.compute` + `state.apply` of every order (not the parsing of the
order, nor the outcomes' writes), and within it the state's own `fetch` + `apply`.
The Redis run works under a fresh key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import argparse
import gc
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import redis

from features.online import OnlineFeatures
from features.replay import replay
from features.state import EmbeddedState, FeatureState, OrderRecord, Writes
from features.state.redis_state import RedisState
from risk.datasets import ORDERS, OUTCOMES, normalise
from training.simulator import simulate


class _TimedState(FeatureState):
    """Passes every call to `inner`, adding the time of fetch and apply to `self.spent`."""

    def __init__(self, inner: FeatureState) -> None:
        self.inner = inner
        self.spent = 0.0

    def fetch(self, prefixes: Sequence[Any], seen: Sequence[str], slices: Sequence[Any] = ()) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.fetch(prefixes, seen, slices)
        finally:
            self.spent += time.perf_counter() - started

    def apply(self, writes: Writes) -> bool:
        started = time.perf_counter()
        try:
            return self.inner.apply(writes)
        finally:
            self.spent += time.perf_counter() - started

    def order(self, order_id: str) -> OrderRecord | None:
        return self.inner.order(order_id)

    def held(self, order_ids: Sequence[str]) -> set[str]:
        return self.inner.held(order_ids)


class _TimedOnline(OnlineFeatures):
    """Times each order from the start of `compute` to the end of its `apply` (replay's `on_order`)."""

    def __init__(self, state: _TimedState) -> None:
        super().__init__(state)
        self.timed_state = state
        self.total: list[float] = []
        self.in_state: list[float] = []
        self._started = 0.0

    def compute(self, order: Any) -> Any:
        self.timed_state.spent = 0.0
        self._started = time.perf_counter()
        return super().compute(order)

    def order_done(self, _row: int) -> None:
        self.total.append(time.perf_counter() - self._started)
        self.in_state.append(self.timed_state.spent)


def run(name: str, state: FeatureState, orders: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, Any]:
    online = _TimedOnline(_TimedState(state))
    gc.collect()
    started = time.perf_counter()
    replay(orders, outcomes, online, on_order=online.order_done)
    wall = time.perf_counter() - started
    total, in_state = np.array(online.total) * 1e6, np.array(online.in_state) * 1e6
    return {
        "backend": name,
        "orders": len(total),
        "p50_us": np.percentile(total, 50),
        "p99_us": np.percentile(total, 99),
        "state_p50_us": np.percentile(in_state, 50),
        "state_p99_us": np.percentile(in_state, 99),
        "replay_s": wall,
    }


def with_redis(url: str, body: Callable[[RedisState], dict[str, Any]]) -> dict[str, Any]:
    prefix = f"bench:{uuid.uuid4().hex}:"
    state = RedisState(url=url, prefix=prefix, timeout_s=1.0)
    try:
        return body(state)
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=prefix + "*", count=10_000))
        for start in range(0, len(keys), 10_000):
            client.delete(*keys[start:start + 10_000])
        client.close()
        state.close()


def ping_us(url: str, n: int = 2_000) -> float:
    client = redis.Redis.from_url(url)
    client.ping()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.ping()
        times.append(time.perf_counter() - started)
    client.close()
    return float(np.median(times)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    orders, outcomes = simulate(args.orders, args.days, args.seed)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    print(f"{len(orders):,} orders, {len(outcomes):,} outcomes over {args.days} days (seed {args.seed})")
    results = [run("embedded", EmbeddedState(), orders, outcomes)]
    results.append(with_redis(args.redis_url, lambda state: run("redis", state, orders, outcomes)))
    print(f"Redis PING round trip p50 {ping_us(args.redis_url):.0f} us (the floor of one call)")
    table = pd.DataFrame(results).set_index("backend")
    ratio = table.loc["redis"] / table.loc["embedded"]
    ratio["orders"] = np.nan
    table.loc["redis / embedded"] = ratio
    print("per order: compute + apply (p50_us, p99_us) and within it the state's fetch + apply")
    print(table.to_string(float_format=lambda v: f"{v:,.1f}"))


if __name__ == "__main__":
    main()
