"""`risk serve`: the scoring service for the checkout (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from risk.errors import InvalidInput, RiskError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from serve.config import Settings


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
    parser.add_argument("--workers", type=int, help="scoring processes (uvicorn workers, each with its own engine); "
                        "more than 1 needs --redis-url and a PostgreSQL --database-url, which they share")
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(run=run)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: the environment's, with the flags given winning (a bad value is one InvalidInput)."""
    from serve.config import load_settings

    return load_settings(model_dir=args.model, registry=args.registry, redis_url=args.redis_url,
                         database_url=args.database_url, data_dir=args.data_dir, shadow_model_dir=args.shadow_model,
                         workers=args.workers, log_level=args.log_level)


# the flags a worker process must see: it builds its settings from the environment alone
_FLAG_VARIABLES = {"model": "MODEL_DIR", "registry": "REGISTRY", "redis_url": "REDIS_URL",
                   "database_url": "DATABASE_URL", "data_dir": "DATA_DIR", "shadow_model": "SHADOW_MODEL_DIR",
                   "workers": "WORKERS", "log_level": "LOG_LEVEL"}


def run(args: argparse.Namespace) -> None:
    from serve import logs
    from serve.config import check_workers
    from serve.main import create_app
    from serve.runtime import build_engine, startup_lines

    settings = settings_from(args)
    check_workers(settings)
    listener = listen(args.host, args.port)  # before loading anything: a taken port fails at once
    logs.configure(args.log_level)
    if settings.workers > 1:
        run_workers(args, settings, listener)
        return
    engine = build_engine(settings)
    app = create_app(settings, engine)
    url = url_of(listener)
    print(f"risk serve: listening on {url} (API docs: {url}/docs)", flush=True)
    for line in startup_lines(settings, engine):
        print(f"  {line}", flush=True)
    run_server(app, listener)


def run_workers(args: argparse.Namespace, settings: Settings, listener: socket.socket) -> None:
    """uvicorn's worker processes on `listener`, each building its own app from the environment.

    The flags given become RISK_* variables (what the workers read), and API keys are
    settled here, so a generated admin key is one key for every worker.
    """
    import json
    import os
    from types import SimpleNamespace

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from serve.runtime import api_keys, served_version, startup_lines

    for name, variable in _FLAG_VARIABLES.items():
        value = getattr(args, name)
        if value is not None:
            os.environ[f"RISK_{variable}"] = str(Path(value).resolve()) if isinstance(value, Path) else str(value)
    if not settings.all_api_keys():
        os.environ["RISK_API_KEYS"] = json.dumps(api_keys(settings))
    url = url_of(listener)
    print(f"risk serve: listening on {url} (API docs: {url}/docs)", flush=True)
    for line in startup_lines(settings, SimpleNamespace(model_version=served_version(settings))):
        print(f"  {line}", flush=True)
    config = uvicorn.Config("serve.main:app_from_environment", factory=True, workers=settings.workers,
                            log_level="warning", access_log=False)
    try:
        Multiprocess(config, sockets=[listener]).run()
    finally:
        listener.close()


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, for uvicorn to serve on; a port in use is one InvalidInput naming it."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise InvalidInput(f"--host {host}: cannot resolve it ({exc.strerror})") from None
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts reuse the port
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise InvalidInput(f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it or choose "
                           "another --port") from None
    listener.listen()  # connections wait in the backlog until uvicorn accepts them (it sets its own backlog)
    listener.set_inheritable(True)
    return listener


def url_of(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_server(app: FastAPI, listener: socket.socket) -> None:
    """uvicorn serving `app` on `listener` until Ctrl-C; a start-up that fails is a RiskError, not exit 3."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn.run swallows it too: Ctrl-C is how the service is stopped
        pass
    except SystemExit as exc:  # uvicorn exits on a failed start-up after logging why
        raise RiskError(f"the service did not start (uvicorn exit code {exc.code}; see the lines above)") from None
    finally:
        listener.close()
    if not server.started:
        raise RiskError("the service did not start (see the lines above)")
