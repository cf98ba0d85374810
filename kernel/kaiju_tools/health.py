"""Health checks contributed by services and plugins (``kaiju_register_health_checks``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["HealthCheck"]


@dataclass(frozen=True)
class HealthCheck:
    """One readiness check.

    :param name: shown in the probe's JSON detail
    :param check: ``async def check() -> Any``; raising (or timing out) means failed
    :param timeout: seconds the check may take before it counts as failed
    :param required: a failed check with ``required=False`` never fails readiness
    :param cache: seconds a result is reused before the check runs again
    """

    name: str
    check: Callable[[], Awaitable[Any]]
    timeout: float = 2.0
    required: bool = True
    cache: float = 1.0
