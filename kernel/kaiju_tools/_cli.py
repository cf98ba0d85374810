"""The command line's parsing: the parsers of an app and of the ``kaiju`` script, a command's
own arguments, ``--host`` / ``--port``, and which services a command needs."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .commands import COMMANDS, Command, CommandRegistry, describe
from .exceptions import CommandError
from .plugins import Plugins
from .registry import close_matches
from .services import SERVICE_CLASS_REGISTRY

__all__ = ["build_parser", "command_args", "command_index", "commands_for", "needed_services", "prog_name",
           "unknown_command"]


def prog_name() -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.endswith(".__main__"):
        return f"python -m {spec.name[: -len('.__main__')]}"
    if spec is not None and spec.name:
        return f"python -m {spec.name}"
    return os.path.basename(sys.argv[0]) or "app"


_STANDALONE = """\
kaiju-kernel's own commands, without an app: make an app or a plugin, show the versions,
the installed plugins and a merged configuration. An app's commands (run, config, your own)
run with `python -m <your app>` in the app's folder."""


def build_parser(plugins: Plugins, prog: str, standalone: bool = False) -> argparse.ArgumentParser:
    """The top-level parser: ``-c``, ``-f``, ``-e`` (an app's: ``--host``, ``--port``), a command.

    ``standalone`` is the ``kaiju`` script's parser: only the commands that need no app
    (:attr:`Command.standalone`), and no default command.
    """
    commands = commands_for(plugins.commands, standalone)
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_STANDALONE if standalone else
        "Run the application (default command: run) or one of its commands.",
        epilog=describe(commands) + f"\n\n'{prog} COMMAND --help' shows a command's own arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser, standalone)
    if standalone:
        parser.add_argument("command", nargs="?", help="the command to run")
    else:
        parser.add_argument("command", nargs="?", default="run", help="the command to run (default: run)")
    plugins.pm.hook.kaiju_add_cli_options.call_historic(kwargs={"parser": parser})
    return parser


_VALUED = ("-c", "--config", "-f", "--env-file", "-e", "--env", "--host", "--port")


def commands_for(commands: CommandRegistry, standalone: bool) -> CommandRegistry:
    """An app's ``commands`` (its runtime's registry), or the ``kaiju`` script's (those marked
    ``standalone``)."""
    if not standalone:
        return commands
    own = CommandRegistry()
    for name in commands.names():
        if commands[name].standalone:
            own.register(commands[name])
    return own


def unknown_command(
    name: str, commands: CommandRegistry, standalone: bool, every: CommandRegistry = COMMANDS
) -> CommandError:
    """The error for a command that ``commands`` lacks (``every``: an app's, for the ``kaiju`` script)."""
    hint = close_matches(name, commands.names())
    text = " ".join(filter(None, [f"unknown command {name!r}.", hint,
                                  f"Commands: {', '.join(sorted(commands.names()))}."]))
    if standalone and name in every:
        text += (f" `kaiju {name}` needs an application: run it as `python -m <your app> {name}` "
                 "in the app's folder (`kaiju new-app NAME` makes one)")
    return CommandError(text)


def needed_services(cls: type[Command], settings: Any) -> list[str] | None:
    """The names of the services a command declared (``None``: every enabled service)."""
    wanted = cls.services
    if wanted is None:
        return None
    registry = settings.runtime.service_classes if settings.runtime else SERVICE_CLASS_REGISTRY
    enabled = {settings.service_name(e): e for e in settings.services if e.enabled}
    names = [n for n, e in enabled.items() if getattr(registry.get(e.cls), "always_start", False)]
    for item in wanted:
        if isinstance(item, str):
            found = [item] if item in enabled else []
        else:
            found = [n for n, e in enabled.items() if issubclass(registry[e.cls], item)]
        if not found:
            what = repr(item) if isinstance(item, str) else f"of class {item.__name__}"
            raise CommandError(
                f"command {cls.command_name()!r} needs the service {what} ({cls.__module__}."
                f"{cls.__qualname__}.services), which is not configured or not enabled. Configured: "
                f"{', '.join(enabled) or 'none'}; add it to `services:` or fix the command's `services`")
        names.extend(n for n in found if n not in names)
    return names


def command_index(argv: list[str]) -> int:
    """Index of the command word in ``argv`` (``len(argv)`` when there is none)."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in _VALUED:
            index += 2
            continue
        if not token.startswith("-") or token == "-":
            return index
        index += 1
    return len(argv)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {port}")
    return port


def _add_common(parser: argparse.ArgumentParser, standalone: bool = False) -> None:
    parser.add_argument("-c", "--config", dest="config_paths", action="append", metavar="FILE",
                        help="another .yml settings file, merged after the base ones (repeatable)")
    parser.add_argument("-f", "--env-file", dest="env_paths", action="append", metavar="FILE",
                        help="an .env.json file; replaces default_env_paths (repeatable)")
    parser.add_argument("-e", "--env", dest="env_values", action="append", metavar="KEY=VALUE",
                        help="set an env value, parsed as a literal; highest priority (repeatable)")
    if not standalone:
        parser.add_argument("--host", metavar="HOST",
                            help="serve on this address (sets run.host over every settings file)")
        parser.add_argument("--port", metavar="PORT", type=_port,
                            help="serve on this port (sets run.port over every settings file)")


def command_args(
    cls: type[Command], prog: str, args: argparse.Namespace, standalone: bool = False
) -> argparse.Namespace:
    """Parse a command's own arguments; ``-c/-f/-e`` after the command join the global ones."""
    sub = argparse.ArgumentParser(prog=f"{prog} {args.command}", description=cls.summary())
    _add_common(sub, standalone)
    cls.add_arguments(sub)
    cmd_args = sub.parse_args(args.args)
    for dest in ("config_paths", "env_paths", "env_values"):
        extra = getattr(cmd_args, dest) or []
        setattr(args, dest, (getattr(args, dest) or []) + extra)
        delattr(cmd_args, dest)
    for dest in ("host", "port"):  # the last one given wins, before or after the command
        if getattr(cmd_args, dest, None) is not None:
            setattr(args, dest, getattr(cmd_args, dest))
        if hasattr(cmd_args, dest):
            delattr(cmd_args, dest)
    args.args = []
    return cmd_args
