"""The kernel's built-in plugin (``trylast``): the ``run``, ``config``, ``plugins`` and ``version``
commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import platform

from aiohttp import web

from ._merge import format_key, walk
from ._scaffold import NewAppCommand, NewPluginCommand
from .commands import COMMANDS, Command
from .hookspecs import hookimpl

__all__ = ["ConfigCommand", "PluginsCommand", "RunCommand", "VersionCommand"]


class RunCommand(Command):
    """Serve the app until SIGTERM / SIGINT (the default command)."""

    name = "run"
    needs_app = False

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Not called: ``run`` owns its event loop, so ``run_server`` serves it directly."""
        raise NotImplementedError("the run command is served by run_server()")


class ConfigCommand(Command):
    """Print the merged configuration and where each value came from."""

    name = "config"
    needs_app = False
    standalone = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the merged settings as JSON")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Print ``key = value    # origin`` lines, then the env values and their origins."""
        loaded = self.runtime.loaded
        settings = self.runtime.settings
        assert loaded is not None and settings is not None
        if args.json:
            print(json.dumps(loaded.data, indent=2, default=repr, sort_keys=False))
            return 0
        print("# settings (value  # where it came from)")
        for path, value in walk(loaded.data):
            if not path or isinstance(value, dict) or (isinstance(value, list) and value
                                                       and isinstance(value[0], dict)):
                continue
            print(f"{format_key(path)} = {json.dumps(value, default=repr)}  # {loaded.origin(path)}")
        print("\n# env values (used by templates)")
        for key, value in loaded.env.items():
            print(f"{key} = {json.dumps(value, default=repr)}  # {loaded.env_origins[key]}")
        print("\n# files read")
        for file in loaded.config_paths:
            print(f"config: {file}")
        for file in loaded.env_paths:
            print(f"env: {file}")
        return 0


class PluginsCommand(Command):
    """List installed plugins: distribution, version, hooks, registrations, status."""

    name = "plugins"
    needs_app = False
    standalone = True
    diagnostic = True  # it is how a failing plugin is diagnosed: it runs when plugins fail

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Print one block per plugin; import inactive ones to report their hooks."""
        runtime = self.runtime
        plugins = runtime.plugins
        if app is None and runtime.settings is not None and runtime.init_app is not None:
            # build the app (no service starts) so that what plugins add to it shows (their
            # routes); a diagnostic command: a build that fails leaves the list as it is
            with contextlib.suppress(Exception):
                runtime.init_app(runtime.settings)
        for info in plugins.inspect_all():
            status = info.status + (f" ({info.cause})" if info.cause else "")
            print(f"{info.name}  [{status}]")
            print(f"    distribution: {info.dist} {info.version} ({info.kind}); entry point: {info.value}")
            print(f"    hooks: {', '.join(info.hooks) or '-'}")
            print(f"    registered: {', '.join(info.registered) or '-'}")
        for module in plugins.modules:
            print(f"{module}  [active (module listed in packages:)]")
        for module, cause in plugins.failed_modules.items():
            print(f"{module}  [failed ({cause})]")
        return 0


class VersionCommand(Command):
    """Print the versions of kaiju-kernel, Python and the installed plugins (and of the app)."""

    name = "version"
    needs_app = False
    standalone = True
    diagnostic = True

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """One ``name version`` line each."""
        settings = self.runtime.settings
        if settings is not None and self.runtime.init_app is not None:  # in an app, not `kaiju`
            print(f"{settings.main.name} {settings.main.version} (main.name, main.version)")
        print(f"kaiju-kernel {_version('kaiju-kernel')}")
        print(f"python {platform.python_version()}")
        seen = set()
        for info in sorted(self.runtime.plugins.infos.values(), key=lambda i: i.dist):
            if info.dist not in seen and info.dist != "(in code)":
                seen.add(info.dist)
                print(f"{info.dist} {info.version} (plugin {info.name}, {info.kind})")
        return 0


def _version(dist: str) -> str:
    import importlib_metadata  # only for the `version` command

    try:
        return importlib_metadata.version(dist)
    except importlib_metadata.PackageNotFoundError:
        return "(not installed: running from a source tree)"


@hookimpl(trylast=True)
def kaiju_register_commands() -> list[type[Command]]:
    """The kernel's own commands (and the scaffolds ``new-app`` / ``new-plugin``)."""
    return [RunCommand, ConfigCommand, PluginsCommand, VersionCommand, NewAppCommand, NewPluginCommand]


def register_builtin_commands() -> None:
    """Add the built-in commands to ``COMMANDS``."""
    for cls in kaiju_register_commands():
        if cls.command_name() not in COMMANDS:  # an app's own command of that name wins
            COMMANDS.register(cls)
