"""CLI commands: the ``COMMANDS`` registry and the command base class.

An app's ``commands.py`` defines commands; its package registers them with
``COMMANDS.register_from_module(app.commands)``; ``python -m app <command>`` runs one.

Example::

    from kaiju_tools import Command

    class Hello(Command):
        \"\"\"Print a greeting.\"\"\"

        name = "hello"

        @classmethod
        def add_arguments(cls, parser):
            parser.add_argument("--who", default="world")

        async def run(self, app, args):
            print(f"hello {args.who}")
            return 0

A command with ``needs_app = True`` (the default) runs inside a started app: ``app`` is
the :class:`aiohttp.web.Application`; its services have run ``init()`` and will run
``close()`` after it. Which services: ``services = None`` (the default) builds and starts
every enabled service; ``services = ("greeter",)`` (names, or service classes: every
configured service of that class) only those and the services they depend on (constructor
parameters, ``discover_service`` in ``__init__``, ``dependencies`` / ``depends_on``); a
service a dependency discovers only in its ``init()`` must be listed too. Services whose
class sets ``always_start = True`` (the logging service) start for every command. With
``needs_app = False`` it runs with ``app=None`` and only the settings (``self.runtime``):
no service is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .registry import ClassRegistry

if TYPE_CHECKING:
    from aiohttp import web

    from ._runtime import Runtime

__all__ = ["COMMANDS", "Command", "CommandRegistry"]


class Command:
    """Base class of CLI commands."""

    __abstract__ = True
    name: ClassVar[str] = ""
    """The word typed on the command line (default: the class name in lower case)."""
    help: ClassVar[str] = ""
    """One line for ``--help`` (default: the first line of the class docstring)."""
    needs_app: ClassVar[bool] = True
    """Start the app's services around :meth:`run`."""
    services: ClassVar[Sequence[Any] | None] = None
    """With ``needs_app``: the services to start (names or service classes, and what they
    depend on); ``None`` (the default) starts every enabled service."""
    standalone: ClassVar[bool] = False
    """Offered by the ``kaiju`` script too, where there is no app (``needs_app`` must be false)."""
    diagnostic: ClassVar[bool] = False
    """Runs even when a plugin fails or the settings are invalid: failures are recorded on the
    plugins (``status`` and ``cause``) instead of stopping the command, and printed as a warning;
    ``self.runtime.settings`` is then ``None``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    def command_name(cls) -> str:
        """The command's CLI name."""
        return cls.name or cls.__name__.lower()

    @classmethod
    def summary(cls) -> str:
        """The command's one-line help."""
        doc = (cls.__doc__ or "").strip()
        return cls.help or (doc.splitlines()[0] if doc else "")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the command's own arguments to its parser."""

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Do the work; return the exit code (``None`` means 0)."""
        raise NotImplementedError


class CommandRegistry(ClassRegistry[Command]):
    """Registry of CLI commands, keyed by command name.

    :param default: the registry lookups fall back to (an app's runtime layers its own over
        :data:`COMMANDS`)
    """

    def __init__(self, default: CommandRegistry | None = None) -> None:
        super().__init__(Command, "command", default)

    def class_key(self, obj: type[Command]) -> str:
        return obj.command_name()


COMMANDS = CommandRegistry()
"""The process-wide default registry of commands (an app's own and the kernel's built-ins).

``python -m app <command>`` looks a command up in the runtime's registry, which holds what the
active plugins registered and falls back to this one."""


def describe(commands: CommandRegistry) -> str:
    """The ``commands:`` block of ``--help``."""
    lines = ["commands:"]
    for name in sorted(commands.names()):
        lines.append(f"  {name:<14} {commands[name].summary()}")
    return "\n".join(lines)
