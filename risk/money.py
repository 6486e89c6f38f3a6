"""Money as a person reads it: minor units in the currency's own decimals, with its code ("49.99 EUR", "4,999 JPY").

ISO 4217 gives each currency its number of minor-unit digits; most have 2. pycountry
(a dependency already) lists the currencies but not their digits, and Babel, which has
them, is not installed: the currencies whose exponent is not 2 are listed here, from
ISO 4217's list (2024 edition).
"""

from __future__ import annotations

import math

_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point of `currency` (2 unless ISO 4217 says otherwise)."""
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(minor_units: float, currency: str | None) -> str:
    """`minor_units` of `currency` in words: "1,250.00 EUR"; without a currency, two decimals and no code."""
    if currency is None:
        return f"{minor_units / 100:,.2f}"
    digits = minor_unit_exponent(currency)
    value = minor_units / 10**digits
    if not math.isfinite(value):
        return f"{value} {currency}"
    return f"{value:,.{digits}f} {currency.upper()}"
