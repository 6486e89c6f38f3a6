"""Writing a file so that readers see the old one or the new one, never half of either.

Model registries, state snapshots and exported data sets are read by other processes
while they are rewritten, and a crash can land in the middle of a write. Every such
write goes through `write_atomically`: the content goes to a hidden temporary file
beside the target, is flushed to disk, and is renamed over the target (`os.replace` is
atomic within one file system). A failed write leaves the old file as it was; a crash
leaves at worst a stray hidden `.NAME.*.tmp.SUFFIX` file.

A directory written as a whole (a model directory: models, metadata, canary, report) goes
through `replace_directory`: it is written into a hidden temporary directory beside the
target, and swapped in by renames once complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> None:
    """Replace `path` by what `write(temporary)` writes, all at once or not at all.

    The temporary file keeps the target's suffix, so writers that choose the format by
    suffix (Parquet or CSV) write the right one. It is fsynced before the rename and the
    folder after it, so the new content survives a power cut once this returns.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(temporary)
        _fsync(temporary)  # the data is on disk before a name points at it (pandas, pickle do not fsync)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)  # only still there when writing or renaming failed
    sync_directory(path.parent)


def write_text_atomically(path: str | Path, text: str) -> None:
    """`write_atomically` for UTF-8 text."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def replace_directory(path: str | Path, write: Callable[[Path], object]) -> None:
    """Replace the directory `path` by what `write(temporary_directory)` writes there, whole or not at all.

    `write` gets an empty directory beside `path` (same file system). If it fails, the old
    directory is untouched and the temporary one removed. Once written, every file is fsynced
    and the directories are swapped by two renames (the old one aside, the new one in; Linux
    cannot rename over a non-empty directory): a crash between them leaves no `path` and the
    complete old directory as the hidden `.NAME.*.old`, never a half-written `path`.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path}: not a directory")
    token = uuid.uuid4().hex
    temporary, aside = path.with_name(f".{path.name}.{token}.tmp"), path.with_name(f".{path.name}.{token}.old")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary.mkdir()
    try:
        write(temporary)
        for inner in sorted(temporary.rglob("*"), reverse=True):  # files, then their directories
            if inner.is_file():
                _fsync(inner)
            else:
                sync_directory(inner)
        sync_directory(temporary)
        if path.exists():
            os.rename(path, aside)
        try:
            os.rename(temporary, path)
        except OSError:
            if aside.exists():
                os.rename(aside, path)  # put the old one back
            raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # only still there when writing or renaming failed
    shutil.rmtree(aside, ignore_errors=True)
    sync_directory(path.parent)


def sync_directory(directory: str | Path) -> None:
    """Persist a rename in `directory` across a power cut; not possible (nor needed) on every platform."""
    with contextlib.suppress(OSError):
        _fsync(directory)


def _fsync(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
