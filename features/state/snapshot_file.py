"""The embedded state's snapshot file: a stream of small pickles, written and read piece by piece.

Why pieces: one `pickle.dump` of an 80 MB state is seconds of CPU in one burst, and on a
2-core machine such a burst beside the scoring service raised its p99 (README,
"Replicas, state loading and snapshots"). Here every map is written as pieces of
PIECE_ITEMS entries, each a pickle of its own, and the writer checks in with a `Pacer`
between pieces, so a follower process can spread the same work thin (a few percent of a
core over tens of seconds). Reading is paced the same way. Dirty pages are flushed every
SYNC_EVERY_BYTES as it goes, so the final fsync is small, not a storm of 80 MB at once.

Layout: MAGIC, then a header pickle {"version", "newest_us", "covers_until_us"}, then
pieces (map index, [(key, value), ...]), then ("end", {map: entries}). The writer goes
through `write_atomically` (temp file + fsync + rename): the path holds the previous
complete snapshot until the new one is whole, so a writer killed mid-way (even with
SIGKILL) leaves the last snapshot usable. The end record's counts are checked on
reading, so a file cut short by other means is an error, never a silently smaller state.

`covers_until_us`: every decision-log row recorded before about this moment (wall clock,
microseconds) is in the snapshot; restoring replays the log from a margin before it.
Older snapshots (version 5, and 4: one pickle) are refused with the way out: they hold a state
without the buyers' habits log, which would give wrong features, so the state is rebuilt
from the decision log (`risk state rebuild`) instead.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from features.state.sharded import SHARDS, ShardedDict
from risk.errors import DataError
from risk.files import write_atomically
from risk.pacing import UNPACED, Pacer

SNAPSHOT_VERSION = 6  # 6: the buyers' habits log (features.keys.HABITS_LOG)
OLDER_LAYOUTS = (4, 5)  # 4: one pickle of (4, logs, sets, seen_at, ...); 5: this format, without the habits log
MAGIC = b"risk-state-snapshot\n"
MAPS = ("logs", "sets", "seen_at", "orders", "labelled")
PIECE_ITEMS = 128  # entries per pickle: about 0.5-1 ms of CPU to write or read (logs: a quarter of it, they are long)
SYNC_EVERY_BYTES = 2 << 20
_MASK = SHARDS - 1


@dataclass
class SnapshotParts:
    """What a snapshot holds: the state's maps by name, its newest event time, and the log time it covers."""

    maps: dict[str, ShardedDict[Any]]
    newest_us: int
    covers_until_us: int | None  # None: unknown (a version 4 file; its modification time stands in)


def write_snapshot(path: Path, parts: SnapshotParts, pacer: Pacer = UNPACED) -> None:
    """Write `parts` to `path` atomically, piece by piece, pausing as `pacer` says (Interrupted: nothing changed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def dump(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            handle.write(MAGIC)
            _dump(handle, {"version": SNAPSHOT_VERSION, "newest_us": parts.newest_us,
                           "covers_until_us": parts.covers_until_us})
            unsynced = 0
            counts: dict[str, int] = {}
            for index, name in enumerate(MAPS):
                counts[name] = 0
                for piece in _pieces(parts.maps[name], PIECE_ITEMS // 4 if name in ("logs", "sets") else PIECE_ITEMS):
                    unsynced += _dump(handle, (index, piece))
                    counts[name] += len(piece)
                    if unsynced >= SYNC_EVERY_BYTES:
                        handle.flush()
                        os.fdatasync(handle.fileno())  # a little at a time: no storm of dirty pages at the end
                        unsynced = 0
                    pacer.tick()
            _dump(handle, ("end", counts))

    write_atomically(path, dump)


def read_snapshot(path: Path, pacer: Pacer = UNPACED) -> SnapshotParts:
    """The parts of the snapshot at `path`; a missing, foreign, cut or other-version file is a DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no state snapshot here")
    try:
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                handle.seek(0)
                return _read_legacy(path, pickle.load(handle))
            return _read_pieces(path, handle, pacer)
    except DataError:
        raise
    except Exception as exc:  # any failure to unpickle means the same thing to the caller
        raise DataError(f"{path}: not a feature state snapshot ({exc.__class__.__name__})") from None


def covered_until(path: Path) -> datetime | None:
    """The moment up to which the snapshot at `path` holds the decision log (None: no snapshot).

    Reads the header only. A version 4 file does not say: its modification time stands in.
    """
    path = Path(path)
    if not path.exists():
        return None
    with open(path, "rb") as handle:
        if handle.read(len(MAGIC)) == MAGIC:
            try:
                covers = pickle.load(handle).get("covers_until_us")
            except Exception:  # unreadable: reading the whole file will say so
                covers = None
            if covers is not None:
                return datetime.fromtimestamp(covers / 1e6, tz=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def _pieces(sharded: ShardedDict[Any], size: int) -> Iterator[list[tuple[Any, Any]]]:
    for shard in sharded.shards:
        items = list(shard.items())
        for start in range(0, len(items), max(1, size)):
            yield items[start:start + max(1, size)]


def _dump(handle: IO[bytes], value: object) -> int:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    handle.write(data)
    return len(data)


def _read_pieces(path: Path, handle: IO[bytes], pacer: Pacer) -> SnapshotParts:
    header = pickle.load(handle)
    version = header.get("version") if isinstance(header, dict) else None
    if version != SNAPSHOT_VERSION:
        raise _other_version(path, version)
    maps: dict[str, ShardedDict[Any]] = {name: ShardedDict() for name in MAPS}
    by_index = [maps[name].shards for name in MAPS]
    while True:
        index, piece = pickle.load(handle)  # EOFError before the end record: cut short
        if index == "end":
            break
        shards = by_index[index]
        for key, value in piece:  # string hashes differ between processes: every key placed anew
            shards[hash(key) & _MASK][key] = value
        pacer.tick()
    counts = {name: len(maps[name]) for name in MAPS}
    if piece != counts:
        raise DataError(f"{path}: snapshot holds {counts} entries, its end record says {piece}")
    return SnapshotParts(maps, header["newest_us"], header.get("covers_until_us"))


def _read_legacy(path: Path, loaded: object) -> SnapshotParts:
    version = loaded[0] if isinstance(loaded, tuple) and loaded else None
    raise _other_version(path, version)


def _other_version(path: Path, version: object) -> DataError:
    if version in OLDER_LAYOUTS:
        return DataError(f"{path}: snapshot version {version} holds an older state layout (no buyers' habits log); "
                         "rebuild the state from the decision log: risk state rebuild")
    return DataError(f"{path}: snapshot version {version}, this engine reads {SNAPSHOT_VERSION}")
