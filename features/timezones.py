"""Standard-time UTC offsets of countries, in hours: the buyer's local hour of a purchase.

Late-night purchases are a classic impulse signal, and the hour that matters is the
buyer's, not UTC's. One offset per country (its most populous zone, standard time, no
daylight saving): an hour off for part of the year, or across a wide country, still
separates night from day. A country not listed gives an unknown hour, not a wrong one.
"""

from __future__ import annotations

UTC_OFFSET_HOURS: dict[str, float] = {
    # Americas
    "US": -5, "CA": -5, "MX": -6, "BR": -3, "AR": -3, "CL": -4, "CO": -5, "PE": -5, "VE": -4, "EC": -5,
    "UY": -3, "PY": -4, "BO": -4, "CR": -6, "PA": -5, "GT": -6, "DO": -4, "PR": -4, "JM": -5, "CU": -5,
    # Europe
    "GB": 0, "IE": 0, "PT": 0, "IS": 0, "FR": 1, "DE": 1, "ES": 1, "IT": 1, "NL": 1, "BE": 1, "LU": 1,
    "CH": 1, "AT": 1, "PL": 1, "CZ": 1, "SK": 1, "HU": 1, "SE": 1, "NO": 1, "DK": 1, "SI": 1, "HR": 1,
    "RS": 1, "BA": 1, "MT": 1, "AL": 1, "FI": 2, "EE": 2, "LV": 2, "LT": 2, "RO": 2, "BG": 2, "GR": 2,
    "CY": 2, "UA": 2, "MD": 2, "BY": 3, "RU": 3, "TR": 3,
    # Africa and the Middle East
    "MA": 1, "DZ": 1, "TN": 1, "NG": 1, "EG": 2, "ZA": 2, "KE": 3, "ET": 3, "GH": 0, "SN": 0, "IL": 2,
    "JO": 3, "LB": 2, "SA": 3, "AE": 4, "QA": 3, "KW": 3, "BH": 3, "OM": 4, "IR": 3.5, "IQ": 3,
    # Asia and Oceania
    "PK": 5, "IN": 5.5, "LK": 5.5, "NP": 5.75, "BD": 6, "MM": 6.5, "TH": 7, "VN": 7, "ID": 7, "KH": 7,
    "MY": 8, "SG": 8, "PH": 8, "CN": 8, "HK": 8, "TW": 8, "MO": 8, "MN": 8, "JP": 9, "KR": 9, "AU": 10,
    "NZ": 12, "KZ": 5, "UZ": 5, "GE": 4, "AM": 4, "AZ": 4,
}
