"""Rules and lists in the decision database: every change a new version, audited, restorable.

`RulesStore` is the one home of the store's rules: a rule text that does not compile is
refused before it is saved (with its position); an edit based on a version that is no
longer the latest is refused (409); with approval required, a decline rule that would
act waits until a second person approves it; list items keep the span they were in
their list, so lists can be rebuilt as they were at any moment (`lists_history`).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

from risk.errors import Conflict, NotFound
from risk.rules import ListItem, ListKind, NamedList, RuleError, RuleSpec, compile_rule
from risk.rules.lists import normalise
from risk.rules.lists_csv import parse_list_csv
from serve.decision_log.encoding import as_utc, to_json
from serve.decision_log.sql import insert, table_name
from serve.rules_store.database import Database, Session
from serve.rules_store.errors import InvalidRule, NotAllowed, RefusedChange
from serve.rules_store.records import (
    AuditEntry,
    NewItem,
    RuleMode,
    RuleState,
    RuleStatus,
    RuleVersion,
    StoredItem,
    StoredList,
    Versions,
    from_us,
    to_us,
)
from serve.rules_store.schema import AUDIT, EPOCH, LIST_ITEMS, LISTS, RULE_VERSIONS, AuditRow, ListItemRow, ListRow

RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
LIST_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_VALUE = 512
LIST_KINDS: tuple[str, ...] = typing.get_args(ListKind)
_RULE_COLUMNS = "rule_id, version, epoch, text, mode, enabled, description, pending, author, changed_at, why, change"
_ITEM_COLUMNS = ", ".join(LIST_ITEMS.check(tuple(field.name for field in fields(StoredItem))))  # read as StoredItem


class RulesStore:
    """Rules and lists of one decision database; safe to share between threads."""

    def __init__(self, database: Database, *, require_approval: bool = False,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.db = database
        self.require_approval = require_approval
        self.clock = clock or (lambda: datetime.now(UTC))

    # ---- rules ---------------------------------------------------------------------

    def create_rule(self, rule_id: str, text: str, *, author: str, why: str | None = None, mode: RuleMode = "live",
                    description: str | None = None) -> RuleStatus:
        """A new rule (version 1); refused if its text does not compile or the id is taken."""
        if not RULE_ID.fullmatch(rule_id):
            raise RefusedChange(f"rule_id {rule_id!r}: letters, digits, _ . - (at most 64, starting with a letter "
                                "or digit)", "rule_id")
        with self.db.transaction(write=True) as s:
            if self._versions(s, rule_id):
                raise Conflict(f"rule {rule_id!r} exists already: edit it")
            return self._save(s, rule_id, None, RuleState(text, mode, True, description), "create", author, why)

    def edit_rule(self, rule_id: str, *, author: str, why: str | None = None, base_version: int | None = None,
                  text: str | None = None, description: str | None = None, mode: RuleMode | None = None,
                  enabled: bool | None = None, change: str = "edit") -> RuleStatus:
        """A new version with the given fields changed; 409 if `base_version` is not the latest one."""
        with self.db.transaction(write=True) as s:
            head = self._head(s, rule_id, base_version)
            state = head.state
            state = RuleState(text if text is not None else state.text, mode or state.mode,
                              state.enabled if enabled is None else enabled,
                              description if description is not None else state.description)
            return self._save(s, rule_id, head, state, change, author, why)

    def set_enabled(self, rule_id: str, enabled: bool, *, author: str, why: str | None = None,
                    base_version: int | None = None) -> RuleStatus:
        return self.edit_rule(rule_id, author=author, why=why, base_version=base_version, enabled=enabled,
                              change="enable" if enabled else "disable")

    def set_mode(self, rule_id: str, mode: RuleMode, *, author: str, why: str | None = None,
                 base_version: int | None = None) -> RuleStatus:
        """Test mode: evaluated and logged on live traffic, never acting; live: acting."""
        return self.edit_rule(rule_id, author=author, why=why, base_version=base_version, mode=mode,
                              change="test_mode" if mode == "test" else "live_mode")

    def restore_rule(self, rule_id: str, version: int, *, author: str, why: str | None = None,
                     base_version: int | None = None) -> RuleStatus:
        """A new version whose state is that of `version` (restoring is a change like any other)."""
        with self.db.transaction(write=True) as s:
            head = self._head(s, rule_id, base_version)
            old = next((v for v in self._versions(s, rule_id) if v.version == version), None)
            if old is None:
                raise NotFound(f"rule {rule_id!r} has no version {version}")
            return self._save(s, rule_id, head, old.state, "restore", author, why or f"restore version {version}")

    def approve_rule(self, rule_id: str, *, approver: str, why: str | None = None,
                     base_version: int | None = None) -> RuleStatus:
        """Put the pending latest version in effect; its author cannot approve it (403)."""
        with self.db.transaction(write=True) as s:
            head = self._head(s, rule_id, base_version)
            if not head.pending:
                raise Conflict(f"rule {rule_id!r} version {head.version} waits for no approval")
            if approver == head.author:
                raise NotAllowed(f"rule {rule_id!r} version {head.version} was written by {approver}: "
                                 "a second person approves it")
            return self._save(s, rule_id, head, head.state, "approve", approver, why, pending=False)

    def rules(self) -> list[RuleStatus]:
        """Every rule: its latest version and the one in effect, by rule_id."""
        with self.db.transaction(write=False) as s:
            rows = s.all(f"SELECT {_RULE_COLUMNS} FROM {s.table(RULE_VERSIONS)} ORDER BY rule_id, version")
        by_rule: dict[str, list[RuleVersion]] = {}
        for row in rows:
            by_rule.setdefault(row[0], []).append(_rule_version(row))
        return [_status(versions) for versions in by_rule.values()]

    def rule(self, rule_id: str) -> RuleStatus:
        return _status(self.rule_history(rule_id))

    def rule_history(self, rule_id: str) -> list[RuleVersion]:
        """Every version of a rule, oldest first; 404 for an unknown rule."""
        with self.db.transaction(write=False) as s:
            versions = self._versions(s, rule_id)
        if not versions:
            raise NotFound(f"no rule {rule_id!r}")
        return versions

    def _versions(self, s: Session, rule_id: str) -> list[RuleVersion]:
        rows = s.all(f"SELECT {_RULE_COLUMNS} FROM {s.table(RULE_VERSIONS)} WHERE rule_id = ? ORDER BY version",
                     [rule_id])
        return [_rule_version(row) for row in rows]

    def _head(self, s: Session, rule_id: str, base_version: int | None) -> RuleVersion:
        versions = self._versions(s, rule_id)
        if not versions:
            raise NotFound(f"no rule {rule_id!r}")
        head = versions[-1]
        if base_version is not None and base_version != head.version:
            raise Conflict(f"rule {rule_id!r} is at version {head.version}, not {base_version}: "
                           "someone changed it meanwhile; reload it and apply your change again")
        return head

    def _save(self, s: Session, rule_id: str, head: RuleVersion | None, state: RuleState, change: str, author: str,
              why: str | None, pending: bool | None = None) -> RuleStatus:
        if state.enabled:
            self._check_compiles(s, rule_id, state.text)
        if state.mode not in ("live", "test"):
            raise RefusedChange(f"mode {state.mode!r}: live or test", "mode")
        live = _status(self._versions(s, rule_id)).live if head is not None else None
        if pending is None:
            pending = self.require_approval and state.acting_decline and (live is None or not _same_effect(
                live.state, state))
        epoch = _epoch(s)
        version = RuleVersion(rule_id, 1 if head is None else head.version + 1, epoch, state, pending,
                              _who(author), self.clock(), why, change)
        s.execute(insert(RULE_VERSIONS, s.dialect, s.prefix), _rule_row(version))
        before = None if head is None else head.as_json()
        self._audit(s, epoch, "rule", rule_id, version.version, change, version.author, why, before, version.as_json())
        return RuleStatus(version, live if pending else version)

    def _check_compiles(self, s: Session, rule_id: str, text: str) -> None:
        kinds = dict(s.all(f"SELECT name, kind FROM {s.table(LISTS)}"))
        try:
            compile_rule(text, kinds)
        except RuleError as exc:
            raise InvalidRule(rule_id, exc.position, exc.line, exc.column, exc.reason) from None

    # ---- lists ---------------------------------------------------------------------

    def create_list(self, name: str, kind: str, *, author: str, description: str | None = None,
                    why: str | None = None) -> StoredList:
        if not LIST_NAME.fullmatch(name):
            raise RefusedChange(f"list name {name!r}: lower-case letters, digits and _, starting with a letter "
                                "(at most 64)", "name")
        if kind not in LIST_KINDS:
            raise RefusedChange(f"list kind {kind!r}: one of {', '.join(LIST_KINDS)}", "kind")
        with self.db.transaction(write=True) as s:
            if s.one(f"SELECT name FROM {s.table(LISTS)} WHERE name = ?", [name]) is not None:
                raise Conflict(f"list {name!r} exists already")
            created = StoredList(name, kind, description, 1, _who(author), self.clock())
            s.execute(insert(LISTS, s.dialect, s.prefix), ListRow(name, kind, description, 1, created.author,
                                                                  created.created_at))
            self._audit(s, _epoch(s), "list", name, 1, "create", created.author, why, None, created.as_json())
            return created

    def add_items(self, name: str, items: Sequence[NewItem], *, author: str, why: str | None = None,
                  change: str = "add") -> StoredList:
        """Add items (an item already in the list is replaced: new reason, expiry, author); one new version."""
        if not items:
            raise RefusedChange("no items to add", "items")
        now = self.clock()
        for item in items:
            _check_item(item, now)
        with self.db.transaction(write=True) as s:
            listed = self._list(s, name)
            items = [replace(item, value=_normalised(listed.kind, item.value)) for item in items]
            version = listed.version + 1
            current = {item.value: item for item in self._items(s, name, current_only=True)}
            replaced = [current[item.value] for item in items if item.value in current]
            self._remove(s, name, [item.value for item in replaced], now, version)
            next_no = (s.one(f"SELECT max(item_no) FROM {s.table(LIST_ITEMS)} WHERE list_name = ?", [name])
                       or (None,))[0] or 0
            added = {item.value: item for item in items}  # the last of a value given twice wins
            stored = []
            for offset, item in enumerate(added.values(), start=1):
                row = ListItemRow(name, next_no + offset, item.value, item.reason, _who(author), now, item.expires_at,
                                  None, version, None)
                s.execute(insert(LIST_ITEMS, s.dialect, s.prefix), row)
                stored.append(StoredItem(*row[2:]))
            before = {"replaced": [i.as_json() for i in replaced]} if replaced else None
            return self._bump(s, listed, version, change, author, why, before, {"added": [i.as_json() for i in stored]})

    def import_csv(self, name: str, text: str, *, author: str, why: str | None = None) -> StoredList:
        """Add the items of a CSV text (`value[,reason][,expires_at]` with a header): all or none."""
        now = self.clock()
        with self.db.transaction(write=False) as s:
            kind = self._list(s, name).kind
        try:
            parsed = parse_list_csv(text, kind, _who(author), to_us(now))  # type: ignore[arg-type]
        except ValueError as exc:
            raise RefusedChange(f"list {name!r} import: {exc}", "csv") from None
        items = [NewItem(item.value, item.reason, from_us(item.expires_at_us)) for item in parsed]
        return self.add_items(name, items, author=author, why=why, change="import")

    def remove_items(self, name: str, values: Sequence[str], *, author: str, why: str | None = None) -> StoredList:
        """Remove items now (their history stays: a backtest still sees them where they were)."""
        if not values:
            raise RefusedChange("no values to remove", "values")
        now = self.clock()
        with self.db.transaction(write=True) as s:
            listed = self._list(s, name)
            values = [_normalised(listed.kind, value, refuse=False) for value in values]
            current = {item.value: item for item in self._items(s, name, current_only=True)}
            absent = [value for value in values if value not in current]
            if absent:
                raise NotFound(f"list {name!r} has no item(s) {', '.join(repr(v) for v in absent[:10])}")
            self._remove(s, name, list(values), now, listed.version + 1)
            before = {"removed": [current[v].as_json() for v in dict.fromkeys(values)]}
            return self._bump(s, listed, listed.version + 1, "remove", author, why, before, None)

    def restore_list(self, name: str, version: int, *, author: str, why: str | None = None) -> StoredList:
        """A new version whose items are those the list held at `version` (same values, reasons, expiries)."""
        now = self.clock()
        with self.db.transaction(write=True) as s:
            listed = self._list(s, name)
            if not 1 <= version <= listed.version:
                raise NotFound(f"list {name!r} has no version {version} (it is at {listed.version})")
            every = self._items(s, name, current_only=False)
            then = {i.value: i for i in every if i.added_version <= version and (
                i.removed_version is None or i.removed_version > version)}
            current = {i.value: i for i in every if i.removed_at is None}
            new = listed.version + 1
            drop = [v for v, item in current.items() if then.get(v) != item]
            self._remove(s, name, drop, now, new)
            next_no = max((0, *(row[0] for row in s.all(
                f"SELECT item_no FROM {s.table(LIST_ITEMS)} WHERE list_name = ?", [name]))))
            back = [item for v, item in then.items() if current.get(v) != item]
            for offset, item in enumerate(back, start=1):
                row = ListItemRow(name, next_no + offset, item.value, item.reason, item.author, now, item.expires_at,
                                  None, new, None)
                s.execute(insert(LIST_ITEMS, s.dialect, s.prefix), row)
            before = {"removed": [current[v].as_json() for v in drop]}
            after = {"added": [i.value for i in back], "restored_version": version}
            return self._bump(s, listed, new, "restore", author, why or f"restore version {version}", before, after)

    def lists(self) -> list[StoredList]:
        with self.db.transaction(write=False) as s:
            counts = dict(s.all(f"SELECT list_name, count(*) FROM {s.table(LIST_ITEMS)} WHERE removed_at IS NULL "
                                "GROUP BY list_name"))
            rows = s.all(f"SELECT name, kind, description, version, author, created_at FROM {s.table(LISTS)} "
                         "ORDER BY name")
        return [replace(_stored_list(row), items=int(counts.get(row[0], 0))) for row in rows]

    def list_items(self, name: str, *, include_removed: bool = False) -> tuple[StoredList, list[StoredItem]]:
        """A list and its items (those not removed, expired ones included; or every span ever)."""
        with self.db.transaction(write=False) as s:
            listed = self._list(s, name)
            items = self._items(s, name, current_only=not include_removed)
        return replace(listed, items=sum(item.removed_at is None for item in items)), items

    def _list(self, s: Session, name: str) -> StoredList:
        row = s.one(f"SELECT name, kind, description, version, author, created_at FROM {s.table(LISTS)} "
                    "WHERE name = ?", [name])
        if row is None:
            raise NotFound(f"no list {name!r}")
        return _stored_list(row)

    def _items(self, s: Session, name: str, *, current_only: bool) -> list[StoredItem]:
        where = " AND removed_at IS NULL" if current_only else ""
        rows = s.all(f"SELECT {_ITEM_COLUMNS} FROM {s.table(LIST_ITEMS)} WHERE list_name = ?{where} ORDER BY item_no",
                     [name])
        return [_stored_item(row) for row in rows]

    def _remove(self, s: Session, name: str, values: Iterable[str], now: datetime, version: int) -> None:
        for value in dict.fromkeys(values):
            s.execute(f"UPDATE {s.table(LIST_ITEMS)} SET removed_at = ?, removed_version = ? "
                      "WHERE list_name = ? AND value = ? AND removed_at IS NULL", [now, version, name, value])

    def _bump(self, s: Session, listed: StoredList, version: int, change: str, author: str, why: str | None,
              before: Any, after: Any) -> StoredList:
        s.execute(f"UPDATE {s.table(LISTS)} SET version = ? WHERE name = ?", [version, listed.name])
        self._audit(s, _epoch(s), "list", listed.name, version, change, _who(author), why, before, after)
        return replace(listed, version=version)

    # ---- audit, live state, history -------------------------------------------------

    def _audit(self, s: Session, epoch: int, entity: str, name: str, version: int, change: str, author: str,
               why: str | None, before: Any, after: Any) -> None:
        row = AuditRow(epoch, entity, name, version, change, author, self.clock(), why,
                       None if before is None else to_json(before), None if after is None else to_json(after))
        s.execute(insert(AUDIT, s.dialect, s.prefix), row)

    def history(self, entity: str | None = None, name: str | None = None) -> list[AuditEntry]:
        """Audit entries, oldest first, of everything or of one rule or list."""
        where, params = [], []
        for column, value in (("entity", entity), ("name", name)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self.db.transaction(write=False) as s:
            rows = s.all(f"SELECT epoch, entity, name, version, change, author, changed_at, why, before_json, "
                         f"after_json FROM {s.table(AUDIT)}{' WHERE ' + ' AND '.join(where) if where else ''} "
                         "ORDER BY epoch", params)
        return [AuditEntry(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], as_utc(r[6]), r[7],
                           None if r[8] is None else Session.json(r[8]), None if r[9] is None else Session.json(r[9]))
                for r in rows]

    def epoch(self) -> int:
        """The change counter: it moves with every change (what scoring processes poll: one statement)."""
        row = self.db.read_one(f"SELECT epoch FROM {table_name(EPOCH, self.db.prefix)} WHERE id = 1")
        return 0 if row is None else int(row[0])

    def live(self) -> tuple[int, list[RuleSpec], list[NamedList]]:
        """The epoch, the rules in effect (enabled, approved; test mode included) and the lists, from one snapshot."""
        with self.db.transaction(write=False) as s:
            epoch = _epoch(s)
            rows = s.all(f"SELECT {_RULE_COLUMNS} FROM {s.table(RULE_VERSIONS)} ORDER BY rule_id, version")
            lists = self._named_lists(s, current_only=True)
        return epoch, _specs(rows, epoch), lists

    def lists_history(self) -> list[NamedList]:
        """Every list with every item span ever: membership as it was at any moment (for backtests)."""
        with self.db.transaction(write=False) as s:
            return self._named_lists(s, current_only=False)

    def versions_at(self, epoch: int) -> Versions:
        """The version of each rule in effect and of each list after change `epoch` (a logged decision's rules)."""
        with self.db.transaction(write=False) as s:
            rows = s.all(f"SELECT {_RULE_COLUMNS} FROM {s.table(RULE_VERSIONS)} ORDER BY rule_id, version")
            lists = s.all(f"SELECT name, max(version) FROM {s.table(AUDIT)} WHERE entity = 'list' AND epoch <= ? "
                          "GROUP BY name", [epoch])
        return Versions(epoch, {spec.rule_id: spec.version for spec in _specs(rows, epoch)},
                        {name: int(version) for name, version in lists})

    def _named_lists(self, s: Session, *, current_only: bool) -> list[NamedList]:
        where = " WHERE removed_at IS NULL" if current_only else ""
        items: dict[str, list[ListItem]] = {}
        for row in s.all(f"SELECT list_name, {_ITEM_COLUMNS} FROM {s.table(LIST_ITEMS)}{where} ORDER BY item_no"):
            items.setdefault(row[0], []).append(_stored_item(row[1:]).as_list_item())
        return [NamedList(name, kind, tuple(items.get(name, ())), int(version))
                for name, kind, version in s.all(f"SELECT name, kind, version FROM {s.table(LISTS)} ORDER BY name")]


def _epoch(s: Session) -> int:
    row = s.one(f"SELECT epoch FROM {s.table(EPOCH)} WHERE id = 1")
    return 0 if row is None else int(row[0])


def _who(author: str) -> str:
    author = (author or "").strip()
    if not author or len(author) > 128:
        raise RefusedChange("author: 1 to 128 characters naming who makes the change", "author")
    return author


def _same_effect(a: RuleState, b: RuleState) -> bool:
    return (a.text, a.mode, a.enabled) == (b.text, b.mode, b.enabled)


def _normalised(kind: str, value: str, *, refuse: bool = True) -> str:
    """The value as lists match it (countries upper-case, IP ranges in network form, ...): one form per item."""
    try:
        return normalise(kind, value)  # type: ignore[arg-type]
    except ValueError as exc:
        if not refuse:
            return value
        raise RefusedChange(f"{kind} list item {value[:64]!r}: {exc}", "value") from None


def _check_item(item: NewItem, now: datetime) -> None:
    if not item.value or len(item.value) > MAX_VALUE or item.value != item.value.strip():
        raise RefusedChange(f"item value {item.value[:40]!r}: 1 to {MAX_VALUE} characters, no surrounding spaces",
                            "value")
    if item.expires_at is not None:
        if item.expires_at.tzinfo is None:
            raise RefusedChange(f"expires_at of {item.value!r} has no timezone", "expires_at")
        if item.expires_at <= now:
            raise RefusedChange(f"expires_at of {item.value!r} ({item.expires_at.isoformat()}) is not in the future",
                                "expires_at")


def _rule_version(row: tuple[Any, ...]) -> RuleVersion:
    (rule_id, version, epoch, text, mode, enabled, description, pending, author, changed_at, why, change) = row
    return RuleVersion(rule_id, int(version), int(epoch), RuleState(text, mode, bool(enabled), description),
                       bool(pending), author, as_utc(changed_at), why, change)


def _rule_row(v: RuleVersion) -> tuple[Any, ...]:
    return (v.rule_id, v.version, v.epoch, v.state.text, v.state.mode, int(v.state.enabled), v.state.description,
            int(v.pending), v.author, v.changed_at, v.why, v.change)


def _status(versions: list[RuleVersion]) -> RuleStatus:
    live = next((v for v in reversed(versions) if not v.pending), None)
    return RuleStatus(versions[-1], live)


def _specs(rows: list[tuple[Any, ...]], epoch: int) -> list[RuleSpec]:
    """The rules in effect after change `epoch`: each rule's latest approved version made by then, if enabled."""
    live: dict[str, RuleVersion] = {}
    for row in rows:
        version = _rule_version(row)
        if version.epoch <= epoch and not version.pending:
            live[version.rule_id] = version
    return [RuleSpec(v.rule_id, v.state.text, v.state.mode, v.version, v.state.description)
            for v in live.values() if v.state.enabled]


def _stored_list(row: tuple[Any, ...]) -> StoredList:
    name, kind, description, version, author, created_at = row
    return StoredList(name, kind, description, int(version), author, as_utc(created_at))


def _stored_item(row: Sequence[Any]) -> StoredItem:
    value, reason, author, added_at, expires_at, removed_at, added_version, removed_version = row
    return StoredItem(value, reason, author, as_utc(added_at), None if expires_at is None else as_utc(expires_at),
                      None if removed_at is None else as_utc(removed_at), int(added_version),
                      None if removed_version is None else int(removed_version))
