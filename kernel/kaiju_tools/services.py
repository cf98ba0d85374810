"""Services: the building blocks of an app, and the registry of their classes.

A service is built by the kernel as ``cls(app=app, logger=<its logger>, **settings)``;
its name (:attr:`Service.service_name`) is the ``name`` setting, else the class's
``service_name`` attribute, else the class name. A :class:`ContextableService` also has
``async init()`` / ``async close()``, awaited by the kernel in dependency order at start
and in reverse order at stop.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar, overload

from ._keys import SERVICES_KEY
from ._logger import Logger, get_logger
from .exceptions import ServiceNotFound
from .registry import ClassRegistry

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "SERVICE_CLASS_REGISTRY",
    "ContextableService",
    "Service",
    "ServiceClassRegistry",
    "ServiceState",
]

S = TypeVar("S", bound="Service")


class ServiceState(str, enum.Enum):
    """Where a service is in its lifecycle (kept by the kernel)."""

    CREATED = "created"
    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "degraded"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"


class _Named:
    """Gives a service its name and state when it is allocated, before any ``__init__`` runs.

    The kernel builds a service as ``cls(app=app, logger=logger, **settings)``; ``__new__``
    takes the configured name from the app's container, so ``self.service_name`` is the
    service's own in the subclass's ``__init__`` already, before ``super().__init__()``. A base
    of :class:`Service` rather than ``Service.__new__``: ``inspect.signature(ServiceClass)``
    then shows ``__init__``'s parameters (the ones settings are checked against), not
    ``(*args, **kwargs)``.
    """

    service_name: str = ""
    state: ServiceState

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        self = super().__new__(cls)
        container = _container_of(kwargs.get("app"))
        name = container.take_name(cls) if container is not None else None
        self.service_name = name or cls.service_name or cls.__name__
        self.state = ServiceState.CREATED
        return self


class Service(_Named):
    """Base class of app services.

    :param app: the application the service belongs to (``None`` outside an app)
    :param logger: the service's logger (the kernel passes ``<app name>.<service name>``); a
        stdlib :class:`logging.Logger` or :class:`logging.LoggerAdapter` is wrapped in the
        kernel's logger, so ``self.logger.info("x", tasks=3)`` works with any of them

    Class attributes a subclass may set:

    - ``service_name``: default name when the config gives none (else the class name);
    - ``dependencies``: names or classes of services that must start before this one;
    - ``always_start``: start it for every command that starts the app, also for a command
      that declares the services it needs (the logging service: one log format for every
      command).

    ``self.service_name`` and ``self.state`` are set when the instance is created, before the
    subclass's ``__init__`` runs.
    """

    __abstract__ = True
    service_name: str = ""
    dependencies: ClassVar[tuple[str | type[Service], ...]] = ()
    always_start: ClassVar[bool] = False

    def __init__(self, app: web.Application | None = None, logger: Any = None) -> None:
        self.app = app
        self.logger = _kernel_logger(logger) if logger is not None else _default_logger(self.service_name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.service_name!r}>"

    @overload
    def discover_service(self, name: S, cls: type[S] | None = ..., required: bool = ...) -> S: ...

    @overload
    def discover_service(
        self, name: str | None, cls: type[S], required: bool = ...
    ) -> S | None: ...

    @overload
    def discover_service(
        self, name: str | None, cls: None = ..., required: bool = ...
    ) -> Service | None: ...

    def discover_service(self, name: Any, cls: Any = None, required: bool = True) -> Any:
        """Find another service of this app.

        :param name: a service name, ``None`` (any name), or a service instance (returned
            as it is, after a class check)
        :param cls: the class (or base class) the service must be an instance of
        :param required: raise :class:`kaiju_tools.ServiceNotFound` when nothing matches
            (else return ``None``)

        Called from ``__init__``, it also records that this service depends on the one it
        found, so that it starts after it.
        """
        if isinstance(name, Service):
            if cls is not None and not isinstance(name, cls):
                raise ServiceNotFound(
                    f"{self.service_name}: expected a {cls.__name__} service, got {name!r}"
                )
            return name
        container = _container_of(self.app)
        if container is None:
            if required:
                raise ServiceNotFound(
                    f"{self.service_name}: cannot discover service {name!r} "
                    f"(cls={getattr(cls, '__name__', None)}): this service is not part of an app"
                )
            return None
        return container.discover(name, cls=cls, required=required, requester=self.service_name)


class ContextableService(Service):
    """A service with asynchronous start-up and shut-down.

    :meth:`init` runs when the app starts (after the services this one depends on have
    started); :meth:`close` runs when the app stops, in reverse order.
    """

    __abstract__ = True

    async def init(self) -> None:
        """Start the service: open pools, discover dependencies, schedule tasks."""

    async def close(self) -> None:
        """Stop the service: close what :meth:`init` opened."""

    async def __aenter__(self: S) -> S:
        await self.init()  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class ServiceClassRegistry(ClassRegistry[Service]):
    """Registry of service classes, keyed by class name (the ``cls:`` config value).

    :param default: the registry lookups fall back to (an app's runtime layers its own over
        :data:`SERVICE_CLASS_REGISTRY`)
    """

    def __init__(self, default: ServiceClassRegistry | None = None) -> None:
        super().__init__(Service, "service class", default)


SERVICE_CLASS_REGISTRY = ServiceClassRegistry()
"""The process-wide default registry of service classes (the guide's ``register`` calls).

Each app resolves the ``cls:`` of its service settings in its runtime's registry, which holds
what the app's plugins and ``packages:`` registered and falls back to this one."""


def _default_logger(name: str) -> Any:
    return get_logger(name)


def _kernel_logger(logger: Any) -> Any:
    """A stdlib logger wrapped in the kernel's logger (keyword extras); anything else as it is."""
    if isinstance(logger, (logging.Logger, logging.LoggerAdapter)):
        return Logger(logger)
    return logger


def _container_of(app: Any) -> Any:
    if app is None:
        return None
    try:
        return app[SERVICES_KEY]
    except (KeyError, TypeError):
        return None
