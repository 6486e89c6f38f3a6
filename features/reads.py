"""Reads of the feature state that history features are computed from (see features.history).

A read names what to look up for an order, never how: features.batch answers it for
all orders at once, features.online for one order against a FeatureState.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Value = Any
"""One number per order: a float online, a float64 array in batch (combine's arithmetic serves both)."""
Sums = tuple[Any, ...]
"""A Prefix read: one Value per weight of its log."""


@dataclass(frozen=True)
class Prefix:
    """Sum of `log`'s weights over the entity's events before t - offset (or at it)."""

    log: str
    entity: str
    offset_us: int
    inclusive: bool


@dataclass(frozen=True)
class FirstSeen:
    """Microseconds since the epoch at which the entity was first seen, strictly before t (else NaN)."""

    entity: str


@dataclass(frozen=True)
class Distinct:
    """Distinct `other` keys seen with the entity in (t - w, t), one count per DISTINCT_WINDOWS entry."""

    entity: str
    other: str


@dataclass(frozen=True)
class Reported:
    """(first, last) microseconds at which an outcome of `label` was reported on the entity, up to t inclusive.

    Either is NaN when unknown: no report by t, or (online, for an order scored after a
    later report) a last report that is not before t.
    """

    entity: str
    label: str


Read = Prefix | FirstSeen | Distinct | Reported
NamedRead = Read | tuple[Read, ...]
"""What one parameter of a combine function receives: one read, or one per window."""
