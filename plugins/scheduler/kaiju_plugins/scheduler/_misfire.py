"""Due times reached late: which still run (``misfire_grace``), how many runs (``coalesce``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._schedule import Schedule

__all__ = ["Misfires", "on_time"]


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
