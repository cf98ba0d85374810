"""A periodic task as its user sees it: settings, counters, ``enabled`` and ``info()``.

The engine's bookkeeping for the task (its grid, heap entry, run in progress) lives in a
separate record, :class:`~._schedule.Schedule`, that only the engine writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._policy import ExecPolicy
from ._schedule import Schedule

if TYPE_CHECKING:
    from ._cluster import ClusterGuard
    from ._engine import Engine
    from ._triggers import Trigger

__all__ = ["ScheduledTask"]


class ScheduledTask:
    """A task returned by :meth:`Scheduler.schedule_task`.

    Set :attr:`enabled` to ``False`` to stop scheduling it (a run in progress finishes)
    and back to ``True`` to resume it on the same grid of due times. The counters are
    read-only for users; :meth:`info` returns them with the settings as a dict.

    Counters:

    - ``runs``: runs started;
    - ``failures``: attempts that raised or timed out (``timeouts`` counts the latter);
    - ``retried``: attempts made again after a failure;
    - ``cancelled``: runs cancelled (by the ``CANCEL`` policy or at shutdown);
    - ``misfires``: due times that found the previous run still going, plus due times
      passed while the event loop was blocked (or the process suspended, or, for ``cron`` /
      ``at`` tasks, the wall clock stepped forward);
    - ``skipped``: due times not run because they came more than ``misfire_grace`` seconds
      late (also counted in ``misfires``);
    - ``elsewhere`` (cluster-wide tasks): due times run by another process, or skipped
      because a run was still going in another process;
    - ``lock_errors`` (cluster-wide tasks): due times not run because the lock provider
      failed.

    For a cluster-wide task, ``runs`` counts the runs made by this process only.
    """

    __slots__ = (
        "__weakref__",
        "_enabled",
                "args",
        "cancelled",
        "cluster",
        "coalesce",
        "elsewhere",
        "failures",
        "interval",
        "jitter",
        "kwargs",
        "last_duration",
        "last_error",
        "last_lateness",
        "last_run",
        "lock_errors",
        "max_timeout",
        "method",
        "misfire_grace",
        "misfires",
        "name",
        "policy",
        "retried",
        "schedule",
        "retries",
        "run_at_start",
        "runs",
        "skipped",
        "timeouts",
        "trigger",
    )

    def __init__(
        self,
        owner: Engine,
        name: str,
        method: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        interval: float | None,
        policy: ExecPolicy,
        max_timeout: float | None,
        retries: int,
        run_at_start: bool,
        jitter: float,
        cluster: ClusterGuard | None = None,
        trigger: Trigger | None = None,
        misfire_grace: float | None = None,
        coalesce: bool = True,
    ) -> None:
        self.name = name
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.interval = interval
        self.policy = policy
        self.max_timeout = max_timeout
        self.retries = retries
        self.run_at_start = run_at_start
        self.jitter = jitter
        #: the task's locks when it is cluster-wide (``None``: it runs in every process)
        self.cluster = cluster
        #: the wall-clock due times of a ``cron=`` or ``at=`` task (``None``: ``interval``)
        self.trigger = trigger
        #: a due time later than this many seconds is skipped (``None``: run however late)
        self.misfire_grace = misfire_grace
        #: several due times missed at once make one run (``False``: one run each)
        self.coalesce = coalesce
        self._enabled = True
        #: loop time the last run started at (``None`` before the first run)
        self.last_run: float | None = None
        self.last_duration: float | None = None
        #: seconds the last run started after its due time (read by metrics: ``kaiju_wrap_task``)
        self.last_lateness: float | None = None
        self.last_error: str | None = None
        self.runs = self.failures = self.timeouts = self.retried = 0
        self.cancelled = self.misfires = self.skipped = 0
        self.elsewhere = self.lock_errors = 0
        #: the engine's record of this task (written by the engine only)
        self.schedule = Schedule(owner, self)

    def __repr__(self) -> str:
        state = "enabled" if self._enabled else "disabled"
        if self.trigger is None:
            when = f"every {self.interval:g} s"
        else:
            when = ", ".join(f"{k} {v}" for k, v in self.trigger.describe().items() if v is not None)
        return f"<ScheduledTask {self.name!r} {when}, {self.policy.name}, {state}>"

    @property
    def enabled(self) -> bool:
        """Whether the task is scheduled; set it to stop or resume scheduling."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        value = bool(value)
        if value != self._enabled:
            self._enabled = value
            schedule = self.schedule
            schedule.owner.enabled_changed(schedule)

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.schedule.run is not None

    @property
    def anchor(self) -> float | None:
        """Loop time of the grid's origin: runs are due at ``anchor + k * interval``
        (``None`` before the task was first scheduled)."""
        return self.schedule.anchor

    @property
    def next_run(self) -> float | None:
        """Loop time the next run is due at (``None`` while not scheduled)."""
        return self.schedule.next_run

    def info(self, loop_to_wall: float | None = None) -> dict[str, Any]:
        """Settings, state and counters as a plain dict (times as Unix timestamps).

        :param loop_to_wall: add this to a loop time to get a Unix time (``None``: keep
            loop times)
        """
        shift = loop_to_wall or 0.0
        next_run = self.schedule.next_run
        trigger = {"cron": None, "tz": None, "at": None} if self.trigger is None else self.trigger.describe()
        return {
            "name": self.name,
            "method": getattr(self.method, "__qualname__", repr(self.method)),
            "interval": self.interval,
            **trigger,
            "policy": self.policy.name,
            "enabled": self._enabled,
            "running": self.schedule.run is not None,
            "max_timeout": self.max_timeout,
            "retries": self.retries,
            "run_at_start": self.run_at_start,
            "jitter": self.jitter,
            "cluster_wide": self.cluster is not None,
            "misfire_grace": self.misfire_grace,
            "coalesce": self.coalesce,
            "last_run": None if self.last_run is None else self.last_run + shift,
            "next_run": None if next_run is None else next_run + shift,
            "last_duration": self.last_duration,
            "last_error": self.last_error,
            "runs": self.runs,
            "failures": self.failures,
            "timeouts": self.timeouts,
            "retried": self.retried,
            "cancelled": self.cancelled,
            "misfires": self.misfires,
            "skipped": self.skipped,
            "elsewhere": self.elsewhere,
            "lock_errors": self.lock_errors,
        }
