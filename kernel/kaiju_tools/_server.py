"""``run_server``: the command line of an app (``python -m app [-c] [-f] [-e] [--host] [--port] [command]``).

Exit codes: 0 success (also after SIGTERM / SIGINT), 1 the app or a command failed,
2 the settings or the command line are wrong. Errors are printed to stderr as one
readable message, never as a bare traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from aiohttp import web

from . import _aiohttp_compat
from ._cli import (
    build_parser,
    command_args,
    command_index,
    commands_for,
    needed_services,
    prog_name,
    unknown_command,
)
from ._logger import get_logger
from ._runtime import Runtime
from ._stop import Stopper
from .caches import save_dataclass_code
from .commands import Command
from .exceptions import ConfigError, KaijuError, PluginError
from .plugins import Plugins

__all__ = ["build_parser", "main", "run_server"]


def main(
    init_app: Callable[..., web.Application],
    base_config_paths: Sequence[str] = (),
    base_env_paths: Sequence[str] = (),
    default_env_paths: Sequence[str] = (),
    argv: Sequence[str] | None = None,
    standalone: bool = False,
) -> int:
    """Run the CLI and return the exit code (``standalone``: the ``kaiju`` script, no app).

    A closed standard output (``| head -1``) ends the command quietly with exit code 141
    (128 + SIGPIPE, what a shell reports for a tool killed by SIGPIPE), never a traceback.
    """
    try:
        code = _main(init_app, base_config_paths, base_env_paths, default_env_paths, argv, standalone)
        sys.stdout.flush()  # inside the try: a reader that went away is reported here, not at exit
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        return 141
    return code


def _main(
    init_app: Callable[..., web.Application],
    base_config_paths: Sequence[str],
    base_env_paths: Sequence[str],
    default_env_paths: Sequence[str],
    argv: Sequence[str] | None,
    standalone: bool,
) -> int:
    prog = "kaiju" if standalone else prog_name()
    try:
        plugins = Plugins()
        failures = plugins.load_first_party(strict=False)
        parser = build_parser(plugins, prog, standalone)
    except KaijuError as exc:
        return _fail(prog, exc, 1)
    argv = list(sys.argv[1:] if argv is None else argv)
    split = command_index(argv)
    args = parser.parse_args(argv[: split + 1])
    args.args = argv[split + 1 :]
    if args.command is None:  # `kaiju` alone: its own help
        parser.print_help()
        return 0
    commands = commands_for(plugins.commands, standalone)
    cls = commands.get(args.command)
    diagnosing = cls is not None and cls.diagnostic
    if failures and not diagnosing:
        return _fail(prog, failures[0], 1)
    plugins.keep_going = diagnosing
    if cls is not None:  # -c/-f/-e may also follow the command: take them before loading
        cmd_args = command_args(cls, prog, args, standalone)
    runtime = Runtime(plugins, args=args, init_app=None if standalone else init_app, prog=prog)
    try:
        settings = runtime.load_settings(
            base_config_paths=base_config_paths, base_env_paths=base_env_paths,
            default_env_paths=default_env_paths,
        )
    except (ConfigError, PluginError) as exc:
        if not diagnosing or cls is None or cls.needs_app:
            return _fail(prog, exc, 2)
        print(f"{prog}: warning: {exc}", file=sys.stderr)  # the diagnosis still runs
        settings = None
    _default_logging(settings.main.loglevel if settings is not None else "INFO")
    if cls is None:
        commands = commands_for(plugins.commands, standalone)  # `packages:` may add a plugin's commands
        cls = commands.get(args.command)
        if cls is not None:
            cmd_args = command_args(cls, prog, args, standalone)
    if cls is None:
        return _fail(prog, unknown_command(args.command, commands, standalone, plugins.commands), 2)
    command = cls(runtime)
    try:
        if args.command == "run":
            return serve(runtime)
        if not command.needs_app:
            return asyncio.run(command.run(None, cmd_args)) or 0
        assert settings is not None  # a diagnostic command that needs the app stopped above
        runtime.only_services = needed_services(cls, settings)
        app = init_app(settings)
        stopper = Stopper(app, get_logger(settings.main.name))
        stopper.install(serving=False)
        try:
            with asyncio.Runner() as runner:
                stopper.bind(runner.get_loop())
                return runner.run(_with_app(app, command, cmd_args, stopper)) or 0
        except web.GracefulExit:  # SIGTERM / SIGINT during a command: services closed, all good
            return 0
        finally:
            stopper.stopped()
    except ConfigError as exc:
        return _fail(prog, exc, 2)
    except KaijuError as exc:
        return _fail(prog, exc, 1)
    except BaseExceptionGroup as exc:  # errors while stopping services
        return _fail(prog, KaijuError(f"the app stopped with errors: {_group_text(exc)}"), 1)
    except KeyboardInterrupt:
        return 130


async def _with_app(app: web.Application, command: Command, args: argparse.Namespace,
                    stopper: Stopper) -> int | None:
    runner = web.AppRunner(app, handle_signals=False)  # the Stopper's handlers are set
    await runner.setup()
    try:
        return await command.run(app, args)
    finally:
        stopper.begin()  # a signal from here on is logged, never interrupts the cleanup
        await runner.cleanup()


def _default_logging(level: str) -> None:
    from .logsetup import default_logging

    default_logging(level)


def _fail(prog: str, exc: BaseException, code: int) -> int:
    print(f"{prog}: error: {exc}", file=sys.stderr)
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup):
        return code
    if cause is not None and not isinstance(cause, KaijuError) and str(cause) not in str(exc):
        print(f"  caused by {type(cause).__name__}: {cause}", file=sys.stderr)
    return code


def run_server(
    init_app: Callable[..., web.Application],
    base_config_paths: Sequence[str] = (),
    base_env_paths: Sequence[str] = (),
    default_env_paths: Sequence[str] = (),
    argv: Sequence[str] | None = None,
) -> NoReturn:
    """Parse the command line, load the settings, build the app and run the command.

    The default command, ``run``, serves the app with :func:`aiohttp.web.run_app` on
    ``run.host:run.port`` until SIGTERM / SIGINT, then stops gracefully (exit code 0).
    """
    sys.exit(main(init_app, base_config_paths, base_env_paths, default_env_paths, argv))


def serve(runtime: Runtime) -> int:
    """Build the app with the runtime's ``init_app`` and serve it until a signal.

    The stop follows the contract in docs/deployment.md ("SIGTERM"): see :mod:`._stop`.
    """
    settings = runtime.settings
    assert settings is not None and runtime.init_app is not None
    app = runtime.init_app(settings)
    save_dataclass_code()  # every start-up class is made: a killed server keeps its cache too
    # Start-up objects live for the whole run: keep them out of every collection. Only the young
    # generations are collected first: a full collection here found nothing to free in the
    # example app (0 of ~43k objects) and cost 14 M instructions, 1 % of its start.
    gc.collect(1)
    gc.freeze()
    log = logging.getLogger(settings.main.name)
    run = settings.run
    extra: dict[str, Any] = {"access_log": None, **run.extra}
    stopper = Stopper(app, get_logger(settings.main.name), run.drain_delay)
    stopper.install()
    loop = asyncio.new_event_loop()
    stopper.bind(loop)
    try:
        # in-flight requests get run.shutdown_timeout from the stopper's own drain; aiohttp's
        # shutdown_timeout only bounds the cut (aiohttp waits it twice: docs/architecture.md).
        # Where the drain cannot see aiohttp's request tasks, aiohttp's own wait is the grace.
        cut = _CUT_TIMEOUT if _aiohttp_compat.REQUEST_TASKS_FOUND else run.shutdown_timeout / 2
        web.run_app(
            app, host=run.host, port=run.port, shutdown_timeout=cut, loop=loop,
            print=lambda *a: log.info("serving on http://%s:%s", run.host, run.port),
            handle_signals=False, **extra,
        )
    except KaijuError:
        raise
    except BaseExceptionGroup as exc:  # errors while stopping services
        raise KaijuError(f"the app stopped with errors: {_group_text(exc)}") from exc
    except OSError as exc:
        raise KaijuError(f"cannot serve on {run.host}:{run.port}: {exc}. Check run.host / run.port "
                         "(is another process using the port?)") from exc
    finally:
        stopper.stopped()  # from here a late signal is ignored, never fatal
    return 0


_CUT_TIMEOUT = 1.0
"""aiohttp's ``shutdown_timeout`` under ``run_server``: what a cut handler gets to end."""


def _group_text(exc: BaseExceptionGroup[Any]) -> str:
    return "; ".join(f"{type(e).__name__}: {e}" for e in exc.exceptions)
