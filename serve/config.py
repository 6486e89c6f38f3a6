"""The service's settings: one object built at start-up from the environment (prefix RISK_) or flags.

Secrets (API keys, database passwords inside URLs) come from the environment or a
config file, never from code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from risk.contract import Verdict

Role = Literal["checkout", "analyst", "admin"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RISK_", env_file=None, extra="ignore")

    model_dir: Path | None = None
    registry: Path | None = None
    shadow_model_dir: Path | None = None
    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("risk-data")  # SQLite decision log and state snapshots live here by default
    api_keys: dict[str, Role] = Field(default_factory=dict)  # key -> role; RISK_API_KEYS='{"k1": "checkout"}'
    api_keys_file: Path | None = None  # JSON {key: role}, for keys kept out of the environment
    fallback_decision: Verdict = "review"
    state_timeout_s: float = 0.05
    max_body_bytes: int = 64 * 1024
    reload_interval_s: float = 10.0  # how often the registry is checked for a newly promoted model
    # a snapshot is a forked child writing for seconds; its copy-on-write faults raised p99 at 1000 req/s
    # from 3 to 9-12 ms while it ran. Restart replays the decision log past the last snapshot either way.
    snapshot_interval_s: float = 300.0
    fast_path: bool = True  # serve.fast_path answers valid scoring requests; false: every request through FastAPI

    @field_validator("api_keys")
    @classmethod
    def _keys_not_empty(cls, keys: dict[str, Role]) -> dict[str, Role]:
        for key in keys:
            if len(key) < 8:
                raise ValueError("API keys must be at least 8 characters")
        return keys
