"""Due times reached late: which still run (``misfire_grace``), how many runs (``coalesce``),
and which due times of a wall-clock task a late timer passed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._schedule import Schedule
    from ._triggers import Trigger

__all__ = ["MAX_PASSED", "Misfires", "on_time", "passed_due_times"]

MAX_PASSED = 1000
"""Missed due times of a wall-clock task counted one by one after a clock step (then no more)."""


def passed_due_times(trigger: Trigger, due: float, wall: float) -> tuple[list[float], float | None]:
    """The due times of ``trigger`` passed at Unix time ``wall``, from ``due`` on (at most
    :data:`MAX_PASSED`), and the next one after them (``None``: no more).

    More than ``due`` means a blocked loop, a suspended process or a clock step forward.
    """
    following = trigger.next_after(due)  # cached for tasks that share an expression
    if following is None or following > wall:
        return [due], following  # the common case
    passed = [due, following]
    times = trigger.times_after(following)  # the missed ones: through one cronsim iterator
    following = next(times, None)
    while following is not None and following <= wall:
        if len(passed) >= MAX_PASSED:  # count no further: the clock jumped far
            return passed, trigger.next_after(wall)
        passed.append(following)
        following = next(times, None)
    return passed, following


def on_time(late: float, step: float, total: int, grace: float) -> int:
    """How many of ``total`` due times, the oldest ``late`` s ago and one every ``step`` s
    after it, are late by at most ``grace`` s (they are the most recent ones)."""
    if late <= grace:
        return total
    first = math.ceil((late - grace) / step - 1e-9)  # the oldest due time within the grace
    return max(0, total - first)


class Misfires:
    """Counts and logs due times reached late, for one engine.

    :param logger: where skipped due times are reported (at most one warning a second)
    """

    __slots__ = ("logger", "next_report")

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.next_report = 0.0

    def account(self, schedule: Schedule, now: float, total: int, ok: int, late: float) -> int:
        """``total`` due times passed at once, ``ok`` of them within ``misfire_grace``: count
        the others as skipped, coalesce the rest or not; return how many runs to make.

        :param late: how late the oldest of them is, in seconds (for the log)
        """
        task = schedule.task
        if ok < total:
            dropped = total - ok
            task.misfires += dropped
            task.skipped += dropped
            if now >= self.next_report:  # at most one warning a second
                self.next_report = now + 1.0
                self.logger.warning(
                    "scheduled runs skipped: they came later than misfire_grace",
                    task=task.name,
                    skipped_now=dropped,
                    late_by=round(late, 3),
                    misfire_grace=schedule.grace,
                    skipped=task.skipped,
                    hint="the event loop was blocked, the process suspended or the clock stepped",
                )
        if ok > 1 and schedule.coalesce:
            task.misfires += ok - 1
            return 1
        return ok
