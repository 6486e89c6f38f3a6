"""The FastAPI app: wiring only (settings, service, routes, errors, limits, background jobs)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serve import errors
from serve.auth import KeyRing
from serve.config import Settings
from serve.engine import ScoringEngine
from serve.fast_path import ScoreFastPath
from serve.limits import BodyLimit
from serve.metrics import Metrics
from serve.routes import ops, orders, outcomes
from serve.runtime import Reloader, Snapshotter, api_keys, build_engine
from serve.service import ScoringService
from serve.state_repair import StateRepair

log = logging.getLogger("risk.serve")


def create_app(settings: Settings, engine: ScoringEngine | None = None) -> FastAPI:
    """An app scoring with `engine` (built from `settings` when not given)."""
    engine = engine or build_engine(settings)
    metrics = Metrics()
    metrics.set_model(engine.model_version)
    reloader = Reloader(engine, settings, on_change=metrics.set_model)
    snapshotter = Snapshotter(engine, settings)
    repair = StateRepair(engine, settings.repair_interval_s)
    service = ScoringService(engine, KeyRing(api_keys(settings)), metrics, reloader)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = [threading.Thread(target=snapshotter.watch, daemon=True, name="state-snapshots")]
        if settings.registry is not None and settings.model_dir is None:
            jobs.append(threading.Thread(target=reloader.watch, daemon=True, name="model-reload"))
        if not engine.state.in_process:  # a shared state can be unreachable for a while, or lose its data
            jobs.append(threading.Thread(target=repair.watch, daemon=True, name="state-repair"))
        for job in jobs:
            job.start()
        log.info("scoring process started", extra={"pid": os.getpid(), "model": engine.model_version})
        yield
        reloader.stop.set()
        repair.stop.set()
        snapshotter.stop.set()
        snapshotter.save()
        engine.decisions.close()
        engine.state.close()

    app = FastAPI(
        title="risk-engine",
        summary="Fraud and impulse-purchase (regret) risk decisions for social commerce checkouts.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service  # read by serve.deps.get_service only
    errors.install(app, metrics)
    for router in (orders.router, outcomes.router, ops.router):
        app.include_router(router)
    if settings.fast_path:
        app.add_middleware(ScoreFastPath, service=service)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # added last: runs first
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process: settings from RISK_* variables, its own engine, connections and jobs.

    uvicorn calls it in each worker it starts (`risk serve --workers N` sets the variables
    from its flags first); `uvicorn --factory serve.main:app_from_environment` runs it too.
    """
    from serve import logs
    from serve.config import check_workers, load_settings

    settings = load_settings()
    check_workers(settings)  # RISK_WORKERS > 1 (set by `risk serve --workers`) needs the shared backends
    logs.configure(settings.log_level)
    return create_app(settings)
