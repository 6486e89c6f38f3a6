"""`risk state load` speed: a simulated data set loaded into the embedded state (and optionally Redis).

Usage: python bench/bench_state_load.py [--orders 1000000] [--days 90] [--redis-url URL]

Prints one table: reading the data set, building the state (the same writes as online
replay, in the same order), writing the snapshot; orders per second. Redis gets a
fresh key prefix, deleted afterwards.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from pathlib import Path

from features.loading import History, load_history
from features.state import EmbeddedState
from risk.datasets import ORDERS, OUTCOMES, normalise, read_orders, read_outcomes
from training.simulator import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--redis-url", help="also load into Redis (pipelined) at this URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        orders, outcomes = simulate(args.orders, args.days, seed=1)
        normalise(orders, ORDERS).to_parquet(folder / "orders.parquet", index=False)
        normalise(outcomes, OUTCOMES).to_parquet(folder / "outcomes.parquet", index=False)
        del orders, outcomes
        rows = []
        started = time.perf_counter()
        orders, outcomes = read_orders(folder / "orders.parquet"), read_outcomes(folder / "outcomes.parquet")
        history = History.from_frames(orders, outcomes)
        rows.append(("read + validate the data set", time.perf_counter() - started))
        started = time.perf_counter()
        state = EmbeddedState()
        loaded = load_history(history, state)
        rows.append((f"embedded state: {loaded.orders:,} orders, {loaded.outcomes:,} outcomes",
                     time.perf_counter() - started))
        started = time.perf_counter()
        state.snapshot(folder / "state.pkl")
        size_mb = (folder / "state.pkl").stat().st_size / 1e6
        rows.append((f"snapshot ({size_mb:,.0f} MB)", time.perf_counter() - started))
        if args.redis_url:
            rows.append(load_redis(args.redis_url, history))
    print(f"{'step':<55} {'seconds':>8} {'orders/s':>10}")
    for name, seconds in rows:
        print(f"{name:<55} {seconds:8.1f} {args.orders / seconds:10,.0f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


def load_redis(url: str, history: History) -> tuple[str, float]:
    import redis

    from features.state.redis_state import RedisState

    prefix = f"bench:{uuid.uuid4().hex}:"
    state = RedisState(url=url, prefix=prefix, timeout_s=60.0)
    started = time.perf_counter()
    loaded = load_history(history, state)
    seconds = time.perf_counter() - started
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=5000))
    for start in range(0, len(keys), 5000):
        client.delete(*keys[start:start + 5000])
    return f"Redis, pipelined: {loaded.orders:,} orders", seconds


if __name__ == "__main__":
    main()
