"""Runtime: everything the kernel knows of one app before it is built (plugins, registries, CLI, settings).

One runtime per app: its plugin set's plugin manager, the service-class and command registries
the app resolves names in (layered over the process-wide ``SERVICE_CLASS_REGISTRY`` and
``COMMANDS``), the parsed command line, the loaded config and the validated settings. An app
reaches it with ``kaiju_tools.get_runtime(app)``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import Any

import pluggy

from ._merge import Origins, merge_into, walk
from .caches import dataclass
from .commands import CommandRegistry
from .config import ConfigLoader, LoadedConfig
from .exceptions import ConfigError, ConfigProblem
from .plugins import Plugins, call_each
from .services import ServiceClassRegistry
from .settings import ProjectSettings, validate_settings

__all__ = ["Runtime", "settings_from_mapping"]


@dataclass
class Runtime:
    """The plugins, registries, parsed CLI arguments, loaded config and validated settings of one app.

    :attr:`service_classes` and :attr:`commands` are the plugin set's own registries: a lookup
    tries what the active plugins (and ``packages:``) registered, then the process-wide
    ``SERVICE_CLASS_REGISTRY`` / ``COMMANDS`` (where the guide's ``register`` calls write).
    """

    plugins: Plugins
    args: argparse.Namespace | None = None
    loaded: LoadedConfig | None = None
    settings: ProjectSettings | None = None
    init_app: Callable[..., Any] | None = None
    prog: str = "python -m app"
    extra: dict[str, Any] = field(default_factory=dict)
    only_services: list[str] | None = None
    """The services ``init_app`` builds (a command's ``services``); ``None``: every enabled one."""

    @property
    def pm(self) -> pluggy.PluginManager:
        """The plugin manager of the app's plugin set."""
        return self.plugins.pm

    @property
    def service_classes(self) -> ServiceClassRegistry:
        """The registry the app's ``cls:`` names resolve in (over ``SERVICE_CLASS_REGISTRY``)."""
        return self.plugins.service_classes

    @property
    def commands(self) -> CommandRegistry:
        """The app's commands: its plugins' own, over ``COMMANDS`` (the app's and the built-ins)."""
        return self.plugins.commands

    def load_settings(
        self, *, base_config_paths: Sequence[str] = (), base_env_paths: Sequence[str] = (),
        default_env_paths: Sequence[str] = (), environ: Mapping[str, str] | None = None,
    ) -> ProjectSettings:
        """Load the config in the guide's order, activate ``packages:``, validate."""
        args = self.args or argparse.Namespace()
        loader = ConfigLoader(
            self.plugins.pm.hook,
            base_config_paths=base_config_paths,
            config_paths=getattr(args, "config_paths", None) or (),
            base_env_paths=base_env_paths,
            env_paths=getattr(args, "env_paths", None) or (),
            default_env_paths=default_env_paths,
            env_values=getattr(args, "env_values", None) or (),
            environ=environ if environ is not None else os.environ,
        )
        self.loaded = loader.load(strict=False)
        _cli_overrides(self.loaded.data, self.loaded.origins, args)
        self.settings = self.finish(self.loaded.data, self.loaded.origins, self.loaded.problems)
        return self.settings

    def finish(
        self, data: dict[str, Any], origins: Origins, problems: list[ConfigProblem] | None = None
    ) -> ProjectSettings:
        """Activate packages, merge plugin defaults under ``data``, run checks, validate.

        ``problems`` found earlier (templates, ``-e``) are reported with the new ones.
        """
        packages = data.get("packages") or []
        problems = list(problems or [])
        if isinstance(packages, list):
            problems.extend(self.plugins.activate_packages([p for p in packages if isinstance(p, str)]))
        merged: dict[str, Any] = {}
        merged_origins: Origins = {}
        for plugin, defaults in call_each(self.plugins.pm, "kaiju_config_defaults"):
            merge_into(merged, merged_origins, defaults,
                       {p: f"defaults of plugin {plugin}" for p, _ in walk(defaults) if p})
        merge_into(merged, merged_origins, data, origins)
        data.clear()
        data.update(merged)
        origins.clear()
        origins.update(merged_origins)
        for _, found in call_each(self.plugins.pm, "kaiju_process_settings", settings=data):
            problems.extend(found)
        try:
            settings = validate_settings(data, origins, self.service_classes)
        except ConfigError as exc:
            problems.extend(exc.problems)
            raise ConfigError(self.plugins.explain(problems)) from None
        if problems:
            raise ConfigError(self.plugins.explain(problems))
        settings.runtime = self
        self.settings = settings
        return settings


def _cli_overrides(data: dict[str, Any], origins: Origins, args: argparse.Namespace) -> None:
    """``--host`` / ``--port`` set ``run.host`` / ``run.port`` over every file and env value."""
    for key in ("host", "port"):
        value = getattr(args, key, None)
        if value is None:
            continue
        run = data.setdefault("run", {})
        if not isinstance(run, dict):  # reported by validation, with where it was written
            return
        run[key] = value
        origins[("run", key)] = f"CLI --{key} {value}"


def settings_from_mapping(data: Mapping[str, Any], plugins: Plugins | None = None) -> ProjectSettings:
    """Validate settings given as a mapping (first-party plugins loaded, ``packages:`` activated)."""
    if plugins is None:
        plugins = Plugins()
        plugins.load_first_party()
    runtime = Runtime(plugins)
    copy: dict[str, Any] = {}
    merge_into(copy, {}, data, {})
    return runtime.finish(copy, {})
