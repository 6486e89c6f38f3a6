"""The FeatureState interface: a few primitive reads and writes, batched per order.

All history features reduce to three kinds of reads, so a backend only implements these:
- `prefix`: the sum of a log's weights over events with time < t (or <= t), where a log
  is one entity's time-ordered events (orders, reported outcomes);
- `seen`: the first and last time a key was seen;
- `slice`: the members of a set log (one entity's (time, other key) events, for
  distinct counts) with time in (t_from, t_to), as (time, member) pairs.
Reads of one order go in one `fetch` and its writes in one `apply`, so a remote
backend pays one round trip for each. Sums are exact integers in every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from risk.errors import RiskError


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
    """Everything one order (or one outcome) changes in the state.

    `labels` guards the rest: an outcome's writes carry the mark of the label they count,
    (order_id, dim), and a backend applies the marks and the other writes together or not
    at all, skipping everything if a label is already marked. So computing the writes
    changes nothing, and an outcome whose apply failed counts when it is sent again.
    `orders` guards them the same way: writes that record an order the state holds
    already are skipped whole, so an order is counted once however many processes
    (scoring replicas, the replay of degraded orders, a rebuild) apply it.
    """

    appends: list[tuple[str, int, tuple[int, ...]]] = field(default_factory=list)  # (log, t, weights)
    members: list[tuple[str, int, str]] = field(default_factory=list)  # (set log, t, member)
    seen: list[tuple[str, int]] = field(default_factory=list)  # (key, t): first = min, last = max
    orders: list[tuple[str, OrderRecord]] = field(default_factory=list)
    labels: Sequence[tuple[str, int]] = ()  # (order_id, dim); a tuple by default: no list per order


PrefixQuery = tuple[str, int, bool]  # (log, t_us, inclusive)
SliceQuery = tuple[str, int, int]  # (set log, after_us, before_us): members with after < t < before
FetchResult = tuple[list[tuple[int, ...] | None], list[tuple[int, int] | None], list[list[tuple[int, str]]]]


class FeatureState(ABC):
    """Per-entity history shared by every scoring process that uses the same backend."""

    in_process: bool = False
    """Reads and writes stay in this process: scoring never waits on a network peer."""
    persists_by_snapshot: bool = False
    """The state survives a restart only through `snapshot` (and a replay of the decision log beyond it)."""

    @abstractmethod
    def fetch(
        self, prefixes: Sequence[PrefixQuery], seen: Sequence[str], slices: Sequence[SliceQuery] = ()
    ) -> FetchResult:
        """Prefix sums (None for a log never written), (first, last) of seen keys (None if never),
        and the (time, member) events of each slice, in time order."""

    @abstractmethod
    def apply(self, writes: Writes) -> bool:
        """Make the writes durable in the backend (all of them, or raise).

        False if they were skipped because one of their `labels` was already marked, or one
        of their `orders` is already recorded (checked and written atomically).
        """

    @abstractmethod
    def order(self, order_id: str) -> OrderRecord | None:
        """The record of a scored order still within retention, else None."""

    @abstractmethod
    def held(self, order_ids: Sequence[str]) -> set[str]:
        """Which of `order_ids` the state records (whatever their age): what a replay may skip."""

    def complete(self) -> bool:
        """Whether the state holds every order it was given since it was built (the marker `mark_complete`
        sets); a Redis that restarted empty has lost it, and must be refilled from the decision log."""
        return True

    def mark_complete(self) -> None:  # noqa: B027 - in-process state cannot lose part of itself
        """Record that the state holds every logged order (after a load, a rebuild or a replay)."""

    def expire(self) -> int:
        """Forget history past retention that no read can see any more; how many entries went.

        A backend that forgets by itself (Redis: every key has a TTL) has nothing to do.
        """
        return 0

    def snapshot(self, path: Path) -> None:  # noqa: B027 - optional for backends that persist by themselves
        """Persist to `path` (backends that are durable on their own need not)."""

    def snapshot_in_background(self, path: Path) -> int | None:
        """Start persisting to `path` without pausing scoring: the writer's pid, or None if already done."""
        self.snapshot(path)
        return None

    def close(self) -> None:  # noqa: B027
        """Release connections."""
