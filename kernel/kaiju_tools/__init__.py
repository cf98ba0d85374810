"""kaiju-kernel: a plugin-based asyncio server-application framework on aiohttp.

The public API; implementation lives in the submodules. Names provided by first-party
plugins (``Scheduler``, ``JSONRPCServer``, ``LoggingService``, ...) resolve lazily from the
plugin that ships them; when it is missing, the error says which distribution to install.
"""

from __future__ import annotations

from typing import Any as _Any

# aiohttp first, from as shallow a stack as this package is imported at: CPython 3.11 keeps
# frames in 16 KiB chunks and frees a chunk when the stack falls back below it, so ~300
# module bodies run one chunk deeper (under our own imports) each mapped and unmapped a chunk
# (≈ 550 mmap/munmap pairs, 2-3 ms of start-up; docs/architecture.md "Start-up").
from aiohttp import web as _web  # noqa: F401

from . import context
from ._lazy import LAZY as _LAZY
from ._lazy import resolve as _resolve
from ._logger import Logger, get_logger
from ._runtime import Runtime, settings_from_mapping
from .app import App, get_attrs, get_runtime, get_services, get_settings, init_app, run_server
from .commands import COMMANDS, Command
from .config import ConfigLoader, ConfigSource
from .exceptions import (
    CommandError,
    ConfigError,
    ConfigProblem,
    DependencyCycle,
    KaijuError,
    PluginError,
    ServiceError,
    ServiceNotFound,
    ServiceStartError,
)
from .hookspecs import hookimpl
from .services import SERVICE_CLASS_REGISTRY, ContextableService, Service, ServiceState
from .settings import MainSettings, ProjectSettings, RunSettings, ServiceSettings
from .templates import parse_literal

__version__ = "0.1.0"

__all__ = [
    "App",
    "COMMANDS",
    "Command",
    "CommandError",
    "ConfigError",
    "ConfigLoader",
    "ConfigProblem",
    "ConfigSource",
    "ContextableService",
    "DependencyCycle",
    "KaijuError",
    "Logger",
    "MainSettings",
    "PluginError",
    "ProjectSettings",
    "RunSettings",
    "Runtime",
    "SERVICE_CLASS_REGISTRY",
    "Service",
    "ServiceError",
    "ServiceNotFound",
    "ServiceSettings",
    "ServiceStartError",
    "ServiceState",
    "context",
    "get_attrs",
    "get_logger",
    "get_runtime",
    "get_services",
    "get_settings",
    "hookimpl",
    "init_app",
    "parse_literal",
    "run_server",
    "settings_from_mapping",
]


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        return _resolve(__name__, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})
