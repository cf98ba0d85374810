"""Wall-clock triggers: ``cron=`` expressions in a time zone, and ``at=`` one-shot times.

Interval tasks run on the event loop's monotonic clock (``anchor + k * interval``); these
run at wall-clock instants, so the engine asks them for the next due time as a Unix time.
Cron expressions are parsed and evaluated by `cronsim <https://pypi.org/project/cronsim/>`_
(Debian cron's semantics, also at DST changes); time zones come from :mod:`zoneinfo`.

DST (see ``docs/plugins/scheduler.md``): a time that does not exist on a spring-forward day
(02:30 in Europe/Berlin on the last Sunday of March) runs once, at the end of the gap
(03:00); a time that exists twice on a fall-back day runs once, at its first occurrence,
unless the expression's hour field is ``*`` (then it runs in both hours, as cron does).
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cronsim import CronSim

__all__ = ["ALIASES", "AtTrigger", "CronTrigger", "Trigger", "parse_cron", "parse_tz"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""The ``@name`` shorthands accepted for ``cron=`` (``@reboot`` has no meaning here)."""

_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_NEXT: dict[tuple[str, datetime.tzinfo, int], float] = {}
"""Next due times by (expression, zone, whole second): computed once for all tasks sharing them."""
_NEXT_MAX = 65536


def parse_tz(value: object) -> datetime.tzinfo:
    """A time zone from an IANA name (``"Europe/Berlin"``) or a :class:`datetime.tzinfo`.

    :raises ValueError: an unknown name or another type (the message says which)
    """
    if isinstance(value, datetime.tzinfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"tz must be an IANA time zone name such as 'Europe/Berlin' or a tzinfo, got {value!r}"
        )
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # imported by the first time zone (start-up)

    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; expected an IANA name such as 'UTC', 'Europe/Berlin' "
            "or 'America/New_York' (install the tzdata package if the system has no tz database)"
        ) from None


def parse_cron(value: object) -> str:
    """A cron expression, checked: 5 fields, 6 with seconds first, or an ``@hourly``-style alias.

    Returns the expression with its alias expanded. :raises ValueError: a bad expression.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"cron must be a cron expression string such as '*/5 9-17 * * mon-fri', got {value!r}"
        )
    expr = " ".join(value.split())
    if expr.startswith("@"):
        if expr.lower() not in ALIASES:
            raise ValueError(f"unknown cron alias {value!r}; expected one of {', '.join(ALIASES)}")
        expr = ALIASES[expr.lower()]
    from cronsim import CronSimError

    try:
        next(_cronsim(expr, _EPOCH))
    except (CronSimError, StopIteration) as exc:
        raise ValueError(
            f"bad cron expression {value!r}: {exc or 'it never matches'}; expected 5 fields "
            "'minute hour day-of-month month day-of-week' (e.g. '*/5 9-17 * * mon-fri'), 6 with "
            "seconds first ('*/10 * * * * *'), or an alias such as '@hourly'"
        ) from None
    return expr


def _cronsim(expr: str, start: datetime.datetime) -> CronSim:
    """cronsim's iterator of the due times of ``expr`` after ``start``: cronsim (and zoneinfo) are
    imported by the first cron task, not by every app that has a scheduler (start-up time)."""
    from cronsim import CronSim

    return CronSim(expr, start)


class Trigger:
    """Wall-clock due times of a task (a base class)."""

    __slots__ = ()

    def next_after(self, wall: float) -> float | None:
        """The first due time strictly after Unix time ``wall`` (``None``: no more)."""
        raise NotImplementedError

    def times_after(self, wall: float) -> Iterator[float]:
        """The due times strictly after Unix time ``wall``, in order."""
        due = self.next_after(wall)
        while due is not None:
            yield due
            due = self.next_after(due)

    def first_due(self, wall: float) -> float | None:
        """The first due time for a task scheduled at Unix time ``wall``."""
        return self.next_after(wall)

    def period(self) -> float:
        """A nominal time between due times (the scheduler's long-run warnings count in it)."""
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        """The trigger's settings for :meth:`ScheduledTask.info`."""
        raise NotImplementedError


class CronTrigger(Trigger):
    """Due times of a cron expression in a time zone (evaluated by cronsim)."""

    __slots__ = ("expr", "source", "tz")

    def __init__(self, source: str, expr: str, tz: datetime.tzinfo) -> None:
        self.source = source
        self.expr = expr
        self.tz = tz

    def next_after(self, wall: float) -> float | None:
        # Cron due times are whole seconds, so the next one after ``wall`` is the next one after
        # its whole second: tasks sharing an expression and a zone share one computation.
        second = math.floor(wall)
        key = (self.expr, self.tz, second)
        due = _NEXT.get(key)
        if due is None:
            if len(_NEXT) >= _NEXT_MAX:
                _NEXT.clear()
            due = _NEXT[key] = next(_cronsim(self.expr,
                                            datetime.datetime.fromtimestamp(second, self.tz))).timestamp()
        return due

    def times_after(self, wall: float) -> Iterator[float]:
        for due in _cronsim(self.expr, datetime.datetime.fromtimestamp(wall, self.tz)):
            yield due.timestamp()

    def period(self) -> float:
        times = _cronsim(self.expr, datetime.datetime.now(self.tz))
        due = [next(times).timestamp() for _ in range(8)]
        return min(b - a for a, b in itertools.pairwise(due))

    def describe(self) -> dict[str, object]:
        return {"cron": self.source, "tz": str(self.tz), "at": None}


class AtTrigger(Trigger):
    """One due time (``at=``)."""

    __slots__ = ("when",)

    def __init__(self, when: datetime.datetime) -> None:
        self.when = when

    def next_after(self, wall: float) -> float | None:
        due = self.when.timestamp()
        return due if due > wall else None

    def first_due(self, wall: float) -> float | None:
        return self.when.timestamp()  # even if past: misfire_grace decides whether it runs

    def period(self) -> float:
        return math.inf

    def describe(self) -> dict[str, object]:
        return {"cron": None, "tz": str(self.when.tzinfo), "at": self.when.isoformat()}
