"""The model registry: a folder of self-contained model directories and which one is promoted.

Serving loads whatever is promoted, so promoting and rolling back must be instant and never
leave a half-written state behind. The state is one small file, `registry.json`
(`{"promoted": VERSION | null, "history": [VERSIONS in promotion order]}`), always replaced
atomically; a model is added by copying it into a hidden temporary folder and renaming that
into place, so a crash never leaves a half-copied model that looks complete.

A model is identified by its folder name, which `add` sets to its version (and writes into
the copy's metadata, keeping the trained one as `trained_version`), so the version a service
names in `/readyz` and in every decision is the registry's. Adding does not serve a model:
only `promote` (or `add --promote`) changes what serving loads.

Safety: `add`, `promote` and `rollback` load the model and run the canary
(`models.canary.check_model_dir`: both models present and loadable, feature schema, code
version, the contract's example order, decision rates on the sample recorded at training);
a refused model is a `ModelRefused` naming why, and nothing changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from risk.errors import DataError, InvalidInput, ModelRefused, NotFound
from risk.files import sync_directory, write_text_atomically

if TYPE_CHECKING:  # the canary loads LightGBM and the feature pipeline: imported when a check runs
    from models.canary import CanaryResult

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so concurrent writers are not serialised there
    fcntl = None  # type: ignore[assignment]

METADATA = "metadata.json"
STATE = "registry.json"
LOCK = ".registry.lock"
MAX_LISTED = 10  # versions named in a "not found" message; more would drown the message
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ModelInfo:
    """One line of `Registry.versions()`: what is needed to pick a model, without loading it."""

    version: str
    path: Path
    created_at: datetime | None
    as_of: datetime | None
    fraud_auc: float | None
    fraud_ap: float | None
    regret_auc: float | None
    regret_ap: float | None
    promoted: bool


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """The metadata of a model directory; a missing or corrupt metadata.json is a DataError naming the file."""
    path = Path(model_dir) / METADATA
    if not path.is_file():
        raise DataError(f"{model_dir}: not a model directory (no {METADATA})")
    return _read_json_object(path)


class Registry:
    """A registry folder: each subfolder holding a metadata.json is a model, `registry.json` says which is live."""

    def __init__(self, root: Path, checker: Callable[[Path], CanaryResult] | None = None) -> None:
        """`checker` runs on every model before it is added or goes live (default: the canary)."""
        self.checker = checker or _canary
        self.last_check: CanaryResult | None = None  # the latest check's result, warnings included
        root = Path(root)
        if not root.exists():
            raise NotFound(f"model registry {root} does not exist (set --registry or RISK_REGISTRY)")
        if not root.is_dir():
            raise NotFound(f"model registry {root} is not a directory")
        self.root = root

    def versions(self) -> list[ModelInfo]:
        """Every model, oldest first by created_at (models without one first, then by name)."""
        promoted = self.promoted()
        infos = [_info(path, read_metadata(path), path.name == promoted) for path in self._model_dirs()]
        return sorted(infos, key=lambda info: (info.created_at or _EARLIEST, info.version))

    def show(self, version: str) -> dict[str, Any]:
        """The metadata of one version; an unknown one is NotFound naming the available ones."""
        return read_metadata(self._model_dir(version))

    def promoted(self) -> str | None:
        """The version serving should load, or None before the first promotion."""
        return self._read_state()["promoted"]

    def promoted_path(self) -> Path | None:
        """The promoted model's directory; NotFound if it was deleted, so serving fails clearly, not later."""
        version = self.promoted()
        if version is None:
            return None
        path = self.root / version
        if not (path / METADATA).is_file():
            raise NotFound(f"promoted model {version} is missing from registry {self.root}; promote another")
        return path

    def check(self, model_dir: Path) -> CanaryResult:
        """Run the checker on a model directory; a refused model is ModelRefused naming every problem."""
        result = self.checker(model_dir)
        self.last_check = result
        if not result.ok:
            raise ModelRefused(f"model {model_dir} refused: {result.reason()}")
        return result

    def promote(self, version: str) -> None:
        """Make `version` the live model; promoting the live one again is a no-op, so history has no repeats."""
        path = self._model_dir(version)
        read_metadata(path)  # a corrupt model must never go live
        self.check(path)
        with self._locked():
            state = self._read_state()
            if state["promoted"] == version:
                return
            state["history"].append(version)
            state["promoted"] = version
            self._write_state(state)

    def rollback(self) -> str:
        """Re-promote the previously promoted version (drop the last promotion) and return it."""
        with self._locked():
            state = self._read_state()
            history = state["history"]
            if len(history) < 2:
                raise InvalidInput(f"nothing to roll back to in registry {self.root}: "
                                   f"{'no promotion yet' if not history else f'only {history[0]} was promoted'}")
            previous = history[-2]
            if not (self.root / previous / METADATA).is_file():
                raise NotFound(f"cannot roll back to {previous}: it is no longer in registry {self.root}")
            self.check(self.root / previous)
            history.pop()
            state["promoted"] = previous
            self._write_state(state)
        return previous

    def add(self, model_dir: Path, version: str | None = None) -> str:
        """Copy a model directory into the registry under `version` (default: its metadata's); never overwrites."""
        model_dir = Path(model_dir)
        metadata = read_metadata(model_dir)
        version = version if version is not None else metadata.get("version")
        if not isinstance(version, str) or not _is_version(version):
            raise InvalidInput(f"{model_dir}: no usable version ({version!r}); give one that names a plain folder")
        if self.root.resolve().is_relative_to(model_dir.resolve()):
            raise InvalidInput(f"registry {self.root} lies inside model directory {model_dir}; move one of them")
        self.check(model_dir)
        with self._locked():
            target = self.root / version
            if target.exists():
                raise InvalidInput(f"version {version} is already in registry {self.root}; "
                                   "versions are never overwritten, add it under another version")
            staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{version}.", suffix=".tmp"))
            try:
                shutil.copytree(model_dir, staging, dirs_exist_ok=True)
                _file_under(staging, version, metadata)
                os.rename(staging, target)  # hidden until complete: a crash leaves only a dot-folder
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise DataError(f"cannot copy {model_dir} into registry {self.root}: {exc}") from None
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            sync_directory(self.root)
        return version

    def _model_dirs(self) -> list[Path]:
        return [path for path in self.root.iterdir()
                if _is_version(path.name) and path.is_dir() and (path / METADATA).is_file()]

    def _model_dir(self, version: str) -> Path:
        """The folder of a known version; anything else (a path like `../x` included) is NotFound."""
        path = self.root / version
        if _is_version(version) and (path / METADATA).is_file():
            return path
        names = sorted((path.name for path in self._model_dirs()), reverse=True)  # timestamped: newest first
        if not names:
            raise NotFound(f"no model version {version!r}: registry {self.root} holds no models")
        listed = ", ".join(names[:MAX_LISTED])
        more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        raise NotFound(f"no model version {version!r} in registry {self.root}; available: {listed}{more}")

    def _read_state(self) -> dict[str, Any]:
        path = self.root / STATE
        if not path.exists():
            return {"promoted": None, "history": []}
        state = _read_json_object(path)
        promoted, history = state.get("promoted"), state.get("history", [])
        if not isinstance(history, list) or not all(isinstance(v, str) for v in history):
            raise DataError(f"{path}: 'history' must be a list of versions, got {history!r}")
        if promoted != (history[-1] if history else None):
            raise DataError(f"{path}: 'promoted' ({promoted!r}) must be the last entry of 'history' ({history!r})")
        return {"promoted": promoted, "history": history}

    def _write_state(self, state: dict[str, Any]) -> None:
        write_text_atomically(self.root / STATE, json.dumps(state, indent=2) + "\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers (two promotions at once would otherwise lose one); readers never wait."""
        try:
            handle = open(self.root / LOCK, "a")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise DataError(f"cannot write to registry {self.root}: {exc.strerror}") from None
        with handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield  # the lock goes with the file handle


def _canary(model_dir: Path) -> CanaryResult:
    from models.canary import check_model_dir

    return check_model_dir(model_dir)


def _file_under(model_dir: Path, version: str, metadata: dict[str, Any]) -> None:
    """Write the registry version into a copied model's metadata, so serving names the registry's version."""
    if metadata.get("version") == version:
        return
    renamed = dict(metadata, version=version, trained_version=metadata.get("version"))
    write_text_atomically(model_dir / METADATA, json.dumps(renamed, indent=2, default=str))


def _is_version(name: str) -> bool:
    """A version names one folder directly inside the registry: no separators, nothing hidden (temp folders)."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\0")


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _info(path: Path, metadata: dict[str, Any], promoted: bool) -> ModelInfo:
    training = _section(metadata, "training")
    metrics = _section(metadata, "metrics")
    fraud, regret = _section(metrics, "fraud"), _section(metrics, "regret")
    return ModelInfo(
        version=path.name,
        path=path,
        created_at=_time(metadata.get("created_at"), path, "created_at"),
        as_of=_time(training.get("as_of"), path, "training.as_of"),
        fraud_auc=_number(fraud.get("roc_auc")),
        fraud_ap=_number(fraud.get("average_precision")),
        regret_auc=_number(regret.get("roc_auc")),
        regret_ap=_number(regret.get("average_precision")),
        promoted=promoted,
    )


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time(value: Any, model_dir: Path, key: str) -> datetime | None:
    """An RFC 3339 time from metadata; a time without an offset is taken as UTC so all compare."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise DataError(f"{model_dir / METADATA}: {key} {value!r} is not an RFC 3339 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
