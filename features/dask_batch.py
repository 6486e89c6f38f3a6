"""Every feature of every order on a Dask cluster, equal to `features.batch` on every order.

History features are exact only when an order's reads see every event of its entity.
So the orders are grouped by entity, one family at a time: for each entity and pair
(card, buyer, device, IP, seller, address, buyer+seller, ...) the orders that have
that key are shuffled by a hash of it into partitions, and each partition answers
that entity's reads (`features.batch.read_values`, the single-machine code) for its
orders; a partition holds all of an entity's orders, so windows, first sightings,
distinct counts and reports are the same as over the whole data set. Orders without
the key get no value (NaN), as `features.batch` gives them. The read values are then
joined back to the orders by `order_id`, and per order partition the row features and
each block's `combine` (elementwise) turn them into feature values
(`features.batch.history_features`). Outcomes are reduced first to each order's first
fraud and first regret report, which is all the labels log keeps of them.

Memory per worker is bounded by the partition sizes, never by the data set, except
for one entity's orders, which always share a partition (a seller with millions of
orders needs a worker that holds them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.batch import BatchRow, all_reads, history_features, read_values, row_features
from features.catalog import FEATURE_NAMES
from features.clock import to_us
from features.keys import ENTITY_COLUMNS, LOG_COLUMNS, PAIR_SEPARATOR, PAIRS
from features.reads import Distinct, Read
from risk.contract import FRAUD_KINDS, REGRET_KINDS
from risk.errors import DataError

if TYPE_CHECKING:
    import dask.dataframe as dd

Progress = Callable[[str], None]

REPORT_COLUMNS = ("fraud_reported_at", "regret_reported_at", "any_reported_at")
"""Per order: its first fraud report, first regret report and first report of any kind (NaT if none)."""
_FRAUD_KIND, _REGRET_KIND = sorted(FRAUD_KINDS)[0], sorted(REGRET_KINDS)[0]
_KEY = "_entity_key"


def compute_features(
    orders: dd.DataFrame,
    outcomes: dd.DataFrame | None = None,
    partitions: int | None = None,
    keep: Sequence[str] = (),
    progress: Progress | None = None,
) -> dd.DataFrame:
    """A lazy frame of `order_id`, the `keep` columns (of the orders or REPORT_COLUMNS), then every feature.

    A `keep` column that is also a feature (`amount`) comes once, as the feature (float64).

    One row per order, in no particular order; `partitions` is the number of partitions
    of each entity shuffle (default: the orders' own number).
    """
    say = progress or (lambda message: None)
    n = partitions or orders.npartitions
    import dask.dataframe as dd

    base = with_first_reports(orders, outcomes)
    families = []
    for entity, reads in entity_families().items():
        say(f"  {entity}: {len(reads)} reads over {n} partitions by {entity} key")
        families.append(_family_reads(base, entity, reads, n).shuffle(on="order_id", npartitions=n))
    # Joined partition by partition: every frame is hash-partitioned on order_id into n parts,
    # so part i of each holds the same orders (`_finish` checks it). dask's own merge of these
    # frames lost shuffle outputs under p2p ("computation on lost data", dask 2026.8).
    by_order = base.shuffle(on="order_id", npartitions=n)
    meta = _finish(by_order._meta, tuple(keep), *(family._meta for family in families))
    return dd.map_partitions(_finish, by_order, tuple(keep), *families, meta=meta, align_dataframes=False)


def with_first_reports(orders: dd.DataFrame, outcomes: dd.DataFrame | None) -> dd.DataFrame:
    """The orders with REPORT_COLUMNS joined (all NaT without outcomes)."""
    if outcomes is None:
        def no_reports(part: pd.DataFrame) -> pd.DataFrame:
            times = pd.Series(pd.NaT, index=part.index, dtype="datetime64[ns, UTC]")
            return part.assign(**dict.fromkeys(REPORT_COLUMNS, times))
        return orders.map_partitions(no_reports, meta=no_reports(orders._meta))
    per_outcome = outcomes[["order_id", "kind", "reported_at"]].map_partitions(
        _report_times, meta=_report_times(outcomes._meta[["order_id", "kind", "reported_at"]]))
    firsts = per_outcome.groupby("order_id").min(split_out=max(1, outcomes.npartitions)).reset_index()
    return orders.merge(firsts, on="order_id", how="left")


def _report_times(outcomes: pd.DataFrame) -> pd.DataFrame:
    reported = outcomes["reported_at"].astype("datetime64[ns, UTC]")
    return pd.DataFrame({
        "order_id": outcomes["order_id"],
        "fraud_reported_at": reported.where(outcomes["kind"].isin(FRAUD_KINDS)),
        "regret_reported_at": reported.where(outcomes["kind"].isin(REGRET_KINDS)),
        "any_reported_at": reported,
    })


def first_reports_as_outcomes(frame: pd.DataFrame, kinds: Sequence[str] = REPORT_COLUMNS) -> pd.DataFrame:
    """An outcomes table with what REPORT_COLUMNS keep of the real one, for code that reads outcomes.

    The features and labels use only each order's first report of each label (and whether
    it has any report), so these stand-in rows give them the same results.
    """
    other = "confirmed_legit"
    kind_of = {"fraud_reported_at": _FRAUD_KIND, "regret_reported_at": _REGRET_KIND, "any_reported_at": other}
    parts = []
    for column in kinds:
        known = frame[column].notna().to_numpy()
        parts.append(pd.DataFrame({"order_id": frame["order_id"].to_numpy()[known], "kind": kind_of[column],
                                   "reported_at": frame[column].to_numpy()[known]}))
    outcomes = pd.concat(parts, ignore_index=True)
    outcomes["reported_at"] = pd.to_datetime(outcomes["reported_at"], utc=True)
    return outcomes


@cache
def entity_families() -> dict[str, tuple[Read, ...]]:
    """Every read of the history blocks, grouped by the entity whose orders it needs."""
    families: dict[str, list[Read]] = {}
    for read in all_reads():
        families.setdefault(read.entity, []).append(read)
    return {entity: tuple(reads) for entity, reads in families.items()}


def _key_names(entity: str, reads: Sequence[Read]) -> list[str]:
    """The entity and the `other` entities of its distinct counts, each a key column of the shuffled frame."""
    others = [read.other for read in reads if isinstance(read, Distinct)]
    return list(dict.fromkeys([entity, *others]))


def _entity_key(orders: pd.DataFrame, entity: str) -> pd.Series:
    """`features.keys.entity_key_columns` for one entity (a pair joined with PAIR_SEPARATOR), NA where unknown."""
    if entity in ENTITY_COLUMNS:
        return orders[ENTITY_COLUMNS[entity]].astype(object).where(orders[ENTITY_COLUMNS[entity]].notna(), None)
    left, right = (orders[ENTITY_COLUMNS[part]] for part in PAIRS[entity])
    joined = left.astype("str") + PAIR_SEPARATOR + right.astype("str")
    return joined.astype(object).where(left.notna() & right.notna(), None)


def _family_reads(base: dd.DataFrame, entity: str, reads: tuple[Read, ...], partitions: int) -> dd.DataFrame:
    """order_id and the value columns of `reads` for the orders with a known `entity` key."""
    names = _key_names(entity, reads)
    sources = sorted({column for name in names for column in _source_columns(name)})
    columns = [*LOG_COLUMNS, "fraud_reported_at", "regret_reported_at", *sources]
    keyed = base[columns].map_partitions(_keyed, names, meta=_keyed(base._meta[columns], names))
    keyed = keyed.shuffle(on=_KEY, npartitions=partitions)
    return keyed.map_partitions(_reads_of_partition, names, reads, meta=_reads_of_partition(keyed._meta, names, reads))


def _source_columns(entity: str) -> tuple[str, ...]:
    return (ENTITY_COLUMNS[entity],) if entity in ENTITY_COLUMNS else tuple(ENTITY_COLUMNS[p] for p in PAIRS[entity])


def _keyed(orders: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The orders with a known key, the columns reads need and each key: `_entity_key`, then `_key_<other>`."""
    keys = {(_KEY if i == 0 else f"_key_{name}"): _entity_key(orders, name).astype("string")
            for i, name in enumerate(names)}
    frame = pd.DataFrame({
        **{column: orders[column] for column in LOG_COLUMNS},
        "fraud_reported_at": orders["fraud_reported_at"], "regret_reported_at": orders["regret_reported_at"], **keys,
    })
    return frame[frame[_KEY].notna()]  # no key, no reads of it: NaN after the join, as features.batch gives


def _reads_of_partition(part: pd.DataFrame, names: list[str], reads: tuple[Read, ...]) -> pd.DataFrame:
    """`features.batch.read_values` over one partition of an entity's orders, one float64 column per value."""
    part = part.reset_index(drop=True)
    columns_of_keys = {name: part[_KEY if i == 0 else f"_key_{name}"] for i, name in enumerate(names)}
    keys = {name: column.astype(object).where(column.notna(), None) for name, column in columns_of_keys.items()}
    outcomes = first_reports_as_outcomes(part, ("fraud_reported_at", "regret_reported_at"))
    values = read_values(part[list(LOG_COLUMNS)], outcomes, list(reads), keys)
    columns: dict[str, Any] = {"order_id": part["order_id"].to_numpy()}
    for read in reads:
        for index, column in enumerate(_value_columns(read)):
            value = values[read]
            columns[column] = np.asarray(value[index] if isinstance(value, tuple) else value, dtype="float64")
    result = pd.DataFrame(columns)
    result["order_id"] = result["order_id"].astype(part["order_id"].dtype)
    return result


@cache
def _read_ids() -> dict[Read, int]:
    return {read: i for i, read in enumerate(all_reads())}


@cache
def _value_shapes() -> dict[Read, int]:
    """How many values each read gives (0 for a bare array), from one evaluation over no orders."""
    empty = pd.DataFrame({"order_id": pd.Series([], dtype="str"), "amount": pd.Series([], dtype="int64"),
                          "created_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "session_post_viewed_at": pd.Series([], dtype="datetime64[ns, UTC]")})
    keys = {name: pd.Series([], dtype=object) for name in [*ENTITY_COLUMNS, *PAIRS]}
    values = read_values(empty, None, all_reads(), keys)
    return {read: len(value) if isinstance(value, tuple) else 0 for read, value in values.items()}


def _value_columns(read: Read) -> list[str]:
    """Column names of a read's values: `read<i>` for a bare array, `read<i>.<j>` for each value of a tuple."""
    i, width = _read_ids()[read], _value_shapes()[read]
    return [f"read{i}"] if width == 0 else [f"read{i}.{j}" for j in range(width)]


def _finish(orders: pd.DataFrame, keep: tuple[str, ...], *families: pd.DataFrame) -> pd.DataFrame:
    """Row features and every block's combine over one partition of orders and their read values."""
    orders = orders.reset_index(drop=True)
    repeated = orders["order_id"].duplicated()
    if repeated.any():
        raise DataError(f"orders: column 'order_id': duplicate value {orders['order_id'][repeated].iloc[0]!r}")
    frame = orders
    for family in families:
        frame = frame.merge(family, on="order_id", how="left", validate="one_to_one")
        if len(family) and not family["order_id"].isin(orders["order_id"]).all():
            raise RuntimeError("dask partitions of orders and of their reads are not aligned on order_id")
    row = BatchRow(frame)
    t_us = to_us(frame["created_at"])

    def read(r: Read) -> Any:
        columns = [frame[c].to_numpy("float64", na_value=np.nan) for c in _value_columns(r)]
        return columns[0] if _value_shapes()[r] == 0 else tuple(columns)

    keep = tuple(name for name in keep if name not in FEATURE_NAMES)  # `amount` is a feature as it is
    columns: dict[str, Any] = {"order_id": frame["order_id"].to_numpy()}
    columns.update({name: frame[name].to_numpy() for name in keep})
    columns.update(row_features(row, len(frame)))
    columns.update(history_features(row, t_us, read))
    result = pd.DataFrame(columns)
    result["order_id"] = result["order_id"].astype(frame["order_id"].dtype)
    for name in keep:
        result[name] = result[name].astype(frame[name].dtype)
    return result[["order_id", *keep, *FEATURE_NAMES]]
