"""Time as the feature pipeline sees it, and the point-in-time predicates, written once.

History features work on integer microseconds since the epoch: exact in numpy int64,
in Python ints and in Redis scores (doubles are exact to 2**53 us, past year 2200).
Row features work on float seconds, where a microsecond is noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def visible(event_us: int, as_of_us: int, window_us: int) -> bool:
    """An order counts for a feature at `as_of` iff it lies in (as_of - window, as_of).

    Open at both ends: an order never counts itself nor another order of the same
    instant, and an order exactly one window old has left the window.
    """
    return as_of_us - window_us < event_us < as_of_us


def label_known(label_us: int, as_of_us: int) -> bool:
    """An outcome may be used at `as_of` iff it was known at or before it."""
    return label_us <= as_of_us


def label_time_us(reported_us: int, created_us: int) -> int:
    """When an outcome starts to count: its report, and never before its order has passed.

    An outcome reported at the very instant of its order (only bad data does that)
    still must not reach that order's own features.
    """
    return max(reported_us, created_us + 1)


def to_us(times: pd.Series) -> np.ndarray:
    """Microseconds since the epoch of a tz-aware column; NaT gives the int64 minimum."""
    ns = times.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view("int64")
    missing = ns == np.iinfo("int64").min
    return np.where(missing, ns, ns // 1000)


def to_seconds(times: pd.Series) -> np.ndarray:
    """Float seconds since the epoch, NaN for unknown, as row features want them."""
    us = to_us(times)
    return np.where(us == np.iinfo("int64").min, np.nan, us / US)
