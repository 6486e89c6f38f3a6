"""Money: minor-unit exponents, conversion to the reporting currency, and clear errors for missing rates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from risk.contract import CURRENCY_CODES
from risk.errors import InvalidInput
from risk.money import format_money, load_rates, minor_exponent

RATES = {"date": "2026-01-02", "base": "USD", "rates": {"USD": 1.0, "EUR": 1.2, "JPY": 0.0064, "KWD": 3.25}}


@pytest.fixture
def rates(tmp_path):
    path = tmp_path / "rates.json"
    path.write_text(json.dumps(RATES))
    return load_rates(path)


@pytest.mark.parametrize("code, exponent", [("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0),
                                            ("KWD", 3), ("BHD", 3), ("CLF", 4)])
def test_minor_unit_exponents_follow_iso_4217(code, exponent):
    assert minor_exponent(code) == exponent


def test_every_exponent_in_the_table_is_an_iso_4217_code():
    from risk.money import _EXPONENT_NOT_TWO

    assert set(_EXPONENT_NOT_TWO) <= CURRENCY_CODES


def test_money_is_formatted_with_its_currency_and_decimals():
    assert format_money(4504, "USD") == "45.04 USD"
    assert format_money(4504, "JPY") == "4,504 JPY"
    assert format_money(12345, "KWD") == "12.345 KWD"


def test_conversion_accounts_for_rates_and_exponents(rates):
    # 10.00 EUR, 1,000 JPY and 1.000 KWD into USD cents
    amount = np.array([1000, 1000, 1000, 500])
    currency = np.array(["EUR", "JPY", "KWD", "USD"], dtype=object)
    assert rates.to_minor(amount, currency, "USD") == pytest.approx([1200.0, 640.0, 325.0, 500.0])


def test_conversion_into_another_reporting_currency_uses_cross_rates(rates):
    # 12.00 USD is 10.00 EUR; 1.20 EUR worth of yen
    converted = rates.to_minor(np.array([1200, 1000]), np.array(["USD", "EUR"], dtype=object), "EUR")
    assert converted == pytest.approx([1000.0, 1000.0])
    assert rates.to_minor(np.array([100]), np.array(["EUR"], dtype=object), "JPY") == pytest.approx([187.5])


def test_a_currency_the_rates_lack_is_one_line_naming_it_and_its_orders(rates):
    with pytest.raises(InvalidInput) as caught:
        rates.to_minor(np.array([1, 2, 3]), np.array(["USD", "GBP", "GBP"], dtype=object), "USD")
    message = caught.value.message
    assert "no rate for GBP (2 orders)" in message and "--rates" in message and "\n" not in message


def test_a_reporting_currency_the_rates_lack_is_named(rates):
    with pytest.raises(InvalidInput, match="no rate for the reporting currency CHF"):
        rates.to_minor(np.array([1]), np.array(["USD"], dtype=object), "CHF")


def test_the_shipped_rates_cover_the_simulator_the_handbook_and_the_major_currencies():
    shipped = load_rates()
    from training.simulator.geo import CURRENCIES

    assert shipped.base == "USD" and shipped.date
    assert set(CURRENCIES) | {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY"} <= set(shipped.per_unit)
    assert set(shipped.per_unit) <= CURRENCY_CODES


@pytest.mark.parametrize("content, words", [
    ("{", "not valid JSON"),
    ('{"date": "2026-01-01", "base": "USD"}', "expected"),
    ('{"date": "2026-01-01", "base": "USD", "rates": {"USD": 1, "EUR": -1}}', "EUR must be positive"),
    ('{"date": "2026-01-01", "base": "USD", "rates": {"EUR": 1.1}}', "base currency USD needs its own rate"),
])
def test_a_malformed_rates_file_is_one_line_naming_it(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=words) as caught:
        load_rates(path)
    assert str(path) in caught.value.message


def test_a_missing_rates_file_is_named(tmp_path):
    with pytest.raises(InvalidInput, match="--rates .*nope.json: cannot read it"):
        load_rates(tmp_path / "nope.json")
