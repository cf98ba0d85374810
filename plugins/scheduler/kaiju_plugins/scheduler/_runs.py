"""One run of a scheduled task: retries, timeouts, outcomes and what they log.

:class:`~._engine.Engine` decides *when* a task runs (its heap and timer); this mixin runs
it: one :class:`asyncio.Task` per run, attempts with ``max_timeout`` and ``retries``,
counters on the task (``runs``, ``failures``, ``timeouts``, ...), a warning for a run that
outlasts several intervals, and the run left pending by the ``QUEUE`` policy started once
the current one ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ._task import ScheduledTask

__all__ = ["RunMixin"]


class RunMixin:
    """Runs of scheduled tasks; :class:`~._engine.Engine` sets the attributes below."""

    logger: Any
    long_run_intervals: float
    running: bool
    _loop: asyncio.AbstractEventLoop | None
    _runs: set[asyncio.Task[None]]

    def _start_run(self, task: ScheduledTask) -> None:
        assert self._loop is not None
        if task.cluster is None:  # a cluster-wide run counts when it wins its due time
            task.runs += 1
        task._run_started = self._loop.time()
        task._warn_at = self.long_run_intervals * task.interval
        task._run = run = self._loop.create_task(self._execute(task), name=task._run_name)
        self._runs.add(run)

    async def _execute(self, task: ScheduledTask) -> None:
        started = task.last_run = task._run_started
        try:
            if task.cluster is not None:
                assert self._loop is not None
                grid_wall = task._run_grid + time.time() - self._loop.time()
                await task.cluster.run(task, grid_wall, self._body)
            elif task.retries or task.max_timeout is not None:
                await self._attempts(task)
            else:  # the common case, without an extra coroutine per run
                try:
                    await task.method(*task.args, **task.kwargs)
                except Exception as exc:  # noqa: BLE001 -- a task's failure must not escape
                    self._failed(task, exc, 1, 1, None)
        except asyncio.CancelledError:
            self._cancelled(task, started)
        finally:
            self._finished(task, started)

    def _cancelled(self, task: ScheduledTask, started: float) -> None:
        assert self._loop is not None
        task.cancelled += 1
        if task._cancelling:
            reason = "the next run fell due while it was still going (policy CANCEL)"
        elif not self.running:
            reason = "the scheduler stopped and the grace period ended"
        else:
            reason = "cancelled from outside the scheduler"
        self.logger.warning(
            "scheduled run cancelled",
            task=task.name,
            reason=reason,
            ran_for=round(self._loop.time() - started, 3),
        )

    def _finished(self, task: ScheduledTask, started: float) -> None:
        assert self._loop is not None
        task.last_duration = duration = self._loop.time() - started
        if task._run is not None:
            self._runs.discard(task._run)
            task._run = None
        task._cancelling = False
        if duration >= self.long_run_intervals * task.interval:
            self.logger.warning(
                "scheduled run outlasted several intervals",
                task=task.name,
                ran_for=round(duration, 3),
                interval=task.interval,
                intervals=round(duration / task.interval, 1),
                policy=task.policy.name,
            )
        if task._pending:
            task._pending = False
            if task._enabled and self.running:
                task._run_grid = task._pending_grid
                self._start_run(task)

    async def _body(self, task: ScheduledTask) -> None:
        """One run's attempts (the path of cluster-wide runs, inside their locks)."""
        if task.retries or task.max_timeout is not None:
            await self._attempts(task)
        else:
            try:
                await task.method(*task.args, **task.kwargs)
            except Exception as exc:  # noqa: BLE001 -- a task's failure must not escape
                self._failed(task, exc, 1, 1, None)

    async def _attempts(self, task: ScheduledTask) -> None:
        attempts = task.retries + 1
        timeout = task.max_timeout
        for attempt in range(1, attempts + 1):
            cm = None
            try:
                if timeout is None:
                    await task.method(*task.args, **task.kwargs)
                else:
                    async with asyncio.timeout(timeout) as cm:
                        await task.method(*task.args, **task.kwargs)
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
