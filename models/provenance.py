"""Which code trained or loads a model: the engine's package version and, in a git checkout, its commit.

Recorded in a model's metadata at training; the registry and the service compare it with
the running code's (`models.canary`) under one documented rule: another major package
version is refused (the model format may have changed); any other difference, a minor
version or commit, is a warning: the feature schema hash, checked separately, is what
decides whether the features still mean the same.
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any

PACKAGE = "risk-engine"


@functools.cache
def code_version() -> dict[str, Any]:
    """`{"package": "0.1.0", "commit": "0322188..." or None}` of the running code."""
    try:
        package = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        package = "unknown"
    return {"package": package, "commit": _git_commit(Path(__file__).resolve().parents[1])}


def _git_commit(root: Path) -> str | None:
    """The checkout's commit (with "-dirty" if files changed), or None outside git."""
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def compare_code(recorded: Any) -> tuple[str | None, str | None]:
    """(refusal, warning) of a model's recorded code version against the running code's, by the rule above."""
    ours = code_version()
    if not isinstance(recorded, dict):
        return None, "the model records no code version (trained before it was recorded)"
    theirs_package, ours_package = str(recorded.get("package")), str(ours["package"])
    if theirs_package.split(".")[0] != ours_package.split(".")[0] and "unknown" not in (theirs_package, ours_package):
        return (f"trained by risk-engine {theirs_package}, this is {ours_package}: another major version "
                "may read models differently; retrain with this version"), None
    if theirs_package != ours_package or recorded.get("commit") != ours["commit"]:
        return None, (f"trained by risk-engine {theirs_package} (commit {str(recorded.get('commit'))[:12]}), this is "
                      f"{ours_package} (commit {str(ours['commit'])[:12]})")
    return None, None
