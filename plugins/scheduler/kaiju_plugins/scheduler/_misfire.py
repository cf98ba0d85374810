"""``misfire_grace`` arithmetic for interval tasks: which of several missed due times still run."""

from __future__ import annotations

import math

__all__ = ["on_time"]


def on_time(late: float, step: float, total: int, grace: float) -> int:
    """How many of ``total`` due times, the oldest ``late`` s ago and one every ``step`` s
    after it, are late by at most ``grace`` s (they are the most recent ones)."""
    if late <= grace:
        return total
    first = math.ceil((late - grace) / step - 1e-9)  # the oldest due time within the grace
    return max(0, total - first)
