"""Countries, currencies, IP blocks and e-mail domains of the simulated world.

Everything here is a constant table indexed by small integer codes, so that the
generators can work on integer arrays and strings appear only when the frame is
built.
"""

import numpy as np

# country, share of buyers, share of sellers, UTC offset (minutes), currency.
# A marketplace that is mostly US, then Western Europe; sellers a little more
# concentrated in the big markets. One offset per country is enough for a
# diurnal cycle. The marketplace settles in USD except in the euro area and UK.
_COUNTRY_TABLE: tuple[tuple[str, float, float, int, str], ...] = (
    ("US", .400, .450, -300, "USD"), ("GB", .090, .120, 0, "GBP"), ("CA", .050, .040, -300, "USD"),
    ("DE", .060, .060, 60, "EUR"), ("FR", .050, .050, 60, "EUR"), ("ES", .030, .030, 60, "EUR"),
    ("IT", .030, .040, 60, "EUR"), ("NL", .020, .020, 60, "EUR"), ("IE", .010, .010, 0, "EUR"),
    ("AU", .040, .040, 600, "USD"), ("MX", .030, .020, -360, "USD"), ("BR", .040, .030, -180, "USD"),
    ("IN", .050, .030, 330, "USD"), ("PH", .020, .010, 480, "USD"), ("NG", .015, .005, 60, "USD"),
    ("RO", .010, .005, 120, "USD"), ("VN", .010, .010, 420, "USD"), ("ID", .015, .010, 420, "USD"),
    ("UA", .005, .005, 120, "USD"),
)
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP")

COUNTRIES: tuple[str, ...] = tuple(row[0] for row in _COUNTRY_TABLE)
BUYER_COUNTRY_SHARES = np.array([row[1] for row in _COUNTRY_TABLE]) / sum(row[1] for row in _COUNTRY_TABLE)
SELLER_COUNTRY_SHARES = np.array([row[2] for row in _COUNTRY_TABLE]) / sum(row[2] for row in _COUNTRY_TABLE)
UTC_OFFSET_MINUTES = np.array([row[3] for row in _COUNTRY_TABLE])
CURRENCY_OF_COUNTRY = np.array([CURRENCIES.index(row[4]) for row in _COUNTRY_TABLE])


def draw_countries(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """`n` country codes drawn with the given shares."""
    return rng.choice(shares.size, size=n, p=shares).astype(np.int16)


# Countries that card fraud is most often operated from, in this world.
FRAUD_ORIGIN_COUNTRIES = np.array([14, 15, 16, 17, 18, 11, 13])


def country_code(country: str) -> int:
    """Integer code of an ISO country, so tables can be written with names."""
    return COUNTRIES.index(country)


def ipv4_first_octet(country: np.ndarray, block: np.ndarray) -> np.ndarray:
    """First octet of an address in one of a country's three blocks.

    Distinct per (country, block) and never 0, 10, 127, 169, 172 or 192, so a
    generated address is never a private or reserved one.
    """
    return 20 + 9 * country.astype(np.int64) + 3 * block


EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com",
    "proton.me", "gmx.de", "web.de", "orange.fr", "free.fr", "btinternet.com",
    "yahoo.co.uk", "libero.it", "mailinator.com", "guerrillamail.com",
    "tempmail.dev", "yandex.ru",
)
# Genuine buyers almost never use disposable domains; "almost" keeps the
# domain from being a perfect tell.
GENUINE_EMAIL_WEIGHTS = np.array(
    [.48, .14, .11, .14, .08, .02, 0, 0, 0, 0, 0, 0, 0, .002, .001, .001, .005]
)
FRAUD_EMAIL_WEIGHTS = np.array(
    [.42, .08, .05, 0, .05, .10, 0, 0, 0, 0, 0, 0, 0, .10, .08, .07, .05]
)
# Local providers a share of genuine buyers use instead of the global ones.
LOCAL_EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "DE": ("gmx.de", "web.de"),
    "FR": ("orange.fr", "free.fr"),
    "GB": ("btinternet.com", "yahoo.co.uk"),
    "IT": ("libero.it",),
}
LOCAL_EMAIL_SHARE = 0.35


def local_email_table() -> np.ndarray:
    """(country, 2) table of local domain codes, -1 where a country has none."""
    table = np.full((len(COUNTRIES), 2), -1, dtype=np.int16)
    for country, domains in LOCAL_EMAIL_DOMAINS.items():
        codes = [EMAIL_DOMAINS.index(d) for d in domains]
        table[country_code(country)] = (codes * 2)[:2]
    return table
