"""The options every `risk rules` and `risk lists` action shares: which decision database, and who acts."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from serve.rules_store.store import RulesStore


def database_options() -> argparse.ArgumentParser:
    """--data-dir / --database-url (as `risk serve` and `risk export` take them), --author, --why, --json."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("risk-data"),
                        help="the service's --data-dir (its SQLite decision database; default ./risk-data)")
    common.add_argument("--database-url", "--database", dest="database_url",
                        help="the decision database URL (postgresql://... or sqlite:///path); overrides --data-dir")
    common.add_argument("--author", help="who makes the change (default: $USER)")
    common.add_argument("--why", help="why the change is made (kept in the audit trail)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return common


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[RulesStore]:
    """The store of the database the options name, closed on the way out; RISK_RULES_REQUIRE_APPROVAL applies
    as in the service."""
    from serve.config import load_settings
    from serve.rules_store.service import open_rules_store

    store = open_rules_store(load_settings(data_dir=args.data_dir, database_url=args.database_url))
    try:
        yield store
    finally:
        store.db.close()


def author(args: argparse.Namespace) -> str:
    """--author, else the login name ($USER); the store refuses an empty one."""
    return args.author or os.environ.get("USER", "")


def emit(args: argparse.Namespace, data: Any, table: str) -> None:
    """JSON with --json, else the human table."""
    print(json.dumps(data, indent=2, default=str) if args.json else table)
