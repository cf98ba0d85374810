"""The Redis plugin (entry point ``kaiju.plugins: redis``; active only when ``packages:``
lists ``redis`` or ``kaiju-plugin-redis``).

Registers :class:`RedisService`, :class:`RedisLocks` and :class:`RedisCache`; contributes a
readiness check per Redis service; provides the app's lock provider (its ``RedisLocks``) and
schedule store (its ``RedisSchedules``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kaiju_tools.health import HealthCheck
from kaiju_tools.hookspecs import hookimpl

from .cache import RedisCache
from .locks import RedisLocks
from .schedules import RedisSchedules
from .service import RedisService

__all__ = [
    "kaiju_app_created",
    "kaiju_lock_provider",
    "kaiju_register_health_checks",
    "kaiju_register_services",
    "kaiju_schedule_store",
]


def _services(app: Any, cls: type) -> list[Any]:
    from kaiju_tools.app import get_services

    return [s for s in get_services(app) if isinstance(s, cls)]


@hookimpl
def kaiju_register_services() -> Iterable[type]:
    """Add the plugin's service classes to the registry."""
    return [RedisService, RedisLocks, RedisCache, RedisSchedules]


@hookimpl
def kaiju_register_health_checks(app: Any) -> list[HealthCheck] | None:
    """One check per Redis service: ``PING`` within its socket timeout (required like the service)."""
    from kaiju_tools.app import get_services

    container = get_services(app)
    checks = []
    for service in _services(app, RedisService):
        required = bool(getattr(container.entry(service.service_name), "required", True))
        checks.append(HealthCheck(f"redis:{service.service_name}", service.ping,
                                  timeout=service.socket_timeout, required=required))
    return checks or None


@hookimpl
def kaiju_lock_provider(app: Any) -> RedisLocks | None:
    """The app's first :class:`RedisLocks` service (``None`` when none is configured)."""
    found = _services(app, RedisLocks)
    return found[0] if found else None


@hookimpl
def kaiju_schedule_store(app: Any) -> RedisSchedules | None:
    """The app's first :class:`RedisSchedules` service (``None`` when none is configured)."""
    found = _services(app, RedisSchedules)
    return found[0] if found else None


@hookimpl
def kaiju_app_created(app: Any) -> None:
    """Cache the app's lock provider now: services ask for it in ``init()``, when the app
    has frozen and can no longer store it (aiohttp warns on changes after freezing)."""
    if _services(app, RedisLocks):
        from kaiju_tools.locks import get_lock_provider

        get_lock_provider(app)
    if _services(app, RedisSchedules):
        from kaiju_tools.schedules import get_schedule_store

        get_schedule_store(app)
