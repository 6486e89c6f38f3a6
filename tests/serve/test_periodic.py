"""The background-job helper: runs on its interval, survives a failing run, and stops promptly."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from serve.logs import JsonFormatter
from serve.periodic import PeriodicJob, stop_all
from tests.serve.conftest import make_client


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_a_job_runs_every_interval_in_a_thread_named_for_it_until_stopped():
    runs: list[str] = []
    job = PeriodicJob("counting", lambda: runs.append(threading.current_thread().name), 0.02)
    job.start()
    assert wait_for(lambda: len(runs) >= 3)
    assert job.stop()
    stopped_at = len(runs)
    time.sleep(0.1)
    assert len(runs) == stopped_at  # no run after stop
    assert set(runs) == {"counting"}


def test_the_first_run_waits_one_interval_unless_the_job_runs_at_start():
    later, at_once = threading.Event(), threading.Event()
    waiting = PeriodicJob("waiting", later.set, 60)
    eager = PeriodicJob("eager", at_once.set, 60, run_at_start=True)
    waiting.start()
    eager.start()
    try:
        assert at_once.wait(5)
        assert not later.wait(0.2)
    finally:
        stop_all([waiting, eager], timeout_s=5)


def test_a_failing_run_is_logged_with_the_job_name_and_the_next_run_still_happens(caplog):
    outcomes = iter([ValueError("store away"), None, None])
    ran_after_failure = threading.Event()

    def run() -> None:
        failure = next(outcomes, None)
        if failure is not None:
            raise failure
        ran_after_failure.set()

    job = PeriodicJob("flaky", run, 0.01, failure=lambda: "flaky work failed; keeping the old")
    with caplog.at_level(logging.ERROR, logger="risk.serve"):
        job.start()
        assert ran_after_failure.wait(5)
        job.stop()
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "flaky work failed; keeping the old"
    assert record.job == "flaky"  # type: ignore[attr-defined]
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)


def test_the_same_failure_again_is_one_line_without_its_traceback(caplog):
    def run() -> None:
        raise ConnectionError("Redis at 127.0.0.1:6379 refused the connection")

    job = PeriodicJob("repairing", run, 60, failure="repair failed; trying again")
    with caplog.at_level(logging.ERROR, logger="risk.serve"):
        for _ in range(3):
            assert not job.run_once()
    first, *again = caplog.records
    assert first.exc_info is not None and len(again) == 2
    assert all(r.exc_info is None for r in again)
    lines = [JsonFormatter().format(r) for r in caplog.records]  # as the service logs them
    assert all("\n" not in line for line in lines)
    entries = [json.loads(line) for line in lines]
    assert {(e["message"], e["job"], e["exception"]) for e in entries} == {
        ("repair failed; trying again", "repairing", "ConnectionError: Redis at 127.0.0.1:6379 refused the connection")}


def test_a_different_failure_or_one_after_a_success_comes_with_its_traceback(caplog):
    failures = iter([KeyError("a"), KeyError("a"), None, KeyError("a"), OSError("disk full")])

    def run() -> None:
        failure = next(failures)
        if failure is not None:
            raise failure

    job = PeriodicJob("mixed", run, 60)
    with caplog.at_level(logging.ERROR, logger="risk.serve"):
        for _ in range(5):
            job.run_once()
    assert [r.exc_info is not None for r in caplog.records] == [True, False, True, True]
    assert {r.getMessage() for r in caplog.records} == {"mixed failed"}


def test_stop_returns_promptly_while_the_job_waits_for_its_next_run():
    job = PeriodicJob("idle", lambda: None, 3600)
    job.start()
    started = time.monotonic()
    assert job.stop()
    assert time.monotonic() - started < 1.0
    assert job.thread is not None and not job.thread.is_alive()


def test_stop_waits_a_bounded_time_for_a_run_in_progress_and_says_it_has_not_ended():
    running, release = threading.Event(), threading.Event()

    def run() -> None:
        running.set()
        release.wait(10)

    job = PeriodicJob("stuck", run, 0.01)
    job.start()
    assert running.wait(5)
    started = time.monotonic()
    try:
        assert not job.stop(timeout_s=0.1)
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
    assert job.stop(timeout_s=5)  # the run ended: no further one


def test_stop_all_shares_one_deadline_and_names_the_job_still_running(caplog):
    release = threading.Event()
    stuck = PeriodicJob("stuck-expiry", lambda: release.wait(10), 0.01)
    idle = [PeriodicJob(f"idle-{i}", lambda: None, 3600) for i in range(3)]
    for job in (stuck, *idle):
        job.start()
    time.sleep(0.05)  # the stuck one is in its run
    started = time.monotonic()
    try:
        with caplog.at_level(logging.WARNING, logger="risk.serve"):
            stop_all([stuck, *idle], timeout_s=0.2)
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
    assert [r.job for r in caplog.records] == ["stuck-expiry"]  # type: ignore[attr-defined]
    assert all(job.thread is not None and not job.thread.is_alive() for job in idle)


def test_a_job_cannot_be_started_twice():
    job = PeriodicJob("once", lambda: None, 3600)
    job.start()
    try:
        with pytest.raises(RuntimeError, match="once"):
            job.start()
    finally:
        job.stop()


def test_a_stopping_service_has_ended_its_background_threads(model_dir, tmp_path):
    jobs = {"state-snapshots", "rules-watch", "state-expiry", "sqlite-checkpoints"}
    before = set(threading.enumerate())  # other tests' threads of those names are not this service's
    with make_client(model_dir, tmp_path):
        started = [thread for thread in threading.enumerate() if thread not in before and thread.name in jobs]
        assert {thread.name for thread in started} == jobs
    assert [thread.name for thread in started if thread.is_alive()] == []  # joined at shutdown, not left behind
