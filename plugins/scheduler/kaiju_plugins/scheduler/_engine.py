"""The scheduling engine: one heap of due times served by one event-loop timer.

Each enabled task has one entry ``(due, seq, task)`` in a heap; a single
:meth:`asyncio.loop.call_at` handle is armed for the earliest entry. When it fires, every
entry that is due is popped, the task's next due time on its grid (``anchor + k *
interval``) is pushed back, and a run is started (an :class:`asyncio.Task` per run) or
handled by the task's :class:`ExecPolicy` when the previous run is still going. Entries of
disabled tasks are left in the heap and dropped when they come up (their ``seq`` no longer
matches the task's). Nothing polls: with no task due, the loop sleeps until the next one.

Tasks with a ``cron=`` or ``at=`` trigger fall due at wall-clock instants: the heap holds
one :class:`~._wall.WallBucket` per instant for all the tasks due at it, armed and fired by
:class:`~._wall.WallClockTasks`. ``misfire_grace`` skips due times that come too late and
``coalesce`` says whether several due times missed at once make one run or one each.

The engine keeps its bookkeeping for each task in the task's :class:`~._schedule.Schedule`
record (the heap holds records, not tasks) and hands runs to its :class:`~._runs.Runner`.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import random
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from ._misfire import MAX_PASSED, Misfires, on_time
from ._runs import Runner, call_method
from ._schedule import Schedule
from ._task import ScheduledTask
from ._wall import WallBucket, WallClockTasks

__all__ = ["Engine"]

class Engine:
    """Runs :class:`ScheduledTask` objects on the running event loop.

    :param logger: where failures and warnings go (a kaiju logger: keyword extras)
    :param spread: shift each task's grid by a fraction of its interval derived from its
        name, so that tasks with the same interval do not all fall due at the same instant
    :param long_run_intervals: warn when a run has lasted this many intervals (then at
        every doubling of that time)
    """

    def __init__(self, logger: Any, spread: bool = True, long_run_intervals: float = 3.0) -> None:
        self.logger = logger
        self.spread = spread
        self.running = False
        self._runner = Runner(self, logger, long_run_intervals)
        self._misfires = Misfires(logger)
        self._wallclock = WallClockTasks(self, self._misfires, logger)
        #: the wall clock (Unix time) of ``cron=`` / ``at=`` tasks; tests pass a fake one
        self.wall: Callable[[], float] = time.time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ctx: contextvars.Context | None = None
        self._heap: list[tuple[float, int, Schedule | WallBucket]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self._in_timer = False
        self._resolution = time.get_clock_info("monotonic").resolution
        self._stopping: asyncio.Future[None] | None = None
        self._unreported = 0
        self._next_report = 0.0

    def wrap_runs(self, wrappers: list[Any]) -> None:
        """Call each task's method through ``wrappers`` (``kaiju_wrap_task`` results; first: outermost)."""
        invoke: Any = call_method
        for wrapper in reversed(wrappers):
            invoke = wrapper(invoke)
        self._runner.invoke = invoke

    def loop_to_wall(self) -> float | None:
        """What to add to a loop time to get a Unix time (``None`` before the first start)."""
        if self._loop is None:
            return None
        return self.wall() - self._loop.time()

    # ---------------------------------------------------------------- schedule

    def start(self, tasks: Iterable[ScheduledTask], loop: asyncio.AbstractEventLoop | None = None,
              wall: Callable[[], float] | None = None) -> None:
        """Start serving ``tasks`` on the running loop (their grids start now).

        :param loop: the loop to use instead of the running one (tests pass a fake clock)
        :param wall: the wall clock to use instead of :func:`time.time` (tests pass a fake one)
        """
        if self.running:
            return
        if wall is not None:
            self.wall = wall
        self._loop = self._runner.loop = self._wallclock.loop = loop or asyncio.get_running_loop()
        self._ctx = contextvars.copy_context()
        self._stopping = None
        self.running = True
        now = self._loop.time()
        self._in_timer = True  # arm the loop timer once, after the whole batch
        try:
            for task in tasks:
                schedule = task.schedule
                if task.enabled and not schedule.removed:
                    self._arm_first(schedule, now)
        finally:
            self._in_timer = False
        self._rearm()

    def add(self, task: ScheduledTask) -> None:
        """Schedule a new task (now if running, else when :meth:`start` is called)."""
        schedule = task.schedule
        if self.running and task.enabled and not schedule.removed:
            assert self._loop is not None
            self._arm_first(schedule, self._loop.time())

    def remove(self, task: ScheduledTask) -> None:
        """Stop scheduling ``task`` for good (a run in progress finishes)."""
        schedule = task.schedule
        schedule.removed = True
        self.unschedule(schedule)

    def run_now(self, task: ScheduledTask) -> bool:
        """Start a run of ``task`` at once, off its due times; ``False`` when the engine is not
        running or a run of the task is going."""
        schedule = task.schedule
        if not self.running or schedule.run is not None or schedule.removed:
            return False
        assert self._loop is not None
        schedule.run_grid = self._loop.time()
        schedule.run_wall = self.wall()
        schedule.manual = True
        self._runner.start(schedule)
        return True

    @staticmethod
    def unschedule(schedule: Schedule) -> None:
        """Drop the heap entry of ``schedule`` (left in the heap, skipped when it comes up)."""
        schedule.seq = -1
        schedule.next_run = None
        schedule.pending = False
        schedule.backlog = 0

    def enabled_changed(self, schedule: Schedule) -> None:
        """Called by ``task.enabled = ...``: drop its entry, or put it back on its grid."""
        if not schedule.task.enabled:
            self.unschedule(schedule)
        elif self.running and not schedule.removed:
            assert self._loop is not None
            if schedule.anchor is None:
                self._arm_first(schedule, self._loop.time())
            elif schedule.seq < 0 and schedule.trigger is not None:
                self._wallclock.arm(schedule, first=False)
            elif schedule.seq < 0:
                now = self._loop.time()
                k = int((now - schedule.anchor) // schedule.interval) + 1
                self._push(schedule, schedule.anchor + k * schedule.interval)

    def _arm_first(self, schedule: Schedule, now: float) -> None:
        task = schedule.task
        interval = schedule.interval
        if schedule.trigger is not None:  # a past at= counts only before the first start
            first = schedule.anchor is None
            schedule.anchor = now
            if task.run_at_start:
                schedule.run_grid = now
                schedule.run_wall = self.wall()
                self._runner.start(schedule)
            self._wallclock.arm(schedule, first=first)
            return
        if task.cluster is not None:  # due times on the wall clock: the same in every process
            wall = self.wall()
            schedule.anchor = anchor = now - (wall - task.cluster.offset) % interval
            missed = 0
            if schedule.resume_after is not None:  # restored: due times after the last claimed one
                missed = min(int((wall - (now - anchor) - schedule.resume_after) / interval + 0.5),
                             MAX_PASSED)
                schedule.resume_after = None
            self._push(schedule, anchor - (missed - 1) * interval if missed > 0 else anchor + interval)
            if task.run_at_start:  # the current period, unless another process ran it
                schedule.run_grid = anchor
                self._runner.start(schedule)
            return
        if task.run_at_start:
            schedule.anchor = now
            self._push(schedule, now)
            return
        offset = 0.0
        if self.spread:  # a stable fraction of the interval, from the name (like Prometheus)
            offset = zlib.crc32(task.name.encode()) / 2**32 * interval
        schedule.anchor = anchor = now - offset
        self._push(schedule, anchor + interval)

    def _push(self, schedule: Schedule, grid: float) -> None:
        due = (
            grid + random.random() * schedule.jitter if schedule.jitter else grid
        )  # not for security: spreading runs
        schedule.grid = grid
        schedule.seq = self.push_entry(due, schedule)
        schedule.next_run = due

    def push_entry(self, due: float, item: Schedule | WallBucket) -> int:
        """Push a heap entry due at loop time ``due``; return its sequence number."""
        seq = next(self._seq)
        heapq.heappush(self._heap, (due, seq, item))
        if not self._in_timer and (self._timer is None or due < self._timer_when):
            self._rearm()
        return seq

    def _rearm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._heap and self.running:
            assert self._loop is not None
            self._timer_when = when = self._heap[0][0]
            self._timer = self._loop.call_at(when, self._on_timer, context=self._ctx)

    def _on_timer(self) -> None:
        assert self._loop is not None
        self._timer = None
        self._in_timer = True
        heap = self._heap
        now = self._loop.time()
        self._wallclock.woke(now - self._timer_when)
        limit = now + self._resolution
        blocked = 0
        try:
            while heap and heap[0][0] <= limit:
                due, seq, item = heapq.heappop(heap)
                if seq != item.seq:
                    continue  # disabled or removed since it was pushed
                if type(item) is WallBucket:  # cron / at: checked on the wall clock
                    self._wallclock.fire(item, now)
                else:
                    assert isinstance(item, Schedule)
                    blocked += self._fire(item, due, now)
        finally:
            self._in_timer = False
            self._rearm()
        if blocked:
            self._unreported += blocked
            if now >= self._next_report:  # at most one warning a second
                self.logger.warning(
                    "scheduler: due runs were missed because the event loop was blocked",
                    missed_runs=self._unreported,
                    hint="look for blocking calls on the event loop",
                )
                self._unreported = 0
                self._next_report = now + 1.0

    def _fire(self, schedule: Schedule, due: float, now: float) -> int:
        """Handle one due entry; return the number of grid points missed by a blocked loop."""
        interval = schedule.interval
        if now - due >= interval or not schedule.plain:  # late by an interval, or a cron / grace task
            return self._fire_late(schedule, due, now)
        grid = schedule.grid
        self._push(schedule, grid + interval)
        run = schedule.run
        if run is None:
            schedule.run_grid = grid
            self._runner.start(schedule)
            return 0
        schedule.pending_grid = grid
        self._runner.busy(schedule, run, now, 1)
        return 0

    def _fire_late(self, schedule: Schedule, due: float, now: float) -> int:
        """:meth:`_fire` for an entry late by an interval or more, or of a task with a
        ``misfire_grace``."""
        interval = schedule.interval
        grid = schedule.grid
        missed = 0
        if now - due >= interval:  # whole intervals passed since this entry fell due
            missed = int((now - due) // interval)
        self._push(schedule, grid + (missed + 1) * interval)
        late = now - due  # due time i of the missed + 1 is late by late - i * interval
        grace = schedule.grace
        ok = missed + 1 if grace is None else on_time(late, interval, missed + 1, grace)
        runs = self._misfires.account(schedule, now, missed + 1, ok, late)
        if runs:
            self.start_runs(schedule, grid, now, runs)
        return missed

    def start_runs(self, schedule: Schedule, grid: float, now: float, runs: int) -> None:
        """``runs`` due times of ``schedule`` reached at once (the latest for the grid point
        ``grid``): start a run, or hand them to the task's policy if its run is still going."""
        run = schedule.run
        if run is None:
            schedule.run_grid = grid
            self._runner.start(schedule)
            schedule.backlog += runs - 1
            return
        schedule.pending_grid = grid
        self._runner.busy(schedule, run, now, runs)

    # ---------------------------------------------------------------- stop

    async def stop(self, tasks: Iterable[ScheduledTask], grace: float) -> None:
        """Stop scheduling; give runs in progress ``grace`` seconds, then cancel them.

        Returns when no run of these tasks is left on the loop. Safe to call twice (the
        second call waits for the first).
        """
        if self._stopping is not None:
            await asyncio.shield(self._stopping)
            return
        if not self.running:
            return
        assert self._loop is not None
        self._stopping = self._loop.create_future()
        try:
            self.running = False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._heap.clear()
            self._wallclock.clear()
            tasks = list(tasks)
            for task in tasks:
                self.unschedule(task.schedule)
            await self._runner.drain(grace)
        finally:
            self._stopping.set_result(None)
