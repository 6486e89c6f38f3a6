"""Money: minor units per currency, exchange rates, and one reporting currency for every cost.

An order's `amount` is in minor units of its own currency (cents, pence, yen). Costs
compare and add amounts, so before any cost is computed every amount is converted to
minor units of one *reporting currency* (`Costs.currency`): adding USD cents to JPY yen
would be meaningless. Rates come from a JSON file (the shipped default,
`risk/data/rates.json`, or `--rates FILE`):

    {"date": "2026-01-02", "base": "USD", "rates": {"USD": 1.0, "EUR": 1.17, "JPY": 0.0064}}

each rate being the units of `base` one whole unit of that currency buys. Any currency
of the file can be the reporting one (cross rates through the base).

Minor-unit exponents (ISO 4217: JPY 0, USD 2, KWD 3) come from a small table below:
no installed library carries them (pycountry has codes and names only).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from risk.errors import InvalidInput

DEFAULT_RATES = "default (risk/data/rates.json)"
DEFAULT_REPORTING_CURRENCY = "USD"

# ISO 4217 currencies whose minor unit is not the cent (exponent 2), from the ISO 4217
# list (amendment 178). Every other code has 2 decimals.
_EXPONENT_NOT_TWO: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_exponent(currency: str) -> int:
    """Decimal places of a currency's minor unit: 0 for JPY, 3 for KWD, 2 for most."""
    return _EXPONENT_NOT_TWO.get(currency.upper(), 2)


minor_unit_exponent = minor_exponent  # the name the review pages and reasons import


def format_money(minor_units: float, currency: str | None, decimals: int | None = None) -> str:
    """`4504` USD cents as "45.04 USD"; JPY has no decimals, KWD three (or `decimals` if given).

    Without a currency (an amount summed over an entity's orders), two decimals and no code.
    """
    if currency is None:
        return f"{minor_units / 100:,.2f}"
    exponent = minor_exponent(currency)
    places = exponent if decimals is None else decimals
    value = minor_units / 10**exponent
    if not math.isfinite(value):
        return f"{value} {currency.upper()}"
    return f"{value:,.{places}f} {currency.upper()}"


@dataclass(frozen=True)
class Rates:
    """Exchange rates of one date: `per_unit[c]` units of `base` for one unit of currency `c`."""

    date: str
    base: str
    per_unit: dict[str, float]
    source: str = DEFAULT_RATES

    def describe(self) -> dict[str, Any]:
        """What the metadata and reports record about the rates used."""
        return {"source": self.source, "date": self.date, "base": self.base}

    def to_minor(self, amount: np.ndarray, currency: np.ndarray, reporting: str) -> np.ndarray:
        """Amounts in minor units of their own currency -> float minor units of `reporting`."""
        amount = np.asarray(amount, dtype="float64")
        codes = np.asarray(currency, dtype=object)
        if len(codes) != len(amount):
            raise ValueError("one currency per amount")
        self.require(reporting)
        names, index = np.unique(codes.astype(str), return_inverse=True)
        counts = np.bincount(index, minlength=len(names))
        missing = [f"{code} ({int(n):,} orders)" for code, n in zip(names, counts, strict=True)
                   if code not in self.per_unit]
        if missing:
            raise self._missing(", ".join(missing))
        target = self.per_unit[reporting] / 10 ** minor_exponent(reporting)
        factor = np.array([self.per_unit[c] / 10 ** minor_exponent(c) / target for c in names])
        return amount * factor[index]

    def require(self, reporting: str) -> None:
        """InvalidInput unless the rates can convert into `reporting` (checked before any data is read)."""
        if reporting not in self.per_unit:
            raise self._missing(f"the reporting currency {reporting}")

    def _missing(self, what: str) -> InvalidInput:
        """One line naming what the rates lack and how to give it."""
        return InvalidInput(f"rates {self.source} ({self.date}) have no rate for {what}; add it to a rates file "
                            "and pass --rates FILE (format: README, 'Money')")


def load_rates(path: str | Path | None = None) -> Rates:
    """The rates in `path`, or the shipped default; a malformed file is one InvalidInput naming it."""
    if path is None:
        text = resources.files("risk").joinpath("data/rates.json").read_text(encoding="utf-8")
        return _parse(text, DEFAULT_RATES)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--rates {path}: cannot read it ({exc.strerror})") from None
    return _parse(text, str(path))


def _parse(text: str, source: str) -> Rates:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"rates {source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rates"), dict):
        raise InvalidInput(f"rates {source}: expected {{\"date\": ..., \"base\": ..., \"rates\": {{CODE: number}}}}")
    date, base, rates = data.get("date"), data.get("base"), data["rates"]
    if not isinstance(date, str) or not isinstance(base, str):
        raise InvalidInput(f"rates {source}: 'date' and 'base' must be given as text")
    bad = [code for code, value in rates.items() if not _positive_number(value)]
    if bad:
        raise InvalidInput(f"rates {source}: rate(s) of {', '.join(bad)} must be positive numbers")
    if base not in rates:
        raise InvalidInput(f"rates {source}: the base currency {base} needs its own rate (1.0)")
    return Rates(date=date, base=base, per_unit={code: float(value) for code, value in rates.items()}, source=source)


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0 and np.isfinite(value)
