"""The lock-provider interface: distributed locks that plugins depend on, not on Redis.

A plugin provides an implementation through the ``kaiju_lock_provider`` hook (the Redis
plugin does); a service gets it with :func:`get_lock_provider`. Without a provider the
function returns ``None``: a feature that needs a lock across processes must refuse to run
rather than run once per process.

A lock is a **lease**: its holder may act on it only until ``ttl - margin`` seconds after
the last acquisition or renewal the backend confirmed, measured on the holder's monotonic
clock from *before* the request was sent, whether or not the backend answers meanwhile
(:class:`Lease` keeps that rule; :func:`lease_margin` gives the margin). Each acquisition
may carry a **fencing token** (:class:`LockToken`), a number that grows with every
acquisition, for the protected resource to refuse a former holder's late writes.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from ._hookcalls import collect_first
from ._keys import LOCKS_KEY
from ._lease import MARGIN_FIXED, MARGIN_RATIO, Lease, LockToken, lease_margin
from .exceptions import PluginError

__all__ = [
    "LOCKS_KEY",
    "MARGIN_FIXED",
    "MARGIN_RATIO",
    "Lease",
    "LockProvider",
    "LockToken",
    "get_lock_provider",
    "lease_margin",
]


@runtime_checkable
class LockProvider(Protocol):
    """Locks shared by every process of an app (and every machine sharing the backend).

    A lock has a key, an owner token and a time to live: if its holder dies, the TTL frees
    it. Only the owner (the token ``acquire`` returned) may renew or release it.

    ``acquire`` returns the owner token as a ``str``; a provider that supports fencing
    returns a :class:`LockToken` (a ``str`` with a ``fence`` number, strictly greater than
    every fence given out before for the key), so callers that only pass the token back
    keep working. A provider may also define ``lease_margin(ttl) -> float``, the safety
    margin its holders subtract from the TTL (:class:`Lease` uses it; without it,
    :func:`lease_margin` with the default numbers).
    """

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> str | None:
        """Take the lock; return an owner token, or ``None`` if not taken within ``timeout``
        (``None``: try once, do not wait)."""

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        """Extend a held lock's TTL; ``False`` when ``token`` no longer owns it."""

    async def release(self, key: str, token: str) -> bool:
        """Release a held lock; ``False`` when ``token`` no longer owns it (nothing is
        deleted then: a former owner never frees the next owner's lock)."""


_PROVIDERS: weakref.WeakKeyDictionary[web.Application, Any] = weakref.WeakKeyDictionary()
_NONE = object()


def get_lock_provider(app: web.Application) -> LockProvider | None:
    """The app's lock provider (asked of the plugins once per app, then cached), or ``None``."""
    if LOCKS_KEY in app:
        return app[LOCKS_KEY]  # type: ignore[return-value]
    cached = _PROVIDERS.get(app)
    if cached is None:
        provider: Any = collect_first(app, "kaiju_lock_provider")
        if provider is not None and not isinstance(provider, LockProvider):
            raise PluginError(f"kaiju_lock_provider returned {provider!r}, which does not implement "
                              "kaiju_tools.locks.LockProvider (acquire, renew, release)")
        cached = _PROVIDERS[app] = _NONE if provider is None else provider
    return None if cached is _NONE else cached  # type: ignore[return-value]
