"""Choosing a decision log from one URL setting (`--database-url`, RISK_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast
from urllib.parse import parse_qsl, urlsplit

from risk.errors import InvalidInput
from serve.decision_log.interface import DecisionLog
from serve.decision_log.postgres import PostgresDecisionLog
from serve.decision_log.sqlite import SQLiteDecisionLog


def open_decision_log(url: str | None, default_path: Path, *, table_prefix: str = "risk_") -> DecisionLog:
    """The decision log named by `url`.

    None: SQLite at `default_path`. `sqlite:///relative/path` or `sqlite:////absolute/path`
    (as SQLAlchemy spells them), optionally `?synchronous=FULL`: SQLite there.
    `postgresql://...` or `postgres://...`: PostgreSQL, its tables named `{table_prefix}decisions` and so on.
    """
    if url is None or not url.strip():
        return SQLiteDecisionLog(default_path)
    if url.startswith("sqlite:///") and len(url.split("?", 1)[0]) > len("sqlite:///"):
        path, _, query = url[len("sqlite:///"):].partition("?")
        return SQLiteDecisionLog(Path(path), synchronous=_sqlite_synchronous(query))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDecisionLog(url, table_prefix=table_prefix)
    scheme = urlsplit(url).scheme or url.split(":", 1)[0]
    raise InvalidInput(
        f"decision log URL scheme {scheme!r} is not supported; use sqlite:///path/to/file.db or postgresql://host/db"
    )


def _sqlite_synchronous(query: str) -> Literal["FULL", "NORMAL"]:
    """The synchronous mode a sqlite URL's query asks for (NORMAL by default); no other option exists."""
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - {"synchronous"})
    if unknown:
        raise InvalidInput(f"decision log URL option(s) {', '.join(unknown)} unknown; sqlite takes synchronous")
    synchronous = options.get("synchronous", "NORMAL").upper()
    if synchronous not in ("FULL", "NORMAL"):
        raise InvalidInput(f"decision log URL: synchronous must be FULL or NORMAL, got {synchronous!r}")
    return cast(Literal["FULL", "NORMAL"], synchronous)
