"""`risk rules`: manage analyst rules in the decision database, and backtest rules over a past period."""

from __future__ import annotations

import argparse

from cli.rules_db import author, database_options, emit, open_store
from serve.rules_store.records import RuleStatus, RuleVersion
from serve.rules_store.store import RulesStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules", help="manage analyst rules: add, edit, disable, test mode, restore, approve, backtest",
        description="Rules live in the decision database (--data-dir or --database-url, as for `risk serve`); "
        "every change is a new version with its author and reason, picked up by running services within a second.")
    common = database_options()
    actions = parser.add_subparsers(dest="rules_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="create a rule")
    add.add_argument("rule_id")
    add.add_argument("text", help='e.g. "decline if amount > 50000 and card_country != ip_country"')
    add.add_argument("--test-mode", action="store_true", help="evaluate and log it without acting")
    add.add_argument("--description")
    edit = actions.add_parser("edit", parents=[common], help="change a rule's text or description")
    edit.add_argument("rule_id")
    edit.add_argument("--text")
    edit.add_argument("--description")
    for name, text in (("disable", "stop a rule"), ("enable", "start a disabled rule again"),
                       ("approve", "put a pending decline rule in effect (a second person)"),
                       ("show", "a rule's latest version"), ("history", "every version and change of a rule")):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("rule_id")
    restore = actions.add_parser("restore", parents=[common], help="make an earlier version the latest again")
    restore.add_argument("rule_id")
    restore.add_argument("version", type=int)
    test_mode = actions.add_parser("test-mode", parents=[common], help="test mode on (log only) or off (act)")
    test_mode.add_argument("rule_id")
    test_mode.add_argument("state", choices=("on", "off"))
    actions.add_parser("list", parents=[common], help="table of the rules")
    for name in ("edit", "disable", "enable", "approve", "restore", "test-mode"):
        actions.choices[name].add_argument("--base-version", type=int,
                                           help="the version the change was made on (refused if no longer latest)")
    for action in actions.choices.values():
        action.set_defaults(run=run)
    from cli import rules_backtest

    rules_backtest.register(actions)


def run(args: argparse.Namespace) -> None:
    with open_store(args) as store:
        _run(args, store)


def _run(args: argparse.Namespace, store: RulesStore) -> None:
    action, who, why = args.rules_action, author(args), args.why
    base = getattr(args, "base_version", None)
    if action == "list":
        statuses = store.rules()
        emit(args, [s.as_json() for s in statuses], _table(statuses))
        return
    if action == "show":
        status = store.rule(args.rule_id)
        emit(args, status.as_json(), _table([status]) + f"\n\n{status.head.state.text}")
        return
    if action == "history":
        versions = store.rule_history(args.rule_id)
        emit(args, {"versions": [v.as_json() for v in versions],
                    "audit": [e.as_json() for e in store.history("rule", args.rule_id)]}, _history(versions))
        return
    if action == "add":
        status = store.create_rule(args.rule_id, args.text, author=who, why=why,
                                   mode="test" if args.test_mode else "live", description=args.description)
    elif action == "edit":
        status = store.edit_rule(args.rule_id, author=who, why=why, base_version=base, text=args.text,
                                 description=args.description)
    elif action in ("disable", "enable"):
        status = store.set_enabled(args.rule_id, action == "enable", author=who, why=why, base_version=base)
    elif action == "test-mode":
        status = store.set_mode(args.rule_id, "test" if args.state == "on" else "live", author=who, why=why,
                                base_version=base)
    elif action == "restore":
        status = store.restore_rule(args.rule_id, args.version, author=who, why=why, base_version=base)
    else:  # approve
        status = store.approve_rule(args.rule_id, approver=who, why=why, base_version=base)
    emit(args, status.as_json(), _changed(status))


def _changed(status: RuleStatus) -> str:
    head = status.head
    waiting = " (pending: waits for a second person's approval)" if head.pending else ""
    return f"rule {head.rule_id}: version {head.version} ({head.change}) by {head.author}{waiting}"


def _table(statuses: list[RuleStatus]) -> str:
    lines = [f"{'rule_id':<24} {'ver':>4} {'live':>4} {'mode':<5} {'enabled':<7} {'pending':<7} text"]
    for s in statuses:
        h = s.head
        live = "-" if s.live is None else str(s.live.version)
        lines.append(f"{h.rule_id:<24} {h.version:>4} {live:>4} {h.state.mode:<5} {str(h.state.enabled):<7} "
                     f"{str(h.pending):<7} {h.state.text}")
    return "\n".join(lines)


def _history(versions: list[RuleVersion]) -> str:
    lines = [f"{'ver':>4} {'change':<10} {'author':<16} {'changed_at':<32} text / why"]
    for v in versions:
        lines.append(f"{v.version:>4} {v.change:<10} {v.author:<16} {v.changed_at.isoformat():<32} "
                     f"{v.state.text}{' / ' + v.why if v.why else ''}")
    return "\n".join(lines)
