"""Group commit: concurrent callers share a batch, each gets its own answer only after its batch ran."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from serve.decision_log.group_commit import GroupCommitter


class SlowBatches:
    """A commit_batch that takes a while (as a WAL flush does), records its batches, and can fail one."""

    def __init__(self, seconds: float = 0.05, fail_when: int | None = None) -> None:
        self.seconds = seconds
        self.fail_when = fail_when  # an item whose batch raises
        self.batches: list[list[int]] = []
        self.committed: set[int] = set()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        time.sleep(self.seconds)
        if self.fail_when in items:
            raise OSError(f"batch with {self.fail_when} failed")
        self.committed.update(items)
        return [item * 10 for item in items]


def _submit_all(committer: GroupCommitter[int, int], items: list[int], batches: SlowBatches) -> dict[int, object]:
    answers: dict[int, object] = {}

    def work(item: int) -> None:
        try:
            answers[item] = committer.submit(item)
            assert item in batches.committed  # never answered before its batch ran
        except BaseException as exc:  # reported by the test
            answers[item] = exc

    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
        time.sleep(0.002)  # arrivals spread over the first batch's commit
    for thread in threads:
        thread.join(timeout=10)
    return answers


def test_callers_arriving_during_a_commit_share_the_next_batch_and_each_gets_its_own_result() -> None:
    batches = SlowBatches()
    committer: GroupCommitter[int, int] = GroupCommitter(batches)

    answers = _submit_all(committer, list(range(20)), batches)

    assert answers == {item: item * 10 for item in range(20)}
    assert sorted(item for batch in batches.batches for item in batch) == list(range(20))  # each once
    assert len(batches.batches) < 10  # grouped: 20 items in far fewer commits
    assert committer.items == 20 and committer.batches == len(batches.batches)


def test_a_failed_batch_fails_every_caller_in_it_and_no_other() -> None:
    batches = SlowBatches(fail_when=7)
    committer: GroupCommitter[int, int] = GroupCommitter(batches)

    answers = _submit_all(committer, list(range(16)), batches)

    failed_batch = next(batch for batch in batches.batches if 7 in batch)
    for item in range(16):
        if item in failed_batch:
            assert isinstance(answers[item], OSError)
        else:
            assert answers[item] == item * 10
    assert not batches.committed & set(failed_batch)


def test_batches_never_exceed_the_maximum_and_every_caller_is_answered() -> None:
    batches = SlowBatches(seconds=0.03)
    committer: GroupCommitter[int, int] = GroupCommitter(batches, max_batch=3)

    answers = _submit_all(committer, list(range(15)), batches)

    assert answers == {item: item * 10 for item in range(15)}
    assert max(len(batch) for batch in batches.batches) <= 3


def test_a_caller_alone_commits_its_own_item_at_once() -> None:
    batches = SlowBatches(seconds=0)
    committer: GroupCommitter[int, int] = GroupCommitter(batches)
    assert [committer.submit(i) for i in range(3)] == [0, 10, 20]
    assert batches.batches == [[0], [1], [2]]


def test_a_batch_answering_the_wrong_number_of_results_is_an_error() -> None:
    committer: GroupCommitter[int, int] = GroupCommitter(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        committer.submit(1)
