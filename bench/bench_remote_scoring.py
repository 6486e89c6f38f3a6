"""CPU per scored order on the Redis state + PostgreSQL log, in process, split by step; checkouts side by side.

Usage: python bench/bench_remote_scoring.py [--repo NAME=DIR ...] [--orders 60000] [--warm 20000]
                                            [--timed 3000] [--threads 1] [--rounds 2] [--profile DIR]
                                            [--redis-url URL] [--database-url URL]

`ScoringEngine.score` as the service calls it (idempotency look-up, features read from
Redis, both models, the PostgreSQL log write, the Redis state update), without the HTTP
layer, on --timed simulated orders after --warm orders of history loaded into Redis.
CPU is the scoring process's own (user + system), not Redis's or PostgreSQL's: per step
from the thread's CPU clock (one thread), or in all from the process's (--threads N: the
service's N request threads sharing the GIL and the group commit). Wall time is shown
too; on a loaded machine read the CPU columns.

Each --repo NAME=DIR runs in a child process of its own with DIR first on sys.path (its
code, this script), interleaved over --rounds, each with a fresh Redis key prefix and
PostgreSQL table prefix (removed afterwards): a before/after comparison in one run.
--profile DIR writes a cProfile of each child's timed orders there.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
STEPS = {"state.fetch": ("state", "fetch"), "state.apply": ("state", "apply"),
         "log.get": ("decisions", "get"), "log.record": ("decisions", "record")}


def time_steps(engine) -> dict[str, list[float]]:
    """Wrap the engine's state and log calls so each adds its thread CPU seconds to its list."""
    spent: dict[str, list[float]] = {}
    for name, (owner, method) in STEPS.items():
        target = getattr(engine, owner)
        inner = getattr(target, method)
        spent[name] = seconds = []

        def timed(*args, _inner=inner, _seconds=seconds, **kwargs):
            started = time.thread_time()
            try:
                return _inner(*args, **kwargs)
            finally:
                _seconds.append(time.thread_time() - started)

        setattr(target, method, timed)
    return spent


def child(args: argparse.Namespace) -> None:
    """Score the orders in args.data with the checkout on sys.path; print one JSON line of figures."""
    import redis
    from bench_replicas import load_warm_history

    from features.state.redis_state import RedisState
    from models.bundle import load_bundle
    from risk.contract import Order
    from serve.decision_log import PostgresDecisionLog
    from serve.engine import ScoringEngine

    with open(args.data, "rb") as handle:
        world = pickle.load(handle)
    orders, outcomes, records = world["orders"], world["outcomes"], world["records"]
    prefix, table_prefix = f"bench:{uuid.uuid4().hex[:8]}:", f"bench_{uuid.uuid4().hex[:8]}_"
    load_warm_history(orders.iloc[:args.warm].reset_index(drop=True), outcomes, args.redis_url, prefix)
    state = RedisState(url=args.redis_url, prefix=prefix, timeout_s=5.0)
    log = PostgresDecisionLog(args.database_url, table_prefix=table_prefix)
    engine = ScoringEngine(load_bundle(args.model), state, log)
    tag = uuid.uuid4().hex[:6]
    bodies = [Order.model_validate(dict(r.model_dump(), order_id=f"{tag}-{r.order_id}")) for r in records]
    warm, timed = bodies[:args.warm_calls], bodies[args.warm_calls:]
    try:
        for order in warm:
            engine.score(order)
        steps = time_steps(engine) if args.threads == 1 else {}
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile(time.thread_time if args.threads == 1 else time.process_time)
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        if args.threads == 1:
            for order in timed:
                engine.score(order)
        else:
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(engine.score, timed))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        n = len(timed)
        out = {"orders": n, "cpu_ms": 1000 * cpu / n, "wall_ms": 1000 * wall / n,
               "threads": threading.active_count(), "load": os.getloadavg()[0]}
        out.update({name: 1000 * sum(seconds) / n for name, seconds in steps.items()})
        print("RESULT " + json.dumps(out), flush=True)
    finally:
        engine.decisions.close()
        state.close()
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(match=prefix + "*", count=5000))
        for start in range(0, len(keys), 5000):
            client.delete(*keys[start:start + 5000])
        client.close()
        dropper = PostgresDecisionLog(args.database_url, table_prefix=table_prefix)
        dropper.drop_tables()
        dropper.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", help="NAME=DIR (repeatable; default this checkout)")
    parser.add_argument("--orders", type=int, default=60_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--warm", type=int, default=20_000, help="orders of history loaded into Redis")
    parser.add_argument("--warm-calls", type=int, default=300, help="orders scored before measuring")
    parser.add_argument("--timed", type=int, default=3_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", type=Path, help="model directory (default: train one on the simulated data)")
    parser.add_argument("--profile", type=Path, help="directory for one cProfile file per child")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(ROOT))
    from bench_http import build_world, say, train_model

    from features.replay import _clean
    from risk.contract import unflatten

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-remote-"))
    work.mkdir(parents=True, exist_ok=True)
    say(f"simulating {args.orders:,} orders over {args.days} days")
    orders, outcomes = build_world(args.orders, args.days, 21)
    model = args.model
    if model is None:
        model = work / "model"
        if not (model / "metadata.json").exists():
            say(f"training a model into {model}")
            train_model(orders, outcomes, model)
    start, count = args.warm, args.warm_calls + args.timed
    records = [unflatten(_clean(r)) for r in orders.iloc[start:start + count].to_dict("records")]
    data = work / "world.pkl"
    with open(data, "wb") as handle:
        pickle.dump({"orders": orders.iloc[:args.warm], "outcomes": outcomes, "records": records}, handle)
    repos = [tuple(r.split("=", 1)) for r in args.repo] if args.repo else [("this", str(ROOT))]
    results = []
    for round_ in range(1, args.rounds + 1):
        for name, directory in repos:
            argv = [sys.executable, str(HERE), "--child", "--data", str(data), "--model", str(model),
                    "--warm", str(args.warm), "--warm-calls", str(args.warm_calls), "--threads", str(args.threads),
                    "--redis-url", args.redis_url, "--database-url", args.database_url]
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                argv += ["--profile", str(args.profile / f"{name}-{round_}.prof")]
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([directory, str(HERE.parent)]))
            say(f"round {round_}: {name} ({directory})")
            done = subprocess.run(argv, cwd=directory, env=env, capture_output=True, text=True)
            line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
            if done.returncode != 0 or line is None:
                raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
            results.append({"checkout": name, "round": round_, **json.loads(line[len("RESULT "):])})
            say("  " + json.dumps(results[-1]))
    steps = [s for s in STEPS if s in results[0]]
    print(f"\nScoringEngine.score on Redis + PostgreSQL, in process, {args.threads} thread(s), "
          f"{args.timed:,} orders after {args.warm:,} of history: CPU ms per order of the scoring process")
    print("| checkout | round | CPU ms | wall ms | " + " | ".join(f"{s} CPU ms" for s in steps)
          + (" | rest CPU ms" if steps else "") + " | load |")
    print("|---" * (5 + len(steps) + bool(steps)) + "|")
    for r in results:
        cells = [f"{r[s]:.3f}" for s in steps] + ([f"{r['cpu_ms'] - sum(r[s] for s in steps):.3f}"] if steps else [])
        print(f"| {r['checkout']} | {r['round']} | {r['cpu_ms']:.3f} | {r['wall_ms']:.3f} | "
              + " | ".join(cells) + f" | {r['load']:.1f} |")


if __name__ == "__main__":
    main()
