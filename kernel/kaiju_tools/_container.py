"""The service container: builds an app's services, discovers them, orders their start."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Collection, Iterator
from typing import Any

from aiohttp import web

from ._annotations import parameter_hints
from ._graph import start_order
from ._keys import SERVICES_KEY
from ._logger import get_logger
from .exceptions import ConfigError, ConfigProblem, DependencyCycle, ServiceNotFound, ServiceStartError
from .registry import close_matches
from .services import SERVICE_CLASS_REGISTRY, Service, ServiceClassRegistry, ServiceState
from .settings import ProjectSettings, ServiceSettings

__all__ = ["SERVICES_KEY", "ServiceContainer"]


class ServiceContainer:
    """The services of one app: settings, instances, dependencies and discovery.

    Services are built in config order, each as ``cls(app=app, logger=logger, **settings)``
    with ``cls`` resolved in ``registry`` (default: the runtime's, which falls back to
    ``SERVICE_CLASS_REGISTRY``); a service whose constructor needs another (an annotated
    parameter, a ``discover_service`` call in ``__init__``, ``dependencies`` / ``depends_on``)
    gets it built first. :meth:`order` gives the start order.
    """

    def __init__(
        self, app: web.Application, settings: ProjectSettings,
        registry: ServiceClassRegistry | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        if registry is None:  # the runtime's registry, over the process-wide default
            registry = settings.runtime.service_classes if settings.runtime else SERVICE_CLASS_REGISTRY
        self._registry = registry
        self._entries: dict[str, ServiceSettings] = {}
        for entry in settings.services:
            if entry.enabled:
                self._entries[settings.service_name(entry)] = entry
        self._services: dict[str, Service] = {}
        self._building: list[str] = []
        self._naming: dict[str, type] = {}  # service being constructed -> its class, until named
        self._deps: dict[str, list[str]] = {name: [] for name in self._entries}
        self.failed: dict[str, BaseException | str] = {}
        self.started: list[Service] = []

    def __iter__(self) -> Iterator[Service]:
        return iter(list(self._services.values()))

    def __len__(self) -> int:
        return len(self._services)

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def get(self, name: str) -> Service | None:
        """The service named ``name``, or ``None``."""
        return self._services.get(name)

    def entry(self, name: str) -> ServiceSettings:
        """The settings a service was built from."""
        return self._entries[name]

    def dependencies(self, name: str) -> list[str]:
        """Names of the services ``name`` depends on."""
        return list(self._deps.get(name, ()))

    # ---- building -------------------------------------------------------------------

    def build_all(self, only: Collection[str] | None = None) -> None:
        """Build every enabled service, or those named in ``only`` and what they depend on
        (optional ones that fail are recorded in :attr:`failed`)."""
        for name in self._entries:
            if only is None or name in only:
                self._build(name)

    def _build(self, name: str) -> Service | None:
        if name in self._services:
            return self._services[name]
        if name in self.failed:
            return None
        if name in self._building:
            cycle = [*self._building[self._building.index(name):], name]
            raise DependencyCycle(cycle)
        entry = self._entries[name]
        cls = self._registry[entry.cls]
        self._building.append(name)
        try:
            kwargs = dict(entry.settings)
            for param, (dep_cls, optional) in _service_params(cls).items():
                value = kwargs.get(param)
                if isinstance(value, Service):
                    continue
                dep_name = self._match(value if isinstance(value, str) else None, dep_cls, exclude=name)
                if dep_name is None and not optional:
                    self._fail_on_failed_dependency(name, param, dep_cls)
                if dep_name is None:
                    if isinstance(value, str):
                        raise ConfigError(ConfigProblem(
                            f"{entry.key}.settings.{param}", f"no {dep_cls.__name__} service named {value!r}",
                            close_matches(value, self._entries)))
                    if not optional:
                        raise ConfigError(ConfigProblem(
                            entry.where or entry.key,
                            f"service {name!r} ({cls.__name__}) needs a {dep_cls.__name__} service for its "
                            f"parameter {param!r}, and none is configured",
                            f"add `- cls: {dep_cls.__name__}` to `services:` (or give {param!r} a default)"))
                    continue
                self._add_dep(name, dep_name)
                dep = self._build(dep_name)
                if dep is not None:
                    kwargs[param] = dep
                elif not optional:
                    self._fail_on_failed_dependency(name, param, dep_cls)
            for declared in (*cls.dependencies, *entry.depends_on):
                dep_name = self._match(declared if isinstance(declared, str) else None,
                                       declared if isinstance(declared, type) else None, exclude=name)
                if dep_name is None:
                    raise ConfigError(ConfigProblem(
                        entry.key, f"service {name!r} depends on {getattr(dep, '__name__', dep)!r}, which is "
                        "not configured (or not enabled)", close_matches(str(dep), self._entries)))
                self._add_dep(name, dep_name)
                self._build(dep_name)
            level = entry.loglevel
            logger = get_logger(f"{self.settings.main.name}.{name}", level)
            self._naming[name] = cls  # taken by Service.__new__: the name is set before __init__
            try:
                service = cls(app=self.app, logger=logger, **kwargs)
            except (ConfigError, DependencyCycle, ServiceNotFound):
                raise
            except Exception as exc:
                if entry.required:
                    raise ServiceStartError(name, exc) from exc
                logger.error("optional service could not be built; the app goes on without it",
                             exc_info=True, service=name, error=repr(exc))
                self.failed[name] = exc
                return None
            finally:
                untaken = self._naming.pop(name, None)
            if untaken is not None:  # a __new__ of its own that skips Service.__new__
                service.service_name, service.state = name, ServiceState.CREATED
            self._services[name] = service
            return service
        finally:
            self._building.pop()

    def take_name(self, cls: type) -> str | None:
        """The configured name of the service of class ``cls`` being constructed right now, once.

        ``Service.__new__`` takes it, so the name is the service's before its ``__init__`` runs
        (``discover_service`` there records the dependency under it); ``None`` for an instance
        built by hand, or a second instance of the class built inside that ``__init__``.
        """
        name = self._building[-1] if self._building else None
        if name is None or self._naming.get(name) is not cls:
            return None
        del self._naming[name]
        return name

    def _fail_on_failed_dependency(self, name: str, param: str, dep_cls: type) -> None:
        for failed, cause in self.failed.items():
            if issubclass(self._registry[self._entries[failed].cls], dep_cls):
                raise ServiceStartError(
                    name, f"it needs the {dep_cls.__name__} service {failed!r} for its parameter "
                    f"{param!r}, and that optional service failed: {cause!r}")

    def _add_dep(self, name: str, dep: str) -> None:
        if dep != name and dep not in self._deps[name]:
            self._deps[name].append(dep)

    def _match(self, name: str | None, cls: type | None, exclude: str | None = None) -> str | None:
        if name is not None:
            entry = self._entries.get(name)
            if entry is None or name in self.failed:
                return None
            if cls is not None and not issubclass(self._registry[entry.cls], cls):
                return None
            return name
        for candidate, entry in self._entries.items():
            if candidate == exclude or candidate in self.failed:
                continue
            if cls is None or issubclass(self._registry[entry.cls], cls):
                return candidate
        return None

    # ---- discovery ------------------------------------------------------------------

    def discover(
        self, name: str | None, cls: type | None = None, required: bool = True, requester: str | None = None
    ) -> Any:
        """Find a service by name and/or class (see :meth:`Service.discover_service`)."""
        found = self._match(name, cls, exclude=requester)
        service = None
        if found is not None:
            if self._building and requester == self._building[-1]:
                self._add_dep(requester, found)
                service = self._build(found)
            else:
                service = self._services.get(found)
        if service is None and required:
            what = f"named {name!r}" if name else "of any name"
            kind = f" of class {cls.__name__}" if cls is not None else ""
            available = ", ".join(f"{n} ({e.cls})" for n, e in self._entries.items()
                                  if n not in self.failed) or "none"
            reason = f"; it failed: {self.failed[name]!r}" if name in self.failed else ""
            raise ServiceNotFound(
                f"{requester or 'app'}: no service {what}{kind}{reason}. Configured services: {available}. "
                "Add it to `services:` in the config, or pass required=False"
            )
        return service

    def mark_failed(self, service: Service, cause: BaseException | str) -> None:
        """Make an optional service that failed to start undiscoverable."""
        self.failed[service.service_name] = cause
        self._services.pop(service.service_name, None)

    def order(self) -> list[str]:
        """Start order: dependencies first, config order breaks ties."""
        names = [n for n in self._entries if n in self._services]
        return start_order(names, self._deps)




def _service_params(cls: type) -> dict[str, tuple[type[Service], bool]]:
    """Constructor parameters annotated with a Service subclass -> (class, has a default)."""
    init = cls.__init__  # type: ignore[misc]  # the class's own (or inherited) constructor
    hints = parameter_hints(init)  # one by one: an unresolvable annotation spoils only itself
    out: dict[str, tuple[type[Service], bool]] = {}
    try:
        params = inspect.signature(init).parameters
    except (TypeError, ValueError):
        return out
    for pname, param in params.items():
        if pname in ("self", "app", "logger"):
            continue
        hint = hints.get(pname)
        for option in typing.get_args(hint) or (hint,):
            if inspect.isclass(option) and issubclass(option, Service):
                out[pname] = (option, param.default is not inspect.Parameter.empty)
                break
    return out
