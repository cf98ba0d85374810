"""Failures are isolated: logged with the task name, counted, retried; the schedule goes on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kaiju_plugins.scheduler import Scheduler


def test_a_failing_run_is_logged_counted_and_the_task_keeps_its_schedule(
    run: Any, until: Any, logs: Any
) -> None:
    healthy: list[int] = []

    async def broken() -> None:
        raise RuntimeError("database is down")

    async def fine() -> None:
        healthy.append(1)

    async def main() -> None:
        scheduler = Scheduler()
        bad = scheduler.schedule_task(broken, 0.01, name="svc.broken")
        good = scheduler.schedule_task(fine, 0.01, name="svc.fine")
        async with scheduler:
            await until(lambda: bad.runs >= 3 and good.runs >= 3, "3 runs each")
            assert scheduler.running
        assert bad.failures == bad.runs or bad.failures == bad.runs - 1  # the last may be in flight
        assert bad.last_error == "RuntimeError: database is down"
        assert good.failures == 0 and len(healthy) == good.runs
        failed = logs.data("scheduled run failed")
        assert failed and all(d["task"] == "svc.broken" for d in failed)
        assert failed[0]["error"] == "RuntimeError: database is down"
        record = next(r for r in logs.records if r.getMessage() == "scheduled run failed")
        assert record.levelno == logging.ERROR and record.exc_info is not None

    run(main())


def test_retries_repeat_a_failed_attempt_within_the_same_run(run: Any, until: Any, logs: Any) -> None:
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)}")

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(flaky, 3600, name="flaky", retries=2, run_at_start=True)
        async with scheduler:
            await until(lambda: len(attempts) == 3 and not task.running, "3 attempts")
        assert (task.runs, task.failures, task.retried) == (1, 2, 2)
        failed = logs.data("scheduled run failed")
        assert [(d["attempt"], d["attempts"], d["will_retry"]) for d in failed] == [
            (1, 3, True),
            (2, 3, True),
        ]

    run(main())


def test_retries_exhausted_count_every_attempt(run: Any, until: Any) -> None:
    async def broken() -> None:
        raise ValueError("bad")

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(broken, 3600, name="b", retries=3, run_at_start=True)
        async with scheduler:
            await until(lambda: task.failures == 4 and not task.running, "4 failed attempts")
        assert (task.runs, task.retried) == (1, 3)

    run(main())


def test_max_timeout_bounds_each_run_and_the_schedule_goes_on(run: Any, until: Any, logs: Any) -> None:
    async def hangs() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(hangs, 0.03, name="hangs", max_timeout=0.01)
        async with scheduler:
            await until(lambda: task.timeouts >= 3, "3 timeouts")
        assert task.failures >= 3 and task.cancelled == 0
        assert task.last_error == "timed out after 0.01 s (max_timeout)"
        timed_out = logs.data("scheduled run timed out")
        assert timed_out[0]["task"] == "hangs" and timed_out[0]["max_timeout"] == 0.01

    run(main())


def test_a_task_raising_timeout_error_itself_is_a_failure_not_a_timeout(run: Any, until: Any) -> None:
    async def raises() -> None:
        raise TimeoutError("upstream timed out")

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(raises, 3600, max_timeout=10, run_at_start=True)
        async with scheduler:
            await until(lambda: task.failures == 1 and not task.running, "the failure")
        assert task.timeouts == 0
        assert task.last_error == "TimeoutError: upstream timed out"

    run(main())
