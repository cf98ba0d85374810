"""One run of a scheduled task: retries, timeouts, outcomes and what they log.

:class:`~._engine.Engine` decides *when* a task runs (its heap and timer) and owns a
:class:`Runner`, which runs it: one :class:`asyncio.Task` per run, attempts with
``max_timeout`` and ``retries``, counters on the task (``runs``, ``failures``,
``timeouts``, ...), a warning for a run that outlasts several intervals, the task's policy
for a due time that finds its previous run going, and the run left pending by the ``WAIT``
or ``CANCEL`` policy started once the current one ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._policy import ExecPolicy

if TYPE_CHECKING:
    from ._engine import Engine
    from ._schedule import Schedule
    from ._task import ScheduledTask

__all__ = ["Runner", "call_method"]


def call_method(task: ScheduledTask) -> Awaitable[Any]:
    """One attempt of a run: the task's method called (the innermost ``kaiju_wrap_task`` layer)."""
    started: Awaitable[Any] = task.method(*task.args, **task.kwargs)
    return started


class Runner:
    """Starts and finishes the runs of the tasks of one :class:`~._engine.Engine`.

    :param engine: the engine it runs for (read: whether it is still ``running``)
    :param logger: where failures and warnings go (a kaiju logger: keyword extras)
    :param long_run_intervals: warn when a run has lasted this many intervals
    """

    __slots__ = ("engine", "invoke", "logger", "long_run_intervals", "loop", "runs")

    def __init__(self, engine: Engine, logger: Any, long_run_intervals: float) -> None:
        self.engine = engine
        self.logger = logger
        self.long_run_intervals = long_run_intervals
        #: the loop runs are created on (set by the engine when it starts)
        self.loop: asyncio.AbstractEventLoop | None = None
        #: every run in progress, of every task (removed ones too)
        self.runs: set[asyncio.Task[None]] = set()
        #: calls a task's method once: :func:`call_method` in the app's ``kaiju_wrap_task`` wrappers
        self.invoke: Callable[[ScheduledTask], Awaitable[Any]] = call_method

    async def drain(self, grace: float) -> None:
        """Give every run in progress ``grace`` seconds, then cancel those still going."""
        runs = list(self.runs)  # of every task, removed ones too
        if not runs:
            return
        _, late = await asyncio.wait(runs, timeout=grace)
        if not late:
            return
        self.logger.warning(
            "scheduler stopping: cancelling runs still going after the grace period",
            tasks=sorted(t.get_name() for t in late),
            grace=grace,
        )
        for run in late:
            run.cancel()
        _, stuck = await asyncio.wait(late, timeout=max(grace, 1.0))
        if stuck:
            self.logger.error(
                "scheduler stopping: runs ignored cancellation and are left running",
                tasks=sorted(t.get_name() for t in stuck),
                hint="do not swallow asyncio.CancelledError in a scheduled task",
            )

    def start(self, schedule: Schedule) -> None:
        """Start a run of the task of ``schedule`` for the grid point ``schedule.run_grid``."""
        loop = self.loop
        assert loop is not None
        task = schedule.task
        if task.cluster is None:  # a cluster-wide run counts when it wins its due time
            task.runs += 1
        schedule.run_started = loop.time()
        task.last_lateness = max(0.0, schedule.run_started - schedule.run_grid)
        schedule.warn_at = self.long_run_intervals * schedule.interval
        schedule.run = run = loop.create_task(self._execute(schedule), name=schedule.run_name)
        self.runs.add(run)

    def busy(self, schedule: Schedule, run: asyncio.Task[None], now: float, runs: int) -> None:
        """A due time found the previous run ``run`` still going: count it, warn when the run has
        lasted several intervals, and apply the task's policy (``runs``: due times at once)."""
        task = schedule.task
        interval = schedule.interval
        task.misfires += 1
        elapsed = now - schedule.run_started
        if elapsed >= schedule.warn_at:
            schedule.warn_at = 2 * elapsed
            self.logger.warning(
                "scheduled task is still running after several intervals",
                task=task.name,
                running_for=round(elapsed, 3),
                interval=interval,
                intervals=round(elapsed / interval, 1),
                policy=task.policy.name,
                misfires=task.misfires,
                hint="set max_timeout= to bound each run, or policy=CANCEL",
            )
        policy = task.policy
        if runs > 1 and policy is not ExecPolicy.SKIP:
            schedule.backlog += runs - 1
        if policy is ExecPolicy.WAIT:
            schedule.pending = True
        elif policy is ExecPolicy.CANCEL:
            schedule.pending = True
            if not schedule.cancelling:
                schedule.cancelling = True
                run.cancel()

    async def _execute(self, schedule: Schedule) -> None:
        task = schedule.task
        started = task.last_run = schedule.run_started
        try:
            if task.cluster is not None:
                assert self.loop is not None
                grid_wall: float | None
                if schedule.manual:  # run-now: no due time to claim
                    schedule.manual = False
                    grid_wall = None
                elif schedule.trigger is not None:
                    grid_wall = schedule.run_wall
                else:
                    grid_wall = schedule.run_grid + time.time() - self.loop.time()
                await task.cluster.run(task, grid_wall, self.body)
            elif task.retries or task.max_timeout is not None:
                await self._attempts(task)
            else:  # the common case, without an extra coroutine per run
                try:
                    await self.invoke(task)
                except Exception as exc:  # noqa: BLE001 -- a task's failure must not escape
                    self._failed(task, exc, 1, 1, None)
        except asyncio.CancelledError:
            self._cancelled(schedule, started)
        finally:
            self._finished(schedule, started)

    def _cancelled(self, schedule: Schedule, started: float) -> None:
        assert self.loop is not None
        task = schedule.task
        task.cancelled += 1
        if schedule.cancelling:
            reason = "the next run fell due while it was still going (policy CANCEL)"
        elif not self.engine.running:
            reason = "the scheduler stopped and the grace period ended"
        else:
            reason = "cancelled from outside the scheduler"
        self.logger.warning(
            "scheduled run cancelled",
            task=task.name,
            reason=reason,
            ran_for=round(self.loop.time() - started, 3),
        )

    def _finished(self, schedule: Schedule, started: float) -> None:
        assert self.loop is not None
        task = schedule.task
        task.last_duration = duration = self.loop.time() - started
        run = schedule.run
        if run is not None:
            self.runs.discard(run)
            schedule.run = None
        schedule.cancelling = False
        if duration >= self.long_run_intervals * schedule.interval:
            self.logger.warning(
                "scheduled run outlasted several intervals",
                task=task.name,
                ran_for=round(duration, 3),
                interval=schedule.interval,
                intervals=round(duration / schedule.interval, 1),
                policy=task.policy.name,
            )
        if schedule.pending or schedule.backlog:  # the policy's run, or runs owed (coalesce=False)
            if schedule.pending:
                schedule.pending = False
            else:
                schedule.backlog -= 1
            if task.enabled and self.engine.running:
                schedule.run_grid = schedule.pending_grid
                self.start(schedule)
            else:
                schedule.backlog = 0

    async def body(self, task: ScheduledTask) -> None:
        """One run's attempts (the path of cluster-wide runs, inside their locks)."""
        if task.retries or task.max_timeout is not None:
            await self._attempts(task)
        else:
            try:
                await self.invoke(task)
            except Exception as exc:  # noqa: BLE001 -- a task's failure must not escape
                self._failed(task, exc, 1, 1, None)

    async def _attempts(self, task: ScheduledTask) -> None:
        attempts = task.retries + 1
        timeout = task.max_timeout
        for attempt in range(1, attempts + 1):
            cm = None
            try:
                if timeout is None:
                    await self.invoke(task)
                else:
                    async with asyncio.timeout(timeout) as cm:
                        await self.invoke(task)
                return
            except Exception as exc:  # noqa: BLE001 -- a task's failure must not escape
                self._failed(task, exc, attempt, attempts, cm)

    def _failed(
        self, task: ScheduledTask, exc: Exception, attempt: int, attempts: int, cm: asyncio.Timeout | None
    ) -> None:
        task.failures += 1
        retry = attempt < attempts
        if retry:
            task.retried += 1
        attempts_info = {"task": task.name, "attempt": attempt, "attempts": attempts, "will_retry": retry}
        if cm is not None and cm.expired():
            task.timeouts += 1
            task.last_error = f"timed out after {task.max_timeout:g} s (max_timeout)"
            self.logger.error("scheduled run timed out", max_timeout=task.max_timeout, **attempts_info)
        else:
            task.last_error = f"{type(exc).__name__}: {exc}"
            self.logger.error("scheduled run failed", error=task.last_error, exc_info=exc, **attempts_info)
