"""`risk lists`: analyst lists in the decision database (block and allow lists referenced as @name in rules)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.rules_db import author, database_options, emit, open_store
from cli.times import parse_time
from risk.errors import DataError
from serve.rules_store.records import NewItem, StoredItem, StoredList
from serve.rules_store.store import LIST_KINDS, RulesStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lists", help="manage analyst lists: create, add, remove, import, show, history, restore",
        description="Typed lists (cards, BINs, devices, IPs and CIDR ranges, e-mail domains, accounts, addresses, "
        "countries) in the decision database; items keep their reason, author, expiry and history.")
    common = database_options()
    actions = parser.add_subparsers(dest="lists_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="create an empty list")
    create.add_argument("name")
    create.add_argument("kind", choices=LIST_KINDS)
    create.add_argument("--description")
    add = actions.add_parser("add", parents=[common], help="add items")
    add.add_argument("name")
    add.add_argument("values", nargs="+", metavar="VALUE")
    add.add_argument("--reason", default="")
    add.add_argument("--expires", help="RFC 3339 time from which the items no longer count")
    remove = actions.add_parser("remove", parents=[common], help="remove items")
    remove.add_argument("name")
    remove.add_argument("values", nargs="+", metavar="VALUE")
    imported = actions.add_parser("import", parents=[common], help="add the items of a CSV file")
    imported.add_argument("name")
    imported.add_argument("csv", type=Path)
    show = actions.add_parser("show", parents=[common], help="a list's items")
    show.add_argument("name")
    show.add_argument("--all", action="store_true", help="every item ever, removed ones included")
    history = actions.add_parser("history", parents=[common], help="every change of a list")
    history.add_argument("name")
    restore = actions.add_parser("restore", parents=[common], help="make a list hold what it held at a version")
    restore.add_argument("name")
    restore.add_argument("version", type=int)
    actions.add_parser("list", parents=[common], help="table of the lists")
    for action in actions.choices.values():
        action.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    with open_store(args) as store:
        _run(args, store)


def _run(args: argparse.Namespace, store: RulesStore) -> None:
    action, who, why = args.lists_action, author(args), args.why
    if action == "list":
        lists = store.lists()
        emit(args, [item.as_json() for item in lists], _lists_table(lists))
        return
    if action == "show":
        listed, items = store.list_items(args.name, include_removed=args.all)
        emit(args, {"list": listed.as_json(), "items": [i.as_json() for i in items]}, _items_table(listed, items))
        return
    if action == "history":
        store.list_items(args.name)  # NotFound for an unknown list
        entries = store.history("list", args.name)
        emit(args, [e.as_json() for e in entries], "\n".join(
            f"v{e.version:<4} {e.change:<8} {e.author:<16} {e.changed_at.isoformat()}  {e.why or ''}" for e in entries))
        return
    if action == "create":
        listed = store.create_list(args.name, args.kind, author=who, description=args.description, why=why)
    elif action == "add":
        expires = parse_time(args.expires, "--expires").to_pydatetime() if args.expires else None
        listed = store.add_items(args.name, [NewItem(v, args.reason, expires) for v in args.values], author=who,
                                 why=why)
    elif action == "remove":
        listed = store.remove_items(args.name, args.values, author=who, why=why)
    elif action == "import":
        listed = store.import_csv(args.name, _read_csv(args.csv), author=who, why=why)
    else:  # restore
        listed = store.restore_list(args.name, args.version, author=who, why=why)
    emit(args, listed.as_json(), f"list {listed.name}: version {listed.version} ({action}) by {who}")


def _read_csv(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def _lists_table(lists: list[StoredList]) -> str:
    lines = [f"{'name':<24} {'kind':<18} {'ver':>4} {'items':>6} description"]
    lines += [f"{x.name:<24} {x.kind:<18} {x.version:>4} {x.items:>6} {x.description or ''}" for x in lists]
    return "\n".join(lines)


def _items_table(listed: StoredList, items: list[StoredItem]) -> str:
    lines = [f"list {listed.name} ({listed.kind}), version {listed.version}",
             f"{'value':<34} {'added_at':<27} {'expires_at':<27} {'removed_at':<27} {'author':<12} reason"]
    for i in items:
        lines.append(f"{i.value:<34} {i.added_at.isoformat():<27} {_iso(i.expires_at):<27} {_iso(i.removed_at):<27} "
                     f"{i.author:<12} {i.reason}")
    return "\n".join(lines)


def _iso(moment: object) -> str:
    return "-" if moment is None else moment.isoformat()  # type: ignore[attr-defined]
