"""Each row-feature operation gives the same value on a column and on a single value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features import ops

NUMS = [0.0, 1.0, -2.5, 3600.0, math.nan, 1e9]
TEXTS = ["US", "FR", None, "prepaid", "US"]
VOCAB = ops.Vocabulary(("US", "prepaid"))


def same(vector_value, scalar_values):
    expected = np.array(scalar_values, dtype="float64")
    np.testing.assert_array_equal(np.asarray(vector_value, dtype="float64"), expected)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: ops.ratio(a, b),
        lambda a, b: ops.at_least(a, 2.0) + b,
        lambda a, b: ops.greater(a, 1.0),
        lambda a, b: ops.log1p(np.abs(a) if isinstance(a, np.ndarray) else abs(a)),
        lambda a, b: ops.hour_of_day(a * 1000.0),
        lambda a, b: ops.day_of_week(a * 1e5),
        lambda a, b: ops.is_known(a) + ops.flag_not(ops.is_known(b)),
        lambda a, b: ops.known_if(a, ops.greater(b, 0.5)),
        lambda a, b: ops.square_root(a),
        lambda a, b: ops.log_amount(a * 7.3),
        lambda a, b: ops.exp(a / 1e6),
    ],
)
def test_numeric_op_agrees_between_vector_and_scalar(op):
    a = np.array([x for x in NUMS for _ in NUMS])
    b = np.array([y for _ in NUMS for y in NUMS])
    same(op(a, b), [op(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)])


def test_view_units_agree_between_vector_and_scalar():
    created, viewed = [100.0, 5000.5, 1e9], [99.0, 100.0, 5000.6, math.nan, 1e9 - 86400.0]
    grid = [(c, v) for c in created for v in viewed]
    columns = ops.view_units(*(np.array(column) for column in zip(*grid, strict=True)))
    for i in range(2):
        same(columns[i], [ops.view_units(*point)[i] for point in grid])


def test_view_units_floor_view_to_buy_at_a_second_and_add_nothing_without_a_view():
    assert ops.view_units(100.0, 101.0) == (1.0, 0.0)
    assert ops.view_units(100.0, 40.0) == (1.0, ops.log_amount(60.0))
    assert ops.view_units(100.0, math.nan) == (0.0, 0.0)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: ops.differs(a, b),
        lambda a, b: ops.equals(a, "US"),
        lambda a, b: ops.code(a, VOCAB),
        lambda a, b: ops.is_known(a),
    ],
)
def test_text_op_agrees_between_vector_and_scalar(op):
    a = np.array([x for x in TEXTS for _ in TEXTS], dtype=object)
    b = np.array([y for _ in TEXTS for y in TEXTS], dtype=object)
    same(op(a, b), [op(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)])


def test_unknown_text_gives_unknown_not_a_mismatch():
    assert math.isnan(ops.differs(None, "US"))
    assert ops.differs("US", "FR") == 1.0 and ops.differs("US", "US") == 0.0


def test_ratio_with_zero_denominator_is_unknown():
    assert math.isnan(ops.ratio(5.0, 0.0))
    assert np.isnan(ops.ratio(np.array([5.0]), np.array([0.0])))[0]
