"""The kernel's hook specifications (pluggy project name ``kaiju``).

A plugin is a module listed in the ``kaiju.plugins`` entry-point group; its hook
implementations are module-level functions marked with :data:`hookimpl` and named after
the specs below. An implementation takes only the arguments it needs, by name.

Four families, by phase:

1. configuration -- add CLI options, load a config source, contribute defaults, check
   or transform the merged settings;
2. registration -- add service classes, CLI commands, web routes and middlewares, log
   handlers and formatters;
3. lifecycle -- app created, each service started / stopped, app started, app stopping,
   app stopped;
4. request handling -- wrap each incoming web request and each RPC call; receive each
   request's outcome.

pluggy has no asyncio support: a ``firstresult`` hook whose first implementation is
``async def`` would return a coroutine and hide the next implementation. So only the
**lifecycle** hooks may be ``async def`` (the kernel awaits their results one by one in
pluggy's call order); an ``async def`` implementation of any other hook is rejected when
its plugin registers. Request-handling hooks are called **once** at start-up; what they
return is composed into a plain call chain, so no pluggy dispatch happens per request.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aiohttp import web

    from .commands import Command
    from .config import ConfigLimits, ConfigSource
    from .exceptions import ConfigProblem
    from .health import HealthCheck
    from .locks import LockProvider
    from .schedules import ScheduleStore
    from .services import Service

__all__ = [
    "ASYNC_HOOKS",
    "PROJECT_NAME",
    "CallHandler",
    "CallWrapper",
    "ClientHandler",
    "ClientWrapper",
    "RequestHandler",
    "RequestWrapper",
    "TaskHandler",
    "TaskWrapper",
    "OutcomeSinkFn",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "kaiju"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker for hook specifications (used in this module only)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for hook implementations: ``@hookimpl`` above a module-level function."""

RequestHandler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]
"""An aiohttp request handler."""

RequestWrapper = Callable[[RequestHandler], RequestHandler]
"""Takes the next handler and returns a handler that calls it (an onion layer)."""

CallHandler = Callable[[str, Any], Awaitable[Any]]
"""An RPC call handler: ``await handler(method, params) -> result``."""

CallWrapper = Callable[[CallHandler], CallHandler]
"""Takes the next call handler and returns one that calls it."""

TaskHandler = Callable[[Any], Awaitable[Any]]
"""A scheduled task's attempt: ``await handler(task)`` calls the task's method once."""

TaskWrapper = Callable[[TaskHandler], TaskHandler]
"""Takes the next task handler and returns one that calls it."""

ClientHandler = Callable[[str, Any, dict[str, str]], Awaitable[Any]]
"""An outgoing JSON-RPC request: ``await send(url, body, headers) -> decoded response``."""

ClientWrapper = Callable[[ClientHandler], ClientHandler]
"""Takes the next client handler and returns one that calls it."""

OutcomeSinkFn = Callable[[Any], None]
"""Takes one :class:`kaiju_tools.outcomes.Outcome` per finished request; returns nothing."""


# --------------------------------------------------------------------------------------
# 1. configuration
# --------------------------------------------------------------------------------------


@hookspec(historic=True)
def kaiju_add_cli_options(parser: argparse.ArgumentParser) -> None:
    """Add options to the application's command-line parser.

    :param parser: the top-level :class:`argparse.ArgumentParser` of ``python -m app``
    :return: nothing

    ``historic``: a plugin registered after the parser was built still gets the call.
    Only plugins active before the settings are read (first-party plugins) reach the
    command line; a plugin activated by ``packages:`` comes too late to add options.
    """


@hookspec(firstresult=True)
def kaiju_load_config_source(path: Path, kind: str, limits: ConfigLimits) -> ConfigSource | None:
    """Read one configuration source.

    :param path: an existing file (the kernel reports missing files itself)
    :param kind: ``"config"`` for a project settings file (``.yml``), ``"env"`` for a flat
        map of template values (``.env.json``)
    :param limits: the bounds to read it under (the kernel has checked the file's size):
        nesting depth and values after alias expansion, each violation a ``ConfigError``
    :return: a :class:`kaiju_tools.config.ConfigSource`, or ``None`` when this plugin does
        not read this kind of file; raise :class:`kaiju_tools.ConfigError` for a file it
        reads but finds malformed (name the file and line)

    ``firstresult``: stops at the first non-``None`` result.
    """


@hookspec
def kaiju_config_defaults() -> Mapping[str, Any] | None:
    """Contribute default settings, merged under everything the user wrote.

    :return: a mapping shaped like the project settings (``{"main": {"loglevel": "INFO"}}``)
        or ``None``
    """


@hookspec
def kaiju_process_settings(settings: dict[str, Any]) -> Iterable[ConfigProblem] | None:
    """Check or transform the merged settings before they are validated.

    :param settings: the merged, template-resolved settings; may be changed in place
    :return: problems found (:class:`kaiju_tools.ConfigProblem`), reported together with
        the kernel's own, or ``None``
    """


# --------------------------------------------------------------------------------------
# 2. registration
# --------------------------------------------------------------------------------------


@hookspec
def kaiju_register_services() -> Iterable[type[Service]] | None:
    """Return service classes to add to the app's runtime registry (its own layer over
    ``SERVICE_CLASS_REGISTRY``: another app in the process does not see them).

    :return: an iterable of :class:`kaiju_tools.Service` subclasses, or ``None``
    """


@hookspec
def kaiju_register_commands() -> Iterable[type[Command]] | None:
    """Return CLI command classes to add to the app's runtime commands (its own layer over
    ``COMMANDS``).

    :return: an iterable of :class:`kaiju_tools.Command` subclasses, or ``None``
    """


@hookspec
def kaiju_register_routes(app: web.Application) -> Iterable[tuple[str, str, Any]] | None:
    """Return web routes to add to the app.

    :param app: the application being built (before it is frozen)
    :return: ``(method, path, handler)`` tuples, or ``None``
    """


@hookspec
def kaiju_register_middlewares(app: web.Application) -> Iterable[Any] | None:
    """Return aiohttp middlewares to append to the app's middleware chain.

    :param app: the application being built
    :return: ``@web.middleware`` functions, or ``None``
    """


@hookspec
def kaiju_register_log_handlers() -> Mapping[str, type] | None:
    """Return log handler and formatter classes that ``LoggingService`` may name.

    :return: a mapping ``{"MyHandler": MyHandler, ...}`` of :class:`logging.Handler` or
        :class:`logging.Formatter` subclasses, or ``None``
    """


@hookspec
def kaiju_register_health_checks(app: web.Application) -> Iterable[HealthCheck] | None:
    """Return health checks that the readiness probe runs (besides service states).

    :param app: the application
    :return: :class:`kaiju_tools.health.HealthCheck` objects (name, async check function,
        timeout, required), or ``None``
    """


@hookspec(firstresult=True)
def kaiju_lock_provider(app: web.Application) -> LockProvider | None:
    """Return the app's distributed lock provider, or ``None``.

    :param app: the application
    :return: an object implementing :class:`kaiju_tools.locks.LockProvider`; the first
        plugin that returns one wins (``firstresult``). Called once per app, when a service
        first asks :func:`kaiju_tools.locks.get_lock_provider` for it.

    Plugins depend on the interface, never on the plugin that provides it (the Redis
    plugin provides one; the scheduler uses it for tasks that run in one process only).
    """


@hookspec(firstresult=True)
def kaiju_schedule_store(app: web.Application) -> ScheduleStore | None:
    """Return the app's schedule store, or ``None``.

    :param app: the application
    :return: an object implementing :class:`kaiju_tools.schedules.ScheduleStore`; the first
        plugin that returns one wins (``firstresult``). Called once per app, when a service
        first asks :func:`kaiju_tools.schedules.get_schedule_store` for it.

    The scheduler keeps schedules added at run time there (restored when a process starts)
    and claims each due time of a stored schedule there, so that it runs once across every
    process sharing the store, also across restarts (the Redis plugin provides one).
    """


# --------------------------------------------------------------------------------------
# 3. lifecycle (the only hooks that may be ``async def``)
# --------------------------------------------------------------------------------------


@hookspec
def kaiju_app_created(app: web.Application) -> Awaitable[None] | None:
    """Called by ``init_app`` once the app and its services are built, before start.

    :param app: the new application; its services are in ``kaiju_tools.get_services(app)``
    """


@hookspec
def kaiju_service_started(app: web.Application, service: Service) -> Awaitable[None] | None:
    """Called after each service has started (after its ``init()``).

    :param app: the application
    :param service: the service that started
    """


@hookspec
def kaiju_service_stopped(app: web.Application, service: Service) -> Awaitable[None] | None:
    """Called after each service has stopped (after its ``close()``), in reverse start order.

    :param app: the application
    :param service: the service that stopped
    """


@hookspec
def kaiju_app_started(app: web.Application) -> Awaitable[None] | None:
    """Called when every service has started and before the server answers requests."""


@hookspec
def kaiju_app_stopping(app: web.Application) -> Awaitable[None] | None:
    """Called when the app begins to stop (SIGTERM / SIGINT), before services stop.

    The server has stopped accepting connections; in-flight requests are draining. Under
    ``run_server``, ``kaiju_tools.app.grace_deadline(app)`` says when they are cut.
    """


@hookspec
def kaiju_app_stopped(app: web.Application) -> Awaitable[None] | None:
    """Called after every service has stopped."""


# --------------------------------------------------------------------------------------
# 4. request handling (called once at start-up; the results form a plain call chain)
# --------------------------------------------------------------------------------------


@hookspec
def kaiju_wrap_request(app: web.Application) -> RequestWrapper | None:
    """Return a wrapper around every incoming web request, or ``None``.

    :param app: the application
    :return: ``wrapper(next_handler) -> handler``; the handler receives the
        :class:`aiohttp.web.Request` and must return ``await next_handler(request)``
        (or its own response). Use it to bind context (``kaiju_tools.context.bind``),
        authenticate a caller from headers and set its ``scope``, or collect metrics.

    Called once at start-up; wrappers are composed in pluggy call order (the first
    implementation called is the outermost layer).
    """


@hookspec
def kaiju_wrap_call(app: web.Application) -> CallWrapper | None:
    """Return a wrapper around every RPC call (one per call of a batch), or ``None``.

    :param app: the application
    :return: ``wrapper(next_call) -> call``; ``await call(method, params)`` returns the
        method's result. Raise to refuse a call.

    Called once when the RPC server starts; composed like :func:`kaiju_wrap_request`.
    While ``call(method, params)`` of the outermost wrapper is being called (before its
    coroutine first runs), :data:`kaiju_tools.context.call_id` holds the JSON-RPC ``id``
    of the call (``None`` for a notification); a queued call starts later, so read it there.
    """


@hookspec
def kaiju_wrap_task(app: web.Application) -> TaskWrapper | None:
    """Return a wrapper around every attempt of a scheduled task's run, or ``None``.

    :param app: the application
    :return: ``wrapper(next_run) -> run``; ``await run(task)`` calls the task's method once
        (``task.name`` names it) and raises what it raises: the scheduler counts and logs
        failures and retries around it.

    Called once when a scheduler starts; composed like :func:`kaiju_wrap_request`.
    """


@hookspec
def kaiju_wrap_client_call(app: web.Application) -> ClientWrapper | None:
    """Return a wrapper around every request an RPC client of the app sends, or ``None``.

    :param app: the application the client service belongs to
    :return: ``wrapper(next_send) -> send``; ``await send(url, body, headers)`` posts ``body``
        (a JSON-RPC request object, or the list of a batch) to ``url`` with ``headers`` (a
        ``dict`` of HTTP headers, ``Timeout`` and ``Correlation-Id`` already in it, that the
        wrapper may add to, e.g. ``traceparent``) and returns the decoded response (``None``
        when nothing was answered). Raise to refuse the request.

    Called once when a client starts (clients built without an app have no wrappers);
    composed like :func:`kaiju_wrap_request`.
    """


@hookspec
def kaiju_outcome_sink(app: web.Application) -> OutcomeSinkFn | None:
    """Return a function called with the outcome of every finished request, or ``None``.

    :param app: the application
    :return: ``sink(outcome)``, where ``outcome`` is a :class:`kaiju_tools.outcomes.Outcome`
        (kind, method, outcome: ``"result"`` or the error code, duration in ms, correlation id,
        caller scope, batch size). It runs in the request's task, after the answer is made and
        before it is sent: it must be quick, never block, never raise (an exception is logged
        and the sink is kept). Records are shared between sinks: do not change them.

    Not ``firstresult``: every sink is called, in pluggy call order. Called once when the RPC
    server starts (no pluggy dispatch per request). One record per HTTP request carrying
    JSON-RPC (a batch is one record: ``method`` is ``"batch"``, ``outcome`` the first error's
    code, or ``"result"``); per-call figures come from :func:`kaiju_wrap_call`. With no sink
    and the outcome log level disabled, no record is built.
    """


ASYNC_HOOKS = frozenset(
    {
        "kaiju_app_created",
        "kaiju_service_started",
        "kaiju_service_stopped",
        "kaiju_app_started",
        "kaiju_app_stopping",
        "kaiju_app_stopped",
    }
)
"""Hooks whose implementations may be ``async def`` (the lifecycle family)."""


def compose(wrappers: Iterable[Callable[[Any], Any]], inner: Any) -> Any:
    """Compose wrappers around ``inner``; the first wrapper is the outermost layer."""
    handler = inner
    for wrapper in reversed(list(wrappers)):
        handler = wrapper(handler)
    return handler
