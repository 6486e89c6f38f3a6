"""Turning the integer-encoded batch into the contract's pandas frames.

Strings are built with pyarrow compute and stay Arrow-backed, as pandas' default
`str` dtype (NaN for missing, like `risk.datasets` returns them): a million rows
of ids cost a fraction of a second and far less memory than Python objects.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .clock import NAT, to_millis
from .fraud_kit import PATTERNS
from .ids import format_ids
from .instruments import is_ipv6
from .outcomes import KINDS, SOURCES, Outcomes
from .schema import ORDER_COLUMNS, Batch, Column, Kind

ID_PREFIXES: dict[str, str] = {
    "order": "ord_", "account": "acct_", "post": "post_",
    "device": "dev_", "card": "card_", "address": "addr_",
}
STRING = pd.StringDtype("pyarrow", na_value=np.nan)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def times(values: np.ndarray) -> pd.Series:
    """datetime64[ns, UTC] at millisecond resolution; NAT stays NaT.

    Flooring is monotonic, so "entity time <= order time" survives it.
    """
    floored = np.where(values == NAT, NAT, to_millis(values))
    return pd.Series(floored.view("datetime64[ns]")).dt.tz_localize("UTC")


def strings(array: pa.Array) -> pd.Series:
    return pd.Series(pd.array(array, dtype=STRING))


def codes_to_strings(codes: np.ndarray, vocabulary: tuple[str, ...]) -> pd.Series:
    """Vocabulary entries for codes, missing for -1."""
    return strings(pc.take(pa.array(vocabulary), pa.array(codes, mask=codes < 0)))


def hex4(values: np.ndarray) -> pa.Array:
    """16-bit values as four lower-case hex digits."""
    shifts = np.array([12, 8, 4, 0])
    chars = _HEX[(values[:, None].astype(np.int64) >> shifts) & 0xF]
    return pc.cast(pa.array(np.ascontiguousarray(chars).view("S4").ravel()), pa.string())


def ip_strings(codes: np.ndarray) -> pd.Series:
    """IPv4 dotted quads, or IPv6 `2a02:cccc:hhhh:llll::1` for codes flagged IPv6."""
    safe = np.maximum(codes, 0)
    octets = [pc.cast(pa.array((safe >> s) & 0xFF), pa.string()) for s in (24, 16, 8, 0)]
    v4 = pc.binary_join_element_wise(*octets, ".")
    v6 = pc.binary_join_element_wise(
        "2a02", hex4((safe >> 32) & 0xFF), hex4((safe >> 16) & 0xFFFF), hex4(safe & 0xFFFF), ":1", ":")
    joined = pc.if_else(pa.array(is_ipv6(codes)), v6, v4)
    return strings(pc.if_else(pa.array(codes < 0), pa.scalar(None, pa.string()), joined))


def column(values: np.ndarray, spec: Column, salts: dict[str, int]) -> pd.Series:
    """One contract column in its pandas dtype, from its internal encoding."""
    if spec.kind is Kind.TIME:
        return times(values)
    if spec.kind is Kind.AMOUNT:
        return pd.Series(values)
    if spec.kind is Kind.COUNT:
        return pd.Series(pd.arrays.IntegerArray(np.maximum(values, 0), values < 0))
    if spec.kind is Kind.BOOL:
        return pd.Series(pd.arrays.BooleanArray(values == 1, values < 0))
    if spec.kind is Kind.ID:
        return strings(format_ids(ID_PREFIXES[spec.id_kind], values, salts[spec.id_kind]))
    if spec.kind is Kind.CODE:
        return codes_to_strings(values, spec.vocabulary)
    if spec.kind is Kind.IP:
        return ip_strings(values)
    if spec.kind is Kind.DIGITS:
        return strings(pc.utf8_lpad(pc.cast(pa.array(values, mask=values < 0), pa.string()), 6, "0"))
    raise ValueError(f"column {spec.name} of kind {spec.kind} is not stored in batches")


def order_ids(n: int, salts: dict[str, int]) -> pa.Array:
    """Order ids in creation order."""
    return format_ids(ID_PREFIXES["order"], np.arange(n, dtype=np.int64), salts["order"])


def orders_frame(batch: Batch, ids: pa.Array, salts: dict[str, int]) -> pd.DataFrame:
    """The orders table in the contract's flat layout and column order.

    Consumes the batch column by column, so that the batch and the frame are
    never both whole in memory.
    """
    data = {
        spec.name: strings(ids) if spec.kind is Kind.ORDER_ID else column(batch.pop(spec.name), spec, salts)
        for spec in ORDER_COLUMNS
    }
    return pd.DataFrame(data, copy=False)


def outcomes_frame(outcomes: Outcomes, ids: pa.Array) -> pd.DataFrame:
    """The outcomes table: order_id, kind, reported_at, source."""
    return pd.DataFrame({
        "order_id": strings(pc.take(ids, pa.array(outcomes.row))),
        "kind": codes_to_strings(outcomes.kind, KINDS),
        "reported_at": times(outcomes.reported_at),
        "source": codes_to_strings(outcomes.source, SOURCES),
    })


def truth_frame(batch: Batch, regret: np.ndarray, ids: pa.Array) -> pd.DataFrame:
    """What really happened to each order, known only to the simulator."""
    pattern = batch["_pattern"]
    return pd.DataFrame({
        "order_id": strings(ids),
        "pattern": codes_to_strings(pattern.astype(np.int16), PATTERNS),
        "is_fraud": pattern > 0,
        "is_regret": regret,
    })
