"""Checks of ``schedule_task`` arguments: every error names the task and the value."""

from __future__ import annotations

import datetime
import functools
import inspect
import math
from collections.abc import Mapping
from typing import Any

from ._errors import InvalidTaskError
from ._policy import ExecPolicy
from ._triggers import AtTrigger, CronTrigger, Trigger, parse_cron, parse_tz

__all__ = [
    "check_grace",
    "check_interval",
    "check_jitter",
    "check_method",
    "check_params",
    "check_policy",
    "check_retries",
    "check_timeout",
    "check_trigger",
    "number_at_least",
    "task_name",
]


def task_name(method: Any, name: Any) -> str:
    """The task's name: ``name`` if given, else ``<service name>.<method>`` or the qualname."""
    if name is not None:
        if not isinstance(name, str) or not name:
            raise InvalidTaskError(
                f"schedule_task(): name must be a non-empty string, got {name!r}; "
                "e.g. name=f'{self.service_name}.reload_cache'"
            )
        return name
    func = method.func if isinstance(method, functools.partial) else method
    owner = getattr(func, "__self__", None)
    service = getattr(owner, "service_name", None)
    if isinstance(service, str) and service and hasattr(func, "__name__"):
        return f"{service}.{func.__name__}"
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func))


def _is_async_callable(method: Any) -> bool:
    if inspect.iscoroutinefunction(method):
        return True
    if isinstance(method, functools.partial):
        return _is_async_callable(method.func)
    # an object with `async def __call__`
    return (
        callable(method)
        and not inspect.isroutine(method)
        and inspect.iscoroutinefunction(type(method).__call__)
    )


def check_method(method: Any, name: str) -> None:
    """``method`` must be an async function (or a callable object with ``async def __call__``)."""
    if _is_async_callable(method):
        return
    if inspect.iscoroutine(method):
        method.close()  # never awaited: close it so that Python does not warn about it
        raise InvalidTaskError(
            f"task {name!r}: method must be an async function, got a coroutine object {method!r}; "
            "pass the function itself, without calling it: schedule_task(self.reload, ...), "
            "not schedule_task(self.reload(), ...)"
        )
    kind = "a plain (not async) function" if callable(method) else f"a {type(method).__name__}"
    raise InvalidTaskError(
        f"task {name!r}: method must be an async function (`async def`), got {kind}: {method!r}; "
        "declare it with `async def`, or wrap a blocking call: "
        "`async def job(): await asyncio.to_thread(blocking_call)`"
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def check_interval(value: Any, name: str) -> float:
    """A positive, finite number of seconds (``int``, ``float`` or ``timedelta``)."""
    seconds = _seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTaskError(
            f"task {name!r}: interval must be a positive number of seconds (int, float or "
            f"datetime.timedelta), got {value!r}; e.g. interval=60 runs the task once a minute"
        )
    return seconds


def check_timeout(value: Any, name: str) -> float | None:
    """``None`` (no limit) or a positive, finite number of seconds."""
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTaskError(
            f"task {name!r}: max_timeout must be None (no limit) or a positive number of seconds, "
            f"got {value!r}"
        )
    return seconds


def check_retries(value: Any, name: str) -> int:
    """A non-negative ``int``: how many times a failed run is tried again."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidTaskError(
            f"task {name!r}: retries must be a non-negative int (extra attempts after a failed "
            f"run), got {value!r}"
        )
    return value


def check_jitter(value: Any, interval: float, name: str) -> float:
    """A number of seconds ``0 <= jitter < interval``."""
    seconds = _seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds < 0 or seconds >= interval:
        raise InvalidTaskError(
            f"task {name!r}: jitter must be a number of seconds from 0 up to (not including) "
            f"the interval {interval:g}, got {value!r}"
        )
    return seconds


def check_policy(value: Any, name: str) -> ExecPolicy:
    """An :class:`ExecPolicy` or its name (any case)."""
    if isinstance(value, ExecPolicy):
        return value
    if isinstance(value, str):
        try:
            return ExecPolicy[value.upper()]
        except KeyError:
            pass
    known = ", ".join(p.name for p in ExecPolicy)
    raise InvalidTaskError(
        f"task {name!r}: unknown policy {value!r}; expected one of {known} "
        "(Scheduler.ExecPolicy.WAIT, ...) or its name as a string"
    )


def check_params(method: Any, params: Any, name: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``None``, a mapping (keyword arguments) or a list/tuple (positional), matching the method."""
    if params is None:
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = {}
    elif isinstance(params, Mapping):
        args, kwargs = (), dict(params)
        bad = [k for k in kwargs if not isinstance(k, str)]
        if bad:
            raise InvalidTaskError(f"task {name!r}: params keys must be strings, got {bad[0]!r}")
    elif isinstance(params, (list, tuple)):
        args, kwargs = tuple(params), {}
    else:
        raise InvalidTaskError(
            f"task {name!r}: params must be None, a mapping of keyword arguments or a list of "
            f"positional arguments, got {type(params).__name__}: {params!r}"
        )
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return args, kwargs
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise InvalidTaskError(
            f"task {name!r}: params {params!r} do not fit the method's signature {signature}: {exc}"
        ) from None
    return args, kwargs


def check_lock_ttl(value: Any, cluster_wide: bool, name: str) -> float | None:
    """``lock_ttl``: ``None`` or seconds > 0, and only for a cluster-wide task."""
    if value is None:
        return None
    if not cluster_wide:
        raise InvalidTaskError(f"task {name!r}: lock_ttl={value!r} applies only to cluster_wide=True tasks; "
                               "remove it or pass cluster_wide=True")
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value <= 0):
        raise InvalidTaskError(f"task {name!r}: lock_ttl must be a number of seconds > 0, got {value!r}")
    return float(value)


def check_trigger(interval: Any, cron: Any, tz: Any, at: Any,
                  name: str) -> tuple[float | None, Trigger | None]:
    """Exactly one of ``interval``, ``cron`` and ``at``; ``tz`` with ``cron`` or a naive ``at``.

    Returns ``(interval seconds, None)`` or ``(None, trigger)``.
    """
    given = [k for k, v in (("interval", interval), ("cron", cron), ("at", at)) if v is not None]
    if not given:
        return check_interval(interval, name), None  # its message: interval must be ...
    if len(given) != 1:
        found = ", ".join(given) or "none"
        raise InvalidTaskError(
            f"task {name!r}: give exactly one of interval= (seconds), cron= (a cron expression) or at= "
            f"(a datetime), got {found}; e.g. interval=60, cron='*/5 9-17 * * mon-fri' or "
            "at=datetime(2030, 1, 1, 9, tzinfo=ZoneInfo('Europe/Berlin'))"
        )
    if interval is not None:
        if tz is not None:
            raise InvalidTaskError(f"task {name!r}: tz={tz!r} applies to cron= and at= tasks only; remove it")
        return check_interval(interval, name), None
    zone: datetime.tzinfo | None = None
    if tz is not None:
        try:
            zone = parse_tz(tz)
        except ValueError as exc:
            raise InvalidTaskError(f"task {name!r}: {exc}") from None
    if cron is not None:
        try:
            expr = parse_cron(cron)
        except ValueError as exc:
            raise InvalidTaskError(f"task {name!r}: {exc}") from None
        return None, CronTrigger(" ".join(str(cron).split()), expr, zone or datetime.UTC)
    if not isinstance(at, datetime.datetime):
        raise InvalidTaskError(
            f"task {name!r}: at must be a datetime.datetime, got {type(at).__name__}: {at!r}"
        )
    if at.tzinfo is None or at.utcoffset() is None:
        if zone is None:
            raise InvalidTaskError(
                f"task {name!r}: at={at!r} has no time zone; pass an aware datetime or tz='Europe/Berlin'"
            )
        at = at.replace(tzinfo=zone)
    elif zone is not None:
        at = at.astimezone(zone)
    return None, AtTrigger(at)


def check_grace(value: Any, name: str) -> float | None:
    """``misfire_grace``: ``None`` (run however late) or seconds > 0."""
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTaskError(
            f"task {name!r}: misfire_grace must be None (run however late) or a number of seconds > 0, "
            f"got {value!r}"
        )
    return seconds


def number_at_least(value: Any, minimum: float) -> bool:
    """Whether ``value`` is a finite int or float (not a bool) of at least ``minimum``."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value >= minimum
    )
