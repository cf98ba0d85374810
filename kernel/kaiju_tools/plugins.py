"""Plugins: discovery through entry points, activation rules, hook calls.

- Entry-point group ``kaiju.plugins``; each entry point is a module whose hook
  implementations are module-level functions (the module is the plugin).
- First-party plugins (:data:`FIRST_PARTY`, this repository's) are active whenever
  installed, except the opt-in ones (:data:`OPT_IN`: they need an external server); any other
  plugin is active only when ``packages:`` names it (entry-point or distribution name).
  A running app imports an inactive plugin only to explain an error that already stops it
  (:meth:`Plugins.explain`: which inactive or disabled plugin provides an unknown class).
- ``KAIJU_DISABLE_PLUGINS=a,b`` disables plugins by name; ``KAIJU_TRACE_HOOKS=1`` prints
  every hook call (hook, plugins, duration) to stderr.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterable
from dataclasses import field
from typing import Any

import pluggy

from . import _builtin, hookspecs
from ._diagnose import HOOK_NAMES, UNKNOWN_CLASS, check_async, check_pending, class_names, unknown_hook
from ._entry_points import entry_points
from ._hookcalls import (
    TRACE_ENV,
    _install_tracer,
    _trace,
    _tracing,
    await_lifecycle,
    call_each,
    collect,
    collect_first,
)
from .caches import dataclass
from .commands import COMMANDS, CommandRegistry
from .exceptions import ConfigProblem, PluginError
from .registry import close_matches
from .services import SERVICE_CLASS_REGISTRY, ServiceClassRegistry

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "FIRST_PARTY",
    "OPT_IN",
    "TRACE_ENV",
    "PluginInfo",
    "Plugins",
    "await_lifecycle",
    "call_each",
    "collect",
    "collect_first",
    "make_plugin_manager",
]

ENTRY_POINT_GROUP = "kaiju.plugins"
DISABLE_ENV = "KAIJU_DISABLE_PLUGINS"
FIRST_PARTY = frozenset({"kaiju-plugin-config-yaml", "kaiju-plugin-rpc", "kaiju-plugin-scheduler",
                         "kaiju-plugin-logging", "kaiju-plugin-redis", "kaiju-plugin-otel",
                         "kaiju-plugin-metrics"})
"""The distributions of this repository (``kaiju-plugin-*``, package ``kaiju_plugins.*``)."""
OPT_IN = frozenset({"kaiju-plugin-redis", "kaiju-plugin-otel", "kaiju-plugin-metrics"})
"""First-party distributions that are active only when ``packages:`` lists them, like a
third-party plugin (the others are active whenever installed): ``redis`` needs a server,
``otel`` costs per call and needs a collector to send to, ``metrics`` costs per call and
opens a scrape endpoint."""


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@dataclass
class PluginInfo:
    """What the kernel knows of one installed plugin (one entry point)."""

    name: str
    value: str
    dist: str = "?"
    version: str = "?"
    status: str = "inactive"  # active / inactive / failed / disabled
    cause: str = ""
    hooks: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    module: Any = field(default=None, repr=False)
    entry_point: Any = field(default=None, repr=False)

    @property
    def first_party(self) -> bool:
        """Whether the plugin comes from this repository (:data:`FIRST_PARTY`)."""
        return _norm(self.dist) in FIRST_PARTY

    @property
    def always_active(self) -> bool:
        """Whether the plugin is active whenever installed (first-party, not :data:`OPT_IN`)."""
        return self.first_party and _norm(self.dist) not in OPT_IN

    @property
    def kind(self) -> str:
        """``first-party``, ``first-party, opt-in`` or ``third-party`` (for the ``plugins`` command)."""
        if not self.first_party:
            return "third-party"
        return "first-party" if self.always_active else "first-party, opt-in"

    @property
    def label(self) -> str:
        """``name (distribution version)`` for messages."""
        return f"plugin {self.name!r} (distribution {self.dist} {self.version})"


def make_plugin_manager() -> pluggy.PluginManager:
    """A new plugin manager with the kernel's hookspecs and its built-in defaults plugin."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(_builtin, name="kaiju.builtin")
    if _tracing():
        _install_tracer(pm)
    return pm


class Plugins:
    """The plugins of one app: a plugin manager, what was found and activated, and what they registered.

    What the active plugins (and the modules ``packages:`` lists) register lands in
    :attr:`service_classes` and :attr:`commands`, this plugin set's own layers over the
    process-wide ``SERVICE_CLASS_REGISTRY`` and ``COMMANDS``: another ``Plugins`` in the same
    process does not see it.
    """

    def __init__(self, pm: pluggy.PluginManager | None = None, environ: Any = None) -> None:
        self.pm = pm or make_plugin_manager()
        env = os.environ if environ is None else environ
        self.disabled = {_norm(n) for n in env.get(DISABLE_ENV, "").split(",") if n.strip()}
        self.infos: dict[str, PluginInfo] = {}
        self.modules: list[str] = []
        self.keep_going = False
        """Record a plugin that fails to activate (its status and cause) instead of raising
        (the ``plugins`` command's mode); :attr:`failures` holds the errors."""
        self.failures: list[PluginError] = []
        self.failed_modules: dict[str, str] = {}
        self.service_classes = ServiceClassRegistry(default=SERVICE_CLASS_REGISTRY)
        """The service classes of this plugin set, over the process-wide default registry."""
        self.commands = CommandRegistry(default=COMMANDS)
        """The commands of this plugin set, over the process-wide default registry."""
        for ep in entry_points(ENTRY_POINT_GROUP, env):
            info = PluginInfo(ep.name, ep.value, ep.dist_name, ep.dist_version, entry_point=ep)
            if _norm(info.name) in self.disabled or _norm(info.dist) in self.disabled:
                info.status, info.cause = "disabled", f"disabled by {DISABLE_ENV}"
            self.infos.setdefault(info.name, info)
        _builtin.register_builtin_commands()

    def load_first_party(self, strict: bool = True) -> list[PluginError]:
        """Activate every installed first-party plugin that is not opt-in nor disabled.

        ``strict=False``: a plugin that fails is recorded (and returned) instead of raised.
        """
        failures = []
        for info in self.infos.values():
            if info.always_active and info.status == "inactive":
                try:
                    self.activate(info)
                except PluginError as exc:
                    if strict:
                        raise
                    failures.append(exc)
        self.failures.extend(failures)
        return failures

    def activate(self, info: PluginInfo) -> None:
        """Import and register one plugin; raise :class:`PluginError` naming it on failure."""
        try:
            module = info.entry_point.load()
        except Exception as exc:
            info.status, info.cause = "failed", f"{type(exc).__name__}: {exc}"
            raise PluginError(f"{info.label} failed to import: {info.cause}. Fix or uninstall it, or "
                              f"disable it with {DISABLE_ENV}={info.name}") from exc
        self._register(module, info)

    def register(self, plugin: object, name: str) -> PluginInfo:
        """Register a plugin object that is not an entry point (tests, in-code plugins).

        The same checks apply as for entry points: async implementations of sync hooks
        and unknown hook names are refused with a :class:`PluginError`.
        """
        info = PluginInfo(name, repr(plugin), dist="(in code)", version="-")
        self.infos[name] = info
        self._register(plugin, info)
        return info

    def _register(self, plugin: Any, info: PluginInfo) -> None:
        try:
            self.pm.register(plugin, name=info.name)
        except ValueError:  # registered already
            return
        except pluggy.PluginValidationError as exc:
            info.status, info.cause = "failed", str(exc)
            raise PluginError(f"{info.label} has an invalid hook implementation: {exc}") from exc
        info.module = plugin
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ())
        problem = check_async(self.pm, plugin, info) or check_pending(self.pm, info)
        if problem:
            self.pm.unregister(plugin)
            info.status, info.cause = "failed", problem
            raise PluginError(f"{info.label}: {problem}")
        info.status, info.cause = "active", ""
        self.register_classes(info)

    def register_classes(self, info: PluginInfo) -> None:
        """Run the registration hooks of one plugin into :attr:`service_classes` / :attr:`commands`."""
        module = info.module
        for hook, registry in (("kaiju_register_services", self.service_classes),
                               ("kaiju_register_commands", self.commands)):
            impl = getattr(module, hook, None)
            if impl is None or hook not in info.hooks:
                continue
            start = time.perf_counter()
            try:
                classes = list(impl() or ())
                if _tracing():
                    _trace(hook, info.name, start)
                for cls in classes:
                    registry.register(cls)
            except Exception as exc:
                info.status, info.cause = "failed", f"{type(exc).__name__}: {exc}"
                raise PluginError(f"{info.label}: {hook} failed: {info.cause}") from exc
            info.registered.extend(registry.class_key(c) for c in classes)

    def activate_packages(self, packages: Iterable[str]) -> list[ConfigProblem]:
        """Activate what ``packages:`` names; return problems (unknown names)."""
        problems: list[ConfigProblem] = []
        by_dist = {_norm(i.dist): i for i in self.infos.values()}
        for index, name in enumerate(packages):
            info = self.infos.get(name) or by_dist.get(_norm(name))
            if info is not None:
                if info.status in ("disabled", "failed"):
                    continue
                if info.status != "active":
                    self._activate_or_record(info)
                continue
            try:
                if self._import_package(name, index, problems):
                    self.modules.append(name)
            except PluginError as exc:
                if not self.keep_going:
                    raise
                self.failures.append(exc)
                self.failed_modules[name] = str(exc)
        return problems

    def _activate_or_record(self, info: PluginInfo) -> None:
        try:
            self.activate(info)
        except PluginError as exc:
            if not self.keep_going:
                raise
            self.failures.append(exc)

    def _import_package(self, name: str, index: int, problems: list[ConfigProblem]) -> bool:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                installed = ", ".join(f"{i.name} ({i.dist})" for i in self.infos.values()) or "none"
                hint = close_matches(name, [*self.infos, *(i.dist for i in self.infos.values())])
                problems.append(ConfigProblem(
                    f"packages[{index}]",
                    f"unknown package {name!r}: no installed plugin has this entry-point or distribution "
                    f"name, and no module of this name can be imported. Installed plugins: {installed}",
                    hint or "pip install the plugin, or fix the name"))
                return False
            raise PluginError(f"package {name!r} (packages[{index}]) failed to import: "
                              f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise PluginError(f"package {name!r} (packages[{index}]) failed to import: "
                              f"{type(exc).__name__}: {exc}") from exc
        self.service_classes.register_from_module(module)
        try:
            services = importlib.import_module(f"{name}.services")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.services":
                raise PluginError(f"package {name}.services failed to import: {exc}") from exc
        else:
            self.service_classes.register_from_module(services)
        return True

    def inspect_all(self) -> list[PluginInfo]:
        """Import inactive plugins too (for the ``plugins`` command only) to report their hooks."""
        for info in self.infos.values():
            if info.status != "inactive":
                continue
            try:
                module = info.entry_point.load()
            except Exception as exc:  # noqa: BLE001 -- a broken plugin is listed as failed
                info.status, info.cause = "failed", f"import failed: {type(exc).__name__}: {exc}"
                continue
            info.hooks = sorted(n for n in dir(module)
                                if n.startswith("kaiju_") and callable(getattr(module, n)))
            unknown = [n for n in info.hooks if n not in HOOK_NAMES]
            if unknown:
                info.cause = "not listed in `packages:`; " + "; ".join(unknown_hook(n) for n in unknown)
            else:
                info.cause = "not listed in `packages:`"
        return sorted(self.infos.values(), key=lambda i: (not i.always_active, not i.first_party, i.name))

    def provided_by(self, cls_name: str) -> PluginInfo | None:
        """The inactive or disabled installed plugin whose ``kaiju_register_services`` returns a
        class named ``cls_name`` (or ``None``).

        Imports those plugins: call it only to explain an error that already stops the app.
        """
        for info in self.infos.values():
            if info.status not in ("inactive", "disabled") or info.entry_point is None:
                continue
            if cls_name in class_names(info):
                return info
        return None

    def explain(self, problems: list[ConfigProblem]) -> list[ConfigProblem]:
        """``problems`` with the hint of each unknown service class that an installed but inactive
        (or disabled) plugin provides replaced by how to activate that plugin."""
        out = []
        for problem in problems:
            match = UNKNOWN_CLASS.fullmatch(problem.message)
            info = self.provided_by(match.group(1)) if match else None
            if match and info is not None:
                if info.status == "disabled":
                    hint = (f"the {info.kind} {info.label} provides it, and is disabled by the environment "
                            f"variable {DISABLE_ENV}={os.environ.get(DISABLE_ENV, '')}; remove "
                            f"{info.name!r} from it")
                else:
                    hint = (f"the {info.kind} {info.label} provides it, and is installed but not active: "
                            f"add `{info.name}` to `packages:`")
                problem = ConfigProblem(problem.where, problem.message, hint)
            out.append(problem)
        return out
