"""`risk models`: list, show, promote, roll back and add models in a model registry."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.describe import diff, summary
from models.registry import ModelInfo, Registry, read_metadata


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="manage the model registry: list, show, diff, promote, rollback, add",
        description="A registry is a folder of model directories (as written by `risk train`) plus "
        "registry.json, which names the promoted model that serving loads. add, promote and rollback load the "
        "model and run the canary (model files, feature schema, code version, the contract's example order, "
        "decision rates on the sample recorded at training) and refuse a model that fails it.",
    )
    # --registry after the action (`risk models list --registry DIR`), so every action declares it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", type=Path,
                        help="registry folder (default: $RISK_REGISTRY if set, else ./registry)")
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="table of the models, oldest first; * marks the promoted one")
    show = actions.add_parser("show", parents=[common], help="a model in words: when, data, trees, policy, metrics")
    show.add_argument("version", help="a registry version, or a model directory")
    show.add_argument("--json", action="store_true", help="the metadata as JSON, for machines")
    diff = actions.add_parser("diff", parents=[common], help="what differs between two models (params, policy, "
                              "metrics, schema)")
    diff.add_argument("version_a", metavar="A", help="a registry version, or a model directory")
    diff.add_argument("version_b", metavar="B", help="a registry version, or a model directory")
    promote = actions.add_parser("promote", parents=[common], help="make a version the one serving loads")
    promote.add_argument("version")
    actions.add_parser("rollback", parents=[common], help="re-promote the previously promoted version")
    add = actions.add_parser("add", parents=[common], help="check a model and copy it into the registry "
                             "(not served until promoted)")
    add.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    add.add_argument("--version", help="version to file it under (default: the one in its metadata.json); "
                     "written into the copy's metadata, so serving names this version")
    add.add_argument("--promote", action="store_true", help="promote it too: serving switches to it")
    for action in actions.choices.values():
        action.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from serve.config import registry_dir  # the one reader of RISK_* settings (here: RISK_REGISTRY)

    root = registry_dir(args.registry)
    if args.models_action == "add":
        root.mkdir(parents=True, exist_ok=True)  # the first `add` starts a registry
        add(Registry(root), args.model_dir, args.version, args.promote)
    elif args.models_action == "list":
        print(format_table(Registry(root).versions(), root))
    elif args.models_action == "show":
        metadata = _metadata(root, args.version)
        print(json.dumps(metadata, indent=2) if args.json else summary(metadata, registry_version=args.version))
    elif args.models_action == "diff":
        a, b = _metadata(root, args.version_a), _metadata(root, args.version_b)
        lines = diff(a, b)
        print(f"A = {args.version_a}, B = {args.version_b}")
        print("\n".join(lines) if lines else "no recorded difference")
    elif args.models_action == "promote":
        registry = Registry(root)
        before = registry.promoted()
        registry.promote(args.version)
        _say_checked(registry)
        print(f"{args.version} was already promoted" if before == args.version
              else f"promoted {args.version} (was {before or 'none'})")
    elif args.models_action == "rollback":
        registry = Registry(root)
        before = registry.promoted()
        version = registry.rollback()
        _say_checked(registry)
        print(f"rolled back to {version} (was {before})")


def add(registry: Registry, model_dir: Path, version: str | None, promote: bool) -> None:
    """Check and file a model; say plainly whether serving changes (only a promotion changes it)."""
    version = registry.add(model_dir, version)
    _say_checked(registry)
    if promote:
        before = registry.promoted()
        registry.promote(version)
        print(f"added {version} to {registry.root} and promoted it (was {before or 'none'}): serving switches to "
              "it at its next reload")
        return
    live = registry.promoted()
    print(f"added {version} to {registry.root}; not serving: the promoted model is still {live or 'none'} "
          f"(run `risk models promote {version}` to serve it)")


def _say_checked(registry: Registry) -> None:
    """The canary's verdict and warnings (on stderr: the result line stays alone on stdout)."""
    result = registry.last_check
    if result is None:
        return
    sample = result.details.get("sample")
    rates = "" if not sample else ", decision rates on its {:,}-row sample as at training".format(sample["rows"])
    print(f"checks passed: model files, feature schema, code version, example order{rates}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _metadata(root: Path, version: str) -> dict[str, Any]:
    """A registry version's metadata; a path to a model directory works too (to look before adding)."""
    as_path = Path(version)
    in_registry = "/" not in version and "\\" not in version and (root / version / "metadata.json").is_file()
    if not in_registry and (as_path / "metadata.json").is_file():
        return read_metadata(as_path)
    return Registry(root).show(version)


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
