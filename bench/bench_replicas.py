"""One scoring process vs two, on the shared Redis state and PostgreSQL log, under wrk.

Usage: python bench/bench_replicas.py [--model DIR] [--workers 1,2] [--rate 1000] [--duration 30]
                                      [--max-duration 20] [--redis-url URL] [--database-url URL]

For each worker count: a fresh Redis key prefix and PostgreSQL table prefix (removed at
the end), --warm orders of history loaded into Redis (`features.loading`, pipelined, as
`risk state load` does), then `risk serve --workers N --redis-url ... --database-url ...`.
After --warm-http unmeasured requests, a steady run at --rate for --duration seconds, then
as many requests as wrk can get answered for --max-duration seconds. Every body is a
different simulated order with a fresh order_id (bench_http.py's harness: wrk and
bench/wrk_bodies.lua). Prints one table and the throughput ratio. CPU is the service's
whole process group (the supervisor and its workers), Redis and PostgreSQL not included.

Goal (issue 14): 2 workers >= 1.6x the throughput of one, p99 < 10 ms at 1,000 req/s.
On a 2-core machine, wrk, Redis and PostgreSQL share the cores with the workers: read
the CPU column before the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_http import API_KEY, ROOT, Bodies, Run, Server, build_world, free_port, run_wrk, say, train_model


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of every live process in a process group (the service and its worker processes)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class GroupServer(Server):
    """bench_http's Server, with CPU counted over the whole process group."""

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.proc.pid)


def load_warm_history(orders, outcomes, redis_url: str, prefix: str) -> None:
    from features.loading import History, load_history
    from features.state.redis_state import RedisState

    until = orders["created_at"].iloc[-1]
    known = outcomes[(outcomes["reported_at"] <= until) & outcomes["order_id"].isin(set(orders["order_id"]))]
    state = RedisState(url=redis_url, prefix=prefix, timeout_s=60.0)
    load_history(History.from_frames(orders, known), state)
    state.mark_complete()
    state.close()


def clean_up(redis_url: str, prefix: str, database_url: str, table_prefix: str) -> None:
    import redis

    from serve.decision_log import PostgresDecisionLog

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=5000))
    for start in range(0, len(keys), 5000):
        client.delete(*keys[start:start + 5000])
    client.close()
    log = PostgresDecisionLog(database_url, table_prefix=table_prefix)
    log.drop_tables()
    log.close()


def measure(workers: int, args: argparse.Namespace, model: Path, world, bodies: Bodies, work: Path) -> list[Run]:
    orders, outcomes = world
    prefix, table_prefix = f"bench:{uuid.uuid4().hex[:8]}:", f"bench_{uuid.uuid4().hex[:8]}_"
    say(f"{workers} worker(s): loading {args.warm:,} orders of history into Redis under {prefix}")
    load_warm_history(orders.iloc[:args.warm].reset_index(drop=True), outcomes, args.redis_url, prefix)
    env = dict(os.environ, RISK_API_KEYS=json.dumps({API_KEY: "checkout"}), RISK_REDIS_PREFIX=prefix,
               RISK_DATABASE_TABLE_PREFIX=table_prefix, PYTHONPATH=str(ROOT))
    port = free_port()
    server = GroupServer(f"{workers}w", [sys.executable, "-m", "cli.main", "serve", "--model", str(model),
                                         "--port", str(port), "--workers", str(workers), "--redis-url",
                                         args.redis_url, "--database-url", args.database_url,
                                         "--data-dir", str(work / f"data{workers}")],
                         env, port, work / f"serve{workers}.log")
    runs = []
    try:
        server.wait_ready()
        time.sleep(3 * workers)  # every worker up, not only the first
        path, count = bodies.write(f"warm{workers}", f"w{workers}-", args.warm_http)
        run_wrk(server, Run(f"{workers}w", "warm-up", 0, max(5.0, count / 500), 8), path, once=True)
        plan = [(f"{args.rate:g}/s", args.rate, args.duration), ("max", 0.0, args.max_duration)]
        for name, rate, duration in plan:
            count = int(rate * duration * 1.05) + 200 if rate else int(3000 * duration)
            path, _ = bodies.write(f"{name.replace('/', '')}{workers}", f"{name[:3]}{workers}-", count)
            say(f"{workers} worker(s): {name} for {duration:g} s")
            run = run_wrk(server, Run(f"{workers}w", name, rate, duration, args.connections), path)
            say(f"  {run.achieved_rps:.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
                f"errors {run.errors}, service CPU {run.server_cpu:.2f} cores")
            runs.append(run)
            time.sleep(2)
    finally:
        server.stop()
        clean_up(args.redis_url, prefix, args.database_url, table_prefix)
    return runs


def print_table(runs: list[Run], args: argparse.Namespace) -> None:
    print(f"\nrisk serve on Redis ({args.redis_url}) + PostgreSQL, wrk 1 thread {args.connections} connections, "
          f"{args.warm:,} orders of history; every body a different order; load average before each run shown.")
    print("| workers | run | achieved req/s | p50 ms | p99 ms | max ms | errors | service CPU (cores) | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r.server[:-1]} | {r.name} | {r.achieved_rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
              f"{r.max_ms:.1f} | {r.errors} | {r.server_cpu:.2f} | {r.loadavg_before:.1f} |")
    top = {r.server: r.achieved_rps for r in runs if r.name == "max"}
    if "1w" in top and "2w" in top:
        ratio = top["2w"] / top["1w"]
        verdict = "MET" if ratio >= 1.6 else "MISSED"
        print(f"\nmax throughput 2 workers / 1 worker: {ratio:.2f}x (goal >= 1.6x: {verdict})")
    for r in runs:
        if r.name != "max":
            held = r.p99_ms < 10 and r.errors == 0 and r.achieved_rps >= 0.98 * r.target_rps
            print(f"{r.server[:-1]} worker(s) at {r.name}: p99 {r.p99_ms:.2f} ms "
                  f"(goal < 10 ms: {'MET' if held else 'MISSED'}; {r.achieved_rps:,.0f} req/s achieved)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: train one on the simulated data)")
    parser.add_argument("--orders", type=int, default=250_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--warm", type=int, default=50_000, help="orders of history loaded into Redis")
    parser.add_argument("--warm-http", type=int, default=3_000, help="requests before measuring (unmeasured)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--max-duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--work", type=Path, help="working directory (default: a temp dir, removed at the end)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_replicas: needs wrk (apt-get install wrk)")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    work.mkdir(parents=True, exist_ok=True)
    say(f"simulating {args.orders:,} orders over {args.days} days")
    orders, outcomes = build_world(args.orders, args.days, 21)
    model = args.model
    if model is None:
        model = work / "model"
        say(f"training a model into {model}")
        train_model(orders, outcomes, model)
    bodies = Bodies(orders.to_dict("records"), args.warm, work)
    runs: list[Run] = []
    for workers in [int(w) for w in args.workers.split(",")]:
        runs += measure(workers, args, model, (orders, outcomes), bodies, work)
    print_table(runs, args)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
