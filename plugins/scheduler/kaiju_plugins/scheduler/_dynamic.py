"""Schedules added, paused, resumed, rescheduled, removed and run at run time.

A dynamic schedule names its method as ``<service name>.<method name>`` (a function cannot
be stored) and its options as plain JSON values, so that it can be kept in the app's
schedule store (:func:`kaiju_tools.schedules.get_schedule_store`; the Redis plugin's
``RedisSchedules``). With a store, schedules are saved there, restored when the scheduler
starts, and run once per due time across every process sharing the store: cluster-wide,
each due time claimed in the store, so that neither another process nor a restarted one
runs it again; due times missed while no process ran are reached late, and
``misfire_grace`` says whether they still run. Without a store they live in this process.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import TYPE_CHECKING, Any

from ._errors import InvalidTaskError
from ._task import ScheduledTask

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["SPEC_KEYS", "DynamicSchedules"]

SPEC_KEYS = ("method", "params", "interval", "cron", "tz", "at", "misfire_grace", "policy", "max_timeout",
             "retries", "lock_ttl", "enabled")
"""The keys of a stored schedule's spec."""

_TRIGGER_KEYS = ("interval", "cron", "tz", "at", "misfire_grace")


class DynamicSchedules:
    """The run-time schedule API of :class:`~.scheduler.Scheduler` (a mixin).

    Every method is also an RPC method of the scheduler (``scheduler.add_schedule``...) when
    the rpc plugin is installed; they declare no permissions: system callers only.
    """

    _specs: dict[str, dict[str, Any]]

    async def add_schedule(self: Scheduler, name: str, method: str, params: Any = None, *,  # type: ignore[misc]
                           interval: float | None = None, cron: str | None = None, tz: str | None = None,
                           at: str | None = None, misfire_grace: float | None = None, policy: str = "WAIT",
                           max_timeout: float | None = None, retries: int = 0, lock_ttl: float | None = None,
                           enabled: bool = True) -> dict[str, Any]:
        """Schedule ``method`` (``"<service>.<method>"``) at run time; return its listing entry.

        Takes the trigger and options of :meth:`schedule_task` as JSON values (``at`` as an
        ISO 8601 string, ``policy`` by name). With a schedule store the schedule is saved
        there (restored at start) and runs once per due time across the processes sharing
        it; the app then needs a lock provider too.

        :raises InvalidTaskError: a bad argument, an unknown method, or a name in use
        """
        spec = {"method": method, "params": params, "interval": interval, "cron": cron, "tz": tz, "at": at,
                "misfire_grace": misfire_grace, "policy": policy, "max_timeout": max_timeout,
                "retries": retries, "lock_ttl": lock_ttl, "enabled": enabled}
        if not isinstance(name, str) or not name:
            raise InvalidTaskError(f"add_schedule(): name must be a non-empty string, got {name!r}")
        if name in self._tasks:
            raise InvalidTaskError(f"add_schedule(): task {name!r} is already scheduled on "
                                   f"{self.service_name!r}; "
                                   f"choose another name, or change it with reschedule({name!r}, ...)")
        task = self._schedule_spec(name, spec)
        await self._save(name, spec)
        return task.info(self._engine.loop_to_wall())

    async def pause(self: Scheduler, name: str) -> dict[str, Any]:  # type: ignore[misc]
        """Stop scheduling task ``name`` (a run in progress finishes); saved for a stored one."""
        return await self._set_enabled(name, False)

    async def resume(self: Scheduler, name: str) -> dict[str, Any]:  # type: ignore[misc]
        """Schedule task ``name`` again from its next due time; saved for a stored one."""
        return await self._set_enabled(name, True)

    async def reschedule(self: Scheduler, name: str, *, interval: float | None = None,  # type: ignore[misc]
                         cron: str | None = None, tz: str | None = None, at: str | None = None,
                         misfire_grace: float | None = None) -> dict[str, Any]:
        """Give the run-time schedule ``name`` a new trigger (exactly one of ``interval``,
        ``cron`` and ``at``) and ``misfire_grace``; its other options stay."""
        old = self._dynamic(name, "reschedule")
        spec = {**old, "interval": interval, "cron": cron, "tz": tz, "at": at, "misfire_grace": misfire_grace}
        self._check_spec(name, spec)  # before the old task goes: a bad trigger changes nothing
        self.remove_task(name)
        task = self._schedule_spec(name, spec)
        await self._save(name, spec)
        return task.info(self._engine.loop_to_wall())

    async def remove_schedule(self: Scheduler, name: str) -> bool:  # type: ignore[misc]
        """Remove the run-time schedule ``name`` (from the store too); a run in progress finishes."""
        self._dynamic(name, "remove_schedule")
        self.remove_task(name)
        self._specs.pop(name, None)
        self._claims.pop(name, None)
        store = self.schedule_store()
        if store is not None:
            await store.delete(self.cluster_prefix, name)
        return True

    async def run_now(self: Scheduler, name: str) -> dict[str, Any]:  # type: ignore[misc]
        """Start a run of task ``name`` at once, outside its due times (not when one is going)."""
        task = self._task(name, "run_now")
        started = self._engine.run_now(task)
        return {**task.info(self._engine.loop_to_wall()), "started": started}

    async def restore(self: Scheduler) -> int:  # type: ignore[misc]
        """Make this process's run-time schedules those of the app's store (called when the
        scheduler starts in an app, then every ``sync_interval`` seconds): add the stored ones
        it lacks, apply changes made by other processes (pause, reschedule), drop the removed
        ones; return how many were added or changed. One that cannot be scheduled (its
        service is gone) is logged and left in the store."""
        store = self.schedule_store()
        if store is None:
            return 0
        specs = await store.load(self.cluster_prefix)
        claimed = await store.claimed(self.cluster_prefix)
        for name in [n for n in self._specs if n not in specs and n in self._tasks]:
            self.remove_task(name)  # removed by another process
        restored = 0
        for name in sorted(specs):
            spec = ({k: specs[name].get(k) for k in SPEC_KEYS} if isinstance(specs[name], dict)
                    else specs[name])
            if name in self._specs and self._specs[name] == spec:
                continue
            if name in self._specs and name in self._tasks:  # changed by another process
                if _same_trigger(self._specs[name], spec):
                    self._tasks[name].enabled = spec.get("enabled", True) is not False
                    self._specs[name]["enabled"] = self._tasks[name].enabled
                    restored += 1
                    continue
                self.remove_task(name)
            elif name in self._tasks:
                continue  # a task scheduled in code has this name: it wins
            try:
                task = self._schedule_spec(name, specs[name])
            except InvalidTaskError as exc:
                self.logger.error("stored schedule not restored", schedule=name, error=str(exc),
                                  hint=f"fix the service or remove the schedule: remove_schedule({name!r})")
                continue
            if name in claimed and not self._engine.running:  # at start: resume where the cluster stopped
                task.schedule.resume_after = claimed[name] / 1000
            restored += 1
        if restored:
            self.logger.info("stored schedules restored", restored=restored, stored=len(specs))
        return restored

    async def _sync_loop(self: Scheduler, every: float) -> None:  # type: ignore[misc]
        """Apply the store's changes every ``every`` seconds while the scheduler runs."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.restore()
            except Exception as exc:  # noqa: BLE001 -- a store outage: keep the schedules, try again
                self.logger.warning("schedule store not read: run-time schedules not synchronised",
                                    error=f"{type(exc).__name__}: {exc}", retry_in=every)

    # ---------------------------------------------------------------- helpers

    def is_stored(self: Scheduler, name: str) -> bool:  # type: ignore[misc]
        """Whether task ``name`` was added at run time (:meth:`add_schedule`): the store keeps it."""
        return name in self._specs

    def schedule_store(self: Scheduler) -> Any:  # type: ignore[misc]
        """The app's schedule store (:func:`kaiju_tools.schedules.get_schedule_store`), else ``None``."""
        if self.app is None:
            return None
        from kaiju_tools.schedules import get_schedule_store

        try:
            return get_schedule_store(self.app)
        except KeyError:  # an app the kernel did not build
            return None

    def _task(self: Scheduler, name: Any, where: str) -> ScheduledTask:  # type: ignore[misc]
        try:
            return self._tasks[name]
        except (KeyError, TypeError):
            raise InvalidTaskError(f"{where}(): no task {name!r} on scheduler {self.service_name!r}; "
                                   f"scheduled: {', '.join(sorted(self._tasks)) or 'none'}") from None

    def _dynamic(self: Scheduler, name: Any, where: str) -> dict[str, Any]:  # type: ignore[misc]
        self._task(name, where)
        if name not in self._specs:
            raise InvalidTaskError(f"{where}(): task {name!r} was scheduled in code, "
                                   "not with add_schedule(); "
                                   "change it in code (pause / resume / run_now work on every task)")
        return self._specs[name]

    async def _set_enabled(self: Scheduler, name: str, value: bool) -> dict[str, Any]:  # type: ignore[misc]
        task = self._task(name, "resume" if value else "pause")
        task.enabled = value
        if name in self._specs:
            self._specs[name]["enabled"] = value
            await self._save(name, self._specs[name])
        return task.info(self._engine.loop_to_wall())

    async def _save(self: Scheduler, name: str, spec: dict[str, Any]) -> None:  # type: ignore[misc]
        store = self.schedule_store()
        if store is not None:
            await store.save(self.cluster_prefix, name, spec)

    def _check_spec(self: Scheduler, name: str, spec: dict[str, Any]) -> None:  # type: ignore[misc]
        from . import _validate as check

        check.check_trigger(spec.get("interval"), spec.get("cron"), spec.get("tz"),
                            _at(spec.get("at"), name), name)
        check.check_grace(spec.get("misfire_grace"), name)

    def _schedule_spec(self: Scheduler, name: str, spec: Any) -> ScheduledTask:  # type: ignore[misc]
        if not isinstance(spec, dict) or set(spec) - set(SPEC_KEYS):
            raise InvalidTaskError(f"schedule {name!r}: expected a mapping with keys {', '.join(SPEC_KEYS)}, "
                                   f"got {spec!r}")
        target = _method(self, name, spec.get("method"))
        store = self.schedule_store()
        if store is not None:
            namespace = self.cluster_prefix

            async def claim(due: int) -> bool:
                return bool(await store.claim(namespace, name, due))

            self._claims[name] = claim
        try:
            task = self.schedule_task(
                target, spec.get("interval"), spec.get("params"), cron=spec.get("cron"), tz=spec.get("tz"),
                at=_at(spec.get("at"), name), misfire_grace=spec.get("misfire_grace"),
                policy=spec.get("policy") or "WAIT", max_timeout=spec.get("max_timeout"),
                retries=spec.get("retries") or 0, name=name, cluster_wide=store is not None,
                lock_ttl=spec.get("lock_ttl"))
        except Exception:
            self._claims.pop(name, None)
            raise
        task.enabled = spec.get("enabled", True) is not False
        self._specs[name] = {k: spec.get(k) for k in SPEC_KEYS}
        self._specs[name]["enabled"] = task.enabled
        return task


def _same_trigger(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(old.get(k) == new.get(k) for k in SPEC_KEYS if k != "enabled")


def _at(value: Any, name: str) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidTaskError(f"schedule {name!r}: at must be an ISO 8601 date and time such as "
                               f"'2030-01-01T09:00:00+01:00', got {value!r}") from None


def _method(scheduler: Scheduler, name: str, method: Any) -> Any:
    """The bound method named ``"<service>.<method>"`` on the scheduler's app."""
    if not isinstance(method, str) or method.count(".") != 1 or "" in method.split("."):
        raise InvalidTaskError(f"schedule {name!r}: method must name a service's async method as "
                               f"'<service name>.<method name>' (e.g. 'reports.send'), got {method!r}")
    service, attr = method.split(".")
    if scheduler.app is None or attr.startswith("_"):
        target = None
    else:
        from kaiju_tools.app import get_services

        try:
            target = getattr(get_services(scheduler.app).get(service), attr, None)
        except Exception:  # noqa: BLE001 -- an unknown service: say which below
            target = None
    if target is None:
        raise InvalidTaskError(f"schedule {name!r}: no public method {attr!r} on a service named {service!r} "
                               "of this app; name a configured service and one of its async methods")
    return target
