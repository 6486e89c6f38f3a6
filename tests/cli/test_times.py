"""Command-line times are read one way by every command: RFC 3339 with a timezone."""

from __future__ import annotations

import pandas as pd
import pytest

from cli.main import main
from cli.times import parse_time
from risk.errors import InvalidInput


def test_a_time_with_an_offset_is_read_in_utc():
    assert parse_time(" 2026-03-10T01:00:00+01:00 ", "--as-of") == pd.Timestamp("2026-03-10T00:00:00Z")


@pytest.mark.parametrize("text", ["2026-03-10T00:00:00", "2026-03-10T00:00Z", "20260310T000000Z", "1767225600"])
def test_what_pandas_would_guess_at_is_refused_naming_the_option(text):
    with pytest.raises(InvalidInput, match=f"--from {text!r}: not an RFC 3339 time"):
        parse_time(text, "--from")


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--orders", "o.parquet", "--outcomes", "x.parquet", "--as-of", "2026-03-01", "--out", "m"],
        ["score", "--model", "m", "--orders", "o.parquet", "--from", "2026-03-01T00:00:00", "--out", "p.parquet"],
    ],
)
def test_train_and_score_refuse_a_time_without_a_timezone_in_one_line(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an RFC 3339 time" in err[0]
