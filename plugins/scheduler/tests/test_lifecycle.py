"""A scheduler on its own: start, stop with a grace period, nothing left pending, restart."""

from __future__ import annotations

import asyncio
from typing import Any

from kaiju_plugins.scheduler import Scheduler


async def hang() -> None:
    await asyncio.Event().wait()


async def job() -> None:
    pass


def test_outside_an_app_the_scheduler_starts_in_init_and_stops_in_close(run: Any, until: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(job, 0.01)
        assert not scheduler.running and task.next_run is None
        await scheduler.init()
        assert scheduler.running and task.next_run is not None
        await until(lambda: task.runs >= 2, "2 runs")
        await scheduler.close()
        assert not scheduler.running and task.next_run is None
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


def test_runs_past_the_grace_period_are_cancelled_even_of_removed_tasks(
    run: Any, until: Any, logs: Any
) -> None:
    async def main() -> None:
        scheduler = Scheduler(shutdown_timeout=0.01)
        kept = scheduler.schedule_task(hang, 3600, name="kept", run_at_start=True)
        removed = scheduler.schedule_task(hang, 3600, name="removed", run_at_start=True)
        async with scheduler:
            await until(lambda: kept.running and removed.running, "both runs")
            scheduler.remove_task(removed)
        assert (kept.cancelled, removed.cancelled) == (1, 1)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        (stopping,) = logs.data("scheduler stopping: cancelling runs still going after the grace period")
        assert stopping["tasks"] == ["scheduler:kept", "scheduler:removed"]
        reasons = {d["task"]: d["reason"] for d in logs.data("scheduled run cancelled")}
        assert reasons == {
            "kept": "the scheduler stopped and the grace period ended",
            "removed": "the scheduler stopped and the grace period ended",
        }

    run(main())


def test_stop_called_twice_at_once_waits_for_the_same_stop(run: Any, until: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler(shutdown_timeout=0.05)
        task = scheduler.schedule_task(hang, 3600, run_at_start=True)
        await scheduler.init()
        await until(lambda: task.running, "the run")
        await asyncio.gather(scheduler.stop(), scheduler.close(), scheduler.stop(grace=0))
        assert task.cancelled == 1 and not task.running
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


def test_a_stopped_scheduler_can_start_again(run: Any, until: Any) -> None:
    async def main() -> None:
        scheduler = Scheduler()
        task = scheduler.schedule_task(job, 0.01)
        async with scheduler:
            await until(lambda: task.runs >= 1, "a run")
        runs = task.runs
        late = scheduler.schedule_task(job, 0.01, name="added while stopped")
        assert late.next_run is None
        async with scheduler:
            await until(lambda: task.runs > runs and late.runs >= 1, "runs after the restart")

    run(main())


def test_runs_do_not_inherit_the_context_of_whoever_scheduled_them(run: Any, until: Any) -> None:
    from kaiju_tools import context

    seen: list[object] = []

    async def probe() -> None:
        seen.append(context.get_correlation_id())

    async def main() -> None:
        async with Scheduler() as scheduler:
            tokens = context.bind(correlation_id="request-1")
            try:
                task = scheduler.schedule_task(probe, 0.01, run_at_start=True)
            finally:
                context.reset(tokens)
            await until(lambda: len(seen) >= 2, "2 runs")
        assert task.runs >= 2 and set(seen) == {None}

    run(main())


def test_params_are_passed_to_every_call(run: Any, until: Any) -> None:
    calls: list[tuple[Any, ...]] = []

    async def job(a: int, b: str = "") -> None:
        calls.append((a, b))

    class Job:
        async def __call__(self, x: int) -> None:
            calls.append(("obj", x))

    async def main() -> None:
        async with Scheduler() as scheduler:
            scheduler.schedule_task(job, 0.01, {"a": 1, "b": "x"}, name="kw", run_at_start=True)
            scheduler.schedule_task(job, 0.01, [2], name="pos", run_at_start=True)
            scheduler.schedule_task(Job(), 0.01, {"x": 3}, name="obj", run_at_start=True)
            await until(lambda: len(calls) >= 9, "9 calls")
        assert {(1, "x"), (2, ""), ("obj", 3)} == set(calls)

    run(main())
