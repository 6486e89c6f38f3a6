"""Rules: every rule and its state; create, edit, disable/enable, test mode, restore, approve; history and audit.

Every change goes through the rules service the API routes call (serve.rules_store): the
store makes the version and its audit row, the watcher puts it in effect in this process
at once. What the store refuses is shown on the page next to the form that caused it: a
rule that does not compile with its line, column, reason and suggestion; an edit made on
a version someone has replaced since, with their version shown and the analyst's text
kept in the form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from risk.errors import Conflict
from serve.rules_store.errors import InvalidRule, NotAllowed, RefusedChange
from serve.rules_store.records import AuditEntry, RuleStatus
from serve.ui.app import PREFIX, UiContext
from serve.ui.pages.deps import AdminDep, CsrfChecked, UiDep, UserDep
from serve.ui.users import User

router = APIRouter()
TEXT = Annotated[str, Form(min_length=1, max_length=4000)]
NOTE = Annotated[str, Form(max_length=2000)]
MODE = Annotated[Literal["live", "test"], Form()]
VERSION = Annotated[int, Form(ge=1)]
SHOWN_FIELDS = ("text", "mode", "enabled", "description", "pending")  # what an audit row's before/after compares
_SUGGESTION = re.compile(r"\s*\((did you mean [^)]*\?)\)\s*$")


def rule_href(rule_id: str) -> str:
    return f"{PREFIX}/rules/{quote(rule_id, safe='')}"


@dataclass(frozen=True)
class RuleProblem:
    """Why the checker refused a rule text, laid out for the page: where, why, what it may have meant."""

    line: int
    column: int
    reason: str
    suggestion: str | None
    source_line: str  # the line of the text the error is on, and a caret under the column
    caret: str

    @classmethod
    def of(cls, exc: InvalidRule, text: str) -> RuleProblem:
        line, column, reason = int(exc.fields["line"]), int(exc.fields["column"]), str(exc.fields["reason"])
        found = _SUGGESTION.search(reason)
        suggestion = found.group(1) if found else None
        lines = text.splitlines() or [""]
        source = lines[min(line, len(lines)) - 1]
        return cls(line, column, reason[:found.start()] if found else reason, suggestion, source,
                   " " * max(column - 1, 0) + "^")


def rule_state(status: RuleStatus) -> str:
    """In words: in effect, disabled, or awaiting approval (and what acts meanwhile)."""
    head, live = status.head, status.live
    if head.pending:
        return f"awaiting approval (version {live.version} in effect)" if live else "awaiting approval (not in effect)"
    return "in effect" if head.state.enabled else "disabled"


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, ui: UiDep, user: UserDep) -> Response:
    """Every rule with its action, mode, state, version, author and last change; the form to create one."""
    return _rules_page(request, ui, user, form={"mode": "live"})


@router.post("/rules/create", dependencies=[CsrfChecked])
def create_rule(request: Request, ui: UiDep, user: UserDep, rule_id: Annotated[str, Form(max_length=64)],
                text: TEXT, mode: MODE = "live", description: NOTE = "", why: NOTE = "") -> Response:
    form = {"rule_id": rule_id, "text": text, "mode": mode, "description": description, "why": why}
    try:
        status = ui.rules.store.create_rule(rule_id.strip(), text, author=user.name, why=why or None, mode=mode,
                                            description=description or None)
    except InvalidRule as exc:
        return _rules_page(request, ui, user, form=form, problem=RuleProblem.of(exc, text), status_code=422)
    except (Conflict, RefusedChange) as exc:
        return _rules_page(request, ui, user, form=form, error=exc.message, status_code=exc.status)
    ui.rules.changed()
    request.session["notice"] = f"rule {status.head.rule_id} created ({rule_state(status)})"
    return RedirectResponse(rule_href(status.head.rule_id), status_code=303)


@router.get("/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(request: Request, rule_id: str, ui: UiDep, user: UserDep) -> Response:
    """One rule: what it is now, the edit form (on its latest version), its actions, versions and audit trail."""
    return _rule_page(request, ui, user, rule_id)


@router.post("/rules/{rule_id}/edit", dependencies=[CsrfChecked])
def edit_rule(request: Request, rule_id: str, ui: UiDep, user: UserDep, base_version: VERSION, text: TEXT,
              mode: MODE = "live", description: NOTE = "", why: NOTE = "") -> Response:
    """A new version with the text, mode and description of the form, made on `base_version`."""
    form = {"text": text, "mode": mode, "description": description, "why": why}
    try:
        status = ui.rules.store.edit_rule(rule_id, author=user.name, why=why or None, base_version=base_version,
                                          text=text, description=description, mode=mode)
    except InvalidRule as exc:
        return _rule_page(request, ui, user, rule_id, form={**form, "base_version": base_version},
                          problem=RuleProblem.of(exc, text), status_code=422)
    except Conflict:  # someone saved a version since the analyst opened the page: theirs is kept, ours shown
        head = ui.rules.store.rule(rule_id).head
        stale = (f"Not saved: {head.author} changed this rule ({head.change}, {head.changed_at:%Y-%m-%d %H:%M} UTC) "
                 f"since you opened it at version {base_version}; it is now at version {head.version}. Your text "
                 "is kept in the form: compare it with theirs below, then save again to replace it.")
        return _rule_page(request, ui, user, rule_id, form={**form, "base_version": head.version}, stale=stale,
                          status_code=409)
    ui.rules.changed()
    request.session["notice"] = f"rule {rule_id}: version {status.head.version} saved ({rule_state(status)})"
    return RedirectResponse(rule_href(rule_id), status_code=303)


@router.post("/rules/{rule_id}/enabled", dependencies=[CsrfChecked])
def set_enabled(request: Request, rule_id: str, ui: UiDep, user: UserDep, base_version: VERSION,
                enabled: Annotated[bool, Form()], why: NOTE = "") -> Response:
    return _change(request, ui, rule_id, "enabled" if enabled else "disabled", lambda: ui.rules.store.set_enabled(
        rule_id, enabled, author=user.name, why=why or None, base_version=base_version))


@router.post("/rules/{rule_id}/mode", dependencies=[CsrfChecked])
def set_mode(request: Request, rule_id: str, ui: UiDep, user: UserDep, base_version: VERSION, mode: MODE,
             why: NOTE = "") -> Response:
    what = "in test mode (evaluated and logged, never acting)" if mode == "test" else "acting (live)"
    return _change(request, ui, rule_id, what, lambda: ui.rules.store.set_mode(
        rule_id, mode, author=user.name, why=why or None, base_version=base_version))


@router.post("/rules/{rule_id}/restore", dependencies=[CsrfChecked])
def restore_rule(request: Request, rule_id: str, ui: UiDep, user: UserDep, base_version: VERSION, version: VERSION,
                 why: NOTE = "") -> Response:
    return _change(request, ui, rule_id, f"version {version} restored", lambda: ui.rules.store.restore_rule(
        rule_id, version, author=user.name, why=why or None, base_version=base_version))


@router.post("/rules/{rule_id}/approve", dependencies=[CsrfChecked])
def approve_rule(request: Request, rule_id: str, ui: UiDep, admin: AdminDep, base_version: VERSION,
                 why: NOTE = "") -> Response:
    """Admins: put the pending version in effect (the store refuses its own author's approval)."""
    return _change(request, ui, rule_id, "approved", lambda: ui.rules.store.approve_rule(
        rule_id, approver=admin.name, why=why or None, base_version=base_version))


def _change(request: Request, ui: UiContext, rule_id: str, what: str, change: Callable[[], RuleStatus]) -> Response:
    """Make a one-button change; a refusal (stale version, own approval, text no longer compiling) is shown on the
    rule's page, not as an error page."""
    try:
        status = change()
    except (Conflict, NotAllowed, RefusedChange) as exc:
        stale = " Someone changed it meanwhile: look at its latest version below." if isinstance(exc, Conflict) else ""
        request.session["problem"] = f"Not saved: {exc.message}.{stale}"
    else:
        ui.rules.changed()
        request.session["notice"] = f"rule {rule_id}: {what}, version {status.head.version} ({rule_state(status)})"
    return RedirectResponse(rule_href(rule_id), status_code=303)


def _rules_page(request: Request, ui: UiContext, user: User, *, form: dict[str, Any],
                problem: RuleProblem | None = None, error: str | None = None, status_code: int = 200) -> Response:
    statuses = ui.rules.store.rules()
    rows = [{"href": rule_href(s.head.rule_id), "status": s, "state": rule_state(s)} for s in statuses]
    return ui.page(request, "rules.html", user, rows=rows, form=form, problem=problem, error=error,
                   approval=ui.rules.store.require_approval, status_code=status_code)


def _rule_page(request: Request, ui: UiContext, user: User, rule_id: str, *, form: dict[str, Any] | None = None,
               problem: RuleProblem | None = None, stale: str | None = None, status_code: int = 200) -> Response:
    status = ui.rules.store.rule(rule_id)  # 404 page for an unknown rule
    versions = ui.rules.store.rule_history(rule_id)
    head = status.head
    form = form or {"text": head.state.text, "mode": head.state.mode, "description": head.state.description or "",
                    "why": "", "base_version": head.version}
    audit = [_audit_row(entry) for entry in reversed(ui.rules.store.history("rule", rule_id))]
    return ui.page(request, "rule.html", user, status=status, head=head, state=rule_state(status),
                   versions=list(reversed(versions)), audit=audit, form=form, problem=problem, stale=stale,
                   approval=ui.rules.store.require_approval, href=rule_href(rule_id),
                   backtest=f"{PREFIX}/backtest?rule_id={quote(rule_id, safe='')}", status_code=status_code)


def _audit_row(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry with the fields it changed (before -> after) and both states in full, as text."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    shown = [(name, _shown(before.get(name)), _shown(after.get(name))) for name in SHOWN_FIELDS]
    changed = [(name, old, new) for name, old, new in shown if entry.before is None or old != new]
    return {"entry": entry, "changed": changed,
            "before": json.dumps(entry.before, indent=2, sort_keys=True, ensure_ascii=False),
            "after": json.dumps(entry.after, indent=2, sort_keys=True, ensure_ascii=False)}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)

