"""The FeatureState interface: a few primitive reads and writes, batched per order.

All history features reduce to two kinds of reads, so a backend only implements these:
- `prefix`: the sum of a log's weights over events with time < t (or <= t), where a log
  is one entity's time-ordered events (orders, reported outcomes, distinct-count steps);
- `seen`: the first and last time a key was seen.
Reads of one order go in one `fetch` and its writes in one `apply`, so a remote
backend pays one round trip for each. Sums are exact integers in every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from risk.errors import RiskError

LOG_RETENTION_US = 91 * 86_400_000_000
"""Log events older than this behind the newest one may be dropped (90 days + 1 day of lateness)."""


class StateUnavailable(RiskError):
    """The state backend cannot be reached in time; the caller decides how to degrade."""

    status = 503


@dataclass(frozen=True)
class OrderRecord:
    """What an outcome needs to know about its order: when, and the keys it counts against."""

    created_us: int
    keys: tuple[tuple[str, str], ...]  # (entity, key) of the label entities the order had


@dataclass
class Writes:
    """Everything one order (or one outcome) changes in the state."""

    appends: list[tuple[str, int, tuple[int, ...]]] = field(default_factory=list)  # (log, t, weights)
    seen: list[tuple[str, int]] = field(default_factory=list)  # (key, t): first = min, last = max
    orders: list[tuple[str, OrderRecord]] = field(default_factory=list)


PrefixQuery = tuple[str, int, bool]  # (log, t_us, inclusive)


class FeatureState(ABC):
    """Per-entity history shared by every scoring process that uses the same backend."""

    @abstractmethod
    def fetch(
        self, prefixes: Sequence[PrefixQuery], seen: Sequence[str]
    ) -> tuple[list[tuple[int, ...] | None], list[tuple[int, int] | None]]:
        """Prefix sums (None for a log never written) and (first, last) of seen keys (None if never)."""

    @abstractmethod
    def apply(self, writes: Writes) -> None:
        """Make the writes durable in the backend (all of them, or raise)."""

    @abstractmethod
    def order(self, order_id: str) -> OrderRecord | None:
        """The record of a scored order still within retention, else None."""

    @abstractmethod
    def mark_label(self, order_id: str, dim: int) -> bool:
        """Record that the order's label `dim` was counted; False if it already was."""

    def snapshot(self, path: Path) -> None:  # noqa: B027 - optional for backends that persist by themselves
        """Persist to `path` (backends that are durable on their own need not)."""

    def close(self) -> None:  # noqa: B027
        """Release connections."""
