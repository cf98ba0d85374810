"""The ``Scheduler`` service: periodic in-app tasks that never drift and never die silently."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import math
import zlib
from collections.abc import Callable
from typing import Any

from kaiju_tools.exceptions import ConfigError, ConfigProblem
from kaiju_tools.plugins import collect
from kaiju_tools.services import ContextableService

from . import _validate as check
from ._cluster import ClusterGuard, default_lock_ttl, lock_provider
from ._config_tasks import locate, parse_tasks, schedule_declared
from ._dynamic import DynamicSchedules
from ._engine import Engine
from ._errors import InvalidTaskError, NoLockProviderError
from ._policy import ExecPolicy
from ._task import ScheduledTask

__all__ = ["Scheduler"]

_Policy = ExecPolicy  # annotations inside the class would see its ``ExecPolicy`` attribute


class Scheduler(DynamicSchedules, ContextableService):
    """Runs coroutine functions periodically inside the app.

    Enable it in the services block of the config (``- cls: Scheduler``) and discover it
    from another service::

        scheduler = self.discover_service(None, cls=Scheduler)
        self._task = scheduler.schedule_task(self.reload, interval=60,
                                             policy=scheduler.ExecPolicy.WAIT)

    Runs are due at ``start + k * interval`` whatever their duration, so lateness never
    accumulates. Tasks scheduled before the app has started begin when it has started
    (``kaiju_app_started``); on stop (``kaiju_app_stopping``) scheduling stops, runs in
    progress get ``shutdown_timeout`` seconds, then are cancelled.

    :param app: the app (``None`` for a scheduler used on its own: it starts in ``init()``)
    :param logger: the service's logger
    :param spread: shift each task's grid by a stable fraction of its interval (derived
        from the task name) so that many tasks with one interval do not all fall due at
        the same instant; the first run comes within one interval of the start.
        ``run_at_start`` tasks are never shifted. ``False``: every grid starts at the start
    :param shutdown_timeout: seconds runs in progress may take to finish when the
        scheduler stops, before they are cancelled
    :param long_run_intervals: a run still going after this many intervals is reported
        with a warning (again at every doubling of its running time)
    :param cluster_prefix: prefix of the lock keys of ``cluster_wide`` tasks (default
        ``scheduler:<app name>:``); processes of one app must share it, different apps
        sharing a lock backend must not
    :param sync_interval: seconds between two reads of the app's schedule store, which
        apply the run-time schedule changes made by other processes (none without a store)
    :param tasks: tasks declared in the config, scheduled in :meth:`init`: each a mapping
        with ``method: <service name>.<method name>`` and the keyword arguments of
        :meth:`schedule_task` (``at`` as an ISO 8601 string); checked here, so a bad entry
        is a ``ConfigError`` naming its key and ``file:line``
    """

    service_name = "scheduler"
    ExecPolicy = ExecPolicy
    """The policies (``Scheduler.ExecPolicy.WAIT``...), as in the guide."""

    def __init__(
        self,
        app: Any = None,
        logger: Any = None,
        spread: bool = True,
        shutdown_timeout: float = 5.0,
        long_run_intervals: float = 3.0,
        cluster_prefix: str | None = None,
        tasks: list[dict[str, Any]] | None = None,
        sync_interval: float = 5.0,
    ) -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        if cluster_prefix is not None and (not isinstance(cluster_prefix, str) or not cluster_prefix):
            self._bad_setting("cluster_prefix", "a non-empty string", cluster_prefix)
        if not isinstance(spread, bool):
            self._bad_setting("spread", "true or false", spread)
        if not check.number_at_least(shutdown_timeout, 0):
            self._bad_setting("shutdown_timeout", "a number of seconds >= 0", shutdown_timeout)
        if not check.number_at_least(long_run_intervals, 1):
            self._bad_setting("long_run_intervals", "a number >= 1", long_run_intervals)
        if not check.number_at_least(sync_interval, 0) or not sync_interval:
            self._bad_setting("sync_interval", "a number of seconds > 0", sync_interval)
        self.sync_interval = float(sync_interval)
        self._sync: asyncio.Task[None] | None = None
        self.shutdown_timeout = float(shutdown_timeout)
        self.spread = spread
        self.cluster_prefix = cluster_prefix or f"scheduler:{_app_name(app)}:"
        self._tasks: dict[str, ScheduledTask] = {}
        self._claims: dict[str, Callable[[int], Any]] = {}  # stored schedules claim due times in the store
        self._specs: dict[str, dict[str, Any]] = {}  # schedules added at run time (add_schedule)
        self._engine = Engine(self.logger, spread=spread, long_run_intervals=float(long_run_intervals))
        self._initialized = False
        self._config_tasks = parse_tasks(tasks, functools.partial(locate, self))
        if self._config_tasks and app is None:
            raise ConfigError(ConfigProblem(
                locate(self, ()), "Scheduler tasks: declared tasks name services of an app, and this "
                "scheduler has no app",
                "call schedule_task() instead, or list the scheduler in an app's services",
            ))  # fmt: skip

    def _bad_setting(self, key: str, expected: str, value: Any) -> None:
        where = f"services.{self.service_name}.settings.{key}"
        with contextlib.suppress(Exception):  # not in a kaiju app: keep the plain path
            from kaiju_tools.app import get_services

            if self.app is not None:
                where = f"{get_services(self.app).entry(self.service_name).key}.settings.{key}"
        raise ConfigError(
            ConfigProblem(
                where,
                f"Scheduler {self.service_name!r}: expected {expected}, got {value!r}",
                f"fix or remove `{key}:` in the scheduler's settings",
            )
        )

    # ---------------------------------------------------------------- tasks

    def schedule_task(
        self,
        method: Callable[..., Any],
        interval: float | None = None,
        params: Any = None,
        *,
        cron: str | None = None,
        tz: Any = None,
        at: datetime.datetime | None = None,
        misfire_grace: float | None = None,
        coalesce: bool = True,
        policy: _Policy | str = _Policy.WAIT,
        max_timeout: float | None = None,
        retries: int = 0,
        name: str | None = None,
        run_at_start: bool = False,
        jitter: float = 0.0,
        cluster_wide: bool = False,
        lock_ttl: float | None = None,
        cancel_on_lock_loss: bool = True,
    ) -> ScheduledTask:
        """Run ``method`` every ``interval`` seconds, on a ``cron`` schedule or once ``at`` a
        time; return the task. Give exactly one of ``interval``, ``cron`` and ``at``.

        :param method: an async function (a bound method of a service, typically)
        :param interval: seconds between due times (``int``, ``float`` or ``timedelta``)
        :param params: keyword arguments (a mapping) or positional arguments (a list) for
            each call
        :param cron: a cron expression: 5 fields (``"*/5 9-17 * * mon-fri"``), 6 with seconds
            first (``"*/10 * * * * *"``) or an alias (``"@hourly"``); due times on the wall
            clock in ``tz``
        :param tz: the time zone of ``cron`` (and of a naive ``at``): an IANA name
            (``"Europe/Berlin"``) or a ``tzinfo``; default UTC
        :param at: run once at this ``datetime`` (aware, or naive with ``tz``)
        :param misfire_grace: a due time reached more than this many seconds late (blocked
            loop, suspended process, clock step) is skipped and counted in ``skipped``
            (``None``: run however late)
        :param coalesce: several due times missed at once make one run (``False``: one run
            each, one after the other)
        :param policy: what to do when a run is due while the previous one is still going
            (:class:`ExecPolicy`, default ``WAIT``)
        :param max_timeout: seconds one attempt may take before it is cancelled and
            counted as a failure (``None``: no limit)
        :param retries: attempts made again, at once, after a failed attempt of a run
        :param name: a unique task name (default ``<service name>.<method name>`` for a
            service's method, else the function's qualified name)
        :param run_at_start: also run once when the scheduler starts (or at once, if it
            is running), then every ``interval``
        :param jitter: delay each run by a random ``0 <= d <= jitter`` seconds (off the
            grid: the following due times do not move); must be less than ``interval``
        :param cluster_wide: run each due time in **one** process of all those sharing the
            app's lock provider (``kaiju_tools.locks.get_lock_provider``; e.g. the Redis
            plugin's ``RedisLocks``), instead of in every process. Due times are then aligned
            on the wall clock; a due time that finds a run still going in another process is
            not run (counted in ``elsewhere``); if the process running it dies, another takes
            over within one interval plus ``lock_ttl``. ``run_at_start`` runs the current
            period unless another process ran it
        :param lock_ttl: seconds the running lock of a cluster-wide task lives without
            renewal (renewed every ``lock_ttl / 3`` while a run goes; default: the interval,
            within 1..30 s). A run's lock counts as lost once ``lock_ttl - margin`` seconds
            passed since the last renewal the provider confirmed (the margin is the
            provider's ``lease_margin``; Redis: ``0.1 * lock_ttl + 0.1`` s by default)
        :param cancel_on_lock_loss: cluster-wide tasks: cancel a run whose lock is lost
            (``False``: log a warning and let it finish, at the risk of overlapping with a
            run in another process)
        :raises InvalidTaskError: a bad argument (the message names the task and value)
        :raises NoLockProviderError: ``cluster_wide=True`` and the app has no lock provider
        """
        task_name = check.task_name(method, name)
        check.check_method(method, task_name)
        seconds, trigger = check.check_trigger(interval, cron, tz, at, task_name)
        grace = check.check_grace(misfire_grace, task_name)
        if not isinstance(coalesce, bool):
            raise InvalidTaskError(f"task {task_name!r}: coalesce must be True or False, got {coalesce!r}")
        exec_policy = check.check_policy(policy, task_name)
        timeout = check.check_timeout(max_timeout, task_name)
        tries = check.check_retries(retries, task_name)
        if seconds is None and jitter:
            raise InvalidTaskError(f"task {task_name!r}: jitter applies to interval= tasks only "
                                   "(not cron= / at=)")
        if cluster_wide is True and not coalesce:
            raise InvalidTaskError(f"task {task_name!r}: a cluster_wide task runs one due time at a time "
                                   "across "
                                   "processes, so it always coalesces; remove coalesce=False")
        jitter_s = check.check_jitter(jitter, seconds or math.inf, task_name)
        if not isinstance(run_at_start, bool):
            raise InvalidTaskError(
                f"task {task_name!r}: run_at_start must be True or False, got {run_at_start!r}"
            )
        args, kwargs = check.check_params(method, params, task_name)
        period = trigger.period() if trigger is not None else float(seconds or 0.0)
        guard = self._cluster_guard(task_name, period, cluster_wide, lock_ttl, cancel_on_lock_loss,
                                    trigger is None)
        if task_name in self._tasks:
            old = self._tasks[task_name]
            example = f"name=f'{{self.service_name}}.{getattr(method, '__name__', 'job')}'"
            raise InvalidTaskError(
                f"task {task_name!r} is already scheduled on {self.service_name!r} ({old!r}); "
                f"pass a unique name= (e.g. {example}) "
                f"or remove the old task first: scheduler.remove_task({task_name!r})"
            )
        task = ScheduledTask(
            self._engine,
            task_name,
            method,
            args,
            kwargs,
            seconds,
            exec_policy,
            timeout,
            tries,
            run_at_start,
            jitter_s,
            guard,
            trigger,
            grace,
            coalesce,
        )
        self._tasks[task_name] = task
        self._engine.add(task)
        return task

    def _cluster_guard(self, task_name: str, interval: float, cluster_wide: Any,
                       lock_ttl: Any, cancel_on_loss: Any, on_grid: bool = True) -> ClusterGuard | None:
        for key, value in (("cluster_wide", cluster_wide), ("cancel_on_lock_loss", cancel_on_loss)):
            if not isinstance(value, bool):
                raise InvalidTaskError(f"task {task_name!r}: {key} must be True or False, got {value!r}")
        ttl = check.check_lock_ttl(lock_ttl, cluster_wide, task_name)
        if not cluster_wide:
            return None
        provider = lock_provider(self.app)
        if provider is None:
            raise NoLockProviderError(
                f"task {task_name!r} on scheduler {self.service_name!r}: cluster_wide=True needs a lock "
                "provider shared by the app's processes, and no active plugin provides one (hook "
                "kaiju_lock_provider). Install kaiju-plugin-redis, list `redis` in `packages:` and add "
                "`- cls: RedisService` and `- cls: RedisLocks` to `services:`; or drop cluster_wide=True "
                "to run the task in every process")
        offset = zlib.crc32(task_name.encode()) / 2**32 * interval if self.spread and on_grid else 0.0
        try:
            return ClusterGuard(provider, self.cluster_prefix, task_name, interval, offset,
                                default_lock_ttl(interval) if ttl is None else ttl, self.logger,
                                cancel_on_loss, self._claims.get(task_name))
        except ValueError as exc:  # the TTL does not fit the provider's safety margin
            raise InvalidTaskError(f"task {task_name!r}: lock_ttl={ttl!r}: {exc}") from None

    def remove_task(self, task: ScheduledTask | str) -> ScheduledTask:
        """Unschedule a task (by object or name) for good; a run in progress finishes.

        A run-time schedule kept in a schedule store is dropped in this process only (the next
        sync brings it back): remove it with :meth:`remove_schedule`."""
        name = task.name if isinstance(task, ScheduledTask) else task
        try:
            found = self._tasks.pop(name)
        except (KeyError, TypeError):
            raise InvalidTaskError(
                f"remove_task(): no task {name!r} on scheduler {self.service_name!r}; "
                f"scheduled: {', '.join(sorted(self._tasks)) or 'none'}"
            ) from None
        self._engine.remove(found)
        self._specs.pop(name, None)
        self._claims.pop(name, None)
        return found

    @property
    def tasks(self) -> dict[str, ScheduledTask]:
        """The scheduled tasks by name (a copy)."""
        return dict(self._tasks)

    def list_tasks(self) -> list[dict[str, Any]]:
        """Every task as a dict: settings, ``last_run`` / ``next_run`` (Unix time or
        ``None``), ``runs``, ``failures``, ``timeouts``, ``retried``, ``cancelled``,
        ``misfires``, ``last_error``; sorted by name."""
        shift = self._engine.loop_to_wall()
        return [self._tasks[name].info(shift) for name in sorted(self._tasks)]

    @property
    def routes(self) -> dict[str, Callable[..., Any]]:
        """RPC routes, served by the rpc plugin when it is installed: ``<name>.list_tasks``
        and the run-time schedule methods (``<name>.add_schedule``, ``pause``, ``resume``,
        ``reschedule``, ``remove_schedule``, ``run_now``).

        No ``permissions`` are declared, so only system callers may call them.
        """
        return {"list_tasks": self.list_tasks, "add_schedule": self.add_schedule, "pause": self.pause,
                "resume": self.resume, "reschedule": self.reschedule, "remove_schedule": self.remove_schedule,
                "run_now": self.run_now}

    # ---------------------------------------------------------------- lifecycle

    @property
    def initialized(self) -> bool:
        """Whether :meth:`init` ran (and :meth:`close` did not since)."""
        return self._initialized

    @property
    def running(self) -> bool:
        """Whether tasks are being scheduled."""
        return self._engine.running

    async def init(self) -> None:
        """Get ready; tasks start when the app has started (at once without a kaiju app)."""
        self._initialized = True
        if self._config_tasks and self.app is not None:
            schedule_declared(self, self._config_tasks)
        if not _started_by_hook(self.app):
            self.start()

    async def close(self) -> None:
        """Stop scheduling and wait for runs in progress (see :meth:`stop`)."""
        await self.stop()
        self._initialized = False

    def start(self) -> None:
        """Start scheduling every enabled task on the running loop (idempotent)."""
        if self._engine.running:
            return
        if self.app is not None:
            try:
                self._engine.wrap_runs(collect(self.app, "kaiju_wrap_task"))
            except KeyError:  # an app not built by init_app: no plugins
                pass
        self._engine.start(self._tasks.values())
        if self.schedule_store() is not None and self._sync is None:
            self._sync = asyncio.get_running_loop().create_task(self._sync_loop(self.sync_interval),
                                                                name=f"scheduler:{self.service_name}:sync")
        self.logger.info("scheduler started", tasks=len(self._tasks))

    async def stop(self, grace: float | None = None) -> None:
        """Stop scheduling; runs in progress get ``grace`` seconds (default
        ``shutdown_timeout``) to finish, then are cancelled and awaited."""
        sync, self._sync = self._sync, None
        if sync is not None:
            sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sync
        if not self._engine.running:
            await self._engine.stop((), 0.0)  # waits for a stop in progress, if any
            return
        await self._engine.stop(list(self._tasks.values()), self.shutdown_timeout if grace is None else grace)
        self.logger.info("scheduler stopped", tasks=len(self._tasks))


def _started_by_hook(app: Any) -> bool:
    """Whether this plugin's ``kaiju_app_started`` hook will start the scheduler."""
    if app is None:
        return False
    try:
        from kaiju_tools.app import PLUGINS_KEY

        from . import plugin

        plugins = app.get(PLUGINS_KEY)
        return plugins is not None and plugins.pm.is_registered(plugin)
    except Exception:  # noqa: BLE001 -- an app the kernel did not build
        return False


def _app_name(app: Any) -> str:
    try:
        from kaiju_tools.app import get_settings

        return str(get_settings(app).main.name)
    except Exception:  # noqa: BLE001 -- no kaiju app
        return "app"

