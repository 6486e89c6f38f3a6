"""Analyst lists: create a typed list, add and remove items (reason, optional expiry), import CSV, history, restore.

Items keep the span they were in their list, so backtests see each list as it was at
each order's moment; every change is a new list version in the audit trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from risk.contract import Time
from risk.rules import ListKind
from serve.deps import RulesDep, RulesManager, RulesReader
from serve.errors import documented
from serve.rules_store.records import NewItem, StoredItem, StoredList

WITH_BODY = documented(400, 401, 403, 404, 409, 413, 422)  # a route taking a JSON body
router = APIRouter(tags=["lists"])
ListName = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="referenced as @name in rules")
Why = Field(default=None, max_length=2000, description="why the change is made (kept in the audit trail)")
MAX_ITEMS = 10_000


class ListIn(BaseModel):
    name: str = ListName
    kind: ListKind
    description: str | None = Field(default=None, max_length=2000)
    why: str | None = Why


class ItemIn(BaseModel):
    value: str = Field(min_length=1, max_length=512, pattern=r"^\S(.*\S)?$")
    reason: str = Field(default="", max_length=2000)
    expires_at: Time | None = Field(default=None, description="no longer in effect from then (future)")


class ItemsIn(BaseModel):
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)
    why: str | None = Why


class RemoveIn(BaseModel):
    values: list[str] = Field(min_length=1, max_length=MAX_ITEMS)
    why: str | None = Why


class ImportIn(BaseModel):
    csv: str = Field(min_length=1, max_length=2_000_000, description="CSV text with a header line: value, "
                     "optional reason and expires_at (RFC 3339) columns")
    why: str | None = Why


class RestoreListIn(BaseModel):
    version: int = Field(ge=1)
    why: str | None = Why


class ListOut(BaseModel):
    name: str
    kind: str
    description: str | None
    version: int
    author: str
    created_at: datetime
    items: int = Field(description="items in the list (not removed; expired ones included)")


class ListsOut(BaseModel):
    lists: list[ListOut]


class ListItemsOut(BaseModel):
    items: list[StoredItem]  # the store's record, as the audit trail shows it too (its fields declared once)
    list: ListOut  # declared after `items`: `list` would otherwise shadow the builtin in the annotation


class ListHistory(BaseModel):
    name: str
    audit: list[dict[str, Any]]


def _list(listed: StoredList) -> ListOut:
    return ListOut.model_validate(listed.as_json())


def _items(listed: StoredList, items: list[StoredItem]) -> ListItemsOut:
    return ListItemsOut(list=_list(listed), items=items)


@router.get("/v1/lists", response_model=ListsOut, responses=documented(401, 403))
def list_lists(rules: RulesDep, _: RulesReader) -> ListsOut:
    """Every list with its kind, version and item count."""
    return ListsOut(lists=[_list(listed) for listed in rules.store.lists()])


@router.post("/v1/lists", status_code=201, response_model=ListOut, responses=WITH_BODY)
def create_list(body: ListIn, rules: RulesDep, caller: RulesManager) -> ListOut:
    """Create an empty list of a kind (card_fingerprint, card_bin, device, ip, email_domain, ...)."""
    listed = rules.store.create_list(body.name, body.kind, author=caller.name, description=body.description,
                                     why=body.why)
    rules.changed()
    return _list(listed)


@router.get("/v1/lists/{name}", response_model=ListItemsOut, responses=documented(401, 403, 404, 422))
def show_list(name: str, rules: RulesDep, _: RulesReader, include_removed: bool = False) -> ListItemsOut:
    """A list's items with reason, author and expiry (`include_removed`: every span ever, for the history)."""
    listed, items = rules.store.list_items(name, include_removed=include_removed)
    return _items(listed, items)


@router.post("/v1/lists/{name}/items", response_model=ListOut, responses=WITH_BODY)
def add_items(name: str, body: ItemsIn, rules: RulesDep, caller: RulesManager) -> ListOut:
    """Add items (one already listed is replaced: new reason, expiry and author)."""
    items = [NewItem(item.value, item.reason, item.expires_at) for item in body.items]
    listed = rules.store.add_items(name, items, author=caller.name, why=body.why)
    rules.changed()
    return _list(listed)


@router.post("/v1/lists/{name}/items/remove", response_model=ListOut, responses=WITH_BODY)
def remove_items(name: str, body: RemoveIn, rules: RulesDep, caller: RulesManager) -> ListOut:
    """Remove items now (their history stays for backtests); 404 naming values not in the list."""
    listed = rules.store.remove_items(name, body.values, author=caller.name, why=body.why)
    rules.changed()
    return _list(listed)


@router.post("/v1/lists/{name}/import", response_model=ListOut, responses=WITH_BODY)
def import_items(name: str, body: ImportIn, rules: RulesDep, caller: RulesManager) -> ListOut:
    """Add the items of a CSV text (bulk import): all or none."""
    listed = rules.store.import_csv(name, body.csv, author=caller.name, why=body.why)
    rules.changed()
    return _list(listed)


@router.get("/v1/lists/{name}/history", response_model=ListHistory, responses=documented(401, 403, 404, 422))
def list_history(name: str, rules: RulesDep, _: RulesReader) -> ListHistory:
    """The audit trail of a list: every change with who, when, why, before and after."""
    rules.store.list_items(name)  # 404 for an unknown list
    return ListHistory(name=name, audit=[entry.as_json() for entry in rules.store.history("list", name)])


@router.post("/v1/lists/{name}/restore", response_model=ListOut, responses=WITH_BODY)
def restore_list(name: str, body: RestoreListIn, rules: RulesDep, caller: RulesManager) -> ListOut:
    """Make the list hold again what it held at an earlier version (a new version)."""
    listed = rules.store.restore_list(name, body.version, author=caller.name, why=body.why)
    rules.changed()
    return _list(listed)

