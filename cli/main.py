"""Entry point of the `risk` command: parses the command line and reports errors in one line.

Each command lives in its own module with `register(subparsers)`; this file only
wires them and turns the engine's errors into a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cli import demo, evaluate, export, features, lists, models, rules, score, serve, simulate, state, train, users
from risk.errors import RiskError

COMMANDS = (simulate, features, train, score, evaluate, models, serve, state, export, rules, lists, users, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="risk",
        description="Fraud and regret risk scoring for social commerce.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become `risk: error: ...` on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except RiskError as exc:
        print(f"risk: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("risk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python quiet at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
