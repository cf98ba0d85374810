"""The scheduler's kaiju plugin (entry point ``kaiju.plugins: scheduler``).

Registers :class:`Scheduler` and the ``tasks`` command; restores the stored schedules and starts
every scheduler of an app when the app has started
and stops them (grace period, then cancellation) when the app begins to stop, before
the other services close.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kaiju_tools.hookspecs import hookimpl

from ._commands import TasksCommand
from .scheduler import Scheduler

__all__ = [
    "kaiju_app_created",
    "kaiju_app_started",
    "kaiju_app_stopping",
    "kaiju_register_commands",
    "kaiju_register_services",
]


def _schedulers(app: Any) -> list[Scheduler]:
    from kaiju_tools.app import get_services

    return [s for s in get_services(app) if isinstance(s, Scheduler) and s.initialized]


@hookimpl
def kaiju_register_services() -> Iterable[type[Scheduler]]:
    """Add :class:`Scheduler` to the service class registry."""
    return [Scheduler]


@hookimpl
def kaiju_register_commands() -> Iterable[type[TasksCommand]]:
    """Add the ``tasks`` command (list the app's scheduled tasks)."""
    return [TasksCommand]


@hookimpl
def kaiju_app_created(app: Any) -> None:
    """Ask for the app's lock provider (for ``cluster_wide`` tasks) while the app can still
    cache the answer: services schedule tasks in ``init()``, after the app has frozen."""
    from kaiju_tools.app import get_services
    from kaiju_tools.locks import get_lock_provider
    from kaiju_tools.schedules import get_schedule_store

    if any(isinstance(s, Scheduler) for s in get_services(app)):
        get_lock_provider(app)
        get_schedule_store(app)


@hookimpl
async def kaiju_app_started(app: Any) -> None:
    """Restore the schedules of the app's schedule store and start the schedulers of the
    app: tasks begin once every service has started."""
    for scheduler in _schedulers(app):
        try:
            await scheduler.restore()
        except Exception as exc:  # noqa: BLE001 -- the store is down: start the other tasks, sync retries
            scheduler.logger.error("stored schedules not restored: the schedule store failed",
                                   error=f"{type(exc).__name__}: {exc}", retry_in=scheduler.sync_interval,
                                   hint="check the store's backend (e.g. the Redis server)")
        scheduler.start()


@hookimpl
async def kaiju_app_stopping(app: Any) -> None:
    """Stop the schedulers before services close; runs get their grace period."""
    for scheduler in _schedulers(app):
        await scheduler.stop()
