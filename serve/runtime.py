"""Building the engine from settings, and the background jobs: model reload and state snapshots."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from features.state import EmbeddedState, FeatureState
from features.state.snapshot_file import covered_until
from models.bundle import ModelBundle, load_bundle
from models.canary import check_canary
from risk.errors import InvalidInput, ModelRefused, RiskError
from risk.urls import redacted_url
from serve.config import Role, Settings
from serve.decision_log import open_decision_log
from serve.engine import ScoringEngine
from serve.periodic import PeriodicJob

log = logging.getLogger("risk.serve")


def model_path(settings: Settings) -> Path:
    """The model to serve: --model, else the registry's promoted one."""
    if settings.model_dir is not None:
        return settings.model_dir
    if settings.registry is not None:
        from models.registry import Registry

        path = Registry(settings.registry).promoted_path()
        if path is None:
            raise InvalidInput(f"registry {settings.registry} has no promoted model: run `risk models promote`")
        return path
    raise InvalidInput("give a model directory (--model) or a registry (--registry)")


def from_registry(settings: Settings) -> bool:
    """The model comes from the registry's promotion (not a fixed --model directory)."""
    return settings.model_dir is None and settings.registry is not None


def registry_version(settings: Settings) -> str | None:
    """The registry's promoted version now (None when serving a --model directory)."""
    if not from_registry(settings):
        return None
    from models.registry import Registry

    return Registry(settings.registry).promoted()  # type: ignore[arg-type]  # from_registry: not None


def model_path_name(settings: Settings) -> str:
    """What to call the model being loaded when it cannot be read: its directory, or the registry's promotion."""
    try:
        return str(model_path(settings))
    except RiskError:
        return str(settings.model_dir or settings.registry)


def load_served(settings: Settings) -> ModelBundle:
    """The model to serve, named by its registry version when it comes from a registry.

    A registry version is its folder's name: a hand-placed folder whose metadata says
    otherwise is served under the folder's name (the trained one kept as `trained_version`),
    so `/readyz`, every decision and `risk models list` name the same thing.
    """
    path = model_path(settings)
    bundle = load_bundle(path)
    if from_registry(settings) and bundle.version != path.name:
        bundle.metadata = dict(bundle.metadata, version=path.name, trained_version=bundle.version)
    return bundle


def checked(bundle: ModelBundle) -> ModelBundle:
    """The bundle if it passes the canary (`models.canary.check_canary`), else ModelRefused naming why."""
    result = check_canary(bundle)
    for warning in result.warnings:
        log.warning("model %s: %s", bundle.version, warning)
    if not result.ok:
        raise ModelRefused(f"model {bundle.version} refused: {result.reason()}")
    return bundle


def open_state(settings: Settings) -> FeatureState:
    if settings.redis_url:
        from features.state.redis_state import RedisState

        return RedisState(url=settings.redis_url, prefix=settings.redis_prefix, timeout_s=settings.state_timeout_s)
    snapshot = settings.snapshot_path
    if snapshot.exists():
        log.info("restoring feature state from %s", snapshot)
        return EmbeddedState.load(snapshot)
    return EmbeddedState()


SNAPSHOT_MARGIN_S = 300.0  # replay a little before the snapshot's time: replaying is idempotent, missing is not
# the follower starts after the service has run this long: a short-lived service (a test, a demo) needs none
FOLLOWER_DELAY_S = 10.0
FREEZE_EVERY_S = 1.0  # at 10 s, the objects in between still made full collections of 5-25 ms at 1000 req/s


def build_engine(settings: Settings) -> ScoringEngine:
    bundle = checked(load_served(settings))  # a model that fails the canary never starts serving
    shadow = load_bundle(settings.shadow_model_dir) if settings.shadow_model_dir else None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    decisions = open_decision_log(settings.database_url, settings.sqlite_path,
                                  table_prefix=settings.database_table_prefix)
    engine = ScoringEngine(bundle, open_state(settings), decisions, fallback=settings.fallback_decision, shadow=shadow)
    if engine.state.persists_by_snapshot:
        catch_up_from_log(engine, settings.snapshot_path)
    return engine


class Versioned(Protocol):
    @property
    def model_version(self) -> str: ...


def served_version(settings: Settings) -> str:
    """The version of the model `settings` serve, read off its metadata (without loading the model)."""
    from models.registry import read_metadata

    return str(read_metadata(model_path(settings))["version"])


def startup_lines(settings: Settings, engine: Versioned) -> list[str]:
    """What a starting service serves: the model (version, path) and its backends, URLs without credentials."""
    source = f" (registry {settings.registry}: the promoted model, reloaded on promote)" if (
        from_registry(settings)) else ""
    lines = [f"model: {engine.model_version} from {model_path(settings)}{source}"]
    if settings.workers > 1:
        lines.append(f"workers: {settings.workers} processes sharing the feature state and the decision log")
    if settings.shadow_model_dir is not None:
        lines.append(f"shadow model: {settings.shadow_model_dir} (scored and logged, never answering)")
    lines.append("feature state: " + (f"Redis at {redacted_url(settings.redis_url)}" if settings.redis_url
                                     else f"embedded, snapshots in {settings.snapshot_path}"))
    url = settings.database_url
    if url and url.startswith("postgres"):
        lines.append(f"decision log: PostgreSQL at {redacted_url(url)}")
    else:
        lines.append(f"decision log: SQLite at {redacted_url(url) if url else settings.sqlite_path}")
    if settings.webhook_url:
        lines.append(f"webhooks: review events to {redacted_url(settings.webhook_url)}")
    return lines


def catch_up_from_log(engine: ScoringEngine, snapshot: Path) -> None:
    """The in-process state loses nothing on restart: what the log holds beyond the snapshot is replayed."""
    covers = covered_until(snapshot)  # the log time the snapshot holds (its writer says; else its file's time)
    since = covers - timedelta(seconds=SNAPSHOT_MARGIN_S) if covers else None
    orders, outcomes = engine.decisions.read_since(since)
    applied, fed = engine.catch_up(orders, outcomes)
    if applied or fed:
        log.info("feature state caught up from the decision log: %d orders, %d outcomes", applied, fed)


def api_keys(settings: Settings) -> dict[str, Role]:
    """Keys from the environment and the keys file; none at all means one generated admin key, printed once."""
    keys = settings.all_api_keys()
    if not keys:
        generated = secrets.token_urlsafe(24)
        keys[generated] = "admin"
        print(f"risk serve: no API keys configured (RISK_API_KEYS); admin key for this run: {generated}", flush=True)
    return keys


class Reloader:
    """Loads a newly promoted model, after the canary; a refused one is logged, reported and the old one kept.

    Every replica runs one, polling the registry every `reload_interval_s` (a read of the
    promoted version; the model is loaded only when it changed), so a promotion reaches
    every process within about that long. `refused` holds the latest refusal (version and
    reason) until a model is switched to, so `/readyz` says why the service is not on the
    registry's promoted version, and a refused version is not tried again every second.
    """

    def __init__(self, engine: ScoringEngine, settings: Settings,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.engine, self.settings, self.on_change = engine, settings, on_change
        self.refused: dict[str, str] | None = None
        self.job = PeriodicJob("model-reload", self._poll, settings.reload_interval_s,
                               failure=lambda: f"model reload failed; keeping {self.engine.model_version}")

    def reload_now(self) -> str:
        """Switch to the promoted model (or the directory's model) if it is new and passes the canary.

        Returns the version serving afterwards; a model that does not load or fails the canary is
        ModelRefused (409) naming why, and the old model keeps serving.
        """
        try:
            bundle = load_served(self.settings)
        except RiskError as exc:
            raise self._refuse(str(self.registry_version() or model_path_name(self.settings)), exc.message) from None
        if bundle.version == self.engine.model_version:
            return bundle.version
        try:
            checked(bundle)
        except ModelRefused as exc:
            raise self._refuse(bundle.version, exc.message) from None
        self.engine.reload(bundle)
        self.refused = None
        log.info("model %s loaded from %s", bundle.version, model_path(self.settings), extra={"pid": os.getpid()})
        if self.on_change:
            self.on_change(bundle.version)
        return self.engine.model_version

    def poll(self) -> str:
        """Reload if the registry promoted another version (a metadata read, no model load); the version serving."""
        version = self.registry_version()
        if version is None or version == self.engine.model_version:
            return self.engine.model_version
        if self.refused and self.refused["version"] == version:
            return self.engine.model_version  # refused already: checked again on the next promotion or POST reload
        return self.reload_now()

    def registry_version(self) -> str | None:
        """The registry's promoted version now; None for a --model directory or an unreadable registry."""
        try:
            return registry_version(self.settings)
        except RiskError:
            return None

    def _refuse(self, version: str, reason: str) -> ModelRefused:
        if self.refused != {"version": version, "reason": reason}:  # logged once per refusal, not every interval
            log.error("model %s refused; %s keeps serving: %s", version, self.engine.model_version, reason)
        self.refused = {"version": version, "reason": reason}
        return ModelRefused(f"{reason}; {self.engine.model_version} keeps serving")

    def _poll(self) -> None:
        with contextlib.suppress(ModelRefused):  # logged by _refuse, once per refusal
            self.poll()


class Snapshotter:
    """Writes the embedded state to disk periodically and at shutdown.

    Periodic snapshots come from a forked child or, with RISK_SNAPSHOT_WRITER=follower and
    an SQLite log, from a follower process (`serve.snapshot_follower`, which keeps its own
    copy of the state from the log, so the service never forks). It also moves the long-lived state out of
    the garbage collector's sight (gc.freeze): a full collection walking millions of
    history objects paused scoring for ~1 s. `job` runs `tick` every second in the thread "state-snapshots".
    """

    def __init__(self, engine: ScoringEngine, settings: Settings) -> None:
        self.engine, self.path = engine, settings.snapshot_path
        self.interval = settings.snapshot_interval_s
        log_path = getattr(engine.decisions, "path", None)  # an SQLite log's file
        self.follow_log: Path | None = log_path if (
            engine.state.persists_by_snapshot and settings.snapshot_writer == "follower" and log_path) else None
        self.follower: subprocess.Popen[bytes] | None = None
        self.follower_lock = threading.Lock()  # started by `tick`, stopped by `save`: never one after the other
        self.child: int | None = None  # the process writing the latest forked snapshot
        self.started = self.last_snapshot = time.monotonic()
        self.job = PeriodicJob("state-snapshots", self.tick, FREEZE_EVERY_S, failure="state snapshot failed")

    def save(self) -> None:
        """The final snapshot, at shutdown: the follower stops first, and the service's own state is written."""
        with self.follower_lock:
            if self.follower is not None:
                self.follower.terminate()
                self.follower.wait()
        if self.engine.state.persists_by_snapshot:
            self.engine.state.snapshot(self.path)

    def start_follower(self) -> None:
        with self.follower_lock:
            if self.job.stopping.is_set():
                return
            self.follower = self._spawn_follower()

    def _spawn_follower(self) -> subprocess.Popen[bytes]:
        assert self.follow_log is not None
        root = str(Path(__file__).resolve().parents[1])  # this checkout's packages, wherever the service runs
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        return subprocess.Popen(
            [sys.executable, "-m", "serve.snapshot_follower", "--log", str(self.follow_log),
             "--snapshot", str(self.path), "--interval", str(self.interval)], env=env)

    def tick(self) -> None:
        """Every second: freeze the survivors out of the GC's sight, keep a follower running, snapshot when due."""
        stopping = self.job.stopping
        gc.collect(1)  # the young generations only: milliseconds
        gc.freeze()  # what survived is long-lived history: out of every later collection
        if self.follow_log is not None and not stopping.is_set() and (
                self.follower is None and time.monotonic() - self.started >= min(self.interval, FOLLOWER_DELAY_S)):
            self.start_follower()
        elif self.follower is not None and self.follower.poll() is not None and not stopping.is_set():
            log.warning("snapshot follower exited (code %s); starting another", self.follower.returncode)
            self.start_follower()
        if (self.follow_log is not None or not self.engine.state.persists_by_snapshot
                or time.monotonic() - self.last_snapshot < self.interval):
            return
        self.last_snapshot = time.monotonic()
        if self.child is not None:
            os.waitpid(self.child, 0)  # the previous snapshot's writer, long done
        self.child = self.engine.state.snapshot_in_background(self.path)
