"""Errors of the scheduler plugin.

::

    KaijuError (kaiju_tools)
    └── SchedulerError            anything the scheduler refuses
        ├── InvalidTaskError      bad arguments to ``schedule_task`` (also a TypeError and a ValueError)
        └── NoLockProviderError   a ``cluster_wide`` task in an app without a lock provider
"""

from __future__ import annotations

from kaiju_tools.exceptions import KaijuError

__all__ = ["InvalidTaskError", "NoLockProviderError", "SchedulerError"]


class SchedulerError(KaijuError):
    """Base class of scheduler errors."""


class InvalidTaskError(SchedulerError, TypeError, ValueError):
    """``schedule_task`` was given a bad argument; the message names the task and the value.

    It is both a :class:`TypeError` and a :class:`ValueError`, so code that catches either
    of the usual exceptions for a bad argument catches it too.
    """


class NoLockProviderError(SchedulerError):
    """``schedule_task(..., cluster_wide=True)`` in an app whose plugins provide no lock
    provider: the task is refused rather than run once in every process."""
