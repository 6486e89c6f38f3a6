"""The settings: one object built at start-up from the environment (prefix RISK_) or flags.

This is the only module that reads `RISK_*` variables: the service's `Settings` and
the registry folder the `risk models` commands default to. Secrets (API keys,
database passwords inside URLs) come from the environment or a config file, never
from code. A bad value is one `InvalidInput` / `DataError` naming the variable or file,
so the command line reports it in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from risk.contract import Verdict
from risk.errors import DataError, InvalidInput

Role = Literal["checkout", "analyst", "admin"]
MIN_KEY_LENGTH = 8  # shorter keys are guessable
ENV_PREFIX = "RISK_"
DEFAULT_REGISTRY = Path("registry")


class RegistrySettings(BaseSettings):
    """What every command may take from the environment: the model registry folder."""

    # env_ignore_empty: RISK_REGISTRY= (set but empty) means unset, not the current folder
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=None, extra="ignore", env_ignore_empty=True)

    registry: Path | None = None


class Settings(RegistrySettings):
    """The scoring service's settings (`risk serve` flags override the environment)."""

    model_dir: Path | None = None
    shadow_model_dir: Path | None = None
    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("risk-data")  # SQLite decision log and state snapshots live here by default
    api_keys: dict[str, Role] = Field(default_factory=dict)  # key -> role; RISK_API_KEYS='{"k1": "checkout"}'
    api_keys_file: Path | None = None  # JSON {key: role}, for keys kept out of the environment
    fallback_decision: Verdict = "review"
    state_timeout_s: float = 0.05
    max_body_bytes: int = 64 * 1024
    # how often the registry is checked for a newly promoted model (a file read; the model loads only when it
    # changed): every replica polls, so all of them serve a promoted model within about this long
    reload_interval_s: float = 1.0
    # a snapshot is a forked child writing for seconds; its copy-on-write faults raised p99 at 1000 req/s
    # from 3 to 9-12 ms while it ran. Restart replays the decision log past the last snapshot either way.
    snapshot_interval_s: float = 300.0
    # who writes those snapshots: "fork", a forked child of the scoring process, or "follower", a process of
    # its own following the SQLite decision log, so the service never forks (a PostgreSQL log: always fork).
    # The default stays "fork" until the follower is shown to keep p99 lower (README: not shown yet)
    snapshot_writer: Literal["follower", "fork"] = "fork"
    workers: int = Field(default=1, ge=1, le=64)  # scoring processes (uvicorn workers); > 1 needs Redis + PostgreSQL
    redis_prefix: str = "risk:"  # the feature state's keys start with it (several deployments may share a Redis)
    database_table_prefix: str = "risk_"  # the decision log's tables in PostgreSQL start with it
    # how often a replica checks whether orders it logged without their state writes (Redis unreachable)
    # can be replayed into the state, and whether the state lost its history (a Redis restarted empty)
    repair_interval_s: float = 1.0
    log_level: str = "info"
    fast_path: bool = True  # serve.fast_path answers valid scoring requests; false: every request through FastAPI
    # the review queue (serve/reviews): a review is due this long after it opens; a claim lapses when idle this long
    review_sla_minutes: float = Field(default=240.0, gt=0)
    review_claim_minutes: float = Field(default=15.0, gt=0)
    # webhooks: review.opened / review.closed POSTed here, signed with the secret (HMAC-SHA256); unset: none
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_backoff_s: float = Field(default=2.0, gt=0)  # first retry after this, doubling each failure
    webhook_max_backoff_s: float = Field(default=3600.0, gt=0)  # ... up to this; retried until delivered
    webhook_poll_s: float = Field(default=1.0, gt=0)  # how often the outbox is checked for events due
    # The web app (/ui): the key signing its session cookies (else a secret generated once into data_dir),
    # cookies sent over HTTPS only (set it behind TLS), and how long a login lasts.
    ui_secret: str | None = Field(default=None, min_length=32, repr=False)
    ui_secure_cookies: bool = False
    ui_session_hours: float = Field(default=8.0, gt=0)
    # names of API keys (key -> person or system), the author recorded for rule and list changes made with the
    # key; a key without a name is recorded as "<role>:<first 8 hex of its sha256>" (never the key itself)
    api_key_names: dict[str, str] = Field(default_factory=dict)
    rules_require_approval: bool = False  # a new or edited acting decline rule waits for a second admin's approval
    rules_poll_interval_s: float = Field(default=0.25, gt=0, le=1.0)  # how often each process checks for rule changes
    # confirmed fraud (analyst or processor) adds the order's card / device to these block lists ({} = off),
    # e.g. RISK_AUTO_BLOCK_LISTS='{"card_fingerprint": "blocked_cards", "device": "blocked_devices"}'
    auto_block_lists: dict[Literal["card_fingerprint", "device"], str] = Field(default_factory=dict)
    backtest_data_dir: Path | None = None  # data sets POST /v1/rules/backtest may read (sub-directories of it only)
    # a backtest through the service (API or web app) replays at most this many orders of history (the period and
    # the orders before it that its features read); larger ones are refused at once: run `risk rules backtest`
    backtest_max_orders: int = Field(default=200_000, gt=0)

    @field_validator("api_keys")
    @classmethod
    def _keys_long_enough(cls, keys: dict[str, Role]) -> dict[str, Role]:
        return _long_enough(keys)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @property
    def snapshot_path(self) -> Path:
        """Where the embedded feature state is snapshotted (and restored from at start-up)."""
        return self.data_dir / "state.pkl"

    @property
    def ui_secret_path(self) -> Path:
        """The generated key of the web app's session cookies, when RISK_UI_SECRET is not set."""
        return self.data_dir / "ui_secret"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite decision log used when no --database-url is given."""
        return self.data_dir / "decisions.sqlite"

    def all_api_keys(self) -> dict[str, Role]:
        """The keys of RISK_API_KEYS and of the keys file together, each checked alike."""
        keys = dict(self.api_keys)
        if self.api_keys_file is not None:
            keys.update(_read_keys_file(self.api_keys_file))
        return keys


def check_workers(settings: Settings) -> None:
    """Several scoring processes must share their state and log: refuse the per-process ones, saying why."""
    if settings.workers == 1:
        return
    if not settings.redis_url:
        raise InvalidInput(f"--workers {settings.workers} needs --redis-url (RISK_REDIS_URL): the embedded feature "
                           "state lives in one process, so each worker would count only its own orders")
    if not (settings.database_url or "").startswith(("postgresql://", "postgres://")):
        raise InvalidInput(f"--workers {settings.workers} needs --database-url postgresql://... (RISK_DATABASE_URL): "
                           "a SQLite decision log is one host's file, and idempotency must hold across replicas")


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, `overrides` (command-line flags, None = not given) winning."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except SettingsError as exc:  # not even JSON where JSON is expected, e.g. RISK_API_KEYS=abc
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise InvalidInput(f"settings: {exc}{cause}; JSON is expected, e.g. RISK_API_KEYS='{{\"key\": \"checkout\"}}'"
                           ) from None
    except ValidationError as exc:
        raise InvalidInput("; ".join(_setting_problem(error) for error in exc.errors(include_url=False))) from None


def registry_dir(given: Path | None) -> Path:
    """--registry, else $RISK_REGISTRY, else ./registry."""
    if given is not None:
        return given
    try:
        return RegistrySettings().registry or DEFAULT_REGISTRY
    except ValidationError as exc:
        raise InvalidInput("; ".join(_setting_problem(error) for error in exc.errors(include_url=False))) from None


_KEYS = TypeAdapter(dict[str, Role])


def _read_keys_file(path: Path) -> dict[str, Role]:
    try:
        return _long_enough(_KEYS.validate_python(json.loads(path.read_text())))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read API keys ({exc})") from None
    except ValidationError as exc:
        reasons = sorted({f"{error['msg']}" for error in exc.errors(include_url=False)})
        raise DataError(f"{path}: API keys must map each key to a role ({'; '.join(reasons)})") from None
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None


def _long_enough(keys: dict[str, Role]) -> dict[str, Role]:
    short = sum(len(key) < MIN_KEY_LENGTH for key in keys)
    if short:  # the keys themselves stay out of the message: it may end up in a log
        raise ValueError(f"API keys must be at least {MIN_KEY_LENGTH} characters ({short} shorter)")
    return keys


def _setting_problem(error: Any) -> str:
    """One validation problem as `RISK_NAME: reason` (the variable a user would fix; flags have the same names)."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{ENV_PREFIX}{name.upper()}: {reason}"
