"""What the rules store hands out: rule versions, lists and their items, audit entries (all immutable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from risk.rules import ListItem

RuleMode = Literal["live", "test"]
EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch (UTC), exactly (no float rounding)."""
    return (moment - EPOCH_START) // timedelta(microseconds=1)


def from_us(us: int | None) -> datetime | None:
    """The moment `us` microseconds after the epoch (UTC); None stays None."""
    return None if us is None else EPOCH_START + timedelta(microseconds=us)


@dataclass(frozen=True)
class RuleState:
    """A rule as an analyst edits it; each version stores one whole state."""

    text: str
    mode: RuleMode = "live"
    enabled: bool = True
    description: str | None = None

    @property
    def action(self) -> str:
        """The action word (`approve`, `review`, `decline`) the text starts with."""
        return self.text.strip().split(None, 1)[0].lower() if self.text.strip() else ""

    @property
    def acting_decline(self) -> bool:
        """A decline rule that acts: the kind a second person approves when approval is required."""
        return self.enabled and self.mode == "live" and self.action == "decline"


@dataclass(frozen=True)
class RuleVersion:
    """One stored version of a rule: its state after a change, who made it, when, why."""

    rule_id: str
    version: int
    epoch: int  # the store's change counter of the change that made it
    state: RuleState
    pending: bool  # waits for approval; not in effect
    author: str
    changed_at: datetime
    why: str | None
    change: str

    def as_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "version": self.version, "epoch": self.epoch, **asdict(self.state),
                "action": self.state.action, "pending": self.pending, "author": self.author,
                "changed_at": self.changed_at.isoformat(), "why": self.why, "change": self.change}


@dataclass(frozen=True)
class RuleStatus:
    """A rule now: its latest version and the version in effect (None: never approved yet)."""

    head: RuleVersion
    live: RuleVersion | None

    def as_json(self) -> dict[str, Any]:
        return {**self.head.as_json(), "live_version": None if self.live is None else self.live.version}


@dataclass(frozen=True)
class NewItem:
    """An item to add to a list."""

    value: str
    reason: str = ""
    expires_at: datetime | None = None


# The fields of an item, declared here only: they are the `list_items` columns after the row's key (list name,
# item number), read in this order (`store._ITEM_COLUMNS`), and what the API (`GET /v1/lists/{name}`, whose
# schema shows the docstring) and the audit trail (`as_json`) show of an item.
@dataclass(frozen=True)
class StoredItem:
    """A list item, with the span it was in its list."""

    value: str
    reason: str
    author: str
    added_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    added_version: int
    removed_version: int | None

    def as_list_item(self) -> ListItem:
        """The item as rules match it: its span in microseconds (`ListItem.active_at` says when it counts)."""
        return ListItem(self.value, self.reason, self.author, to_us(self.added_at),
                        None if self.expires_at is None else to_us(self.expires_at),
                        None if self.removed_at is None else to_us(self.removed_at))

    def as_json(self) -> dict[str, Any]:
        return {name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in asdict(self).items()}


@dataclass(frozen=True)
class StoredList:
    """A list's description and version (its items are read separately)."""

    name: str
    kind: str
    description: str | None
    version: int
    author: str
    created_at: datetime
    items: int = 0  # items in the list now (not removed; expired ones included)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "description": self.description, "version": self.version,
                "author": self.author, "created_at": self.created_at.isoformat(), "items": self.items}


@dataclass(frozen=True)
class AuditEntry:
    """One change of a rule or list."""

    epoch: int
    entity: Literal["rule", "list"]
    name: str
    version: int
    change: str
    author: str
    changed_at: datetime
    why: str | None
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "changed_at": self.changed_at.isoformat()}


@dataclass(frozen=True)
class Versions:
    """Which version of each rule and list was in effect after a change (what a logged decision used)."""

    epoch: int
    rules: dict[str, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)
