"""Errors of the Redis plugin.

::

    KaijuError (kaiju_tools)
    └── RedisPluginError            anything this plugin reports
        ├── RedisUnavailableError   the server could not be reached or answered with an error
        └── LockNotAcquired         ``RedisLocks.hold()`` timed out waiting for a lock
"""

from __future__ import annotations

from kaiju_tools.exceptions import KaijuError

__all__ = ["LockNotAcquired", "RedisPluginError", "RedisUnavailableError"]


class RedisPluginError(KaijuError):
    """Base class of the Redis plugin's errors."""


class RedisUnavailableError(RedisPluginError):
    """A Redis command failed: the message names the service, the address, the operation,
    the cause and what to check. The client reconnects by itself once the server is back."""


class LockNotAcquired(RedisPluginError, TimeoutError):
    """``RedisLocks.hold()`` could not take a lock within its timeout (also a TimeoutError)."""
