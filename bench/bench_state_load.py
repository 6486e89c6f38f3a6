"""`risk state load` speed: a simulated data set loaded into the embedded state, per order and in bulk.

Usage: python bench/bench_state_load.py [--orders 1000000] [--days 90] [--paths bulk,per-order]
                                        [--no-snapshot] [--redis-url URL]

Simulates the data set once (Parquet files), then loads it with each path in a process of
its own, so that each path's peak RSS is its own: reading the data set, building the
state (bulk: each phase of features.state.bulk_load; per order: the same writes as online
replay, in the same order), expiring what is past retention, writing the snapshot. Prints
one table per path (wall and CPU seconds: CPU is what a shared machine inflates least), the
load average before and after it, and its peak RSS. Redis gets a fresh key prefix, deleted
afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from features.loading import History, load_history
from features.state import EmbeddedState, bulk_load
from risk.datasets import ORDERS, OUTCOMES, normalise, read_orders, read_outcomes
from training.simulator import simulate

PATHS = ("bulk", "per-order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--paths", default=",".join(PATHS), help="which loads to run, in this order")
    parser.add_argument("--no-snapshot", action="store_true", help="skip writing the snapshot")
    parser.add_argument("--redis-url", help="also load into Redis (pipelined) at this URL")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: run one path on --data
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_path(args.child, args.data, snapshot=not args.no_snapshot, redis_url=args.redis_url)))
        return
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        started = time.perf_counter()
        orders, outcomes = simulate(args.orders, args.days, seed=1)
        normalise(orders, ORDERS).to_parquet(folder / "orders.parquet", index=False)
        normalise(outcomes, OUTCOMES).to_parquet(folder / "outcomes.parquet", index=False)
        print(f"simulated {len(orders):,} orders, {len(outcomes):,} outcomes over {args.days} days "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        del orders, outcomes
        for path in args.paths.split(","):
            before = load_average()
            command = [sys.executable, __file__, "--child", path, "--data", str(folder)]
            command += ["--no-snapshot"] if args.no_snapshot else []
            command += ["--redis-url", args.redis_url] if args.redis_url and path == "per-order" else []
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            report(path, result, args.orders, before, load_average())


def run_path(path: str, folder: Path, *, snapshot: bool, redis_url: str | None) -> dict[str, object]:
    """One path's phases: [(name, wall seconds, CPU seconds)], and the process's peak RSS."""
    phases: list[tuple[str, float, float]] = []
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        phases.append((name, now[0] - clock[0], now[1] - clock[1]))
        clock[:] = now

    orders, outcomes = read_orders(folder / "orders.parquet"), read_outcomes(folder / "outcomes.parquet")
    history = History.from_frames(orders, outcomes)
    del orders, outcomes
    lap("read + validate the data set")
    state = EmbeddedState()
    if path == "bulk":
        if not bulk_load.can_build(history, state):
            raise SystemExit("the bulk load does not apply to this data set")
        lap("  bulk: check the state is empty, ids unique")
        current = ["  bulk: entity keys"]

        def say(phase: str) -> None:  # called as each phase starts: the one before it ends
            lap(current[0])
            current[0] = f"  bulk: {phase}"

        counts = bulk_load.build(history, state, say=say)
        lap(current[0])
        loaded = f"{counts[0]:,} orders, {counts[1]:,} outcomes"
    else:
        result = load_history(history, state)
        loaded = f"{result.orders:,} orders, {result.outcomes:,} outcomes"
        lap(f"  per order: {loaded}")
    phases.append((f"state built ({loaded})", sum(phase[1] for phase in phases[1:]),
                   sum(phase[2] for phase in phases[1:])))
    built_peak_gb = _peak_rss_gb()
    clock[:] = [time.perf_counter(), time.process_time()]
    expired = state.expire()
    lap(f"expire ({expired:,} records and logs past retention)")
    if snapshot:
        with tempfile.TemporaryDirectory() as out:
            state.snapshot(Path(out) / "state.pkl")
            size_mb = (Path(out) / "state.pkl").stat().st_size / 1e6
            lap(f"snapshot ({size_mb:,.0f} MB)")
    if redis_url:
        phases.append(load_redis(redis_url, history))
    return {"phases": phases, "built_peak_rss_gb": built_peak_gb, "peak_rss_gb": _peak_rss_gb()}


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def report(path: str, result: dict, n_orders: int, before: str, after: str) -> None:  # type: ignore[type-arg]
    print(f"\n{path} (load average before {before}, after {after})")
    print(f"{'step':<60} {'seconds':>8} {'CPU s':>8} {'orders/s':>10}")
    for name, seconds, cpu in result["phases"]:
        print(f"{name:<60} {seconds:8.2f} {cpu:8.2f} {n_orders / max(seconds, 1e-9):10,.0f}")
    print(f"peak RSS {result['built_peak_rss_gb']:.2f} GB once the state is built, {result['peak_rss_gb']:.2f} GB "
          "in all (the snapshot's pickling included)", flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def load_redis(url: str, history: History) -> tuple[str, float, float]:
    import redis

    from features.state.redis_state import RedisState

    prefix = f"bench:{uuid.uuid4().hex}:"
    state = RedisState(url=url, prefix=prefix, timeout_s=60.0)
    started, cpu = time.perf_counter(), time.process_time()
    loaded = load_history(history, state)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=5000))
    for start in range(0, len(keys), 5000):
        client.delete(*keys[start:start + 5000])
    return f"Redis, pipelined: {loaded.orders:,} orders", seconds, cpu


if __name__ == "__main__":
    main()
