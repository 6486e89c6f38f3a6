"""Group commit: the writes of concurrent callers committed together, each caller waiting for its commit.

Why: a decision is committed before it is answered, and with PostgreSQL's
synchronous_commit each commit waits for its WAL flush (an fsync). One connection
committing one decision at a time is capped by that flush (a few hundred to a few
thousand a second, whatever the CPU), and every scoring thread of the process queues
behind it. Here the first caller to find no commit in progress becomes the leader: it
takes every item queued so far (its own included), runs them in one transaction and
commits once; callers arriving meanwhile queue and wait, and the next of them to wake
leads the next batch. Nothing is answered before the commit that holds it: each caller
gets its own item's result, or the batch's error if the batch failed (the caller answers
an error as it would for its own failed commit: the batch is one transaction, so it was
committed whole or not at all, or, if the connection broke at COMMIT, unknown to every
caller alike, as a single commit's outcome would be).
A caller alone pays nothing but a lock: its batch is itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

_I = TypeVar("_I")
_R = TypeVar("_R")


class _Slot(Generic[_I, _R]):
    """One caller's item, then its result or the error of its batch."""

    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: _I) -> None:
        self.item = item
        self.done = False
        self.result: _R | None = None
        self.error: BaseException | None = None


class GroupCommitter(Generic[_I, _R]):
    """Runs `commit_batch(items)` (one result per item, in order) over the items of concurrent `submit`s."""

    def __init__(self, commit_batch: Callable[[Sequence[_I]], Sequence[_R]], *, max_batch: int = 64) -> None:
        self._commit_batch = commit_batch
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._queue: list[_Slot[_I, _R]] = []
        self._leading = False
        self.batches = 0  # batches committed or failed (for tests and benchmarks)
        self.items = 0

    def submit(self, item: _I) -> _R:
        """`item`'s result once the batch holding it is committed; the batch's error if it failed."""
        slot: _Slot[_I, _R] = _Slot(item)
        with self._changed:
            self._queue.append(slot)
        while True:
            with self._changed:
                while self._leading and not slot.done:
                    self._changed.wait()
                if slot.done:
                    break
                # no batch in progress: lead one with what is queued (the oldest first; this slot is in it
                # unless more than max_batch wait, and then this caller leads again until it is done)
                self._leading = True
                batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
            self._lead(batch)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]  # set with done, for every slot without an error

    def _lead(self, batch: list[_Slot[_I, _R]]) -> None:
        try:
            results = self._commit_batch([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"group commit: {len(results)} results for {len(batch)} items")
        except BaseException as exc:  # every caller of the batch gets it; nothing of the batch was committed
            for s in batch:
                s.error = exc
        else:
            for s, result in zip(batch, results, strict=True):
                s.result = result
        with self._changed:
            for s in batch:
                s.done = True
            self.batches += 1
            self.items += len(batch)
            self._leading = False
            self._changed.notify_all()  # the batch's callers return; one of the rest leads the next batch
