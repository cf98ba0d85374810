"""Health probes: liveness, readiness and start-up, from service states and checks.

Every app built by :func:`kaiju_tools.init_app` answers three HTTP GET probes (paths set in
the ``etc.health`` settings section, see :class:`HealthSettings`):

- **live** (``/health/live``): 503 only when a required service is ``failed``; a restart
  is the cure. Checks are not run: a slow database never gets a process killed.
- **ready** (``/health/ready``): 200 when the app has started, is not stopping, every
  required service is ``running`` and every required check passes. On SIGTERM it turns
  503 before the kernel calls ``kaiju_app_stopping`` and drains requests.
- **startup** (``/health/startup``): 200 once every service has started.

``required: false`` services (and ``HealthCheck(required=False)``) are shown in the JSON
detail but never fail a probe. Checks come from the ``kaiju_register_health_checks`` hook
and from services that define ``health_checks()``; each runs under its own timeout and its
result is reused for ``cache`` seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from ._keys import HEALTH_KEY
from .caches import dataclass
from .exceptions import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from aiohttp import web

    from ._health import HealthMonitor

__all__ = ["PROBES", "HealthCheck", "HealthSettings", "get_health"]

PROBES = ("live", "ready", "startup")
"""The probe kinds: liveness, readiness, start-up."""


@dataclass(frozen=True)
class HealthCheck:
    """One readiness check.

    :param name: shown in the probe's JSON detail
    :param check: ``async def check() -> Any``; raising, returning ``False`` or timing out
        means failed; any other value passes (a str, number, list or dict is shown as
        ``detail``)
    :param timeout: seconds the check may take before it counts as failed
    :param required: a failed check with ``required=False`` never fails readiness
    :param cache: seconds a result is reused before the check runs again
    """

    name: str
    check: Callable[[], Awaitable[Any]]
    timeout: float = 2.0
    required: bool = True
    cache: float = 1.0


@dataclass(frozen=True)
class HealthSettings:
    """The ``etc.health`` settings section (every key optional).

    :param enabled: ``false`` adds no probe routes (states are still kept)
    :param live_path: path of the liveness probe
    :param ready_path: path of the readiness probe
    :param startup_path: path of the start-up probe
    """

    enabled: bool = True
    live_path: str = "/health/live"
    ready_path: str = "/health/ready"
    startup_path: str = "/health/startup"

    @classmethod
    def from_etc(cls, etc: Mapping[str, Any]) -> HealthSettings:
        """Read and check ``etc.health``; every problem is reported at once."""
        raw = etc.get("health")
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigError(ConfigProblem(
                "etc.health", f"expected a mapping, got {type(raw).__name__}: {raw!r}",
                "write e.g. `etc: {health: {ready_path: /ready}}`, or remove the key"))
        allowed = {f.name: f for f in fields(cls)}
        problems: list[ConfigProblem] = []
        values: dict[str, Any] = {}
        for key, value in raw.items():
            where = f"etc.health.{key}"
            if key not in allowed:
                problems.append(ConfigProblem(where, f"unknown key {key!r}",
                                              f"allowed keys: {', '.join(allowed)}"))
            elif key == "enabled" and not isinstance(value, bool):
                problems.append(ConfigProblem(where, f"expected true or false, got {value!r}"))
            elif key != "enabled" and (not isinstance(value, str) or not value.startswith("/")):
                problems.append(ConfigProblem(where, f"expected a path starting with '/', got {value!r}",
                                              f"e.g. {key}: {getattr(cls, key)}"))
            else:
                values[key] = value
        settings = cls(**values)
        paths = [settings.live_path, settings.ready_path, settings.startup_path]
        if len(set(paths)) != len(paths):
            problems.append(ConfigProblem("etc.health", f"the probe paths must differ, got {paths}"))
        if problems:
            raise ConfigError(problems)
        return settings


def get_health(app: web.Application) -> HealthMonitor:
    """The app's health monitor: ``await get_health(app).probe("ready") -> (ok, detail)``."""
    return app[HEALTH_KEY]
