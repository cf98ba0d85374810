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
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from aiohttp import web

from ._runtime import Runtime
from .commands import COMMANDS, Command, CommandRegistry, describe
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


_STANDALONE = """\
kaiju-kernel's own commands, without an app: make an app or a plugin, show the versions,
the installed plugins and a merged configuration. An app's commands (run, config, your own)
run with `python -m <your app>` in the app's folder."""


def build_parser(plugins: Plugins, prog: str, standalone: bool = False) -> argparse.ArgumentParser:
    """The top-level parser: ``-c``, ``-f``, ``-e`` (an app's: ``--host``, ``--port``), a command.

    ``standalone`` is the ``kaiju`` script's parser: only the commands that need no app
    (:attr:`Command.standalone`), and no default command.
    """
    commands = _commands(standalone)
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
    prog = "kaiju" if standalone else _prog()
    try:
        plugins = Plugins()
        failures = plugins.load_first_party(strict=False)
        parser = build_parser(plugins, prog, standalone)
    except KaijuError as exc:
        return _fail(prog, exc, 1)
    argv = list(sys.argv[1:] if argv is None else argv)
    split = _command_index(argv)
    args = parser.parse_args(argv[: split + 1])
    args.args = argv[split + 1 :]
    if args.command is None:  # `kaiju` alone: its own help
        parser.print_help()
        return 0
    commands = _commands(standalone)
    cls = commands.get(args.command)
    diagnosing = cls is not None and cls.diagnostic
    if failures and not diagnosing:
        return _fail(prog, failures[0], 1)
    plugins.keep_going = diagnosing
    if cls is not None:  # -c/-f/-e may also follow the command: take them before loading
        cmd_args = _command_args(cls, prog, args, standalone)
    runtime = Runtime(plugins, args=args, init_app=None if standalone else init_app, prog=prog)
    try:
        settings = runtime.load_settings(
            base_config_paths=base_config_paths, base_env_paths=base_env_paths,
            default_env_paths=default_env_paths,
        )
    except (ConfigError, PluginError) as exc:
        if not diagnosing:
            return _fail(prog, exc, 2)
        print(f"{prog}: warning: {exc}", file=sys.stderr)  # the diagnosis still runs
        settings = None
    _default_logging(settings.main.loglevel if settings is not None else "INFO")
    if cls is None:
        commands = _commands(standalone)  # a plugin that `packages:` activated may add commands
        cls = commands.get(args.command)
        if cls is not None:
            cmd_args = _command_args(cls, prog, args, standalone)
    if cls is None:
        return _fail(prog, _unknown_command(args.command, commands, standalone), 2)
    command = cls(runtime)
    try:
        if args.command == "run":
            return serve(runtime)
        if not command.needs_app:
            return asyncio.run(command.run(None, cmd_args)) or 0
        assert settings is not None
        runtime.only_services = _needed_services(cls, settings)
        app = init_app(settings)
        try:
            return asyncio.run(_with_app(app, command, cmd_args)) or 0
        except web.GracefulExit:  # SIGTERM / SIGINT during a command: services closed, all good
            return 0
    except ConfigError as exc:
        return _fail(prog, exc, 2)
    except KaijuError as exc:
        return _fail(prog, exc, 1)
    except BaseExceptionGroup as exc:  # errors while stopping services
        return _fail(prog, KaijuError(f"the app stopped with errors: {_group_text(exc)}"), 1)
    except KeyboardInterrupt:
        return 130


_VALUED = ("-c", "--config", "-f", "--env-file", "-e", "--env", "--host", "--port")


def _commands(standalone: bool) -> CommandRegistry:
    """The commands of an app, or the ``kaiju`` script's (those marked ``standalone``)."""
    if not standalone:
        return COMMANDS
    own = CommandRegistry()
    for name in COMMANDS.names():
        if COMMANDS[name].standalone:
            own.register(COMMANDS[name])
    return own


def _unknown_command(name: str, commands: CommandRegistry, standalone: bool) -> CommandError:
    hint = close_matches(name, commands.names())
    text = " ".join(filter(None, [f"unknown command {name!r}.", hint,
                                  f"Commands: {', '.join(sorted(commands.names()))}."]))
    if standalone and name in COMMANDS:
        text += (f" `kaiju {name}` needs an application: run it as `python -m <your app> {name}` "
                 "in the app's folder (`kaiju new-app NAME` makes one)")
    return CommandError(text)


def _needed_services(cls: type[Command], settings: Any) -> list[str] | None:
    """The names of the services a command declared (``None``: every enabled service)."""
    wanted = cls.services
    if wanted is None:
        return None
    from .services import SERVICE_CLASS_REGISTRY

    enabled = {settings.service_name(e): e for e in settings.services if e.enabled}
    names: list[str] = []
    for item in wanted:
        if isinstance(item, str):
            found = [item] if item in enabled else []
        else:
            found = [n for n, e in enabled.items() if issubclass(SERVICE_CLASS_REGISTRY[e.cls], item)]
        if not found:
            what = repr(item) if isinstance(item, str) else f"of class {item.__name__}"
            raise CommandError(
                f"command {cls.command_name()!r} needs the service {what} ({cls.__module__}."
                f"{cls.__qualname__}.services), which is not configured or not enabled. Configured: "
                f"{', '.join(enabled) or 'none'}; add it to `services:` or fix the command's `services`")
        names.extend(n for n in found if n not in names)
    return names


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


def _command_args(
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


async def _with_app(app: web.Application, command: Command, args: argparse.Namespace) -> int | None:
    runner = web.AppRunner(app, handle_signals=True)
    await runner.setup()
    try:
        return await command.run(app, args)
    finally:
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
    """Build the app with the runtime's ``init_app`` and serve it until a signal."""
    settings = runtime.settings
    assert settings is not None and runtime.init_app is not None
    app = runtime.init_app(settings)
    gc.collect()
    gc.freeze()  # start-up objects live for the whole run: keep them out of every collection
    log = logging.getLogger(settings.main.name)
    run = settings.run
    extra: dict[str, Any] = {"access_log": None, **run.extra}
    if run.drain_delay > 0:
        app.on_startup.append(_drain_on_signal(run.drain_delay, log))
    try:
        web.run_app(
            app, host=run.host, port=run.port, shutdown_timeout=run.shutdown_timeout,
            print=lambda *a: log.info("serving on http://%s:%s", run.host, run.port),
            handle_signals=run.drain_delay <= 0, **extra,
        )
    except KaijuError:
        raise
    except BaseExceptionGroup as exc:  # errors while stopping services
        raise KaijuError(f"the app stopped with errors: {_group_text(exc)}") from exc
    except OSError as exc:
        raise KaijuError(f"cannot serve on {run.host}:{run.port}: {exc}. Check run.host / run.port "
                         "(is another process using the port?)") from exc
    log.info("stopped")
    return 0


def _drain_on_signal(delay: float, log: logging.Logger) -> Callable[[web.Application], Any]:
    """On SIGTERM / SIGINT: readiness false at once, keep serving ``delay`` s, then stop."""

    def graceful_exit() -> None:
        raise web.GracefulExit()

    async def install(app: web.Application) -> None:
        from ._health import HEALTH_KEY

        loop = asyncio.get_running_loop()

        def begin(sig: signal.Signals) -> None:
            monitor = app.get(HEALTH_KEY)
            if monitor is not None:
                monitor.stopping = True
            log.info("%s: readiness is false; serving %g s more before stopping (run.drain_delay)",
                     sig.name, delay)
            for other in (signal.SIGINT, signal.SIGTERM):  # a second signal stops at once
                loop.add_signal_handler(other, graceful_exit)
            loop.call_later(delay, graceful_exit)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, begin, sig)

    return install


def _group_text(exc: BaseExceptionGroup[Any]) -> str:
    return "; ".join(f"{type(e).__name__}: {e}" for e in exc.exceptions)
