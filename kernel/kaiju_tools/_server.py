"""``run_server``: the command line of an app (``python -m app [-c] [-f] [-e] [command]``).

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

from ._logger import get_logger
from ._runtime import Runtime
from ._stop import Stopper
from .commands import COMMANDS, Command, describe
from .exceptions import CommandError, ConfigError, KaijuError, PluginError
from .plugins import Plugins
from .registry import close_matches

__all__ = ["build_parser", "main", "run_server"]

_FORMAT = "%(asctime)s | %(levelname)5s | %(name)s | %(message)s"


def _prog() -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.endswith(".__main__"):
        return f"python -m {spec.name[: -len('.__main__')]}"
    if spec is not None and spec.name:
        return f"python -m {spec.name}"
    return os.path.basename(sys.argv[0]) or "app"


def build_parser(plugins: Plugins, prog: str) -> argparse.ArgumentParser:
    """The top-level parser: ``-c``, ``-f``, ``-e``, a command and its arguments."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the application (default command: run) or one of its commands.",
        epilog=describe(COMMANDS) + f"\n\n'{prog} COMMAND --help' shows a command's own arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser)
    parser.add_argument("command", nargs="?", default="run", help="the command to run (default: run)")
    plugins.pm.hook.kaiju_add_cli_options.call_historic(kwargs={"parser": parser})
    return parser


def main(
    init_app: Callable[..., web.Application],
    base_config_paths: Sequence[str] = (),
    base_env_paths: Sequence[str] = (),
    default_env_paths: Sequence[str] = (),
    argv: Sequence[str] | None = None,
) -> int:
    """Run the CLI and return the exit code."""
    prog = _prog()
    try:
        plugins = Plugins()
        plugins.load_first_party()
        parser = build_parser(plugins, prog)
    except KaijuError as exc:
        return _fail(prog, exc, 1)
    argv = list(sys.argv[1:] if argv is None else argv)
    split = _command_index(argv)
    args = parser.parse_args(argv[: split + 1])
    args.args = argv[split + 1 :]
    cls = COMMANDS.get(args.command)
    if cls is not None:  # -c/-f/-e may also follow the command: take them before loading
        cmd_args = _command_args(cls, prog, args)
    runtime = Runtime(plugins, args=args, init_app=init_app, prog=prog)
    try:
        settings = runtime.load_settings(
            base_config_paths=base_config_paths, base_env_paths=base_env_paths,
            default_env_paths=default_env_paths,
        )
    except (ConfigError, PluginError) as exc:
        return _fail(prog, exc, 2)
    _default_logging(settings.main.loglevel)
    if cls is None:
        cls = COMMANDS.get(args.command)  # registered by a plugin that `packages:` activated
        if cls is not None:
            cmd_args = _command_args(cls, prog, args)
    if cls is None:
        hint = close_matches(args.command, COMMANDS.names())
        return _fail(prog, CommandError(
            f"unknown command {args.command!r}. {hint} Commands: {', '.join(sorted(COMMANDS.names()))}"
        ), 2)
    command = cls(runtime)
    try:
        if args.command == "run":
            return serve(runtime)
        if not command.needs_app:
            return asyncio.run(command.run(None, cmd_args)) or 0
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


_VALUED = ("-c", "--config", "-f", "--env-file", "-e", "--env")


def _command_index(argv: list[str]) -> int:
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


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", dest="config_paths", action="append", metavar="FILE",
                        help="another .yml settings file, merged after the base ones (repeatable)")
    parser.add_argument("-f", "--env-file", dest="env_paths", action="append", metavar="FILE",
                        help="an .env.json file; replaces default_env_paths (repeatable)")
    parser.add_argument("-e", "--env", dest="env_values", action="append", metavar="KEY=VALUE",
                        help="set an env value, parsed as a literal; highest priority (repeatable)")


def _command_args(cls: type[Command], prog: str, args: argparse.Namespace) -> argparse.Namespace:
    """Parse a command's own arguments; ``-c/-f/-e`` after the command join the global ones."""
    sub = argparse.ArgumentParser(prog=f"{prog} {args.command}", description=cls.summary())
    _add_common(sub)
    cls.add_arguments(sub)
    cmd_args = sub.parse_args(args.args)
    for dest in ("config_paths", "env_paths", "env_values"):
        extra = getattr(cmd_args, dest) or []
        setattr(args, dest, (getattr(args, dest) or []) + extra)
        delattr(cmd_args, dest)
    args.args = []
    return cmd_args


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
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr, level=level, format=_FORMAT)


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
    gc.collect()
    gc.freeze()  # start-up objects live for the whole run: keep them out of every collection
    log = logging.getLogger(settings.main.name)
    run = settings.run
    extra: dict[str, Any] = {"access_log": None, **run.extra}
    stopper = Stopper(app, get_logger(settings.main.name), run.drain_delay)
    stopper.install()
    loop = asyncio.new_event_loop()
    stopper.bind(loop)
    try:
        # in-flight requests get run.shutdown_timeout from the stopper's own drain; aiohttp's
        # shutdown_timeout only bounds the cut (aiohttp waits it twice: docs/architecture.md)
        web.run_app(
            app, host=run.host, port=run.port, shutdown_timeout=_CUT_TIMEOUT, loop=loop,
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
    log.info("stopped")
    return 0


_CUT_TIMEOUT = 1.0
"""aiohttp's ``shutdown_timeout`` under ``run_server``: what a cut handler gets to end."""


def _group_text(exc: BaseExceptionGroup[Any]) -> str:
    return "; ".join(f"{type(e).__name__}: {e}" for e in exc.exceptions)
