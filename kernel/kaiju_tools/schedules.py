"""The schedule-store interface: schedules made at run time, kept where every process sees them.

A plugin provides an implementation through the ``kaiju_schedule_store`` hook (the Redis
plugin does); the scheduler gets it with :func:`get_schedule_store`. Without a store, schedules
added at run time live in the process that added them and end with it.

A store keeps, per ``namespace`` (the scheduler's ``cluster_prefix``), two things:

- **specs**: one JSON-serialisable mapping per schedule name (the method's name, the trigger,
  the options, ``enabled``); written by :meth:`ScheduleStore.save`, read back by
  :meth:`ScheduleStore.load` when a process starts;
- **claims**: for each schedule, the number of the last due time a process claimed (its
  wall-clock due instant in Unix milliseconds). :meth:`ScheduleStore.claim` is an atomic
  compare-and-set that succeeds only for a number greater than the last one, so each due
  time runs once across every process sharing the store, also after every process
  restarted, and a restarted process knows which due times it missed.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any, Protocol, cast, runtime_checkable

from aiohttp import web

__all__ = ["SCHEDULES_KEY", "ScheduleStore", "get_schedule_store"]


@runtime_checkable
class ScheduleStore(Protocol):
    """Schedules and their claimed due times, shared by every process of an app."""

    async def save(self, namespace: str, name: str, spec: Mapping[str, Any]) -> None:
        """Create or replace the spec of schedule ``name`` (a JSON-serialisable mapping)."""

    async def delete(self, namespace: str, name: str) -> bool:
        """Forget schedule ``name`` and its claims; ``False`` when there was none."""

    async def load(self, namespace: str) -> dict[str, dict[str, Any]]:
        """Every stored spec of ``namespace``, by schedule name."""

    async def claim(self, namespace: str, name: str, due: int) -> bool:
        """Atomically record ``due`` as the last claimed due time of ``name`` if it is greater
        than the one recorded; ``True`` when it was (the caller runs that due time)."""

    async def claimed(self, namespace: str) -> dict[str, int]:
        """The last claimed due time of every schedule of ``namespace`` that has one."""


SCHEDULES_KEY = web.AppKey("kaiju.schedule_store", object)
_STORES: weakref.WeakKeyDictionary[web.Application, Any] = weakref.WeakKeyDictionary()
_NONE = object()


def get_schedule_store(app: web.Application) -> ScheduleStore | None:
    """The app's schedule store (asked of the plugins once per app, then cached), or ``None``."""
    from .plugins import collect_first

    if SCHEDULES_KEY in app:
        return app[SCHEDULES_KEY]  # type: ignore[return-value]
    cached = _STORES.get(app)
    if cached is None:
        store: Any = collect_first(app, "kaiju_schedule_store")
        if store is not None and not isinstance(store, ScheduleStore):
            from .exceptions import PluginError

            raise PluginError(f"kaiju_schedule_store returned {store!r}, which does not implement "
                              "kaiju_tools.schedules.ScheduleStore (save, delete, load, claim, claimed)")
        cached = _STORES[app] = _NONE if store is None else store
    return None if cached is _NONE else cast("ScheduleStore", cached)
