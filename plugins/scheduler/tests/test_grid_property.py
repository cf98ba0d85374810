"""The grid arithmetic under any lateness, on a fake clock (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.scheduler import Scheduler


class FakeHandle:
    def __init__(self, when: float, callback: Any, args: tuple[Any, ...]) -> None:
        self.when, self.callback, self.args, self.cancelled = when, callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTask:
    def __init__(self, coro: Any) -> None:
        self.coro = coro

    def run(self) -> None:
        try:
            self.coro.send(None)
        except StopIteration:
            return
        raise AssertionError("a job suspended on the fake clock")


class FakeLoop:
    """Just what the engine uses: a clock, timers and tasks that run to completion."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.timers: list[FakeHandle] = []
        self.ready: list[FakeTask] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> FakeHandle:
        handle = FakeHandle(when, callback, args)
        self.timers.append(handle)
        return handle

    def create_task(self, coro: Any, name: str | None = None) -> FakeTask:
        task = FakeTask(coro)
        self.ready.append(task)
        return task

    def fire_next(self, delay: float) -> None:
        """Fire the earliest live timer ``delay`` seconds late, then run the tasks it made."""
        live = [h for h in self.timers if not h.cancelled]
        assert len(live) == 1  # one timer for all tasks
        (handle,) = live
        self.timers.clear()
        self.now = max(self.now, handle.when + delay)
        handle.callback(*handle.args)
        while self.ready:
            self.ready.pop(0).run()


async def job() -> None:
    pass


@settings(max_examples=200, deadline=None)
@given(
    interval=st.floats(min_value=0.001, max_value=100),
    start=st.floats(min_value=0, max_value=1e6),
    delays=st.lists(st.tuples(st.integers(0, 4), st.floats(0.01, 0.99)), min_size=1, max_size=40),
)
def test_every_grid_point_is_run_or_counted_as_a_misfire(interval: float, start: float, delays: list) -> None:
    scheduler = Scheduler(spread=False)
    task = scheduler.schedule_task(job, interval, name="t")
    loop = FakeLoop(start)
    scheduler._engine.start([task], loop=loop)  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine
    assert task.anchor == start
    for whole, fraction in delays:
        loop.fire_next(interval * (whole + fraction) * 0.999)
        assert task.next_run is not None
        assert task.next_run > loop.now  # never due in the past after a tick
        k = (task.next_run - task.anchor) / interval
        assert math.isclose(k, round(k), abs_tol=1e-6)  # on the grid: no drift
        passed = math.floor((loop.now - task.anchor) / interval + 1e-9)
        assert task.runs + task.misfires == passed  # each grid point ran or was counted
    assert task.failures == task.cancelled == 0


@given(name=st.text(min_size=1, max_size=40), interval=st.floats(min_value=1e-3, max_value=1e5))
def test_spread_keeps_the_first_run_within_one_interval(name: str, interval: float) -> None:
    scheduler = Scheduler()
    task = scheduler.schedule_task(job, interval, name=name)
    loop = FakeLoop(1000.0)
    scheduler._engine.start([task], loop=loop)  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine
    assert task.anchor is not None and task.next_run is not None
    assert 1000.0 - interval < task.anchor <= 1000.0
    assert 1000.0 < task.next_run <= 1000.0 + interval


def test_the_phase_comes_from_the_name_not_from_chance() -> None:
    anchors = []
    for _ in range(2):
        scheduler = Scheduler()
        tasks = [scheduler.schedule_task(job, 10, name=f"t{i}") for i in range(50)]
        scheduler._engine.start(tasks, loop=FakeLoop(500.0))  # type: ignore[arg-type]  # noqa: SLF001 -- a fake loop drives the engine
        anchors.append([t.anchor for t in tasks])
    assert anchors[0] == anchors[1]
    assert len(set(anchors[0])) == 50
