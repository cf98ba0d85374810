"""The kernel's built-in plugin (``trylast``): the ``run``, ``config`` and ``plugins`` commands."""

from __future__ import annotations

import argparse
import json
from aiohttp import web

from ._merge import format_key, walk
from .commands import Command
from .hookspecs import hookimpl

__all__ = ["ConfigCommand", "PluginsCommand", "RunCommand"]


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

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:  # noqa: D102
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
        for path in loaded.config_paths:
            print(f"config: {path}")
        for path in loaded.env_paths:
            print(f"env: {path}")
        return 0


class PluginsCommand(Command):
    """List installed plugins: distribution, version, hooks, registrations, status."""

    name = "plugins"
    needs_app = False

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Print one block per plugin; import inactive ones to report their hooks."""
        for info in self.runtime.plugins.inspect_all():
            status = info.status + (f" ({info.cause})" if info.cause else "")
            kind = "first-party" if info.first_party else "third-party"
            print(f"{info.name}  [{status}]")
            print(f"    distribution: {info.dist} {info.version} ({kind}); entry point: {info.value}")
            print(f"    hooks: {', '.join(info.hooks) or '-'}")
            print(f"    registered: {', '.join(info.registered) or '-'}")
        for module in self.runtime.plugins.modules:
            print(f"{module}  [active (module listed in packages:)]")
        return 0


@hookimpl(trylast=True)
def kaiju_register_commands() -> list[type[Command]]:
    """The kernel's own commands (and the scaffolds ``new-app`` / ``new-plugin``)."""
    from ._scaffold import NewAppCommand, NewPluginCommand

    return [RunCommand, ConfigCommand, PluginsCommand, NewAppCommand, NewPluginCommand]


def register_builtin_commands() -> None:
    """Add the built-in commands to ``COMMANDS``."""
    from .commands import COMMANDS

    for cls in kaiju_register_commands():
        if cls.command_name() not in COMMANDS:  # an app's own command of that name wins
            COMMANDS.register(cls)
