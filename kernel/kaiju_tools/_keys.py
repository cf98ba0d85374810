"""The kernel's typed app keys, in a leaf module every other module can import.

This module imports nothing of the kernel at run time (the key types are for type checkers
only), so ``app[SERVICES_KEY]`` works anywhere without a function-local import to break a
cycle. ``STOP_KEY`` stays in ``_stop``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ._container import ServiceContainer
    from ._health import HealthMonitor
    from ._runtime import Runtime
    from .plugins import Plugins
    from .settings import ProjectSettings

__all__ = ["ATTRS_KEY", "HEALTH_KEY", "LOCKS_KEY", "PLUGINS_KEY", "RUNTIME_KEY", "SERVICES_KEY",
           "SETTINGS_KEY"]

SETTINGS_KEY: web.AppKey[ProjectSettings] = web.AppKey("kaiju.settings")
"""App key of the app's validated :class:`~kaiju_tools.settings.ProjectSettings`."""
PLUGINS_KEY: web.AppKey[Plugins] = web.AppKey("kaiju.plugins")
"""App key of the app's :class:`~kaiju_tools.plugins.Plugins`."""
RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("kaiju.runtime")
"""App key of the app's runtime (plugin manager, layered class registries, commands, settings)."""
ATTRS_KEY: web.AppKey[dict[str, Any]] = web.AppKey("kaiju.attrs", dict)
"""App key of the ``attrs`` given to ``init_app``."""
SERVICES_KEY: web.AppKey[ServiceContainer] = web.AppKey("kaiju.services")
"""App key of the app's service container."""
HEALTH_KEY: web.AppKey[HealthMonitor] = web.AppKey("kaiju.health")
"""App key of the app's health monitor."""
LOCKS_KEY: web.AppKey[object] = web.AppKey("kaiju.lock_provider", object)
"""App key of the app's lock provider."""
