"""ExecPolicy: what a due run does while the previous run is still going."""

from __future__ import annotations

import asyncio
from typing import Any

from kaiju_plugins.scheduler import ExecPolicy, ScheduledTask, Scheduler


class Gated:
    """A job whose first run waits for a gate; it records starts and ends in order."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.events: list[tuple[str, int]] = []
        self.starts: list[float] = []
        self.task: ScheduledTask | None = None

    async def __call__(self) -> None:
        n = len(self.starts) + 1
        self.starts.append(asyncio.get_running_loop().time())
        self.events.append(("start", n))
        try:
            if n == 1:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.events.append(("cancelled", n))
            raise
        self.events.append(("end", n))


def no_overlap(events: list[tuple[str, int]]) -> bool:
    running = 0
    for kind, _ in events:
        running += 1 if kind == "start" else -1
        if running not in (0, 1):
            return False
    return True


def test_default_policy_is_wait() -> None:
    async def job() -> None:
        pass

    assert Scheduler().schedule_task(job, 1).policy is ExecPolicy.WAIT
    assert Scheduler.ExecPolicy is ExecPolicy


def test_wait_defers_one_coalesced_run_until_the_running_one_ends(run: Any, until: Any) -> None:
    async def main() -> None:
        job = Gated()
        scheduler = Scheduler(spread=False)
        # interval: a generous bound -- the deferred run must start before the next due time
        task = scheduler.schedule_task(job, 0.2, name="wait", policy=ExecPolicy.WAIT)
        async with scheduler:
            await until(lambda: task.misfires >= 2, "2 misfires")
            assert task.runs == 1
            next_due = task.next_run
            job.gate.set()
            await until(lambda: len(job.starts) >= 2, "the deferred run")
            assert job.starts[1] < next_due  # type: ignore[operator]  # at once, not at the next due time
            await until(lambda: task.runs >= 3, "a run on the grid")
        assert no_overlap(job.events)
        assert task.cancelled == task.failures == 0

    run(main())


def test_skip_drops_due_runs_and_waits_for_the_grid(run: Any, until: Any) -> None:
    async def main() -> None:
        job = Gated()
        scheduler = Scheduler(spread=False)
        task = scheduler.schedule_task(job, 0.1, name="skip", policy="SKIP")
        async with scheduler:
            await until(lambda: task.misfires >= 2, "2 misfires")
            assert task.runs == 1
            next_due = task.next_run
            job.gate.set()
            await until(lambda: len(job.starts) >= 2, "the next run")
            assert job.starts[1] >= next_due  # type: ignore[operator]  # never before a due time
        assert no_overlap(job.events)
        assert task.misfires >= 2 and task.cancelled == 0

    run(main())


def test_cancel_cancels_the_running_run_then_starts_a_new_one(run: Any, until: Any, logs: Any) -> None:
    async def main() -> None:
        job = Gated()
        scheduler = Scheduler(spread=False)
        task = scheduler.schedule_task(job, 0.05, name="cancel", policy=ExecPolicy.CANCEL)
        async with scheduler:
            await until(lambda: task.runs >= 3, "3 runs")
        assert job.events[:4] == [("start", 1), ("cancelled", 1), ("start", 2), ("end", 2)]
        assert no_overlap(job.events)
        assert task.cancelled == 1 and task.failures == 0
        cancelled = logs.data("scheduled run cancelled")
        assert cancelled[0]["task"] == "cancel"
        assert "policy CANCEL" in cancelled[0]["reason"]

    run(main())


def test_a_run_outlasting_several_intervals_is_reported_loudly(run: Any, until: Any, logs: Any) -> None:
    async def main() -> None:
        job = Gated()
        scheduler = Scheduler(spread=False, long_run_intervals=3)
        task = scheduler.schedule_task(job, 0.02, name="stuck", policy="skip")
        async with scheduler:
            await until(
                lambda: bool(logs.data("scheduled task is still running after several intervals")),
                "the long-run warning",
            )
            job.gate.set()
            await until(lambda: task.runs >= 2, "the next run")
        warning = logs.data("scheduled task is still running after several intervals")[0]
        assert warning["task"] == "stuck"
        assert warning["intervals"] >= 3 and warning["running_for"] >= 0.06
        assert warning["policy"] == "SKIP"
        assert "max_timeout" in warning["hint"]
        (done,) = logs.data("scheduled run outlasted several intervals")
        assert done["task"] == "stuck"
        records = [r for r in logs.records if r.getMessage().startswith("scheduled task is still")]
        assert all(r.levelname == "WARNING" for r in records)

    run(main())
