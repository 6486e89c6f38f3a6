"""The rules store's tables, declared like the decision log's (`serve/decision_log/schema.py`).

They live in the decision database beside the decision log (same SQLite file or the same
PostgreSQL database and table prefix). Every change is one transaction that first bumps
the one-row `rules_epoch` counter: that serialises writers on both backends, numbers the
change (the audit row's key) and is what every scoring process polls to notice a change.
A decision logged with epoch N was made with the rules and lists of the changes up to N.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from serve.decision_log.schema import JsonText, Table


class EpochRow(NamedTuple):
    """The change counter: one row (id 1), incremented by every change."""

    id: int
    epoch: int


class RuleVersionRow(NamedTuple):
    """One version of a rule: the whole rule as it stood after a change (versions are never updated)."""

    rule_id: str
    version: int
    epoch: int
    text: str
    mode: str  # live | test
    enabled: int  # 1 | 0
    description: str | None
    pending: int  # 1: waits for a second person's approval, not in effect
    author: str
    changed_at: datetime
    why: str | None
    change: str  # create | edit | disable | enable | test_mode | live_mode | restore | approve


class ListRow(NamedTuple):
    """A named list; `version` counts its changes."""

    name: str
    kind: str
    description: str | None
    version: int
    author: str
    created_at: datetime


class ListItemRow(NamedTuple):
    """One item of a list for the span it was in it: added, then possibly expired or removed.

    Rows are only updated to set `removed_*`: the history of every list stays readable,
    which is what a backtest rebuilds lists from as they were at each order's moment.
    """

    list_name: str
    item_no: int
    value: str
    reason: str
    author: str
    added_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    added_version: int
    removed_version: int | None


class AuditRow(NamedTuple):
    """One change: who, when, why, what it was before and after (JSON)."""

    epoch: int
    entity: str  # rule | list
    name: str
    version: int
    change: str
    author: str
    changed_at: datetime
    why: str | None
    before_json: JsonText | None
    after_json: JsonText | None


EPOCH = Table("rules_epoch", EpochRow, unique=("id",), primary_key=True)
RULE_VERSIONS = Table("rule_versions", RuleVersionRow, unique=("rule_id", "version"), primary_key=True)
LISTS = Table("lists", ListRow, unique=("name",), primary_key=True)
LIST_ITEMS = Table("list_items", ListItemRow, unique=("list_name", "item_no"), primary_key=True)
AUDIT = Table("rules_audit", AuditRow, unique=("epoch",), primary_key=True)
TABLES = (EPOCH, RULE_VERSIONS, LISTS, LIST_ITEMS, AUDIT)
