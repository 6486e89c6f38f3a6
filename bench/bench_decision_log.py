"""The PostgreSQL decision log alone, as a scoring process uses it: many threads, each a look-up and a record.

Usage: python bench/bench_decision_log.py [--database-url URL] [--threads 16] [--decisions 3000]
                                         [--rounds 2] [--repo NAME=DIR ...]

Each thread takes the next simulated order, calls `get(order_id)` (the idempotency look-up
the engine makes before scoring) then `record(...)` (the decision, committed before it is
answered), as the scoring threads of one `risk serve` worker do. Prints decisions a second,
the client's CPU per decision and the CPU of the log's own PostgreSQL backends per decision
(from /proc: the server must run on this machine). --repo serves the log of other checkouts
in turn (each in a process of its own, interleaved over --rounds), for a before/after in one
run. Each run uses a fresh table prefix, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, threads: int, decisions: int) -> dict[str, float]:
    """One run in this process (with this process's checkout of serve/ on the path)."""
    from risk.contract import unflatten
    from serve.decision_log import PostgresDecisionLog
    from training.simulator import simulate

    orders, _ = simulate(decisions + 300, 10, seed=5)
    bodies = []
    for row in orders.to_dict("records"):
        order = unflatten(row)
        bodies.append((order.order_id, order.created_at, order.model_dump_json()))
    decision, features = json.dumps({"decision": "approve", "fraud_score": 0.01}), [0.5] * 200
    log = PostgresDecisionLog(url, table_prefix=f"bench_{uuid.uuid4().hex[:8]}_")
    try:
        for order_id, created, body in bodies[:300]:  # connections open, statements prepared, table not empty
            log.get(order_id)
            log.record(order_id, "h", created, body, features, decision, "m")
        backends = [conn.info.backend_pid for conn in (log._conn, getattr(log, "_getter", None)) if conn is not None]
        todo, lock = bodies[300:], threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    order_id, created, body = todo.pop()
                log.get(order_id)
                log.record(order_id, "h", created, body, features, decision, "m")

        backend_before, client_before, wall_before = sum(map(cpu_seconds, backends)), time.process_time(), \
            time.monotonic()
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = time.monotonic() - wall_before
        return {"per_s": decisions / wall, "client_ms": 1000 * (time.process_time() - client_before) / decisions,
                "backend_ms": 1000 * (sum(map(cpu_seconds, backends)) - backend_before) / decisions,
                "load": os.getloadavg()[0]}
    finally:
        log.drop_tables()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repo", action="append", help="NAME=DIR: a checkout whose log to measure (repeatable)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.database_url, args.threads, args.decisions)))
        return
    repos = [tuple(text.split("=", 1)) for text in args.repo or [f"this={ROOT}"]]
    print(f"{args.threads} threads, {args.decisions:,} decisions, each a get then a record")
    print("| checkout | round | decisions/s | client CPU ms | PostgreSQL backends CPU ms | load average |")
    print("|---|---|---|---|---|---|")
    for round_number in range(1, args.rounds + 1):
        for name, directory in repos:
            env = dict(os.environ, PYTHONPATH=str(Path(directory).resolve()))
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--database-url",
                                   args.database_url, "--threads", str(args.threads), "--decisions",
                                   str(args.decisions)], env=env, cwd=directory, capture_output=True, text=True,
                                  check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"| {name} | {round_number} | {r['per_s']:,.0f} | {r['client_ms']:.3f} | {r['backend_ms']:.3f} | "
                  f"{r['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
