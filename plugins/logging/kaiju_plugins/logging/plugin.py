"""The logging plugin's hook implementations (entry point ``kaiju.plugins: logging``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kaiju_tools.hookspecs import hookimpl

from .service import BUILTIN_CLASSES, LoggingService

__all__ = [
    "kaiju_app_created",
    "kaiju_app_stopped",
    "kaiju_register_log_handlers",
    "kaiju_register_services",
]


@hookimpl
def kaiju_register_services() -> Iterable[type]:
    """``LoggingService``."""
    return [LoggingService]


@hookimpl
def kaiju_register_log_handlers() -> Mapping[str, type]:
    """The built-in handler and formatter classes (``JSONHandler``, ``TextFormatter``...)."""
    return dict(BUILTIN_CLASSES)


@hookimpl
def kaiju_app_created(app: Any) -> None:
    """Configure logging before any service starts, so start-up records are written too."""
    for service in _logging_services(app):
        service.configure()


@hookimpl
def kaiju_app_stopped(app: Any) -> None:
    """Flush and detach the handlers once every service has stopped."""
    for service in _logging_services(app):
        service.unconfigure()


def _logging_services(app: Any) -> list[LoggingService]:
    from kaiju_tools import get_services

    try:
        services = get_services(app)
    except Exception:  # noqa: BLE001 -- an app the kernel did not build has none
        return []
    return [s for s in services if isinstance(s, LoggingService)]
