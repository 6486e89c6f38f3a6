"""Features of the order's history: velocity, distinct counts, newness, reported outcomes.

History features are declared in blocks: the definitions of the block's features
(features.definition: what, entity, window, label, sentence), named *reads* of the
feature state, and a `combine` function taking those reads as named parameters and
returning one value per feature. A read is one of
- a `Prefix`: the sum of a log's weights over one entity's events up to a moment
  (`t - offset`, strictly before or at it),
- a `FirstSeen`: when the entity first appeared,
- a `Distinct`: how many distinct other keys (cards of a device, ...) it had per window,
- a `Reported`: when the entity's first and last outcome of a label were reported, up to t;
a named read is one read or a tuple of them (one per window, in the block's window order).
Batch evaluates every read for all orders at once (features.batch), online evaluates
them for one order against a FeatureState (features.online); `combine` is the same
function in both, so the two cannot drift apart. Windows are differences of two
prefixes: events in (t - w, t) = prefix(< t) - prefix(<= t - w).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from features import ops
from features.clock import DAY, HOUR, MINUTE
from features.definition import FeatureDef, Sentence
from features.keys import ENTITY_COLUMNS, HABITS_LOG, LABELS_LOG, LOG_AMOUNTS_LOG, ORDERS_LOG
from features.reads import Distinct, FirstSeen, NamedRead, Prefix, Reported, Sums, Value
from features.row import Row

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
# How unusual the amount is for the buyer, on a log scale (amounts are roughly log-normal)
BUYER_SPREAD_WINDOWS = {"30d": 30 * DAY, "90d": 90 * DAY}
BUYER_SPREAD_MIN_ORDERS = 3
LABELS = ("fraud", "regret")  # the weights of the labels log, in this order
RISING_VELOCITY = ("card", "device", "ip")
"""Entities whose escalating velocity and spread (orders, amounts, distinct cards or buyers) never lower fraud
risk: card testing and stolen-card bursts. Not the buyer or seller, whose volume is mostly loyalty or success,
except the seller's order count within the hour (`RISING_BURST_WINDOWS`)."""
RISING_BURST_WINDOWS = ("10m", "1h")
"""Windows in which a rush of orders at one seller never lowers fraud risk: card testing runs at one merchant
in minutes (a seller's success shows in its days and weeks). Without it, a model trained with label-delay
correction scored the 4th card of a 25-card burst below the 3rd because the seller's hour count rose
(tests/training/test_behaviour.py). Declared for the seller's order count only: extended to amounts and to the
buyer and address, the constraint left a small world's model with no review at all (tests/models)."""
REPORTED_FRAUD = ("card", "device", "buyer", "ip")
"""Entities on which a fresh fraud report never lowers fraud risk. Not the seller: a victim merchant's reports
say little of the next buyer (on the handbook, a terminal's rate after its compromise ended misled the trees)."""
LOG_AMOUNT_ENTITIES = ("buyer",)
HABIT_ENTITIES = ("buyer",)
"""Entities whose habits log (seconds from view to buy, features.keys.HABITS_LOG) is kept: a buyer's usual."""
HABIT_WINDOW = "90d"
"""The window of the buyer's usual: the longest the logs keep. A window, not the whole history, because the state
forgets a log that has been quiet for longer (features.state.expiry)."""

WINDOW_WORDS = {"10m": "10 minutes", "1h": "hour", "24h": "24 hours", "1d": "day", "7d": "7 days",
                "30d": "30 days", "90d": "90 days"}
"""How a reason says each window ("in the last hour"); every window a feature uses must be here."""
ENTITY_WORDS = {"card": "card", "buyer": "buyer", "device": "device", "ip": "IP address", "seller": "seller",
                "address": "shipping address", "buyer_seller": "buyer and seller pair",
                "buyer_device": "buyer's device", "buyer_card": "buyer's card",
                "buyer_address": "buyer's shipping address"}
"""How a reason says each entity and pair; every entity a feature uses must be here."""


@dataclass(frozen=True)
class HistoryBlock:
    """Features computed together by one `combine` from shared, named reads.

    `combine(r, t, **reads)` gets the order's row, its time in microseconds and each
    read's value under the read's name (a tuple of values for a tuple of reads), and
    returns one value per feature, in `features` order. Velocity windows of an entity
    share their reads; computing them together keeps the online path to one call per
    entity instead of one per feature.
    """

    features: tuple[FeatureDef, ...]
    reads: Mapping[str, NamedRead]
    combine: Callable[..., Sequence[Value]]

    def __post_init__(self) -> None:
        parameters = list(inspect.signature(self.combine).parameters)[2:]
        if parameters != list(self.reads):
            raise TypeError(f"{self.combine.__name__} takes reads {parameters}, the block names {list(self.reads)}")
        for feature in self.features:
            _check_words(feature)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)


def _check_words(feature: FeatureDef) -> None:
    """A window or entity without words would give a reason half in code: refuse it where it is declared."""
    for part, words in ((feature.window, WINDOW_WORDS), (feature.entity, ENTITY_WORDS), (feature.other, ENTITY_WORDS)):
        if part is not None and part not in words:
            raise KeyError(f"feature {feature.name}: no words for {part!r} (add it to WINDOW_WORDS or ENTITY_WORDS)")


def _rising(entity: str, window: str | None = None) -> int:
    return 1 if entity in RISING_VELOCITY or (entity == "seller" and window in RISING_BURST_WINDOWS) else 0


def _reported(entity: str, label: str) -> int:
    return 1 if label == "fraud" and entity in REPORTED_FRAUD else 0


def _now(log: str, entity: str) -> Prefix:
    return Prefix(log, entity, 0, inclusive=False)


def _starts(log: str, entity: str, windows: Mapping[str, int]) -> tuple[Prefix, ...]:
    return tuple(Prefix(log, entity, window_us, inclusive=True) for window_us in windows.values())


def _window_counts_and_sums(r: Row, t: Value, now: Sums, starts: tuple[Sums, ...]) -> list[Value]:
    """(count, amount) of the orders in each window: prefix now minus prefix at the window's start."""
    values = []
    for start in starts:
        values.append(now[0] - start[0])
        values.append(now[1] - start[1])
    return values


def _velocity() -> list[HistoryBlock]:
    blocks = []
    for entity in ENTITY_COLUMNS:
        features = []
        for window in VELOCITY_WINDOWS:
            features += [
                FeatureDef("{measure}_by_{entity}_{window}", f"Orders with the same {entity} in the last {window}",
                           Sentence("{count} orders with this {entity} in the last {window}"),
                           "order_count", entity, window, direction=_rising(entity, window)),
                FeatureDef("{measure}_by_{entity}_{window}",
                           f"Amount of orders with the same {entity} in the last {window}",
                           Sentence("{money} spent with this {entity} in the last {window}"),
                           "amount_sum", entity, window, direction=_rising(entity)),
            ]
        reads: dict[str, NamedRead] = {"now": _now(ORDERS_LOG, entity),
                                       "starts": _starts(ORDERS_LOG, entity, VELOCITY_WINDOWS)}
        blocks.append(HistoryBlock(tuple(features), reads, _window_counts_and_sums))
    return blocks


def _distinct_counts(r: Row, t: Value, counts: Sums) -> Sums:
    """The distinct counts per window, as read."""
    return counts


def _distinct() -> list[HistoryBlock]:
    return [
        HistoryBlock(
            tuple(FeatureDef("distinct_{other}s_by_{entity}_{window}",
                             f"Distinct {other}s seen with this {entity} in the last {window}",
                             Sentence("{count} {other}s used with this {entity} in the last {window}"),
                             "distinct", entity, window, other=other, direction=1)
                  for window in DISTINCT_WINDOWS),
            {"counts": Distinct(entity, other)}, _distinct_counts)
        for entity, other in DISTINCT
    ]


def _ages(r: Row, t: Value, firsts: tuple[Value, ...]) -> list[Value]:
    """Seconds since each first sighting; FirstSeen reads are before t or unknown already."""
    return [(t - first) / 1e6 for first in firsts]


def _first_seen() -> list[HistoryBlock]:
    return [HistoryBlock(
        tuple(FeatureDef("seconds_since_first_{entity}",
                         f"Seconds since this {entity.replace('_', ' + ')} was first seen by the engine "
                         "(unknown if never)",
                         Sentence("{Entity} first seen {duration} ago", unknown="{Entity} never seen before"),
                         "first_seen_age", entity)
              for entity in FIRST_SEEN),
        {"firsts": tuple(FirstSeen(entity) for entity in FIRST_SEEN)}, _ages)]


def _label_counts_and_rates(r: Row, t: Value, labels_now: Sums, orders_now: Sums, labels_starts: tuple[Sums, ...],
                            orders_starts: tuple[Sums, ...]) -> list[Value]:
    """Per window and label: outcomes reported in the window, and their rate per order of the window.

    The rate is not smoothed towards a prior: a smoothed rate with no report is a function
    of the entity's volume alone, which the trees then fit as if it were risk (on the
    handbook test week that cost 0.026 ROC AUC: fresh terminals ranked by their 90-day volume).
    Reports and order counts are features too, so small samples remain visible.
    """
    values = []
    for labels_start, orders_start in zip(labels_starts, orders_starts, strict=True):
        orders = orders_now[0] - orders_start[0]
        orders = orders + (orders < 1)  # at least 1 (counts are whole), in arithmetic that arrays and scalars share
        for dim in range(len(LABELS)):
            reported = labels_now[dim] - labels_start[dim]
            values.append(reported)
            values.append(reported / orders)
    return values


def _labels() -> list[HistoryBlock]:
    blocks = []
    for entity in LABEL_ENTITIES:
        features = []
        for window in LABEL_WINDOWS:
            for label in LABELS:
                features += [
                    FeatureDef("{label}_reports_by_{entity}_{window}",
                               f"{label.capitalize()} outcomes reported in the last {window} on orders with the "
                               f"same {entity}",
                               Sentence("{count} {label} reports on this {entity} in the last {window}"),
                               "reports", entity, window, label, direction=_reported(entity, label)),
                    FeatureDef("{label}_rate_by_{entity}_{window}",
                               f"{label.capitalize()} outcomes reported in the last {window} per order with this "
                               f"{entity} in that window",
                               Sentence("{value:.2f} {label} reports per order with this {entity} in the last "
                                        "{window}"),
                               "report_rate", entity, window, label, direction=_reported(entity, label)),
                ]
        reads: dict[str, NamedRead] = {
            "labels_now": Prefix(LABELS_LOG, entity, 0, True), "orders_now": _now(ORDERS_LOG, entity),
            "labels_starts": _starts(LABELS_LOG, entity, LABEL_WINDOWS),
            "orders_starts": _starts(ORDERS_LOG, entity, LABEL_WINDOWS)}
        blocks.append(HistoryBlock(tuple(features), reads, _label_counts_and_rates))
    return blocks


def _report_ages(r: Row, t: Value, reports: tuple[tuple[Value, Value], ...]) -> list[Value]:
    """Seconds since the first and since the last report of each label: how old an episode is, and if it goes on.

    Both reads are at or before t or unknown already (Reported), so plain arithmetic suffices.
    """
    values = []
    for first, last in reports:
        values += [(t - first) / 1e6, (t - last) / 1e6]
    return values


def _report_times() -> list[HistoryBlock]:
    blocks = []
    for entity in LABEL_ENTITIES:
        features = []
        for label in LABELS:
            features += [
                FeatureDef("seconds_since_first_{label}_report_by_{entity}",
                           f"Seconds since the first {label} outcome was reported on an order with this {entity}",
                           Sentence("first {label} report on this {entity} {duration} ago",
                                    unknown="No {label} report on this {entity} yet"),
                           "first_report_age", entity, label=label, direction=-_reported(entity, label)),
                FeatureDef("seconds_since_last_{label}_report_by_{entity}",
                           f"Seconds since the latest {label} outcome was reported on an order with this {entity}",
                           Sentence("latest {label} report on this {entity} {duration} ago",
                                    unknown="No {label} report on this {entity} known before this order"),
                           "last_report_age", entity, label=label, direction=-_reported(entity, label)),
            ]
        reads = {"reports": tuple(Reported(entity, label) for label in LABELS)}
        blocks.append(HistoryBlock(tuple(features), reads, _report_ages))
    return blocks


def _amount_to_means(r: Row, t: Value, now: Sums, starts: tuple[Sums, ...]) -> list[Value]:
    """The order's amount over the buyer's mean amount in each window (NaN without orders there)."""
    return [ops.ratio(r["amount"], ops.ratio(now[1] - start[1], now[0] - start[0])) for start in starts]


def _amount_spreads(r: Row, t: Value, orders_now: Sums, logs_now: Sums, orders_starts: tuple[Sums, ...],
                    logs_starts: tuple[Sums, ...]) -> list[Value]:
    """The amount's z-score among the buyer's log amounts in each window (NaN with too few orders or no spread).

    The spread is the population one (over n): it describes the buyer's orders, it
    estimates nothing. Near-equal earlier amounts give a tiny spread and a huge z; trees
    only need the order.
    """
    this = ops.log_amount(r["amount"])
    values = []
    for orders_start, logs_start in zip(orders_starts, logs_starts, strict=True):
        n = orders_now[0] - orders_start[0]
        n = ops.known_if(n, ops.greater(n, BUYER_SPREAD_MIN_ORDERS - 0.5))
        mean = ops.ratio(logs_now[0] - logs_start[0], n)
        variance = ops.ratio(logs_now[1] - logs_start[1], n) - mean * mean
        values.append(ops.ratio(this - mean, ops.square_root(variance)))
    return values


def _buyer_amounts() -> list[HistoryBlock]:
    means = HistoryBlock(
        tuple(FeatureDef("amount_to_buyer_mean_{window}",
                         f"Amount over the buyer's mean order amount of the last {window}",
                         Sentence("amount {value:.1f}x the buyer's average of the last {window}"),
                         "amount_to_mean", window=window)
              for window in BUYER_MEAN_WINDOWS),
        {"now": _now(ORDERS_LOG, "buyer"), "starts": _starts(ORDERS_LOG, "buyer", BUYER_MEAN_WINDOWS)},
        _amount_to_means)
    spread = HistoryBlock(
        tuple(FeatureDef("amount_z_to_buyer_{window}",
                         f"How many standard deviations the (log) amount is from the buyer's orders of the last "
                         f"{window}",
                         Sentence("amount {value:+.1f} standard deviations from the buyer's usual over the last "
                                  "{window}"),
                         "amount_z", window=window)
              for window in BUYER_SPREAD_WINDOWS),
        {"orders_now": _now(ORDERS_LOG, "buyer"), "logs_now": _now(LOG_AMOUNTS_LOG, "buyer"),
         "orders_starts": _starts(ORDERS_LOG, "buyer", BUYER_SPREAD_WINDOWS),
         "logs_starts": _starts(LOG_AMOUNTS_LOG, "buyer", BUYER_SPREAD_WINDOWS)},
        _amount_spreads)
    return [means, spread]


def _first_purchase(r: Row, t: Value, first: Value) -> list[Value]:
    """1 if the buyer and seller pair was never seen before."""
    return [ops.flag_not(ops.is_known(first))]


def _new_device_on_old_account(r: Row, t: Value, first: Value) -> list[Value]:
    """1 for a device never seen with the buyer on an account older than 30 days (takeovers)."""
    return [ops.greater(r["created_at"] - r["buyer_created_at"], 30 * 86400.0)
            * ops.flag_not(ops.is_known(first)) * ops.is_known(r["session_device_id"])]


def _habits(r: Row, t: Value, habits_now: Sums, habits_start: Sums) -> list[Value]:
    """The buyer's usual seconds from view to buy (geometric mean over the window's orders with a view time), and
    this order's over it: an impulsive buyer buys within a minute of every post, and so regrets more.

    Unknown without an earlier order with a view time in the window, or (the ratio) without this order's.
    """
    known, view = ops.view_units(r["created_at"], r["session_post_viewed_at"])
    usual = ops.ratio(habits_now[1] - habits_start[1], habits_now[0] - habits_start[0])
    scale = 1.0 / ops.LOG_AMOUNT_UNITS
    return [ops.exp(usual * scale), ops.exp((ops.known_if(view, known) - usual) * scale)]


def _buyer_habits() -> HistoryBlock:
    window = BUYER_MEAN_WINDOWS[HABIT_WINDOW]
    return HistoryBlock(
        (FeatureDef("buyer_usual_{measure}_{window}", "The buyer's usual seconds from opening a post to buying "
                    f"(geometric mean over their orders of the last {HABIT_WINDOW})",
                    Sentence("the buyer usually bought {duration} after opening a post in the last {window}",
                             unknown="No purchase of this buyer with a view time in the last 90 days"),
                    "view_to_buy_seconds", "buyer", HABIT_WINDOW),
         FeatureDef("{measure}_to_buyer_usual_{window}", "Seconds from view to buy over the buyer's usual "
                    f"(geometric mean of the last {HABIT_WINDOW})",
                    Sentence("bought {value:.2f}x the buyer's usual time after opening the post (last {window})"),
                    "view_to_buy", "buyer", HABIT_WINDOW)),
        {"habits_now": _now(HABITS_LOG, "buyer"), "habits_start": Prefix(HABITS_LOG, "buyer", window, True)},
        _habits)


def _derived() -> list[HistoryBlock]:
    return [
        HistoryBlock(
            (FeatureDef("first_purchase_from_seller", "The buyer has never bought from this seller before",
                        Sentence("{flag:first purchase from this seller|bought from this seller before}"),
                        "first_purchase", "buyer_seller"),),
            {"first": FirstSeen("buyer_seller")}, _first_purchase),
        HistoryBlock(
            (FeatureDef("new_device_on_old_account", "A device never seen with this buyer, on an account older "
                        "than 30 days",
                        Sentence("{flag:new device on an established account|known device or new account}"),
                        "new_device", "buyer_device"),),
            {"first": FirstSeen("buyer_device")}, _new_device_on_old_account),
        *_buyer_amounts(),
    ]


HISTORY_BLOCKS: list[HistoryBlock] = [*_velocity(), *_distinct(), *_first_seen(), *_labels(), *_report_times(),
                                      *_derived(), _buyer_habits()]
"""What batch and online evaluate, in catalog order."""

HISTORY_FEATURES: list[FeatureDef] = [feature for block in HISTORY_BLOCKS for feature in block.features]
