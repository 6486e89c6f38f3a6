"""The flat order layout of the contract and its internal integer encoding.

While simulating, an order batch is a dict of numpy arrays, one per contract
column plus a few hidden ones (names starting with `_`) that carry the truth the
outcomes depend on. Missing values are -1 (NAT for times).
"""

from dataclasses import dataclass
from enum import Enum

import numpy as np

from risk.contract import ORDER_COLUMNS as CONTRACT_COLUMNS
from risk.contract import ColumnKind

from .catalog import CATEGORY_NAMES
from .clock import NAT
from .geo import COUNTRIES, CURRENCIES, EMAIL_DOMAINS
from .instruments import CHANNELS, FUNDINGS, WALLETS

Batch = dict[str, np.ndarray]


class Kind(Enum):
    """How a column is encoded inside and what pandas dtype it becomes."""

    ORDER_ID = "order_id"  # assigned after sorting, not stored in batches
    TIME = "time"          # int64 ns since epoch -> datetime64[ns, UTC]
    AMOUNT = "amount"      # int64, never missing
    COUNT = "count"        # int64 -> Int64
    BOOL = "bool"          # int8 0/1 -> boolean
    ID = "id"              # int64 entity code -> "<prefix>_<10 digits>"
    CODE = "code"          # int16 index into `vocabulary` -> string
    IP = "ip"              # int64 IP code -> dotted or colon notation
    DIGITS = "digits"      # int64 -> its decimal digits (card BIN)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    vocabulary: tuple[str, ...] = ()
    id_kind: str = ""  # which IdAllocator kind the codes come from


def _id(name: str, id_kind: str) -> Column:
    return Column(name, Kind.ID, id_kind=id_kind)


def _code(name: str, vocabulary: tuple[str, ...]) -> Column:
    return Column(name, Kind.CODE, vocabulary=vocabulary)


# How the simulator encodes each text column of the contract; the other columns follow
# from their contract kind (time, integer count, flag), and the order is the contract's.
_TEXT_COLUMNS: dict[str, Column] = {c.name: c for c in (
    _code("currency", CURRENCIES), _id("buyer_account_id", "account"),
    _code("buyer_country", COUNTRIES), _code("buyer_email_domain", EMAIL_DOMAINS),
    _id("seller_account_id", "account"), _code("seller_country", COUNTRIES),
    _id("post_post_id", "post"), _code("post_category", CATEGORY_NAMES),
    _id("session_device_id", "device"), Column("session_ip", Kind.IP),
    _code("session_ip_country", COUNTRIES), _code("session_channel", CHANNELS),
    _id("payment_card_fingerprint", "card"), Column("payment_card_bin", Kind.DIGITS),
    _code("payment_card_country", COUNTRIES), _code("payment_funding", FUNDINGS),
    _code("payment_wallet", WALLETS),
    _code("shipping_country", COUNTRIES), _id("shipping_address_hash", "address"),
)}
_BY_CONTRACT_KIND = {"time": Kind.TIME, "int": Kind.COUNT, "bool": Kind.BOOL}
_SPECIAL = {"order_id": Kind.ORDER_ID, "amount": Kind.AMOUNT}


def _column(name: str, kind: ColumnKind) -> Column:
    if name in _SPECIAL:
        return Column(name, _SPECIAL[name])
    if kind == "str":
        return _TEXT_COLUMNS[name]  # a new text field of the contract needs its encoding here
    return Column(name, _BY_CONTRACT_KIND[kind])


ORDER_COLUMNS: tuple[Column, ...] = tuple(_column(name, kind) for name, kind in CONTRACT_COLUMNS.items())
POST_COLUMNS: tuple[str, ...] = tuple(c.name for c in ORDER_COLUMNS if c.name.startswith("post_"))
SHIPPING_COLUMNS: tuple[str, ...] = tuple(c.name for c in ORDER_COLUMNS if c.name.startswith("shipping_"))

# Hidden truth travelling with each order, for regret and outcomes.
HIDDEN_COLUMNS: dict[str, tuple[type, float]] = {
    "_pattern": (np.int8, 0),                # 0 genuine, else a fraud pattern
    "_seconds_to_buy": (np.float64, np.nan),  # true time from opening the post
    "_utc_offset": (np.int32, 0),            # buyer's true time zone, minutes
    "_habit_amount": (np.float64, np.nan),   # buyer's typical amount, cents
    "_regret_propensity": (np.float64, 0.0),
    "_category": (np.int16, -1),             # true category even if unreported
}

_STORAGE: dict[Kind, tuple[type, int]] = {
    Kind.TIME: (np.int64, NAT), Kind.AMOUNT: (np.int64, 0), Kind.COUNT: (np.int64, -1),
    Kind.BOOL: (np.int8, -1), Kind.ID: (np.int64, -1), Kind.CODE: (np.int16, -1),
    Kind.IP: (np.int64, -1), Kind.DIGITS: (np.int64, -1),
}


MISSING: dict[str, int] = {
    c.name: _STORAGE[c.kind][1] for c in ORDER_COLUMNS if c.kind is not Kind.ORDER_ID
}


def empty_batch(n: int) -> Batch:
    """A batch of `n` orders with every field missing, for generators to fill."""
    batch: Batch = {c.name: np.full(n, MISSING[c.name], dtype=_STORAGE[c.kind][0])
             for c in ORDER_COLUMNS if c.kind is not Kind.ORDER_ID}
    for name, (dtype, missing) in HIDDEN_COLUMNS.items():
        batch[name] = np.full(n, missing, dtype=dtype)
    return batch


def merge_by_time(batches: list[Batch]) -> Batch:
    """All orders of the batches in one batch, sorted by created_at (stable).

    Moves one column at a time and empties the given batches as it goes, so
    memory holds little more than one copy of the orders.
    """
    order = np.argsort(np.concatenate([b["created_at"] for b in batches]), kind="stable")
    merged = {}
    for name in list(batches[0]):
        merged[name] = np.concatenate([b.pop(name) for b in batches])[order]
    return merged
