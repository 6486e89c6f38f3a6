"""`risk rules` and `risk lists` on a decision database: round trips, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main


@pytest.fixture
def risk(tmp_path: Path, capsys, monkeypatch):
    """Runs `risk ...` in process on one data dir; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("USER", "ann")

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args[:2], *args[2:], "--data-dir", str(tmp_path)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _error_line(code: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("risk: error:"), err
    return lines[0]


def test_rules_round_trip_add_edit_disable_restore_history(risk) -> None:
    assert risk("rules", "add", "big", "decline if amount > 50000", "--why", "wave")[0] == 0
    assert risk("rules", "edit", "big", "--text", "decline if amount > 80000", "--base-version", "1",
                "--author", "bob")[0] == 0
    assert risk("rules", "disable", "big")[0] == 0
    code, out, _ = risk("rules", "restore", "big", "2")
    assert code == 0 and "version 4 (restore)" in out

    code, out, _ = risk("rules", "history", "big", "--json")
    history = json.loads(out)

    assert [(v["change"], v["author"]) for v in history["versions"]] == [
        ("create", "ann"), ("edit", "bob"), ("disable", "ann"), ("restore", "ann")]
    assert history["versions"][-1]["text"] == "decline if amount > 80000" and history["versions"][-1]["enabled"]
    assert history["audit"][0]["why"] == "wave"
    code, out, _ = risk("rules", "list")
    assert code == 0 and "big" in out and "decline if amount > 80000" in out


def test_test_mode_and_approval_from_the_command_line(risk, monkeypatch) -> None:
    monkeypatch.setenv("RISK_RULES_REQUIRE_APPROVAL", "true")
    code, out, _ = risk("rules", "add", "big", "decline if amount > 50000")
    assert code == 0 and "pending" in out
    assert "second person" in _error_line(*risk("rules", "approve", "big")[::2])
    assert risk("rules", "approve", "big", "--author", "root")[0] == 0
    assert risk("rules", "test-mode", "big", "on")[0] == 0

    shown = json.loads(risk("rules", "show", "big", "--json")[1])

    assert (shown["mode"], shown["pending"], shown["live_version"]) == ("test", False, 3)


def test_a_rule_that_does_not_compile_is_one_error_line_with_its_position(risk) -> None:
    line = _error_line(*risk("rules", "add", "typo", "decline if amout > 5")[::2])

    assert "line 1, column 12" in line and "amout" in line
    assert "no rule 'nope'" in _error_line(*risk("rules", "show", "nope")[::2])
    risk("rules", "add", "big", "review if amount > 1")
    stale = risk("rules", "edit", "big", "--text", "review if amount > 2", "--base-version", "7")
    assert "at version 1, not 7" in _error_line(*stale[::2])


def test_lists_round_trip_create_add_import_remove_show_history(risk, tmp_path: Path) -> None:
    assert risk("lists", "create", "stolen", "card_fingerprint", "--description", "stolen cards")[0] == 0
    assert risk("lists", "add", "stolen", "fp_1", "fp_2", "--reason", "chargeback",
                "--expires", "2099-01-01T00:00:00Z")[0] == 0
    csv = tmp_path / "cards.csv"
    csv.write_text("value,reason,expires_at\nfp_3,bulk,\nfp_4,bulk,2099-06-01T00:00:00Z\n")
    assert risk("lists", "import", "stolen", str(csv))[0] == 0
    assert risk("lists", "remove", "stolen", "fp_1")[0] == 0

    shown = json.loads(risk("lists", "show", "stolen", "--json")[1])
    every = json.loads(risk("lists", "show", "stolen", "--all", "--json")[1])
    history = json.loads(risk("lists", "history", "stolen", "--json")[1])

    assert {i["value"]: i["expires_at"] for i in shown["items"]} == {
        "fp_2": "2099-01-01T00:00:00+00:00", "fp_3": None, "fp_4": "2099-06-01T00:00:00+00:00"}
    assert shown["list"]["version"] == 4 and len(every["items"]) == 4
    assert [e["change"] for e in history] == ["create", "add", "import", "remove"]
    assert "stolen                   card_fingerprint      4      3" in risk("lists", "list")[1]


def test_list_errors_are_one_line(risk, tmp_path: Path) -> None:
    assert "no list 'nope'" in _error_line(*risk("lists", "add", "nope", "x")[::2])
    risk("lists", "create", "ips", "ip")
    assert "not an IP address" in _error_line(*risk("lists", "add", "ips", "300.1.1.1")[::2])
    bad = tmp_path / "bad.csv"
    bad.write_text("value,expiry\n1.2.3.4,2099-01-01T00:00:00Z\n")
    assert "line 1" in _error_line(*risk("lists", "import", "ips", str(bad))[::2])
    assert "cannot read" in _error_line(*risk("lists", "import", "ips", str(tmp_path / "missing.csv"))[::2])
    assert "not in the future" in _error_line(*risk("lists", "add", "ips", "1.2.3.4", "--expires",
                                                     "2001-01-01T00:00:00Z")[::2])
