"""`risk demo`: the main job on embedded defaults: simulate, train, then serve with a ready curl command."""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cli.demo_queue import demo_analyst, fill_review_queue
from cli.progress import Progress
from cli.simulate import simulate_to

if TYPE_CHECKING:
    from serve.config import Settings

# The contract's example order (shared/contract/examples/order.json), so the demo works from any folder.
EXAMPLE_ORDER = {
    "order_id": "ord_8f2c1a", "created_at": "2026-11-24T10:15:02Z", "amount": 4999, "currency": "USD", "quantity": 1,
    "buyer": {"account_id": "acct_b_1021", "created_at": "2026-11-23T22:41:10Z", "country": "US",
              "email_domain": "gmail.com", "email_verified": False, "phone_verified": False, "followers": 0,
              "following": 3},
    "seller": {"account_id": "acct_s_77", "created_at": "2021-03-02T09:00:00Z", "country": "US", "verified": True,
               "followers": 120400},
    "post": {"post_id": "post_5521", "created_at": "2026-11-24T10:02:40Z", "promoted": True, "likes": 310,
             "reposts": 42, "replies": 18, "views": 20511, "category": "electronics", "digital": False,
             "listed_price": 4999},
    "session": {"device_id": "dev_9a01", "ip": "203.0.113.7", "ip_country": "NG", "channel": "web",
                "post_viewed_at": "2026-11-24T10:14:51Z"},
    "payment": {"card_fingerprint": "card_fp_33aa", "card_bin": "424242", "card_country": "GB",
                "funding": "prepaid", "wallet": None},
    "shipping": {"country": "US", "address_hash": "addr_71c0", "matches_billing": False},
}
START = pd.Timestamp("2026-01-01T00:00:00Z")
HOST = "127.0.0.1"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate, train and serve on embedded defaults (the README quick start)",
        description="Simulate 90 days of orders, train the models as of day 75 (30-day label maturity), "
        "then start the scoring service with the last simulated day's orders scored (those decided review wait in "
        "the web app's queue), print the web app's address with a demo analyst login, and a curl command that "
        "scores the contract's example order. "
        "Each run serves from a fresh decision log and feature state (OUT/service is emptied first).",
    )
    parser.add_argument("--out", type=Path, default=Path("demo"), help="working folder (default ./demo)")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--port", type=int, default=8000, help="port to serve on (checked before any work)")
    parser.add_argument("--no-serve", action="store_true", help="stop after training")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from cli.serve import listen

    # the port first: a taken one is a one-line error now, not after minutes of training
    listener = None if args.no_serve else listen(HOST, args.port)
    try:
        model = build_model(args.out, args.orders)
        if listener is not None:
            serve(args.out, model, listener)
    finally:
        if listener is not None:
            listener.close()


def build_model(folder: Path, n_orders: int) -> Path:
    """Simulate the world into folder/data and train the models into folder/model (with report.html)."""
    from cli.train import summary, write_training_report
    from risk.datasets import read_orders, read_outcomes
    from training.train import TrainConfig, train

    progress = Progress()
    data, model = folder / "data", folder / "model"
    simulate_to(data, n_orders, days=90, seed=7, fmt="parquet", progress=progress)
    orders, outcomes = read_orders(data / "orders.parquet"), read_outcomes(data / "outcomes.parquet")
    config = TrainConfig(as_of=START + pd.Timedelta(days=75), maturity=pd.Timedelta(days=30).to_pytimedelta())
    result = train(orders, outcomes, config, progress)
    result.bundle.save(model)
    write_training_report(result, orders, outcomes, config, model / "report.html")
    print(summary(result.bundle))
    print(f"model: {model}/ (report: {model / 'report.html'})")
    return model


def service_settings(folder: Path, model: Path, key: str) -> Settings:
    """The demo service's settings, over a fresh decision log and feature state in folder/service.

    Fresh, because a log kept from an earlier demo would answer the example order with
    that demo's decision (an idempotent replay) instead of scoring it with this model.
    """
    from serve.config import load_settings

    data_dir = folder / "service"
    shutil.rmtree(data_dir, ignore_errors=True)
    keys_file = folder / "api_keys.json"
    keys_file.write_text(json.dumps({key: "admin"}))
    keys_file.chmod(0o600)
    return load_settings(model_dir=model, data_dir=data_dir, api_keys_file=keys_file)


def serve(folder: Path, model: Path, listener: socket.socket) -> None:
    from cli.serve import run_server, url_of
    from serve import logs
    from serve.main import create_app

    key = secrets.token_urlsafe(18)
    settings = service_settings(folder, model, key)
    order_file = folder / "order.json"
    order_file.write_text(json.dumps(EXAMPLE_ORDER, indent=2))
    logs.configure("warning")
    app = create_app(settings)
    service = app.state.service
    data = folder / "data"
    queued = ""
    if (data / "orders.parquet").exists():  # the simulated world of build_model
        scored, in_review = fill_review_queue(service, data, Progress())
        queued = f"; {scored:,} orders of the last simulated day scored, {in_review:,} waiting in review"
    name, password = demo_analyst(service)
    url = url_of(listener)
    print(f"\nscoring service on {url} (API docs: {url}/docs), fresh decision log and state in {settings.data_dir}"
          f"{queued}.\n\n"
          f"Web app for analysts: {url}/ui  (login: {name}, password: {password})\n\n"
          f"Score the contract's example order from another terminal:\n\n"
          f"  curl -s -X POST {url}/v1/orders/score -H 'X-API-Key: {key}' "
          f"-H 'Content-Type: application/json' -d @{order_file}\n\nCtrl-C stops it.", flush=True)
    run_server(app, listener)
