"""Errors of the Redis plugin.

::

    KaijuError (kaiju_tools)
    └── RedisPluginError            anything this plugin reports
        ├── RedisUnavailableError   the server could not be reached or answered with an error
        ├── LockNotAcquired         ``RedisLocks.hold()`` timed out waiting for a lock
        └── LockLost                ``hold(cancel_on_loss=True)``: the block was cancelled, its lease lost
"""

from __future__ import annotations

from kaiju_tools.exceptions import KaijuError

__all__ = ["LockLost", "LockNotAcquired", "RedisPluginError", "RedisUnavailableError"]


class RedisPluginError(KaijuError):
    """Base class of the Redis plugin's errors."""


class RedisUnavailableError(RedisPluginError):
    """A Redis command failed: the message names the service, the address, the operation,
    the cause and what to check. The client reconnects by itself once the server is back."""


class LockNotAcquired(RedisPluginError, TimeoutError):
    """``RedisLocks.hold()`` could not take a lock within its timeout (also a TimeoutError)."""


class LockLost(RedisPluginError):
    """Raised by ``async with locks.hold(..., cancel_on_loss=True)`` when the block was
    cancelled because the lock's lease was lost (the message names the key and why)."""
