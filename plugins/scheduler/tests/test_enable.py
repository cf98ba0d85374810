"""``task.enabled`` stops and restarts scheduling; ``remove_task`` drops a task."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from kaiju_plugins.scheduler import InvalidTaskError, Scheduler


async def job() -> None:
    pass


def test_disabling_stops_runs_and_enabling_resumes_on_the_same_grid(run: Any, until: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler(spread=False)
        task = scheduler.schedule_task(job, 0.01, name="toggled")
        control = scheduler.schedule_task(job, 0.01, name="control")
        async with scheduler:
            await until(lambda: task.runs >= 2, "2 runs")
            task.enabled = False
            runs, anchor = task.runs, task.anchor
            assert task.next_run is None
            seen = control.runs
            await until(lambda: control.runs >= seen + 5, "5 control runs")
            assert task.runs == runs
            assert scheduler.list_tasks()[1]["enabled"] is False
            task.enabled = True
            assert task.anchor == anchor and task.next_run is not None
            k = (task.next_run - anchor) / task.interval  # type: ignore[operator]
            assert math.isclose(k, round(k), abs_tol=1e-6)
            await until(lambda: task.runs > runs, "a run after re-enabling")

    run(main())


def test_disabling_lets_a_run_in_progress_finish(run: Any, until: Any) -> None:
    gate = asyncio.Event()
    done: list[str] = []

    async def slow() -> None:
        await gate.wait()
        done.append("end")

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(slow, 0.01, run_at_start=True)
        async with scheduler:
            await until(lambda: task.running, "the run")
            task.enabled = False
            gate.set()
            await until(lambda: not task.running, "the end of the run")
        assert done == ["end"] and task.runs == 1 and task.cancelled == 0

    run(main())


def test_disabled_before_start_never_runs_until_enabled(run: Any, until: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(job, 0.01, run_at_start=True)
        task.enabled = False
        async with scheduler:
            assert task.next_run is None
            task.enabled = True
            await until(lambda: task.runs >= 1, "a run")

    run(main())


def test_guide_close_pattern_on_a_stopped_scheduler_is_harmless(run: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(job, 1)
        async with scheduler:
            pass
        task.enabled = False  # what the guide's close() does, after the scheduler stopped
        task.enabled = True
        assert task.next_run is None and not scheduler.running

    run(main())


def test_remove_task_frees_the_name(run: Any, until: Any) -> None:
    async def main() -> None:
        async with Scheduler() as scheduler:
            task = scheduler.schedule_task(job, 0.01, name="t", run_at_start=True)
            await until(lambda: task.runs >= 1, "a run")
            assert scheduler.remove_task("t") is task
            assert task.next_run is None and scheduler.list_tasks() == []
            task.enabled = False
            task.enabled = True  # a removed task stays removed
            assert task.next_run is None
            scheduler.schedule_task(job, 0.01, name="t")
            with pytest.raises(InvalidTaskError, match=r"remove_task\(\): no task 'nope' .* scheduled: t"):
                scheduler.remove_task("nope")

    run(main())
