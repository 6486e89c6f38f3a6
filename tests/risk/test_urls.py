"""Backend URLs in messages keep where the backend is and never its password (risk/urls.py)."""

from __future__ import annotations

import pytest

from risk.urls import redacted_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://risk:s3cret@db.internal:5432/risk", "postgresql://db.internal:5432/risk"),
        ("postgres://risk:s3cret@db.internal/risk", "postgres://db.internal/risk"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://user:s3cret@127.0.0.1:1/0", "redis://127.0.0.1:1/0"),
        ("rediss://default:s3cret@cache.example.com:6380", "rediss://cache.example.com:6380"),
        ("postgresql://risk:s3cret@[::1]:5432/test", "postgresql://[::1]:5432/test"),
        ("postgresql://risk:s3cret@h1:5432,h2:5433/risk", "postgresql://h1:5432,h2:5433/risk"),
        ("postgresql://risk:s%40cr%2Fet%3As3cret@db/risk", "postgresql://db/risk"),
        ("postgresql://risk:s3cr@t@db/risk", "postgresql://db/risk"),
        ("postgresql://db/risk?user=risk&password=s3cret", "postgresql://db/risk"),
        ("postgresql:///risk?host=/var/run/postgresql&password=s3cret", "postgresql:///risk"),
        ("redis://127.0.0.1:6379/0#s3cret", "redis://127.0.0.1:6379/0"),
    ],
)
def test_a_url_is_shown_without_user_password_or_query(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
    assert "s3cret" not in redacted_url(url)


@pytest.mark.parametrize(
    ("conninfo", "shown"),
    [
        ("host=db user=risk password=s3cret dbname=risk", "host=db user=risk password=*** dbname=risk"),
        ("host=db password = 's3 cr\\'et' dbname=risk", "host=db password = *** dbname=risk"),
        ("PASSWORD=s3cret host=db", "PASSWORD=*** host=db"),
    ],
)
def test_a_libpq_key_value_string_is_shown_with_its_password_hidden(conninfo: str, shown: str) -> None:
    assert redacted_url(conninfo) == shown


def test_a_url_without_credentials_is_shown_as_it_is() -> None:
    assert redacted_url("postgresql://postgres@127.0.0.1:5432/test") == "postgresql://127.0.0.1:5432/test"
    assert redacted_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
