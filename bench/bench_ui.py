"""The web app's two heaviest pages over HTTP: the queue with 10,000 open reviews, an order with 1,000 linked orders.

Usage: python bench/bench_ui.py [--reviews 10000] [--linked 1000] [--requests 40] [--database-url URL]

With --database-url (PostgreSQL), the tables it creates (prefix risk_) are dropped at the end:
give it a database of its own.

1. A small model is trained (as the tests' `train_model`) with a policy that sends every
   order to review, and 10,000 + 1,000 + 1 orders are scored in-process by the engine into
   a fresh decision log (SQLite in a temporary folder, or --database-url): each opens a
   review. The last 1,001 share one card, so the target order has 1,000 linked orders.
2. The real service (`python -m cli.main serve`, one uvicorn worker) serves that folder;
   an analyst account is added and logged in over HTTP.
3. Timed: GET /ui/queue (first page, due first), GET /ui/queue sorted by amount and by
   score, a filtered queue (by seller), and GET /ui/orders/<target> (which also claims it) as it
   opens (the first 100 linked orders listed) and with ?linked=all (all 1,000 listed); --requests
   each, after 3 unmeasured ones. Targets: queue < 200 ms, order page < 150 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, before benchkit imports them (not an installed copy)

from benchkit import print_table  # noqa: E402

PASSWORD = "bench password 1"


def build_model(folder: Path) -> Path:
    from models.bundle import load_bundle
    from risk.policy import Policy
    from tests.serve.conftest import train_model

    trained = train_model(folder / "trained", seed=3)
    bundle = load_bundle(trained)
    bundle = dataclasses.replace(bundle, policy=Policy(decline_fraud=1.01, review_fraud=0.0, review_regret=1.0))
    bundle.save(folder / "model")
    return folder / "model"


def fill(model: Path, data_dir: Path, database_url: str | None, reviews: int, linked: int) -> str:
    """Score the orders into the decision log; the target order's id."""
    from features.state import EmbeddedState
    from models.bundle import load_bundle
    from risk.contract import Order
    from serve.decision_log import open_decision_log
    from serve.engine import ScoringEngine
    from serve.ui.users import UserStore
    from tests.builders import make_order

    log = open_decision_log(database_url, data_dir / "decisions.sqlite")
    engine = ScoringEngine(load_bundle(model), EmbeddedState(), log, fallback="review")
    started = time.perf_counter()
    total = reviews + linked + 1
    for i in range(total):
        ring = i >= reviews
        order = make_order(**{
            "order_id": f"bench_{i:06d}", "created_at": f"2026-11-{1 + i // 86_400 % 28:02d}T"
            f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "amount": 500 + (i * 7919) % 200_000, "seller.account_id": f"seller_{i % 300}",
            "buyer.account_id": f"buyer_{i}", "session.device_id": f"dev_{i}", "session.ip": f"10.{i // 65536 % 256}"
            f".{i // 256 % 256}.{i % 256}", "shipping.address_hash": f"addr_{i}",
            "payment.card_fingerprint": "card_ring" if ring else f"card_{i}"})
        engine.score(Order.model_validate(order))
        if i % 2000 == 0:
            print(f"  scored {i:,} of {total:,} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    UserStore(log).add("bench", "analyst", PASSWORD)
    log.close()
    return f"bench_{total - 1:06d}"


def serve(model: Path, data_dir: Path, database_url: str | None, port: int) -> subprocess.Popen:
    env = {**os.environ, "RISK_API_KEYS": '{"bench-admin-key-1": "admin"}', "RISK_UI_SECRET": "b" * 40}
    command = [sys.executable, "-m", "cli.main", "serve", "--model", str(model), "--data-dir", str(data_dir),
               "--port", str(port), "--log-level", "warning"]
    if database_url:
        command += ["--database-url", database_url]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def timed(client: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--linked", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ui_") as tmp:
        folder = Path(tmp)
        print("training a small model", file=sys.stderr)
        model = build_model(folder)
        data_dir = folder / "service"
        data_dir.mkdir()
        target = fill(model, data_dir, args.database_url, args.reviews, args.linked)
        server = serve(model, data_dir, args.database_url, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as client:
                _wait(client)
                _log_in(client)
                cases = [("queue, due first", "/ui/queue", 200), ("queue, by amount", "/ui/queue?sort=amount", 200),
                         ("queue, by score", "/ui/queue?sort=score", 200),
                         ("queue, one seller", "/ui/queue?seller=seller_7", 200),
                         (f"order, {args.linked:,} linked (first 100 listed)", f"/ui/orders/{target}", 150),
                         (f"order, {args.linked:,} linked (all listed)", f"/ui/orders/{target}?linked=all", 150)]
                rows = []
                for name, path, target_ms in cases:
                    times = timed(client, path, args.requests)
                    size = len(client.get(path).content)
                    rows.append({"page": name, "p50 ms": f"{statistics.median(times):.1f}",
                                 "p90 ms": f"{sorted(times)[int(len(times) * 0.9) - 1]:.1f}",
                                 "max ms": f"{max(times):.1f}", "target ms": str(target_ms),
                                 "met (p50)": "yes" if statistics.median(times) < target_ms else "NO",
                                 "KiB": f"{size / 1024:.0f}"})
        finally:
            server.terminate()
            server.wait(timeout=30)
            if args.database_url:  # the bench's tables go: a second run starts empty again
                from serve.decision_log import PostgresDecisionLog

                cleaner = PostgresDecisionLog(args.database_url)
                cleaner.drop_tables()
                cleaner.close()
    print(f"\n{args.reviews:,} open reviews + {args.linked + 1:,} ring orders, {args.requests} requests per page, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          f"({'PostgreSQL' if args.database_url else 'SQLite'} decision log)\n")
    print_table(rows)


def _wait(client: httpx.Client) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the service did not start")


def _log_in(client: httpx.Client) -> None:
    import re

    page = client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/ui/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 200 and "Review queue" in answer.text, answer.status_code


if __name__ == "__main__":
    main()
