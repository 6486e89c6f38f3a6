"""The FastAPI app: wiring only (settings, service, routes, errors, limits, background jobs)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from risk.errors import InvalidInput
from serve import errors
from serve.auth import KeyRing
from serve.config import Settings
from serve.engine import ScoringEngine
from serve.fast_path import ScoreFastPath
from serve.limits import BodyLimit
from serve.metrics import Metrics
from serve.periodic import stop_all
from serve.reviews import ReviewService
from serve.reviews.webhooks import WebhookSender
from serve.routes import lists, ops, orders, outcomes, reviews, rules
from serve.rules_store.auto_block import AutoBlocker
from serve.rules_store.live import RulesWatcher
from serve.rules_store.service import RulesService, open_rules_store
from serve.runtime import Reloader, Snapshotter, api_keys, build_engine
from serve.service import ScoringService
from serve.state_expiry import StateExpiry
from serve.state_repair import StateRepair
from serve.ui.app import mount_ui
from serve.ui.docs import install_docs

log = logging.getLogger("risk.serve")
STOP_JOBS_S = 2.0
"""How long shutdown waits, at most, for the background runs in progress (a job between runs stops at once): a
rules refresh or a repair round ends before the connections it uses are closed, while a state expiry pass (seconds
on a large state) or a model load holds up a stopping service no longer than this."""


def create_app(settings: Settings, engine: ScoringEngine | None = None) -> FastAPI:
    """An app scoring with `engine` (built from `settings` when not given)."""
    engine = engine or build_engine(settings)
    metrics = Metrics()
    metrics.set_model(engine.model_version)
    reloader = Reloader(engine, settings, on_change=metrics.set_model)
    snapshotter = Snapshotter(engine, settings)
    repair = StateRepair(engine, settings.repair_interval_s)
    expiry = StateExpiry(engine.state)
    review_service = review_service_for(engine, settings)
    service = ScoringService(engine, KeyRing(api_keys(settings), settings.api_key_names), metrics, reloader,
                             review_service)
    webhooks = webhook_sender_for(engine, settings)
    store = open_rules_store(settings)
    watcher = RulesWatcher(store, engine.use_rules, interval_s=settings.rules_poll_interval_s)
    watcher.refresh()  # the rules in effect from the first request on
    if settings.auto_block_lists:
        blocker = AutoBlocker(store, settings.auto_block_lists, engine.decisions.logged_order)
        service.after_outcomes = lambda outcomes: blocker.on_outcomes(outcomes) and watcher.refresh()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = [snapshotter.job, watcher.job]
        if settings.registry is not None and settings.model_dir is None:
            jobs.append(reloader.job)
        if webhooks is not None:
            jobs.append(webhooks.job)
        if not engine.state.in_process:  # a shared state can be unreachable for a while, or lose its data
            jobs.append(repair.job)
        else:  # in process: nothing forgets old history but this (Redis keys expire by TTL)
            jobs.append(expiry.job)
        for job in jobs:
            job.start()
        log.info("scoring process started", extra={"pid": os.getpid(), "model": engine.model_version})
        yield
        stop_all(jobs, STOP_JOBS_S)
        if webhooks is not None:
            webhooks.close()
        snapshotter.save()
        engine.decisions.close()
        engine.state.close()
        store.db.close()

    app = FastAPI(
        title="risk-engine",
        summary="Fraud and impulse-purchase (regret) risk decisions for social commerce checkouts.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # serve.ui.docs serves /docs from local assets (FastAPI's loads them from a CDN)
        redoc_url=None,
    )
    app.state.service = service  # read by serve.deps.get_service only
    app.state.rules = RulesService(store, watcher, settings.backtest_data_dir,  # serve.deps.get_rules
                                   lambda: engine.scorer.bundle, max_orders=settings.backtest_max_orders)
    errors.install(app, metrics)
    for router in (orders.router, outcomes.router, reviews.router, rules.router, lists.router, ops.router):
        app.include_router(router)
    install_docs(app)
    mount_ui(app, settings, service, app.state.rules)
    if settings.fast_path:
        app.add_middleware(ScoreFastPath, service=service)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # added last: runs first
    return app


def review_service_for(engine: ScoringEngine, settings: Settings) -> ReviewService:
    """The review queue with the settings' SLA and claim timeout; webhook events written when a URL is set."""
    return ReviewService(engine, sla=timedelta(minutes=settings.review_sla_minutes),
                         claim_idle=timedelta(minutes=settings.review_claim_minutes),
                         events=settings.webhook_url is not None)


def webhook_sender_for(engine: ScoringEngine, settings: Settings) -> WebhookSender | None:
    """The outbox's delivery worker when RISK_WEBHOOK_URL is set (it needs RISK_WEBHOOK_SECRET to sign)."""
    if settings.webhook_url is None:
        return None
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise InvalidInput("RISK_WEBHOOK_URL is set without RISK_WEBHOOK_SECRET: webhook events are always signed")
    return WebhookSender(engine.decisions, settings.webhook_url, settings.webhook_secret.get_secret_value(),
                         timeout_s=settings.webhook_timeout_s, backoff_s=settings.webhook_backoff_s,
                         max_backoff_s=settings.webhook_max_backoff_s, poll_s=settings.webhook_poll_s)
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
