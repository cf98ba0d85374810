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

    ``interval`` and ``jitter`` are copies of the task's (read-only) settings, so that the
    timer's hot path reads one object per due entry.
    """

    __slots__ = (
        "anchor",
        "cancelling",
        "grid",
        "interval",
        "jitter",
        "next_run",
        "owner",
        "pending",
        "pending_grid",
        "removed",
        "run",
        "run_grid",
        "run_name",
        "run_started",
        "seq",
        "task",
        "warn_at",
    )

    def __init__(self, owner: Engine, task: ScheduledTask) -> None:
        self.owner = owner
        self.task = task
        self.interval = task.interval
        self.jitter = task.jitter
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
        self.pending = False
        self.removed = False
        self.cancelling = False
