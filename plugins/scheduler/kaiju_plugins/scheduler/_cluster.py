"""Cluster-wide tasks: one run per due time across every process sharing a lock provider.

Each run of a ``cluster_wide=True`` task asks the app's lock provider
(:func:`kaiju_tools.locks.get_lock_provider`; the Redis plugin supplies one) for two locks:

- ``<prefix><task>:running`` -- held (and renewed every ``ttl / 3`` s) while the run goes,
  released after it; a process that dies holding it frees it when its TTL ends. A due time
  that finds it held by another process (a run still going there) is not run here:
  counted in ``elsewhere`` (the holder applies the task's policy to it). It is held as a
  :class:`kaiju_tools.locks.Lease`: once ``ttl - margin`` seconds passed since the last
  renewal the provider confirmed (a partition, a dead backend), the lock counts as lost and
  the run is cancelled (``cancel_on_loss``), before the key can expire in the backend and
  another process start a run.
- ``<prefix><task>:due:<n>`` -- taken once for due time number ``n`` and never released
  (it expires after two periods plus the TTL), so a process that comes late to the same
  due time does not run it again. A task kept in a schedule store (a schedule added at run
  time) claims ``n`` in the store instead (:meth:`ScheduleStore.claim`, greater than the
  last claimed number), which also holds across a restart of every process.

A due time is numbered by its wall-clock instant in Unix milliseconds: interval tasks are
aligned on the wall clock (``offset + k * interval`` Unix seconds), ``cron`` / ``at`` due
times are wall-clock instants already, so every process computes the same ``n`` for the
same due time. Without the lock (provider error), the run is skipped and logged: it never
runs unguarded.
"""

from __future__ import annotations

import asyncio
import math
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kaiju_tools.locks import Lease

if TYPE_CHECKING:
    from ._task import ScheduledTask

__all__ = ["ClusterGuard", "default_lock_ttl", "lock_provider"]


def lock_provider(app: Any) -> Any:
    """The app's lock provider, or ``None`` (also without a kaiju app)."""
    if app is None:
        return None
    from kaiju_tools.locks import get_lock_provider

    with warnings.catch_warnings():  # asked after the app froze: aiohttp warns on caching
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return get_lock_provider(app)
        except KeyError:  # an app the kernel did not build
            return None


def default_lock_ttl(interval: float) -> float:
    """The running lock's TTL when ``lock_ttl`` is not given: the interval, within 1..30 s."""
    return min(max(interval, 1.0), 30.0)


class ClusterGuard:
    """The locks of one cluster-wide task.

    :param provider: a :class:`kaiju_tools.locks.LockProvider`
    :param prefix: prepended to the task's lock keys (the scheduler's ``cluster_prefix``)
    :param offset: the wall-clock phase of the task's due times, in seconds
    :param ttl: the running lock's time to live, in seconds
    :param cancel_on_loss: cancel a run when its lock's lease is lost
    :param claim: ``await claim(n) -> bool`` claims due time ``n`` in a schedule store
        (instead of the due-time lock)
    :raises ValueError: ``ttl`` too short for the provider's safety margin
    """

    __slots__ = ("cancel_on_loss", "claim", "logger", "margin", "offset", "provider", "run_key",
                 "slot_prefix", "slot_ttl", "ttl")

    def __init__(self, provider: Any, prefix: str, task_name: str, interval: float, offset: float,
                 ttl: float, logger: Any, cancel_on_loss: bool = True,
                 claim: Callable[[int], Awaitable[bool]] | None = None) -> None:
        self.provider = provider
        self.run_key = f"{prefix}{task_name}:running"
        self.slot_prefix = f"{prefix}{task_name}:due:"
        self.offset = offset
        self.ttl = ttl
        self.margin = Lease.margin_of(provider, self.run_key, ttl)
        self.cancel_on_loss = cancel_on_loss
        self.slot_ttl = 2 * min(interval, 86400.0) + ttl
        self.logger = logger
        self.claim = claim

    def slot(self, grid_wall: float, interval: float | None) -> int:
        """The number of the due time at Unix time ``grid_wall`` (of an interval task: the
        nearest one on its grid): its Unix time in milliseconds."""
        if interval is not None:
            grid_wall = self.offset + math.floor((grid_wall - self.offset) / interval + 0.5) * interval
        return math.floor(grid_wall * 1000 + 0.5)

    async def run(self, task: ScheduledTask, grid_wall: float | None,
                  body: Callable[[ScheduledTask], Awaitable[None]]) -> None:
        """Run ``body(task)`` if this process wins the due time at ``grid_wall`` (``None``: a
        run-now, which only needs the running lock)."""
        slot = -1 if grid_wall is None else self.slot(grid_wall, task.interval)
        provider = self.provider
        sent = asyncio.get_running_loop().time()
        try:
            token = await provider.acquire(self.run_key, ttl=self.ttl)
        except Exception as exc:  # noqa: BLE001 -- never run without the lock
            self._no_lock(task, slot, exc)
            return
        if token is None:
            task.elsewhere += 1
            return
        lease = Lease(provider, self.run_key, token, self.ttl, confirmed_at=sent, margin=self.margin,
                      logger=self.logger)
        if self.cancel_on_loss:
            lease.cancel_on_loss()
        lease.start()
        try:
            first: object
            try:
                if grid_wall is None:
                    first = "run-now"
                elif self.claim is not None:
                    first = await self.claim(slot) or None
                else:
                    first = await provider.acquire(f"{self.slot_prefix}{slot}", ttl=self.slot_ttl)
            except Exception as exc:  # noqa: BLE001
                self._no_lock(task, slot, exc)
                return
            if first is None:
                task.elsewhere += 1
                return
            task.runs += 1
            await body(task)
        except asyncio.CancelledError:
            if not lease.absorb_cancel():
                raise
            task.cancelled += 1
            task.last_error = f"cancelled: its cluster lock was lost ({lease.reason})"
            self.logger.warning("scheduled run cancelled", task=task.name,
                                reason="its cluster lock's lease was lost: "
                                       "another process may run the task now",
                                key=self.run_key, lease=lease.reason)
        finally:
            await lease.stop()  # releases the lock if it is still ours; else its TTL frees it

    def _no_lock(self, task: ScheduledTask, slot: int, exc: Exception) -> None:
        task.lock_errors += 1
        task.last_error = f"lock provider: {type(exc).__name__}: {exc}"
        self.logger.error("cluster-wide task not run: the lock provider failed (it never runs unguarded)",
                          task=task.name, due_number=slot, error=task.last_error,
                          hint="check the lock provider's backend (e.g. the Redis server)")
