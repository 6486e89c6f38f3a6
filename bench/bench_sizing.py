"""Redis operations and bytes per scored order, PostgreSQL rows and bytes per decision: the figures of deploy/SIZING.md.

Usage: RISK_BENCH_REDIS_URL=redis://127.0.0.1:6379/8 RISK_BENCH_DATABASE_URL=postgresql://.../test_h8 \\
       python bench/bench_sizing.py --model DIR [--orders 5000]

Scores `--orders` simulated orders (and posts their outcomes) through the service's own app
(`serve.runtime.build_engine`: RedisState + PostgreSQL decision log), in time order, then
reads Redis INFO commandstats / memory and MEMORY USAGE of every key, and PostgreSQL's
pg_total_relation_size of every table. The Redis database and the PostgreSQL tables it
uses are emptied first (FLUSHDB of that one database: give one nothing else uses).
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

import psycopg
import redis
from fastapi.testclient import TestClient

from features.replay import _clean, events_in_time_order
from risk.contract import unflatten
from serve.config import Settings
from serve.main import create_app
from serve.runtime import build_engine

from benchkit import print_table, simulated_world

KEY = "sizing-key-0001"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    redis_url, database_url = os.environ["RISK_BENCH_REDIS_URL"], os.environ["RISK_BENCH_DATABASE_URL"]
    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    with psycopg.connect(database_url, autocommit=True) as pg:
        for (table,) in pg.execute("select tablename from pg_tables where schemaname = 'public'").fetchall():
            pg.execute(f'drop table "{table}" cascade')
    orders, outcomes = simulated_world(args.orders, args.days, seed=11)
    settings = Settings(model_dir=args.model, redis_url=redis_url, database_url=database_url,
                        api_keys={KEY: "admin"}, data_dir=Path("/tmp/bench_sizing"))
    app = create_app(settings, build_engine(settings))
    records = orders.to_dict("records")
    scored = posted = 0
    with TestClient(app) as client:
        r.config_resetstat()
        for kind, row in events_in_time_order(orders, outcomes):
            if kind == "outcome":
                outcome = outcomes.iloc[row]
                body = {"order_id": outcome["order_id"], "kind": outcome["kind"], "source": outcome["source"],
                        "reported_at": outcome["reported_at"].isoformat()}
                posted += client.post("/v1/outcomes", json=body, headers={"X-API-Key": KEY}).status_code < 300
                continue
            order = unflatten(_clean(records[row]))
            response = client.post("/v1/orders/score", content=order.model_dump_json(exclude_none=True),
                                   headers={"X-API-Key": KEY, "Content-Type": "application/json"})
            scored += response.status_code == 200
    report_redis(r, scored, posted)
    report_postgres(database_url, scored)


def report_redis(r: redis.Redis, scored: int, posted: int) -> None:
    stats = r.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
    keys = list(r.scan_iter(count=1000))
    sizes = Counter()
    counts = Counter()
    for key in keys:
        head = ":".join(key.decode().split(":")[2:3])  # risk:<layout version>:<what>:...
        sizes[head] += r.memory_usage(key, samples=0) or 0
        counts[head] += 1
    print(f"Redis after {scored:,} scored orders and {posted:,} outcomes: used_memory "
          f"{r.info('memory')['used_memory'] / 1e6:.1f} MB, {len(keys):,} keys, "
          f"{sum(sizes.values()) / scored:,.0f} bytes of keys per order")
    print_table([{"command": name, "calls": f"{n:,}", "per order": f"{n / scored:.2f}"}
                 for name, n in sorted(calls.items(), key=lambda kv: -kv[1])])
    print_table([{"key head": head, "keys": f"{counts[head]:,}", "bytes": f"{sizes[head]:,}",
                  "bytes per order": f"{sizes[head] / scored:,.0f}"}
                 for head in sorted(sizes, key=lambda h: -sizes[h])])


def report_postgres(database_url: str, scored: int) -> None:
    with psycopg.connect(database_url) as pg:
        tables = pg.execute("select tablename from pg_tables where schemaname = 'public' order by 1").fetchall()
        rows = []
        for (table,) in tables:
            count = pg.execute(f'select count(*) from "{table}"').fetchone()[0]
            total = pg.execute("select pg_total_relation_size(%s)", (table,)).fetchone()[0]
            rows.append({"table": table, "rows": f"{count:,}", "bytes (with indexes, TOAST)": f"{total:,}",
                         "bytes per decision": f"{total / scored:,.0f}"})
    print(f"PostgreSQL after {scored:,} decisions")
    print_table(rows)


if __name__ == "__main__":
    main()
