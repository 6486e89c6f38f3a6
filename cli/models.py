"""`risk models`: list, show, promote, roll back and add models in a model registry."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from models.registry import ModelInfo, Registry


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="manage the model registry: list, show, promote, rollback, add",
        description="A registry is a folder of model directories (as written by `risk train`) plus "
        "registry.json, which names the promoted model that serving loads.",
    )
    # --registry after the action (`risk models list --registry DIR`), so every action declares it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", type=Path,
                        help="registry folder (default: $RISK_REGISTRY if set, else ./registry)")
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="table of the models, oldest first; * marks the promoted one")
    show = actions.add_parser("show", parents=[common], help="print a model's metadata as JSON")
    show.add_argument("version")
    promote = actions.add_parser("promote", parents=[common], help="make a version the one serving loads")
    promote.add_argument("version")
    actions.add_parser("rollback", parents=[common], help="re-promote the previously promoted version")
    add = actions.add_parser("add", parents=[common], help="copy a model directory into the registry")
    add.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    add.add_argument("--version", help="version to file it under (default: the one in its metadata.json)")
    for action in actions.choices.values():
        action.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from serve.config import registry_dir  # the one reader of RISK_* settings (here: RISK_REGISTRY)

    root = registry_dir(args.registry)
    if args.models_action == "add":
        root.mkdir(parents=True, exist_ok=True)  # the first `add` starts a registry
        registry = Registry(root)
        version = registry.add(args.model_dir, args.version)
        print(f"added {version} to {root}")
    elif args.models_action == "list":
        print(format_table(Registry(root).versions(), root))
    elif args.models_action == "show":
        print(json.dumps(Registry(root).show(args.version), indent=2))
    elif args.models_action == "promote":
        registry = Registry(root)
        before = registry.promoted()
        registry.promote(args.version)
        print(f"{args.version} was already promoted" if before == args.version
              else f"promoted {args.version} (was {before or 'none'})")
    elif args.models_action == "rollback":
        registry = Registry(root)
        before = registry.promoted()
        print(f"rolled back to {registry.rollback()} (was {before})")


def format_table(infos: list[ModelInfo], root: Path) -> str:
    """One line per model, times in UTC, metrics to 4 decimals, `-` where the metadata has none."""
    if not infos:
        return f"no models in {root}"
    header = ("version", "created (UTC)", "as_of (UTC)", "fraud AUC", "fraud AP", "regret AUC", "regret AP")
    rows = [(info.version, _when(info.created_at), _when(info.as_of),
             _metric(info.fraud_auc), _metric(info.fraud_ap), _metric(info.regret_auc), _metric(info.regret_ap))
            for info in infos]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for mark, row in zip((" ", *("*" if info.promoted else " " for info in infos)), (header, *rows), strict=True):
        text = [cell.ljust(width) for cell, width in zip(row[:3], widths[:3], strict=True)]
        numbers = [cell.rjust(width) for cell, width in zip(row[3:], widths[3:], strict=True)]
        lines.append(f"{mark} " + "  ".join(text + numbers).rstrip())
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}"


def _metric(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
