"""Times typed in the web app's forms follow the API's RFC 3339 rule: seconds and an offset, nothing guessed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from risk.errors import InvalidInput
from serve.ui.times import form_time


def test_rfc_3339_times_with_an_offset_are_read_as_the_moment_they_name() -> None:
    assert form_time(" 2026-03-01T08:00:00Z ", "from") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert form_time("2026-03-01t08:00:00.5z", "from") == datetime(2026, 3, 1, 8, 0, 0, 500_000, tzinfo=UTC)
    assert form_time("2026-03-01 09:00:00+01:00", "from") == datetime(2026, 3, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-03-01T08:00", "2026-03-01T08:00:00", "2026-03-01T08:00:00+0100",
                                  "2026-03-01", "1772352000", "yesterday", "2026-02-30T00:00:00Z"])
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^expires: "):
        form_time(text, "expires")
