"""``ProjectSettings``: the validated shape of an app's configuration.

Every section is optional: a config without ``run:`` serves on ``127.0.0.1:8080``, one
without ``main:`` is named ``app``. :func:`validate_settings` checks everything it can and
reports every problem at once (unknown keys with close matches, wrong types, unknown
service classes, unknown service settings, service settings of the wrong type for the
constructor's annotations, duplicate service names).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._annotations import allowed_types, expected_types, type_name, value_name
from ._merge import Origins, format_key
from .caches import dataclass
from .exceptions import ConfigError, ConfigProblem
from .outcomes import parse_level
from .registry import close_matches
from .services import SERVICE_CLASS_REGISTRY, Service, ServiceClassRegistry
from .templates import find_templates

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = [
    "MainSettings",
    "ProjectSettings",
    "RunSettings",
    "ServiceSettings",
    "allowed_types",
    "type_name",
    "validate_settings",
    "value_name",
]

_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")
_NOT_CONFIG = {"config": False}  # a field that is not a config key (see _to_mapping)
_FLAT = {"flatten": True}  # a dict field whose keys sit beside the other keys of the section


@dataclass
class MainSettings:
    """The ``main:`` section: the app's identity and start/stop limits."""

    name: str = "app"
    version: str = "0.0.0"
    env: str = "dev"
    loglevel: str = "INFO"
    start_timeout: float = 30.0
    """Seconds each service's ``init()`` may take."""
    stop_timeout: float = 30.0
    """Seconds each service's ``close()`` may take."""


@dataclass
class RunSettings:
    """The ``run:`` section: arguments of :func:`aiohttp.web.run_app`."""

    host: str = "127.0.0.1"
    port: int = 8080
    shutdown_timeout: float = 10.0
    """Seconds in-flight requests get to finish on SIGTERM / SIGINT."""
    drain_delay: float = 0.0
    """Seconds the server keeps serving after SIGTERM / SIGINT with readiness false, so that a
    load balancer stops sending traffic before the listening socket closes."""
    outcome_log: str | None = "INFO"
    """Level of the outcome line of a request to a plain web route (not JSON-RPC: the rpc
    server has its own ``outcome_log``): ``DEBUG``, ``INFO``, ``WARNING`` or ``off``."""
    slow_request_time: float = 5.0
    """Seconds; a plain web request slower than this is logged at WARNING."""
    extra: dict[str, Any] = field(default_factory=dict, metadata=_FLAT)


@dataclass
class ServiceSettings:
    """One entry of ``services:``."""

    cls: str
    name: str | None = None
    enabled: bool = True
    required: bool = True
    loglevel: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    key: str = field(default="", metadata=_NOT_CONFIG)
    """Dotted config key of this entry (``services[2]``), for messages."""
    where: str = field(default="", metadata=_NOT_CONFIG)
    """``file:line`` of this entry, when known."""


@dataclass
class ProjectSettings:
    """The whole configuration of an app."""

    packages: list[str] = field(default_factory=list)
    app: dict[str, Any] = field(default_factory=dict)
    run: RunSettings = field(default_factory=RunSettings)
    main: MainSettings = field(default_factory=MainSettings)
    etc: dict[str, Any] = field(default_factory=dict)
    services: list[ServiceSettings] = field(default_factory=list)
    origins: Origins = field(default_factory=dict, repr=False, metadata=_NOT_CONFIG)
    runtime: Runtime | None = field(default=None, repr=False, compare=False, metadata=_NOT_CONFIG)
    """The runtime (plugins, loaded config) that validated these settings; ``None`` for
    settings built by hand, which ``init_app`` validates again (with the first-party plugins)."""

    def service_name(self, entry: ServiceSettings) -> str:
        """The name a service entry resolves to."""
        return _entry_name(entry, self.runtime.service_classes if self.runtime else SERVICE_CLASS_REGISTRY)


def _entry_name(entry: ServiceSettings, registry: ServiceClassRegistry) -> str:
    """``name:``, else the class's ``service_name``, else the ``cls:`` value."""
    if entry.name:
        return entry.name
    cls = registry.get(entry.cls)
    return (cls.service_name if cls is not None else "") or entry.cls


def _to_mapping(value: Any) -> Any:
    """Settings back to the shape of the YAML config, field by field (for validating again)."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in fields(value):
            if f.metadata.get("config", True):
                item = _to_mapping(getattr(value, f.name))
                if f.metadata.get("flatten"):
                    out.update(item)
                else:
                    out[f.name] = item
        return out
    if isinstance(value, Mapping):
        return {k: _to_mapping(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_mapping(v) for v in value]
    return value


_TOP = ("packages", "app", "run", "main", "etc", "services")
_SERVICE_KEYS = ("cls", "name", "enabled", "required", "loglevel", "settings", "depends_on")
_APP_ARGS = set(inspect.signature(web.Application).parameters) - {"self", "loop"} | {"debug"}
_KERNEL_RUN_ARGS = {"drain_delay", "outcome_log", "slow_request_time"}  # run_server's own, not run_app's
_RUN_ARGS = (set(inspect.signature(web.run_app).parameters) - {"app", "loop", "handle_signals"}
             | _KERNEL_RUN_ARGS)  # run_server handles the signals
_OWN_RUN_ARGS = {"host", "port", "shutdown_timeout"} | _KERNEL_RUN_ARGS  # fields, not run.extra


class _Checker:
    def __init__(self, origins: Origins) -> None:
        self.origins = origins
        self.problems: list[ConfigProblem] = []

    def where(self, path: tuple[Any, ...]) -> str:
        key = format_key(path)
        probe = path
        while probe:
            if probe in self.origins:
                return f"{key} ({self.origins[probe]})"
            probe = probe[:-1]
        return key

    def add(self, path: tuple[Any, ...], message: str, hint: str = "") -> None:
        self.problems.append(ConfigProblem(self.where(path), message, hint))

    def mapping(self, value: Any, path: tuple[Any, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, f"expected a mapping, got {type(value).__name__}: {value!r}")
            return {}
        return dict(value)

    def unknown(self, data: Mapping[str, Any], allowed: Any, path: tuple[Any, ...]) -> None:
        for key in data:
            if key not in allowed:
                hint = close_matches(str(key), allowed) or f"allowed keys: {', '.join(sorted(allowed))}"
                self.add((*path, key), f"unknown key {key!r}", hint)

    def typed(self, value: Any, types: Any, path: tuple[Any, ...], expected: str) -> bool:
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            self.add(path, f"expected {expected}, got {type(value).__name__}: {value!r}")
        return ok

    def level(self, value: Any, path: tuple[Any, ...]) -> None:
        if not isinstance(value, str) or value.upper() not in _LEVELS:
            self.add(path, f"expected a log level name ({', '.join(_LEVELS)}), got {value!r}")


def validate_settings(
    raw: Mapping[str, Any], origins: Origins | None = None,
    registry: ServiceClassRegistry = SERVICE_CLASS_REGISTRY,
) -> ProjectSettings:
    """Build :class:`ProjectSettings` from merged settings, or raise one ``ConfigError``."""
    check = _Checker(origins or {})
    if not isinstance(raw, Mapping):
        raise ConfigError(ConfigProblem("<root>", f"expected a mapping, got {type(raw).__name__}"))
    check.unknown(raw, _TOP, ())
    out = ProjectSettings(origins=dict(origins or {}))
    packages = raw.get("packages") or []
    if check.typed(packages, list, ("packages",), "a list of package names"):
        for i, name in enumerate(packages):
            if check.typed(name, str, ("packages", i), "a package name (str)"):
                out.packages.append(name)
    out.app = check.mapping(raw.get("app"), ("app",))
    check.unknown(out.app, _APP_ARGS, ("app",))
    out.etc = check.mapping(raw.get("etc"), ("etc",))
    out.main = _main(check, check.mapping(raw.get("main"), ("main",)))
    out.run = _run(check, check.mapping(raw.get("run"), ("run",)))
    services = raw.get("services") or []
    if check.typed(services, list, ("services",), "a list of service settings"):
        seen: dict[str, str] = {}
        for i, item in enumerate(services):
            entry = _service(check, item, ("services", i), registry)
            if entry is None:
                continue
            out.services.append(entry)
            if not entry.enabled:
                continue
            name = _entry_name(entry, registry)
            if name in seen:
                check.add(
                    ("services", i),
                    f"two services are named {name!r}: {seen[name]} and {check.where(('services', i))}",
                    "give one of them another name with `name:`",
                )
            else:
                seen[name] = check.where(("services", i))
    if check.problems:
        raise ConfigError(check.problems)
    return out


def _main(check: _Checker, data: dict[str, Any]) -> MainSettings:
    main = MainSettings()
    check.unknown(data, MainSettings.__dataclass_fields__, ("main",))
    for key in ("name", "env"):
        if key in data and check.typed(data[key], str, ("main", key), "a string"):
            setattr(main, key, data[key])
    if "version" in data and check.typed(data["version"], (str, int, float), ("main", "version"),
                                         "a version string"):
        main.version = str(data["version"])
    if "loglevel" in data:
        check.level(data["loglevel"], ("main", "loglevel"))
        main.loglevel = str(data["loglevel"]).upper()
    for key in ("start_timeout", "stop_timeout"):
        if key in data and check.typed(data[key], (int, float), ("main", key), "a number of seconds"):
            if data[key] <= 0:
                check.add(("main", key), f"expected a positive number of seconds, got {data[key]!r}")
            setattr(main, key, float(data[key]))
    return main


def _run(check: _Checker, data: dict[str, Any]) -> RunSettings:
    run = RunSettings()
    check.unknown(data, _RUN_ARGS, ("run",))
    if "host" in data and check.typed(data["host"], str, ("run", "host"), "a host name or address"):
        run.host = data["host"]
    if "port" in data and check.typed(data["port"], int, ("run", "port"), "a port number (int)"):
        if not 0 <= data["port"] <= 65535:
            check.add(("run", "port"), f"expected a port number 0-65535, got {data['port']!r}")
        run.port = data["port"]
    if "shutdown_timeout" in data and check.typed(
        data["shutdown_timeout"], (int, float), ("run", "shutdown_timeout"), "a number of seconds"
    ):
        run.shutdown_timeout = float(data["shutdown_timeout"])
    if "drain_delay" in data and check.typed(
        data["drain_delay"], (int, float), ("run", "drain_delay"), "a number of seconds"
    ):
        if data["drain_delay"] < 0:
            check.add(("run", "drain_delay"), f"expected 0 or more seconds, got {data['drain_delay']!r}")
        run.drain_delay = float(data["drain_delay"])
    if "outcome_log" in data:
        try:
            parse_level(data["outcome_log"])
            run.outcome_log = data["outcome_log"]
        except ValueError as exc:
            check.add(("run", "outcome_log"), str(exc), "off turns the line off")
    if "slow_request_time" in data and check.typed(
        data["slow_request_time"], (int, float), ("run", "slow_request_time"), "a number of seconds"
    ):
        run.slow_request_time = float(data["slow_request_time"])
    run.extra = {k: v for k, v in data.items() if k in _RUN_ARGS and k not in _OWN_RUN_ARGS}
    return run


def _service(
    check: _Checker, item: Any, path: tuple[Any, ...], registry: ServiceClassRegistry
) -> ServiceSettings | None:
    if isinstance(item, str):
        item = {"cls": item}
    if not isinstance(item, Mapping):
        check.add(path,
                  f"expected a service mapping with at least `cls:`, got {type(item).__name__}: {item!r}")
        return None
    check.unknown(item, _SERVICE_KEYS, path)
    cls_name = item.get("cls")
    if not isinstance(cls_name, str) or not cls_name:
        check.add((*path, "cls"), f"expected a service class name, got {cls_name!r}",
                  "every service entry needs `cls: <ServiceClass>`")
        return None
    entry = ServiceSettings(cls=cls_name, key=format_key(path), where=check.where(path))
    name = item.get("name")
    if name is not None and check.typed(name, str, (*path, "name"), "a service name (str)"):
        entry.name = name
    for key in ("enabled", "required"):
        if key in item and check.typed(item[key], bool, (*path, key), "true or false"):
            setattr(entry, key, item[key])
    if item.get("loglevel") is not None:
        check.level(item["loglevel"], (*path, "loglevel"))
        entry.loglevel = str(item["loglevel"]).upper()
    entry.settings = check.mapping(item.get("settings"), (*path, "settings"))
    deps = item.get("depends_on") or []
    if check.typed(deps, list, (*path, "depends_on"), "a list of service names"):
        entry.depends_on = [str(d) for d in deps]
    if not entry.enabled:
        return entry
    cls = registry.get(cls_name)
    if cls is None:
        hint = close_matches(cls_name, registry.names()) or (
            "register the class with SERVICE_CLASS_REGISTRY.register(), list its package in "
            "`packages:`, or install the plugin that provides it"
        )
        check.add((*path, "cls"), f"unknown service class {cls_name!r}", hint)
        return entry
    _check_service_settings(check, cls, entry.settings, (*path, "settings"),
                            entry.name or cls.service_name or cls.__name__)
    return entry


def _check_service_settings(
    check: _Checker, cls: type[Service], settings: Mapping[str, Any], path: tuple[Any, ...], name: str
) -> None:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return
    _check_setting_types(check, cls, settings, path, name)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if n not in ("app", "logger") and p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in settings:
        if key in ("app", "logger"):
            check.add((*path, key), f"{key!r} is passed by the kernel and cannot be set in settings")
        elif key not in allowed:
            hint = close_matches(str(key), allowed) or (
                f"{cls.__name__} accepts: {', '.join(allowed) or 'no settings'}"
            )
            check.add((*path, key), f"unknown setting {key!r} for service class {cls.__name__} "
                      f"(service {name!r})", hint)
    for pname, param in params.items():
        if pname in ("app", "logger") or param.default is not inspect.Parameter.empty:
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if pname not in settings and not _is_service_annotation(param.annotation, cls):
            check.add((*path, pname), f"{cls.__name__} needs the setting {pname!r}, which is missing "
                      f"(service {name!r})", f"add `{pname}:` under settings")


def _check_setting_types(
    check: _Checker, cls: type[Service], settings: Mapping[str, Any], path: tuple[Any, ...], name: str
) -> None:
    """Each setting against its parameter's annotation (the rpc plugin's params rules); a string
    with a template left in it is resolved later and not checked."""
    by_name, var_kw = expected_types(cls)
    for key, value in settings.items():
        allowed = by_name.get(key, var_kw if key not in ("app", "logger") else None)
        if allowed is None or type(value) in allowed:
            continue
        if isinstance(value, str) and find_templates(value):
            continue
        check.add((*path, key), f"setting {key!r} of {cls.__name__} {name!r}: expected "
                  f"{type_name(allowed)}, got {value_name(value)}: {value!r}",
                  f"write a {type_name(allowed)} value (see {cls.__name__}.__init__)")


def _is_service_annotation(annotation: Any, owner: type) -> bool:
    if isinstance(annotation, str):
        module = inspect.getmodule(owner)
        annotation = getattr(module, annotation.split("|")[0].strip(), None)
    return inspect.isclass(annotation) and issubclass(annotation, Service)

