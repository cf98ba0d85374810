"""Due times stay on the grid ``anchor + k * interval``: no drift, no polling."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from kaiju_plugins.scheduler import ScheduledTask, Scheduler


def on_grid(task: ScheduledTask, t: float) -> bool:
    assert task.anchor is not None
    k = (t - task.anchor) / task.interval
    return math.isclose(k, round(k), abs_tol=1e-6)


def test_slow_runs_do_not_move_the_grid(run: Any, until: Any) -> None:
    """A run taking most of an interval does not push the next due time back."""
    seen: list[float] = []

    async def main() -> None:
        scheduler = Scheduler(spread=False)
        task: ScheduledTask

        async def slow() -> None:
            assert task.next_run is not None
            seen.append(task.next_run)  # the next due time, already scheduled
            await asyncio.sleep(task.interval * 0.6)

        task = scheduler.schedule_task(slow, 0.02, name="slow")
        async with scheduler:
            await until(lambda: len(seen) >= 8, "8 runs")
        assert all(on_grid(task, t) for t in seen)
        ks = [round((t - task.anchor) / task.interval) for t in seen]  # type: ignore[operator]
        assert ks == sorted(set(ks))  # strictly increasing grid points, never repeated
        assert task.failures == task.cancelled == 0

    run(main())


def test_first_run_of_unspread_tasks_is_one_interval_after_start(run: Any) -> None:
    async def job() -> None:
        pass

    async def main() -> None:
        scheduler = Scheduler(spread=False)
        tasks = [scheduler.schedule_task(job, 10, name=f"t{i}") for i in range(20)]
        before = asyncio.get_running_loop().time()
        async with scheduler:
            after = asyncio.get_running_loop().time()
            firsts = {t.next_run for t in tasks}
            assert len(firsts) == 1
            (first,) = firsts
            assert before + 10 <= first <= after + 10  # type: ignore[operator]

    run(main())


def test_spread_puts_same_interval_tasks_on_distinct_phases_within_one_interval(run: Any) -> None:
    async def job() -> None:
        pass

    async def main() -> None:
        scheduler = Scheduler()  # spread is the default
        tasks = [scheduler.schedule_task(job, 10, name=f"t{i}") for i in range(200)]
        before = asyncio.get_running_loop().time()
        async with scheduler:
            after = asyncio.get_running_loop().time()
            firsts = [t.next_run for t in tasks]
            assert len(set(firsts)) == len(tasks)
            assert all(before < f <= after + 10 for f in firsts)  # type: ignore[operator]

    run(main())


def test_run_at_start_runs_at_once_then_on_its_unshifted_grid(run: Any, until: Any) -> None:
    calls: list[str] = []

    async def job() -> None:
        calls.append("run")

    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(job, 3600, name="hourly", run_at_start=True)
        async with scheduler:
            await until(lambda: task.runs == 1, "the start run")
            assert task.next_run is not None and task.anchor is not None
            assert math.isclose(task.next_run - task.anchor, 3600)
        assert calls == ["run"]

    run(main())


def test_run_at_start_on_a_running_scheduler_runs_at_once(run: Any, until: Any) -> None:
    async def job() -> None:
        pass

    async def main() -> None:
        async with Scheduler() as scheduler:
            task = scheduler.schedule_task(job, 3600, run_at_start=True)
            await until(lambda: task.runs == 1, "the start run")

    run(main())


def test_jitter_delays_each_run_within_bounds_and_keeps_the_grid(run: Any, until: Any) -> None:
    offsets: list[float] = []

    async def main() -> None:
        scheduler = Scheduler(spread=False)
        task: ScheduledTask

        async def job() -> None:
            assert task.next_run is not None and task.anchor is not None
            offsets.append((task.next_run - task.anchor) % task.interval)

        task = scheduler.schedule_task(job, 0.02, jitter=0.01)
        async with scheduler:
            await until(lambda: len(offsets) >= 10, "10 runs")
        assert all(0 <= o <= 0.01 + 1e-9 for o in offsets)
        assert len(set(offsets)) > 1

    run(main())


def test_a_blocked_loop_counts_misfires_and_warns(run: Any, until: Any, logs: Any) -> None:
    async def job() -> None:
        pass

    async def main() -> None:
        scheduler = Scheduler(spread=False)
        task = scheduler.schedule_task(job, 0.02, name="tick")
        async with scheduler:
            await until(lambda: task.runs >= 2, "2 runs")
            before = task.misfires
            time.sleep(0.2)  # noqa: ASYNC251 -- blocking the loop on purpose
            runs = task.runs
            await until(lambda: task.runs > runs, "the run after the block")
            assert task.misfires - before >= 5  # >= 9 grid points passed while blocked
            assert task.next_run is not None and on_grid(task, task.next_run)
        warnings = logs.data("scheduler: due runs were missed because the event loop was blocked")
        assert warnings and warnings[0]["missed_runs"] >= 1
        assert sum(w["missed_runs"] for w in warnings) <= task.misfires

    run(main())


def test_an_idle_scheduler_arms_one_timer_for_many_tasks(run: Any) -> None:
    """Many tasks, one loop timer: the loop's own timer heap holds a single handle for us."""

    async def job() -> None:
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        for i in range(500):
            scheduler.schedule_task(job, 60 + i % 7, name=f"t{i}")
        async with scheduler:
            ours = [
                h
                for h in loop._scheduled  # type: ignore[attr-defined]  # noqa: SLF001 -- the loop's timer heap
                if not h.cancelled() and getattr(h._callback, "__self__", None) is scheduler._engine  # noqa: SLF001
            ]
            assert len(ours) == 1

    run(main())
