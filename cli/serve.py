"""`risk serve`: the scoring service for the checkout (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="start the scoring service",
        description="Serve POST /v1/orders/score and POST /v1/outcomes. Embedded defaults: in-process feature "
        "state (snapshotted to --data-dir), SQLite decision log in --data-dir; Redis and PostgreSQL when their "
        "URLs are given. Settings may also come from RISK_* environment variables (RISK_API_KEYS='{\"key\": "
        "\"checkout\"}').",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, help="model directory")
    source.add_argument("--registry", type=Path, help="serve the registry's promoted model, reloading on promote")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--redis-url", help="shared feature state, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", help="decision log, e.g. postgresql://user@host/db (default SQLite)")
    parser.add_argument("--data-dir", type=Path, help="where the SQLite log and state snapshots live")
    parser.add_argument("--shadow-model", type=Path, help="challenger model scored and logged, never answering")
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(run=run)


def settings_from(args: argparse.Namespace):  # noqa: ANN201
    from serve.config import Settings

    overrides = {
        "model_dir": args.model, "registry": args.registry, "redis_url": args.redis_url,
        "database_url": args.database_url, "data_dir": args.data_dir, "shadow_model_dir": args.shadow_model,
    }
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from serve import logs
    from serve.main import create_app

    logs.configure(args.log_level)
    app = create_app(settings_from(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
