"""deploy/compose.yaml matches the code: every RISK_* setting serve/config.py reads, the ports, the services.

Containers cannot run where this was written, so the file is checked against the code instead: the
settings are derived from serve/config.py's settings classes at test time, so a setting added or renamed
there fails here until deploy/ follows.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from serve import config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def code_settings() -> set[str]:
    """Every environment variable a settings class of serve/config.py reads (prefix + field name, upper case)."""
    names = set()
    for _, cls in inspect.getmembers(config, inspect.isclass):
        if issubclass(cls, BaseSettings) and cls is not BaseSettings and cls.__module__ == config.__name__:
            prefix = cls.model_config.get("env_prefix", "")
            names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command_option(service: dict, option: str) -> str:
    command = service["command"]
    return command[command.index(option) + 1]


def test_settings_are_derived_from_the_code():
    assert {"RISK_REDIS_URL", "RISK_DATABASE_URL", "RISK_API_KEYS", "RISK_REGISTRY"} <= code_settings()


def test_the_stack_has_its_services(compose):
    assert {"lb", "scoring", "redis", "postgres", "dask-scheduler", "dask-worker"} <= set(compose["services"])
    assert compose["services"]["scoring"]["deploy"]["replicas"] >= 2
    assert compose["services"]["dask-worker"]["deploy"]["replicas"] >= 2


def test_the_scoring_service_sets_every_setting_the_code_reads_and_no_other(compose):
    env = environment(compose["services"]["scoring"])
    risk_vars = {name for name in env if name.startswith(config.ENV_PREFIX)}
    assert code_settings() - risk_vars == set(), "settings missing from deploy/compose.yaml (scoring.environment)"
    assert risk_vars - code_settings() == set(), "variables in deploy/compose.yaml that no setting reads"


def test_no_other_service_sets_a_risk_variable_the_code_does_not_read(compose):
    for name, service in compose["services"].items():
        unknown = {v for v in environment(service) if v.startswith(config.ENV_PREFIX)} - code_settings()
        assert not unknown, (name, unknown)


def test_the_settings_in_the_compose_file_are_valid_for_the_code(compose, monkeypatch):
    env = environment(compose["services"]["scoring"])
    for name, value in env.items():
        if name.startswith(config.ENV_PREFIX):
            monkeypatch.setenv(name, re.sub(r"\$\{[^}]*\}", "secret-value-long-enough", value))
    monkeypatch.setenv("RISK_API_KEYS", '{"checkout-key-1": "checkout"}')
    # what an operator passes for the variables the file takes from the environment
    monkeypatch.setenv("RISK_UI_SECRET", "a-secret-of-at-least-32-characters-0123")
    monkeypatch.setenv("RISK_WEBHOOK_URL", "https://hooks.example/risk")
    settings = config.load_settings()
    assert settings.redis_url and settings.database_url and settings.registry


def test_urls_point_at_the_services_and_their_ports(compose):
    services = compose["services"]
    env = environment(services["scoring"])
    redis = urlsplit(env["RISK_REDIS_URL"])
    assert redis.hostname == "redis" and str(redis.port) == command_option(services["redis"], "--port")
    assert str(redis.port) in services["redis"]["expose"]
    database = urlsplit(env["RISK_DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "x"))
    assert database.hostname == "postgres" and str(database.port) in services["postgres"]["expose"]
    assert database.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert database.path.lstrip("/") == services["postgres"]["environment"]["POSTGRES_DB"]
    assert "${" in env["RISK_DATABASE_URL"] and "${" in env["RISK_API_KEYS"]  # secrets from the environment


def test_redis_persists_every_write(compose):
    command = compose["services"]["redis"]["command"]
    assert command_option(compose["services"]["redis"], "--appendonly") == "yes"
    assert "noeviction" in command  # an evicted key would silently lose velocity history
    assert any(volume.endswith(":/data") for volume in compose["services"]["redis"]["volumes"])


def test_the_load_balancer_sends_to_the_scoring_port(compose):
    nginx = (DEPLOY / "nginx.conf").read_text()
    port = command_option(compose["services"]["scoring"], "--port")
    assert re.search(rf"server\s+scoring:{port}\b", nginx)
    assert port in compose["services"]["scoring"]["expose"]
    listen = re.search(r"listen\s+(\d+);", nginx).group(1)
    assert any(mapping.endswith(f":{listen}") for mapping in compose["services"]["lb"]["ports"])
    assert command_option(compose["services"]["scoring"], "--host") == "0.0.0.0"


def test_dask_workers_reach_the_scheduler_port(compose):
    services = compose["services"]
    port = command_option(services["dask-scheduler"], "--port")
    assert f"tcp://dask-scheduler:{port}" in services["dask-worker"]["command"]
    assert any(mapping.endswith(f":{port}") for mapping in services["dask-scheduler"]["ports"])
    assert "--memory-limit" in services["dask-worker"]["command"]  # bounded memory per worker


def test_the_image_installs_the_dask_extra_the_batch_services_run():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "'.[dask]'" in dockerfile
    for package in ("risk", "features", "models", "training", "serve", "cli"):
        assert f"COPY {package} {package}" in dockerfile
