"""The few operations row features are written in, for a column and for a single value.

A row feature is one function written against these operations and plain arithmetic;
it runs on numpy arrays in batch and on Python scalars online. Each operation below
has both forms side by side, and tests check they agree, so a feature is defined once.
Unknown values are NaN (numbers, times, flags) or None (text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Num = Any  # a float or a float64 array


def _is_vector(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def ratio(numerator: Num, denominator: Num) -> Num:
    """numerator / denominator, unknown when the denominator is not positive or unknown."""
    if _is_vector(numerator) or _is_vector(denominator):
        denominator = np.asarray(denominator, dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)
    if denominator > 0:
        return numerator / denominator
    return math.nan


def at_least(x: Num, floor: float) -> Num:
    """max(x, floor), unknown stays unknown."""
    if _is_vector(x):
        return np.where(np.isnan(x), np.nan, np.maximum(x, floor))
    return x if x != x else max(x, floor)


def log1p(x: Num) -> Num:
    """log(1 + x) of a non-negative count; unknown stays unknown."""
    if _is_vector(x):
        return np.log1p(x)
    return x if x != x else math.log1p(x)


def flag_not(x: Num) -> Num:
    """1 - flag."""
    return 1.0 - x


def is_known(x: Any) -> Num:
    """1.0 if the value is known (text or number), else 0.0."""
    if _is_vector(x):
        if x.dtype == object:
            return np.fromiter((v is not None for v in x), dtype="float64", count=len(x))
        return (~np.isnan(x)).astype("float64")
    if x is None or (isinstance(x, float) and x != x):
        return 0.0
    return 1.0


def differs(a: Any, b: Any) -> Num:
    """1.0 if two known texts differ, 0.0 if equal, unknown if either is unknown."""
    if _is_vector(a):
        known = np.fromiter((x is not None and y is not None for x, y in zip(a, b, strict=True)),
                            dtype=bool, count=len(a))
        different = a != b
        return np.where(known, different.astype("float64"), np.nan)
    if a is None or b is None:
        return math.nan
    return float(a != b)


def equals(a: Any, value: str) -> Num:
    """1.0 if a known text equals `value`, 0.0 if not, unknown if unknown."""
    if _is_vector(a):
        known = np.fromiter((x is not None for x in a), dtype=bool, count=len(a))
        return np.where(known, (a == value).astype("float64"), np.nan)
    if a is None:
        return math.nan
    return float(a == value)


class Vocabulary:
    """A fixed list of known texts, coded 0..n-1; any other text is n, unknown is NaN."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = tuple(words)
        self.lookup = {word: float(i) for i, word in enumerate(self.words)}
        self.other = float(len(self.words))


def code(a: Any, vocabulary: Vocabulary) -> Num:
    """The text's code in `vocabulary` (categorical features)."""
    lookup, other = vocabulary.lookup, vocabulary.other
    if _is_vector(a):
        return np.fromiter((math.nan if x is None else lookup.get(x, other) for x in a),
                           dtype="float64", count=len(a))
    if a is None:
        return math.nan
    return lookup.get(a, other)


def hour_of_day(seconds: Num) -> Num:
    """UTC hour 0..23 of an epoch time in seconds."""
    if _is_vector(seconds):
        return np.floor(np.mod(seconds, 86400.0) / 3600.0)
    return math.floor((seconds % 86400.0) / 3600.0) if seconds == seconds else math.nan


def day_of_week(seconds: Num) -> Num:
    """Monday = 0 .. Sunday = 6 of an epoch time in seconds (1970-01-01 was a Thursday)."""
    if _is_vector(seconds):
        return np.mod(np.floor(seconds / 86400.0) + 3.0, 7.0)
    return (math.floor(seconds / 86400.0) + 3.0) % 7.0 if seconds == seconds else math.nan


EXP_CAP = 700.0  # e ** 700 is about 1e304: below the float64 overflow, which would be an error on a scalar


def exp(x: Num) -> Num:
    """e ** min(x, EXP_CAP); unknown stays unknown.

    The column form calls math.exp per value: numpy's exp differs from it in the last bit.
    """
    if _is_vector(x):
        capped = np.minimum(np.asarray(x, dtype="float64"), EXP_CAP)
        return np.fromiter(map(math.exp, capped.tolist()), dtype="float64", count=len(capped))
    return x if x != x else math.exp(min(x, EXP_CAP))


def greater(x: Num, threshold: float) -> Num:
    """1.0 if x > threshold, 0.0 if not, unknown if x is unknown."""
    if _is_vector(x):
        return np.where(np.isnan(x), np.nan, (x > threshold).astype("float64"))
    return x if x != x else float(x > threshold)


def known_if(x: Num, flag: Num) -> Num:
    """x where the flag is 1.0, unknown where it is 0.0 or unknown."""
    if _is_vector(x) or _is_vector(flag):
        return np.where(flag == 1.0, x, np.nan)
    return x if flag == 1.0 else math.nan


def square_root(x: Num) -> Num:
    """sqrt(x); unknown for a negative or unknown x."""
    if _is_vector(x):
        with np.errstate(invalid="ignore"):
            return np.where(x >= 0, np.sqrt(np.where(x >= 0, x, 0.0)), np.nan)
    return math.sqrt(x) if x >= 0 else math.nan


LOG_AMOUNT_UNITS = 1000
"""Log amounts are kept as integers, log(amount in minor units) x this, so their sums stay exact in every backend."""


def log_amount_units(amount: float) -> int:
    """round(log(amount) x LOG_AMOUNT_UNITS) of one positive amount: the single definition, for both forms."""
    return math.floor(math.log(amount) * LOG_AMOUNT_UNITS + 0.5)


def log_amount(amount: Num) -> Num:
    """log_amount_units of each known positive amount; unknown otherwise."""
    if _is_vector(amount):
        amount = np.asarray(amount, dtype="float64")
        usable = amount > 0
        uniques, inverse = np.unique(amount[usable], return_inverse=True)
        result = np.full(len(amount), np.nan)
        result[usable] = np.fromiter((log_amount_units(a) for a in uniques), "float64", len(uniques))[inverse]
        return result
    return float(log_amount_units(amount)) if amount > 0 else math.nan


def view_units(created: Num, viewed: Num) -> tuple[Num, Num]:
    """What an order adds to its buyer's habits log: (1 if it has a view time, log seconds from view to buy).

    In LOG_AMOUNT_UNITS, so sums stay exact integers. View-to-buy is at least one second (a
    view stamped after the purchase is bad data, not a negative delay); an unknown view time adds (0, 0).
    """
    seconds = at_least(created - viewed, 1.0)
    known = is_known(seconds)
    if _is_vector(known):
        return known, np.where(known == 1.0, log_amount(np.where(known == 1.0, seconds, 1.0)), 0.0)
    return known, log_amount(seconds) if known == 1.0 else 0.0
