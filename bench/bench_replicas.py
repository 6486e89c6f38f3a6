"""One scoring process vs two, on the shared Redis state and PostgreSQL log, under wrk.

Usage: python bench/bench_replicas.py [--model DIR] [--workers 1,2] [--rate 1000] [--duration 30]
                                      [--max-duration 20] [--redis-url URL] [--database-url URL]
                                      [--repo NAME=DIR ...] [--rounds 1] [--ports 18500-18599]

For each worker count: a fresh Redis key prefix and PostgreSQL table prefix (removed at
the end), --warm orders of history loaded into Redis (`features.loading`, pipelined, as
`risk state load` does), then `risk serve --workers N --redis-url ... --database-url ...`.
After --warm-http unmeasured requests, a steady run at --rate for --duration seconds, then
as many requests as wrk can get answered for --max-duration seconds. Every body is a
different simulated order with a fresh order_id (bench_http.py's harness: wrk and
bench/wrk_bodies.lua). Prints one table and the throughput ratio.

CPU accounting, per request answered (from /proc, before and after each wrk run): the
service's whole process group (the supervisor and its workers), the redis-server process,
the PostgreSQL backends connected to the bench's database (pg_stat_activity), PostgreSQL's
shared processes (WAL writer, checkpointer...) and wrk. Redis and PostgreSQL's shared
processes serve every client of those servers: on a shared machine their figures include
other jobs' work (the table says how many other clients Redis had).

--repo NAME=DIR (repeatable) serves each checkout in turn with the same data, model and
load, interleaved (for each worker count, for each round, each checkout): a before/after
comparison measured in one run. Every checkout must use the same Redis state layout.

Goal (issue 14): 2 workers >= 1.6x the throughput of one, p99 < 10 ms at 1,000 req/s.
On a 2-core machine, wrk, Redis and PostgreSQL share the cores with the workers: read
the CPU column before the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_http import API_KEY, ROOT, Bodies, Run, Server, build_world, run_wrk, say, train_model


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


def proc_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of one process; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    """Pids whose command name (comm) starts with `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith(name):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuAccount:
    """CPU seconds of Redis and PostgreSQL, split into the bench's own backends and the shared processes."""

    def __init__(self, redis_url: str, database_url: str) -> None:
        import psycopg
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.redis_pid = int(self.redis.info("server")["process_id"])
        self.database = database_url.rsplit("/", 1)[1].split("?")[0]
        self.pg = psycopg.connect(database_url, autocommit=True)
        self.me = self.pg.info.backend_pid

    def backends(self) -> set[int]:
        rows = self.pg.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = "
                               "'client backend' AND pid <> %s", [self.database, self.me]).fetchall()
        return {row[0] for row in rows}

    def sample(self) -> dict[str, float]:
        ours = self.backends()
        shared = [pid for pid in pids_named("postgres") if pid not in ours and pid != self.me]
        return {"redis": proc_cpu_seconds(self.redis_pid),
                "pg_backends": sum(proc_cpu_seconds(pid) for pid in ours),
                "pg_shared": sum(proc_cpu_seconds(pid) for pid in shared),
                "redis_clients": float(self.redis.info("clients")["connected_clients"] - 1)}

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request of each part (the backends' own counters, so gone ones drop out)."""
        n = max(requests, 1)
        out = {k: 1000 * (after[k] - before[k]) / n for k in ("redis", "pg_shared")}
        out["pg_backends"] = 1000 * max(after["pg_backends"] - before["pg_backends"], 0.0) / n
        out["redis_clients"] = after["redis_clients"]
        return out

    def close(self) -> None:
        self.redis.close()
        self.pg.close()


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


def free_port_in(span: str) -> int:
    """A free TCP port on 127.0.0.1 within `span` ("low-high")."""
    low, high = (int(part) for part in span.split("-"))
    for port in range(low, high + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"bench_replicas: no free port in {span}")


def measure(workers: int, args: argparse.Namespace, model: Path, world, bodies: Bodies, work: Path,
            repo: tuple[str, Path], account: CpuAccount) -> list[Run]:
    orders, outcomes = world
    label, checkout = repo
    prefix, table_prefix = f"bench:{uuid.uuid4().hex[:8]}:", f"bench_{uuid.uuid4().hex[:8]}_"
    say(f"{label} {workers} worker(s): loading {args.warm:,} orders of history into Redis under {prefix}")
    load_warm_history(orders.iloc[:args.warm].reset_index(drop=True), outcomes, args.redis_url, prefix)
    env = dict(os.environ, RISK_API_KEYS=json.dumps({API_KEY: "checkout"}), RISK_REDIS_PREFIX=prefix,
               RISK_DATABASE_TABLE_PREFIX=table_prefix, PYTHONPATH=str(checkout))
    port = free_port_in(args.ports)
    tag = f"{label}-{workers}w-{uuid.uuid4().hex[:4]}"
    server = GroupServer(f"{label} {workers}w", [sys.executable, "-m", "cli.main", "serve", "--model", str(model),
                                         "--port", str(port), "--workers", str(workers), "--redis-url",
                                         args.redis_url, "--database-url", args.database_url,
                                         "--data-dir", str(work / f"data-{tag}")],
                         env, port, work / f"serve-{tag}.log", cwd=checkout)
    runs = []
    try:
        server.wait_ready()
        time.sleep(3 * workers)  # every worker up, not only the first
        path, count = bodies.write(f"warm-{tag}", f"w{tag}-", args.warm_http)
        run_wrk(server, Run(f"{label} {workers}w", "warm-up", 0, max(5.0, count / 500), 8), path, once=True)
        plan = [(f"{args.rate:g}/s", args.rate, args.duration), ("max", 0.0, args.max_duration)]
        for name, rate, duration in plan:
            count = int(rate * duration * 1.05) + 200 if rate else int(3000 * duration)
            path, _ = bodies.write(f"{name.replace('/', '')}-{tag}", f"{name[:3]}{tag}-", count)
            say(f"{label} {workers} worker(s): {name} for {duration:g} s")
            before = account.sample()
            run = run_wrk(server, Run(f"{label} {workers}w", name, rate, duration, args.connections), path)
            run.cpu_ms = account.per_request(before, account.sample(), run.requests)  # type: ignore[attr-defined]
            per_request_s = 1 / max(run.achieved_rps, 1e-9)  # wrk's own duration over its requests
            run.cpu_ms["service"] = 1000 * run.server_cpu * per_request_s  # type: ignore[attr-defined]
            run.cpu_ms["wrk"] = 1000 * run.wrk_cpu * per_request_s  # type: ignore[attr-defined]
            run.repo, run.workers = label, workers  # type: ignore[attr-defined]
            say(f"  {run.achieved_rps:.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
                f"errors {run.errors}, service CPU {run.server_cpu:.2f} cores; CPU ms/request "
                + ", ".join(f"{k} {v:.3f}" for k, v in run.cpu_ms.items()))  # type: ignore[attr-defined]
            runs.append(run)
            time.sleep(2)
    finally:
        server.stop()
        clean_up(args.redis_url, prefix, args.database_url, table_prefix)
    return runs


def print_table(runs: list[Run], args: argparse.Namespace) -> None:
    print(f"\nrisk serve on Redis ({args.redis_url}) + PostgreSQL, wrk 1 thread {args.connections} connections, "
          f"{args.warm:,} orders of history; every body a different order; load average before each run shown.")
    print("CPU columns: milliseconds of CPU per request answered (service = its workers and supervisor; PG = the "
          "bench's backends, PG shared = WAL writer etc. and other jobs' backends; Redis includes other clients).")
    print("| checkout | workers | run | achieved req/s | p50 ms | p99 ms | max ms | errors | service cores | "
          "service ms | Redis ms | PG ms | PG shared ms | wrk ms | Redis clients | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        c = r.cpu_ms  # type: ignore[attr-defined]
        print(f"| {r.repo} | {r.workers} | {r.name} | {r.achieved_rps:,.0f} | {r.p50_ms:.2f} | "  # type: ignore[attr-defined]
              f"{r.p99_ms:.2f} | {r.max_ms:.1f} | {r.errors} | {r.server_cpu:.2f} | {c['service']:.3f} | "
              f"{c['redis']:.3f} | {c['pg_backends']:.3f} | {c['pg_shared']:.3f} | {c['wrk']:.3f} | "
              f"{c['redis_clients']:.0f} | {r.loadavg_before:.1f} |")
    for repo in dict.fromkeys(r.repo for r in runs):  # type: ignore[attr-defined]
        top: dict[int, list[float]] = {}
        for r in runs:
            if r.repo == repo and r.name == "max":  # type: ignore[attr-defined]
                top.setdefault(r.workers, []).append(r.achieved_rps)  # type: ignore[attr-defined]
        if 1 in top and 2 in top:
            ratio = max(top[2]) / max(top[1])
            verdict = "MET" if ratio >= 1.6 else "MISSED"
            print(f"\n{repo}: max throughput 2 workers / 1 worker (best of each): {ratio:.2f}x "
                  f"(goal >= 1.6x: {verdict})")
        for r in runs:
            if r.repo == repo and r.name != "max":  # type: ignore[attr-defined]
                held = r.p99_ms < 10 and r.errors == 0 and r.achieved_rps >= 0.98 * r.target_rps
                print(f"{repo}: {r.workers} worker(s) at {r.name}: p99 {r.p99_ms:.2f} ms "  # type: ignore[attr-defined]
                      f"(goal < 10 ms: {'MET' if held else 'MISSED'}; {r.achieved_rps:,.0f} req/s achieved)")


def parse_repo(text: str) -> tuple[str, Path]:
    name, _, directory = text.partition("=")
    if not directory:
        raise argparse.ArgumentTypeError(f"--repo {text!r}: expected NAME=DIR")
    path = Path(directory).resolve()
    if not (path / "serve").is_dir():
        raise argparse.ArgumentTypeError(f"--repo {text!r}: {path} is not a checkout of this project")
    return name, path


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
    parser.add_argument("--repo", type=parse_repo, action="append",
                        help="NAME=DIR: a checkout to serve (repeatable; default this one, named 'this')")
    parser.add_argument("--rounds", type=int, default=1, help="times each (workers, checkout) is measured, interleaved")
    parser.add_argument("--ports", default="18500-18599", help="TCP ports the services may listen on")
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
    repos = args.repo or [("this", ROOT)]
    account = CpuAccount(args.redis_url, args.database_url)
    runs: list[Run] = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            for _ in range(args.rounds):
                for repo in repos:
                    runs += measure(workers, args, model, (orders, outcomes), bodies, work, repo, account)
    finally:
        account.close()
    print_table(runs, args)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
