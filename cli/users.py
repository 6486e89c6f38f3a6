"""`risk users add|list|disable`: the web app's accounts, in the service's decision log database.

The password is read from standard input (`--password-stdin`, for scripts) or asked for
twice at a prompt; never a command-line argument, which other users of the machine can
read in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from risk.errors import InvalidInput

if TYPE_CHECKING:
    from serve.ui.users import UserStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "users", help="manage the web app's accounts (analysts and admins)",
        description="Accounts of the web app (/ui), stored with the decision log: SQLite in --data-dir by default, "
        "PostgreSQL with --database-url (or RISK_DATA_DIR / RISK_DATABASE_URL, as for `risk serve`).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", choices=("analyst", "admin"), default="analyst")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="every account, with role and state")
    listing.set_defaults(run=run_list)
    disable = actions.add_parser("disable", help="stop an account from logging in (its history is kept)")
    disable.add_argument("name")
    disable.set_defaults(run=run_disable)
    for action in (add, listing, disable):
        action.add_argument("--data-dir", type=Path, help="the service's data folder (SQLite decision log)")
        action.add_argument("--database-url", help="the service's PostgreSQL decision log")


def run_add(args: argparse.Namespace) -> None:
    password = _password(args.password_stdin)
    with _store(args) as store:
        user = store.add(args.name, args.role, password)
    print(f"user {user.name} ({user.role}) added")


def run_list(args: argparse.Namespace) -> None:
    with _store(args) as store:
        users = store.all()
    if not users:
        print("no users: add one with `risk users add NAME`")
    for user in users:
        state = "active" if user.active else f"disabled {user.disabled_at:%Y-%m-%d %H:%M}Z"
        print(f"{user.name}\t{user.role}\t{state}\tcreated {user.created_at:%Y-%m-%d %H:%M}Z")


def run_disable(args: argparse.Namespace) -> None:
    with _store(args) as store:
        user = store.disable(args.name)
    print(f"user {user.name} disabled")


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[UserStore]:
    """A UserStore over the decision log the settings name, closed after use."""
    from serve.config import load_settings
    from serve.decision_log import open_decision_log
    from serve.ui.users import UserStore

    settings = load_settings(data_dir=args.data_dir, database_url=args.database_url)
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = open_decision_log(settings.database_url, settings.sqlite_path)
    try:
        yield UserStore(log)
    finally:
        log.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InvalidInput("--password-stdin: no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password: pass it on standard input with --password-stdin")
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        raise InvalidInput("the two passwords differ")
    return password
