"""`risk users add|list|disable`: passwords from stdin only, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import one_error_line

ROOT = Path(__file__).resolve().parents[2]


def users(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "users", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_users_are_added_listed_and_disabled_in_the_data_dir(tmp_path) -> None:
    data = str(tmp_path)

    added = users("add", "alice", "--role", "admin", "--password-stdin", "--data-dir", data,
                  stdin="correct horse battery\n")
    users("add", "bob", "--password-stdin", "--data-dir", data, stdin="another long password\n")
    disabled = users("disable", "bob", "--data-dir", data)
    listed = users("list", "--data-dir", data)

    assert added.returncode == 0 and "alice (admin) added" in added.stdout
    assert disabled.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("alice\tadmin\tactive") and lines[1].startswith("bob\tanalyst\tdisabled")
    assert (tmp_path / "decisions.sqlite").exists()


def test_users_errors_are_one_line(tmp_path) -> None:
    data = str(tmp_path)
    users("add", "alice", "--password-stdin", "--data-dir", data, stdin="correct horse battery\n")

    taken = users("add", "alice", "--password-stdin", "--data-dir", data, stdin="correct horse battery\n")
    short = users("add", "bob", "--password-stdin", "--data-dir", data, stdin="short\n")
    no_terminal = users("add", "carol", "--data-dir", data)  # stdin is not a terminal: no prompt possible
    unknown = users("disable", "dave", "--data-dir", data)

    assert "exists already" in one_error_line(taken.stderr) and taken.returncode == 2
    assert "at least 10" in one_error_line(short.stderr)
    assert "--password-stdin" in one_error_line(no_terminal.stderr)
    assert "no user 'dave'" in one_error_line(unknown.stderr)


def test_the_password_is_not_a_command_line_argument() -> None:
    helped = users("add", "--help")

    assert "--password-stdin" in helped.stdout and "--password " not in helped.stdout
