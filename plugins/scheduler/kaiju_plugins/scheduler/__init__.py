"""kaiju-plugin-scheduler: periodic in-app tasks for kaiju-kernel.

``from kaiju_tools import Scheduler`` resolves to :class:`Scheduler` here. See
``docs/plugins/scheduler.md``.
"""

from ._errors import InvalidTaskError, NoLockProviderError, SchedulerError
from ._policy import ExecPolicy
from ._task import ScheduledTask
from .scheduler import Scheduler

__all__ = [
    "ExecPolicy",
    "InvalidTaskError",
    "NoLockProviderError",
    "ScheduledTask",
    "Scheduler",
    "SchedulerError",
]
