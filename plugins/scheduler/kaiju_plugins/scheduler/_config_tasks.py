"""Tasks declared in the scheduler's settings (``tasks:`` in YAML), checked at config time.

Each entry names a service's method (``method: reports.send``) and takes the keyword
arguments of :meth:`Scheduler.schedule_task`; ``at`` is an ISO 8601 string. Everything
but the method itself is checked when the scheduler is built from the config, so a bad
cron expression stops the app at start-up with a ``ConfigError`` naming the key and its
``file:line``; the method is looked up when the scheduler initialises.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kaiju_tools.exceptions import ConfigError, ConfigProblem

from . import _validate as check
from ._errors import InvalidTaskError

if TYPE_CHECKING:
    from .scheduler import Scheduler

__all__ = ["TASK_KEYS", "TaskSpec", "locate", "parse_tasks", "schedule_declared"]

TASK_KEYS = (
    "method", "interval", "cron", "tz", "at", "params", "policy", "max_timeout", "retries", "name",
    "run_at_start", "jitter", "misfire_grace", "coalesce", "cluster_wide", "lock_ttl",
)  # fmt: skip
"""The keys of one ``tasks:`` entry."""

TaskSpec = tuple[str, str, dict[str, Any]]
"""``(service name, method name, schedule_task keyword arguments)``."""

Locate = Callable[[tuple[Any, ...]], str]
"""Gives the dotted key (and ``file:line`` when known) of a path under ``settings.tasks``."""


def _problem(where: str, message: str, hint: str) -> ConfigError:
    return ConfigError(ConfigProblem(where, message, hint))


def parse_tasks(value: Any, locate: Locate) -> list[TaskSpec]:
    """Check the ``tasks`` setting; return one :data:`TaskSpec` per entry."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _problem(
            locate(()),
            f"Scheduler tasks: expected a list of task mappings, got {value!r}",
            "write `tasks:` as a list: `- {method: service.method, cron: '0 9 * * *'}`",
        )
    return [_parse_one(entry, index, locate) for index, entry in enumerate(value)]


def _parse_one(entry: Any, index: int, locate: Locate) -> TaskSpec:
    if not isinstance(entry, Mapping):
        raise _problem(
            locate((index,)),
            f"Scheduler task: expected a mapping, got {entry!r}",
            "e.g. `- {method: reports.send, cron: '0 9 * * mon-fri', tz: Europe/Berlin}`",
        )
    unknown = sorted(set(entry) - set(TASK_KEYS))
    if unknown:
        raise _problem(
            locate((index, unknown[0])),
            f"Scheduler task: unknown key {unknown[0]!r}",
            f"the keys are: {', '.join(TASK_KEYS)}",
        )
    ref = entry.get("method")
    if not isinstance(ref, str) or ref.count(".") != 1 or not all(ref.split(".")):
        raise _problem(
            locate((index, "method")),
            f"Scheduler task: method must be '<service name>.<method name>', got {ref!r}",
            "e.g. `method: reports.send` for the method send of the service named reports",
        )
    options = {k: v for k, v in entry.items() if k != "method"}
    name: str = options["name"] if isinstance(options.get("name"), str) else ref
    if isinstance(options.get("at"), str):
        try:
            options["at"] = datetime.datetime.fromisoformat(options["at"])
        except ValueError:
            raise _problem(
                locate((index, "at")),
                f"Scheduler task {name!r}: at must be an ISO 8601 date-time, got {options['at']!r}",
                "e.g. `at: '2030-01-01T09:00:00+01:00'`",
            ) from None
    for keys, test in _CHECKS:  # every check of schedule_task that needs no method
        try:
            test(options, name)
        except InvalidTaskError as exc:
            key = next((k for k in keys if k in options), keys[0])
            raise _problem(locate((index, key)), str(exc), f"fix `{key}:` of this task") from None
    service, method = ref.split(".")
    return service, method, options


def _trigger(o: dict[str, Any], name: str) -> None:
    check.check_trigger(o.get("interval"), o.get("cron"), o.get("tz"), o.get("at"), name)


def _flag(key: str) -> Callable[[dict[str, Any], str], None]:
    def test(o: dict[str, Any], name: str) -> None:
        if key in o and not isinstance(o[key], bool):
            raise InvalidTaskError(f"task {name!r}: {key} must be true or false, got {o[key]!r}")

    return test


def _jitter(o: dict[str, Any], name: str) -> None:
    if o.get("jitter"):
        interval = o.get("interval")
        if interval is None:
            raise InvalidTaskError(f"task {name!r}: jitter applies to interval= tasks only (not cron= / at=)")
        check.check_jitter(o["jitter"], check.check_interval(interval, name), name)


_CHECKS: list[tuple[tuple[str, ...], Callable[[dict[str, Any], str], object]]] = [
    (("cron", "at", "interval", "tz"), _trigger),
    (("misfire_grace",), lambda o, n: check.check_grace(o.get("misfire_grace"), n)),
    (("policy",), lambda o, n: check.check_policy(o.get("policy", "WAIT"), n)),
    (("max_timeout",), lambda o, n: check.check_timeout(o.get("max_timeout"), n)),
    (("retries",), lambda o, n: check.check_retries(o.get("retries", 0), n)),
    (("name",), lambda o, n: check.task_name(None, o.get("name", n))),
    (("jitter",), _jitter),
    (("lock_ttl",), lambda o, n: check.check_lock_ttl(o.get("lock_ttl"), bool(o.get("cluster_wide")), n)),
    (("coalesce",), _flag("coalesce")),
    (("run_at_start",), _flag("run_at_start")),
    (("cluster_wide",), _flag("cluster_wide")),
]


def locate(scheduler: Scheduler, path: tuple[Any, ...]) -> str:
    """``services[i].settings.tasks[j].key (file:line)`` of a key of ``scheduler``'s ``tasks``."""
    prefix: tuple[Any, ...] = ("services", scheduler.service_name)
    origins: dict[tuple[Any, ...], str] = {}
    with contextlib.suppress(Exception):  # not in a kaiju app: keep the plain path
        from kaiju_tools.app import get_services, get_settings

        if scheduler.app is not None:
            key = get_services(scheduler.app).entry(scheduler.service_name).key  # "services[2]"
            prefix = ("services", int(key.split("[", 1)[1].rstrip("]")))
            origins = get_settings(scheduler.app).origins
    full = (*prefix, "settings", "tasks", *path)
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in full).lstrip(".")
    for end in range(len(full), 0, -1):
        if full[:end] in origins:
            return f"{where} ({origins[full[:end]]})"
    return where


def schedule_declared(scheduler: Scheduler, specs: list[TaskSpec]) -> None:
    """Schedule the tasks of ``specs`` on ``scheduler`` (its app's services are built)."""
    from kaiju_tools.app import get_services

    for index, (service, method, options) in enumerate(specs):
        where = locate(scheduler, (index, "method"))
        try:
            target = getattr(get_services(scheduler.app).get(service), method)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 -- an unknown service or method: say which
            raise _problem(
                where,
                f"Scheduler task: no method {method!r} on a service named {service!r}",
                "name a configured service and one of its async methods: `method: <service>.<method>`",
            ) from None
        try:
            scheduler.schedule_task(target, **options)
        except InvalidTaskError as exc:
            raise _problem(where, str(exc), "fix this task in the scheduler's settings") from None
