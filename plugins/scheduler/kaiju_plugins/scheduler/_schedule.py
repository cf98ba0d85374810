"""A task's schedule record: the engine's bookkeeping for one task, kept off the task.

The user holds a :class:`~._task.ScheduledTask` (settings, counters, ``enabled``,
``info()``); the :class:`~._engine.Engine` and its :class:`~._runs.Runner` read and write
this record: where the task's grid is, its entry in the heap, the run in progress and
what the policy left pending. Only the engine's module and the runner write it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._engine import Engine
    from ._task import ScheduledTask

__all__ = ["Schedule"]


class Schedule:
    """The engine-owned state of one task (one per :class:`ScheduledTask`, for its life).

    ``interval``, ``jitter``, ``trigger``, ``grace`` and ``coalesce`` are copies of the
    task's (read-only) settings, so that the timer's hot path reads one object per due
    entry. For a ``cron=`` task ``interval`` is its shortest gap between due times (for the
    long-run warnings), for an ``at=`` task infinity.
    """

    __slots__ = (
        "anchor",
        "backlog",
        "cancelling",
        "coalesce",
        "due_wall",
        "grace",
        "grid",
        "interval",
        "jitter",
        "manual",
        "next_run",
        "owner",
        "pending",
        "pending_grid",
        "plain",
        "removed",
        "resume_after",
        "run",
        "run_grid",
        "run_name",
        "run_started",
        "run_wall",
        "seq",
        "task",
        "trigger",
        "warn_at",
    )

    def __init__(self, owner: Engine, task: ScheduledTask) -> None:
        self.owner = owner
        self.task = task
        self.trigger = trigger = task.trigger
        self.interval: float = task.interval if trigger is None else trigger.period()  # type: ignore[assignment]
        self.jitter = task.jitter
        self.grace = task.misfire_grace
        self.coalesce = task.coalesce
        #: an interval task without misfire_grace: the timer's shortest path
        self.plain = trigger is None and self.grace is None
        #: the Unix time the heap entry of a ``cron=`` / ``at=`` task is for
        self.due_wall = 0.0
        #: runs still owed for due times missed at once (``coalesce=False``)
        self.backlog = 0
        #: loop time of the grid's origin: runs are due at ``anchor + k * interval``
        self.anchor: float | None = None
        #: loop time the next run is due at (``None`` while not scheduled)
        self.next_run: float | None = None
        #: the grid point of the heap entry (``next_run`` is it plus the jitter)
        self.grid = 0.0
        #: the grid point the run in progress is for, and the one left pending by the policy
        self.run_grid = self.pending_grid = 0.0
        #: the live heap entry's sequence number (``-1``: none; stale entries are dropped)
        self.seq = -1
        self.run: asyncio.Task[None] | None = None
        self.run_name = f"scheduler:{task.name}"
        self.run_started = 0.0
        #: the running time at which the next "still running" warning is due
        self.warn_at = 0.0
        #: a stored schedule restored at start: the Unix time of its last claimed due time
        #: (due times after it, missed while no process ran, are reached late: grace decides)
        self.resume_after: float | None = None
        #: the Unix time of the due time the run of a ``cron=`` / ``at=`` task is for
        self.run_wall = 0.0
        #: the run being started is a run-now (no due time: a cluster-wide one claims none)
        self.manual = False
        self.pending = False
        self.removed = False
        self.cancelling = False
