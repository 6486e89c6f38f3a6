"""Features of the order's history: velocity, distinct counts, newness, reported outcomes.

Every history feature is declared once as a list of *reads* of the feature state and a
`combine` function of those reads. A read is one of
- a `Prefix`: the sum of a log's weights over one entity's events up to a moment
  (`t - offset`, strictly before or at it),
- a `FirstSeen`: when the entity first appeared,
- a `Distinct`: how many distinct other keys (cards of a device, ...) it had per window.
Batch evaluates every read for all orders at once (features.batch), online evaluates
them for one order against a FeatureState (features.online); `combine` is the same
function in both, so the two cannot drift apart. Windows are differences of two
prefixes: events in (t - w, t) = prefix(< t) - prefix(<= t - w).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from features import ops
from features.clock import DAY, HOUR, MINUTE

ENTITY_COLUMNS: dict[str, str] = {
    "card": "payment_card_fingerprint",
    "buyer": "buyer_account_id",
    "device": "session_device_id",
    "ip": "session_ip",
    "seller": "seller_account_id",
    "address": "shipping_address_hash",
}
PAIRS: dict[str, tuple[str, str]] = {
    "buyer_seller": ("buyer", "seller"),
    "buyer_device": ("buyer", "device"),
    "buyer_card": ("buyer", "card"),
    "buyer_address": ("buyer", "address"),
}
VELOCITY_WINDOWS = {"10m": 10 * MINUTE, "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
DISTINCT_WINDOWS = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY}
DISTINCT: tuple[tuple[str, str], ...] = (
    ("device", "card"),
    ("buyer", "card"),
    ("device", "buyer"),
    ("ip", "buyer"),
    ("card", "buyer"),
)
FIRST_SEEN = ("card", "device", "ip", "address", "buyer_seller", "buyer_device", "buyer_card", "buyer_address")
LABEL_ENTITIES = ("seller", "device", "card", "ip", "buyer")
# A compromised card or terminal shows in the last week or month behind the reporting delay,
# a bad seller over a quarter: each entity gets all three.
LABEL_WINDOWS = {"7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
BUYER_MEAN_WINDOWS = {"1d": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
LABELS = ("fraud", "regret")  # the weights of the labels log, in this order
LABEL_PRIORS = {"fraud": 0.01, "regret": 0.04}  # fixed, so a rate never depends on the data set
LABEL_PRIOR_WEIGHT = 20.0

ORDERS_LOG = "orders"  # weights: (1, amount)
LABELS_LOG = "labels"  # weights: (fraud, regret)


def pairs_log(other: str) -> str:
    """Set log of the `other` keys seen with an entity (for distinct counts)."""
    return f"pairs_{other}"


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


Read = Prefix | FirstSeen | Distinct


@dataclass(frozen=True)
class HistoryFeature:
    name: str
    description: str
    reads: tuple[Read, ...]
    combine: Callable[..., Any]  # (row, t_us, *read values) -> value; reads give tuples per weight


@dataclass(frozen=True)
class HistoryFamily:
    """Several features computed by one `combine` from shared reads (it returns one value per name).

    Velocity windows of an entity share their reads; computing them together keeps
    the online path to one call per entity instead of one per feature.
    """

    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    reads: tuple[Read, ...]
    combine: Callable[..., Any]


def _window_counts_and_sums(r: Any, t: Any, now: Any, *starts: Any) -> list[Any]:
    """(count, amount) of the orders in each window: prefix now minus prefix at the window's start."""
    values = []
    for start in starts:
        values.append(now[0] - start[0])
        values.append(now[1] - start[1])
    return values


def _now(log: str, entity: str) -> Prefix:
    return Prefix(log, entity, 0, inclusive=False)


def _window_start(log: str, entity: str, window_us: int) -> Prefix:
    return Prefix(log, entity, window_us, inclusive=True)


def _velocity() -> list[HistoryFamily]:
    families = []
    for entity in ENTITY_COLUMNS:
        names, descriptions = [], []
        for wname in VELOCITY_WINDOWS:
            names += [f"order_count_by_{entity}_{wname}", f"amount_sum_by_{entity}_{wname}"]
            descriptions += [f"Orders with the same {entity} in the last {wname}",
                             f"Amount of orders with the same {entity} in the last {wname}"]
        reads = (_now(ORDERS_LOG, entity),) + tuple(
            _window_start(ORDERS_LOG, entity, w) for w in VELOCITY_WINDOWS.values())
        families.append(HistoryFamily(tuple(names), tuple(descriptions), reads, _window_counts_and_sums))
    return families


def _distinct() -> list[HistoryFamily]:
    return [
        HistoryFamily(
            tuple(f"distinct_{other}s_by_{entity}_{wname}" for wname in DISTINCT_WINDOWS),
            tuple(f"Distinct {other}s seen with this {entity} in the last {wname}" for wname in DISTINCT_WINDOWS),
            (Distinct(entity, other),), lambda r, t, counts: counts)
        for entity, other in DISTINCT
    ]


def _first_seen() -> list[HistoryFeature]:
    return [
        HistoryFeature(
            f"seconds_since_first_{entity}",
            f"Seconds since this {entity.replace('_', ' + ')} was first seen by the engine (unknown if never)",
            (FirstSeen(entity),), lambda r, t, first: ops.seconds_since(first, t))
        for entity in FIRST_SEEN
    ]


def _label_counts_and_rates(r: Any, t: Any, labels_now: Any, orders_now: Any, *starts: Any) -> list[Any]:
    """Per window and label: outcomes reported in the window, and their smoothed rate among its orders.

    `starts` holds (labels, orders) prefixes at each window's start, in LABEL_WINDOWS order.
    """
    values = []
    for labels_start, orders_start in zip(starts[0::2], starts[1::2], strict=True):
        orders = orders_now[0] - orders_start[0]
        for dim, label in enumerate(LABELS):
            reported = labels_now[dim] - labels_start[dim]
            prior = LABEL_PRIORS[label]
            values.append(reported)
            values.append((reported + prior * LABEL_PRIOR_WEIGHT) / (orders + LABEL_PRIOR_WEIGHT))
    return values


def _labels() -> list[HistoryFamily]:
    families = []
    for entity in LABEL_ENTITIES:
        reads: tuple[Read, ...] = (Prefix(LABELS_LOG, entity, 0, True), _now(ORDERS_LOG, entity))
        names, descriptions = [], []
        for window, window_us in LABEL_WINDOWS.items():
            reads += (Prefix(LABELS_LOG, entity, window_us, True), _window_start(ORDERS_LOG, entity, window_us))
            for label in LABELS:
                names += [f"{label}_reports_by_{entity}_{window}", f"{label}_rate_by_{entity}_{window}"]
                descriptions += [
                    f"{label.capitalize()} outcomes reported in the last {window} on orders with the same {entity}",
                    f"Smoothed rate of reported {label} among this {entity}'s orders of the last {window} "
                    f"(prior {LABEL_PRIORS[label]:.0%})",
                ]
        families.append(HistoryFamily(tuple(names), tuple(descriptions), reads, _label_counts_and_rates))
    return families


def _amount_to_means(r: Any, t: Any, now: Any, *starts: Any) -> list[Any]:
    """The order's amount over the buyer's mean amount in each window (NaN without orders there)."""
    return [ops.ratio(r["amount"], ops.ratio(now[1] - start[1], now[0] - start[0])) for start in starts]


def _derived() -> list[HistoryFeature | HistoryFamily]:
    return [
        HistoryFeature(
            "first_purchase_from_seller",
            "The buyer has never bought from this seller before",
            (FirstSeen("buyer_seller"),), lambda r, t, first: ops.flag_not(ops.is_known(first))),
        HistoryFeature(
            "new_device_on_old_account",
            "A device never seen with this buyer, on an account older than 30 days",
            (FirstSeen("buyer_device"),),
            lambda r, t, first: ops.greater(r["created_at"] - r["buyer_created_at"], 30 * 86400.0)
            * ops.flag_not(ops.is_known(first)) * ops.is_known(r["session_device_id"])),
        HistoryFamily(
            tuple(f"amount_to_buyer_mean_{w}" for w in BUYER_MEAN_WINDOWS),
            tuple(f"Amount over the buyer's mean order amount of the last {w}" for w in BUYER_MEAN_WINDOWS),
            (_now(ORDERS_LOG, "buyer"),) + tuple(_window_start(ORDERS_LOG, "buyer", w)
                                                  for w in BUYER_MEAN_WINDOWS.values()),
            _amount_to_means),
    ]


HISTORY_BLOCKS: list[HistoryFeature | HistoryFamily] = [*_velocity(), *_distinct(), *_first_seen(), *_labels(),
                                                       *_derived()]
"""What batch and online evaluate, in catalog order."""


@dataclass(frozen=True)
class FeatureDoc:
    name: str
    description: str


def _docs() -> list[FeatureDoc]:
    docs = []
    for block in HISTORY_BLOCKS:
        if isinstance(block, HistoryFamily):
            docs += [FeatureDoc(n, d) for n, d in zip(block.names, block.descriptions, strict=True)]
        else:
            docs.append(FeatureDoc(block.name, block.description))
    return docs


HISTORY_FEATURES: list[FeatureDoc] = _docs()
