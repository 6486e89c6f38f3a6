"""Lists: every list with its kind and item count; a list's items; add, remove (with a reason), CSV import, restore.

Every change goes through the rules service the API's list routes call: the store checks
each value against the list's kind, keeps every item's span and writes the audit row;
the watcher puts the change in effect in this process at once. What the store refuses
(a value not of the list's kind, an expiry in the past, a bad CSV line) is shown beside
the form, with what the analyst typed kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from risk.errors import Conflict, InvalidInput, NotFound
from risk.rules.lists import normalise
from serve.rules_store.records import NewItem, StoredList
from serve.rules_store.store import LIST_KINDS
from serve.ui.app import PREFIX, UiContext
from serve.ui.pages.deps import CsrfChecked, UiDep, UserDep
from serve.ui.times import form_time
from serve.ui.users import User

router = APIRouter()
ITEMS_SHOWN = 500  # items listed at once (a search narrows a longer list)
MAX_CSV_BYTES = 2_000_000  # as POST /v1/lists/{name}/import (a request body is also at most RISK_MAX_BODY_BYTES)
NOTE = Annotated[str, Form(max_length=2000)]


def list_href(name: str) -> str:
    return f"{PREFIX}/lists/{quote(name, safe='')}"


@router.get("/lists", response_class=HTMLResponse)
def lists_page(request: Request, ui: UiDep, user: UserDep) -> Response:
    """Every list: kind, items, version, description; the form to create one."""
    return _lists_page(request, ui, user, form={})


@router.post("/lists/create", dependencies=[CsrfChecked])
def create_list(request: Request, ui: UiDep, user: UserDep, name: Annotated[str, Form(max_length=64)],
                kind: Annotated[str, Form(max_length=32)], description: NOTE = "", why: NOTE = "") -> Response:
    try:
        listed = ui.rules.store.create_list(name.strip(), kind, author=user.name, description=description or None,
                                            why=why or None)
    except (InvalidInput, Conflict) as exc:
        form = {"name": name, "kind": kind, "description": description, "why": why}
        return _lists_page(request, ui, user, form=form, error=exc.message, status_code=exc.status)
    ui.rules.changed()
    request.session["notice"] = f"list {listed.name} ({listed.kind}) created: rules use it as @{listed.name}"
    return RedirectResponse(list_href(listed.name), status_code=303)


@router.get("/lists/{name}", response_class=HTMLResponse)
def list_page(request: Request, name: str, ui: UiDep, user: UserDep, q: str = "", removed: bool = False) -> Response:
    """A list's items (value, reason, author, added, expiry; `removed`: every span ever), its forms and audit."""
    return _list_page(request, ui, user, name, q=q, removed=removed)


@router.post("/lists/{name}/add", dependencies=[CsrfChecked])
def add_item(request: Request, name: str, ui: UiDep, user: UserDep, value: Annotated[str, Form(max_length=512)],
             reason: NOTE = "", expires_at: Annotated[str, Form(max_length=40)] = "", why: NOTE = "") -> Response:
    """Add one item (an item already listed is replaced: new reason, expiry and author)."""
    form = {"value": value, "reason": reason, "expires_at": expires_at, "why": why}
    try:
        item = NewItem(value.strip(), reason, _expiry(expires_at))
        listed = ui.rules.store.add_items(name, [item], author=user.name, why=why or None)
    except InvalidInput as exc:
        return _list_page(request, ui, user, name, form=form, error=exc.message, status_code=exc.status)
    ui.rules.changed()
    stored = normalise(listed.kind, item.value)  # type: ignore[arg-type]  # the form the store kept (it accepted it)
    request.session["notice"] = f"{name}: {stored} added (version {listed.version})"
    return RedirectResponse(list_href(name), status_code=303)


@router.post("/lists/{name}/remove", dependencies=[CsrfChecked])
def remove_item(request: Request, name: str, ui: UiDep, user: UserDep, value: Annotated[str, Form(max_length=512)],
                why: NOTE = "") -> Response:
    """Remove one item now, with the reason (its span stays in the history: backtests still see it)."""
    return _changed_list(request, ui, name, "Not removed",
                         lambda: ui.rules.store.remove_items(name, [value], author=user.name, why=why or None),
                         lambda listed: f"{name}: {value} removed (version {listed.version})")


@router.post("/lists/{name}/import", dependencies=[CsrfChecked])
async def import_items(request: Request, name: str, ui: UiDep, user: UserDep,
                       csv: Annotated[str, Form(max_length=MAX_CSV_BYTES)] = "",
                       csv_file: Annotated[UploadFile | None, File()] = None, why: NOTE = "") -> Response:
    """Add every item of a CSV (value, optional reason and expires_at columns, a header line): all or none."""
    text = csv
    if csv_file is not None and csv_file.filename:
        raw = await csv_file.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            return _list_page(request, ui, user, name, error=f"the file is larger than {MAX_CSV_BYTES:,} bytes: "
                              "split it", status_code=413)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _list_page(request, ui, user, name, error="the file is not UTF-8 text", status_code=422)
    if not text.strip():
        return _list_page(request, ui, user, name, error="choose a CSV file or paste its text", status_code=422)
    try:
        before = ui.rules.store.list_items(name)[0].items
        listed = ui.rules.store.import_csv(name, text, author=user.name, why=why or None)
    except InvalidInput as exc:
        return _list_page(request, ui, user, name, form={"csv": csv, "why": why}, error=exc.message,
                          status_code=exc.status)
    ui.rules.changed()
    after = ui.rules.store.list_items(name)[0].items
    request.session["notice"] = f"{name}: CSV imported (version {listed.version}; {after} items, were {before})"
    return RedirectResponse(list_href(name), status_code=303)


@router.post("/lists/{name}/restore", dependencies=[CsrfChecked])
def restore_list(request: Request, name: str, ui: UiDep, user: UserDep, version: Annotated[int, Form(ge=1)],
                 why: NOTE = "") -> Response:
    """Make the list hold again what it held at `version` (a new version)."""
    return _changed_list(request, ui, name, "Not restored",
                         lambda: ui.rules.store.restore_list(name, version, author=user.name, why=why or None),
                         lambda listed: f"{name}: version {version} restored as version {listed.version}")


def _changed_list(request: Request, ui: UiContext, name: str, refused: str, change: Callable[[], StoredList],
                  notice: Callable[[StoredList], str]) -> Response:
    """Apply a one-button change and go back to the list, saying what happened (a refusal is not an error page)."""
    try:
        listed = change()
    except (InvalidInput, NotFound) as exc:
        request.session["problem"] = f"{refused}: {exc.message}"
    else:
        ui.rules.changed()
        request.session["notice"] = notice(listed)
    return RedirectResponse(list_href(name), status_code=303)


def _expiry(text: str) -> datetime | None:
    """An expiry typed in the form: empty (never), or an RFC 3339 time as the API takes it."""
    return form_time(text, "expires") if text.strip() else None


def _lists_page(request: Request, ui: UiContext, user: User, *, form: dict[str, Any], error: str | None = None,
                status_code: int = 200) -> Response:
    rows = [{"href": list_href(listed.name), "list": listed} for listed in ui.rules.store.lists()]
    return ui.page(request, "lists.html", user, rows=rows, kinds=LIST_KINDS, form=form, error=error,
                   status_code=status_code)


def _list_page(request: Request, ui: UiContext, user: User, name: str, *, q: str = "", removed: bool = False,
               form: dict[str, Any] | None = None, error: str | None = None, status_code: int = 200) -> Response:
    listed, items = ui.rules.store.list_items(name, include_removed=removed)  # 404 page for an unknown list
    if q:
        needle = q.lower()
        items = [item for item in items if needle in item.value.lower() or needle in item.reason.lower()]
    audit = [{"entry": entry, "summary": _summary(entry.before, entry.after)}
             for entry in reversed(ui.rules.store.history("list", name))]
    return ui.page(request, "list.html", user, listed=listed, items=items[:ITEMS_SHOWN], matching=len(items),
                   max_body=ui.settings.max_body_bytes,
                   shown=ITEMS_SHOWN, q=q, removed=removed, audit=audit, form=form or {}, error=error,
                   href=list_href(name), rules_using=_rules_using(ui, listed), status_code=status_code)


def _rules_using(ui: UiContext, listed: StoredList) -> list[str]:
    """The rules whose latest text names the list (`@name` followed by no name character)."""
    mention = re.compile(rf"@{re.escape(listed.name)}(?![A-Za-z0-9_])")
    return [s.head.rule_id for s in ui.rules.store.rules() if mention.search(s.head.state.text)]


def _summary(before: Any, after: Any) -> str:
    """A list change in a line: the values added and removed (the whole JSON is one click away)."""
    parts = []
    for side, key in ((after, "added"), (before, "removed"), (before, "replaced")):
        values = side.get(key) if isinstance(side, dict) else None
        if values:
            shown = [v.get("value", "") if isinstance(v, dict) else str(v) for v in values]
            parts.append(f"{key}: {', '.join(shown[:10])}{' …' if len(shown) > 10 else ''} ({len(shown)})")
    if isinstance(after, dict) and "restored_version" in after:
        parts.append(f"restored version {after['restored_version']}")
    if isinstance(after, dict) and "kind" in after:
        parts.append(f"created, kind {after['kind']}")
    return "; ".join(parts) or json.dumps(after, ensure_ascii=False)[:200]
