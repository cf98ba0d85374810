"""The application: ``init_app`` builds an aiohttp app with its services and lifecycle.

Start-up (inside the app's aiohttp cleanup context): async ``kaiju_app_created`` hooks,
then each service in dependency order -- ``init()`` under ``main.start_timeout``, then
``kaiju_service_started`` -- then ``kaiju_app_started``. Stop: ``kaiju_app_stopping`` (on
shutdown, while requests drain), each started service in strictly reverse order --
``close()`` under ``main.stop_timeout``, then ``kaiju_service_stopped`` -- then
``kaiju_app_stopped``. A failed start stops what had started, in reverse, and re-raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiohttp import web

from ._container import ServiceContainer
from ._health import install as _install_health
from ._http_outcomes import install as _log_outcomes
from ._keys import ATTRS_KEY, PLUGINS_KEY, RUNTIME_KEY, SERVICES_KEY, SETTINGS_KEY
from ._logger import get_logger
from ._runtime import Runtime, settings_from_mapping
from ._server import run_server as _run_server
from ._stop import STOP_KEY
from .commands import COMMANDS
from .exceptions import ServiceError, ServiceStartError
from .hookspecs import compose
from .logsetup import quiet_client_errors
from .plugins import await_lifecycle, call_each
from .services import SERVICE_CLASS_REGISTRY, ContextableService, Service, ServiceState
from .settings import ProjectSettings, _to_mapping

__all__ = [
    "ATTRS_KEY",
    "COMMANDS",
    "PLUGINS_KEY",
    "RUNTIME_KEY",
    "SERVICES_KEY",
    "SERVICE_CLASS_REGISTRY",
    "SETTINGS_KEY",
    "App",
    "get_runtime",
    "get_services",
    "get_settings",
    "grace_deadline",
    "init_app",
    "run_server",
]

App = web.Application
"""The application class: an :class:`aiohttp.web.Application` (kaiju state lives in app keys)."""

_CREATED_KEY = web.AppKey("kaiju.created", list)
_RequestKey = getattr(web, "RequestKey", None)  # aiohttp >= 3.12; a plain str key before
_HANDLER_KEY: Any = _RequestKey("kaiju.handler", object) if _RequestKey else "kaiju.handler"


def get_services(app: web.Application) -> ServiceContainer:
    """The app's service container (``.discover()``, ``.get(name)``, iteration)."""
    return app[SERVICES_KEY]


def get_settings(app: web.Application) -> ProjectSettings:
    """The app's validated settings."""
    return app[SETTINGS_KEY]


def get_runtime(app: web.Application) -> Runtime:
    """The app's runtime: its plugin manager (``.pm``), the registries its service classes and
    commands resolve in (``.service_classes``, ``.commands``: its plugins' own registrations over
    the process-wide ``SERVICE_CLASS_REGISTRY`` / ``COMMANDS``), its settings and loaded config."""
    return app[RUNTIME_KEY]


def init_app(
    settings: ProjectSettings | Mapping[str, Any],
    attrs: Mapping[str, Any] | None = None,
    middlewares: Iterable[Any] = (),
    **kws: Any,
) -> web.Application:
    """Build the app: services (not started yet), routes and hooks of active plugins.

    :param settings: validated :class:`ProjectSettings` (``run_server`` passes them) or a
        mapping shaped like the YAML config (first-party plugins are loaded for it)
    :param attrs: values an app wants to keep (``get_attrs(app)["db_meta"]``)
    :param middlewares: aiohttp middlewares placed before the plugins' ones
    :param kws: more :class:`aiohttp.web.Application` arguments (override ``app:``)
    """
    if not isinstance(settings, ProjectSettings):
        settings = settings_from_mapping(settings)
    if settings.runtime is None:  # built by hand: validate it (first-party plugins)
        settings = settings_from_mapping(_to_mapping(settings))
    runtime = settings.runtime
    assert runtime is not None  # settings_from_mapping sets it
    plugins = runtime.plugins
    app_kws = {k: v for k, v in settings.app.items() if k != "debug"}
    app_kws.update(kws)
    app = web.Application(middlewares=list(middlewares), **app_kws)
    app[SETTINGS_KEY] = settings  # before any hook gets the app: hooks read the settings
    app[PLUGINS_KEY] = plugins
    app[RUNTIME_KEY] = runtime
    app[ATTRS_KEY] = dict(attrs or {})
    for _, found in call_each(plugins.pm, "kaiju_register_middlewares", app=app):
        app.middlewares.extend(found)
    wrappers = [w for _, w in call_each(plugins.pm, "kaiju_wrap_request", app=app)]
    if wrappers:
        app.middlewares.append(_request_middleware(wrappers))
    logging.getLogger(settings.main.name).setLevel(settings.main.loglevel)
    quiet_client_errors()  # a client's bad request: one WARNING line, no traceback
    container = ServiceContainer(app, settings, runtime.service_classes)
    app[SERVICES_KEY] = container
    container.build_all(runtime.only_services)  # a command may need only some services
    container.order()  # a dependency cycle is an error now, not at start
    for name, routes in call_each(plugins.pm, "kaiju_register_routes", app=app):
        info = plugins.infos.get(name)
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
            if info is not None and f"route {method} {path}" not in info.registered:
                info.registered.append(f"route {method} {path}")  # the ``plugins`` command lists it
    pending = []
    for _, result in call_each(plugins.pm, "kaiju_app_created", app=app):
        if asyncio.iscoroutine(result):
            pending.append(result)
    app[_CREATED_KEY] = pending
    _install_health(app)  # probe routes; readiness turns false first on shutdown
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_stopping)
    return app


def grace_deadline(app: web.Application) -> float | None:
    """When requests still running are cut: a ``loop.time()`` value, or ``None``.

    Set by ``run_server`` when the graceful stop begins (the first SIGTERM / SIGINT, or the
    end of ``run.drain_delay``), before the ``kaiju_app_stopping`` hooks run: the stop time
    plus ``run.shutdown_timeout``. ``None`` before that, and under gunicorn or an app runner
    of your own (aiohttp's ``shutdown_timeout`` applies there). A plugin that wants to answer
    its own calls before the cut schedules it with ``loop.call_at(deadline - margin, ...)``.
    """
    stopper = app.get(STOP_KEY)
    return None if stopper is None else stopper.grace_deadline


def get_attrs(app: web.Application) -> dict[str, Any]:
    """The ``attrs`` given to :func:`init_app`."""
    return app[ATTRS_KEY]


def _request_middleware(wrappers: list[Any]) -> Any:
    async def inner(request: web.Request) -> web.StreamResponse:
        return await request[_HANDLER_KEY](request)  # type: ignore[no-any-return]

    chain = compose(wrappers, inner)

    @web.middleware
    async def kaiju_request_hooks(request: web.Request, handler: Any) -> web.StreamResponse:
        request[_HANDLER_KEY] = handler
        return await chain(request)  # type: ignore[no-any-return]

    return kaiju_request_hooks


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    pm = app[PLUGINS_KEY].pm
    container = app[SERVICES_KEY]
    log = get_logger(settings.main.name)
    started = container.started
    try:
        for coro in app[_CREATED_KEY]:
            await coro
        app[_CREATED_KEY].clear()
        sinks = [sink for _, sink in call_each(pm, "kaiju_outcome_sink", app=app)]
        _log_outcomes(app, settings.run.outcome_log, settings.run.slow_request_time, sinks, log)
        for name in container.order():
            service = container.get(name)
            if service is not None and await _start(app, service, log):
                started.append(service)
                await await_lifecycle(pm, "kaiju_service_started", app=app, service=service)
        await await_lifecycle(pm, "kaiju_app_started", app=app)
    except BaseException:
        for coro in app[_CREATED_KEY]:
            coro.close()
        await _stop_all(app, log)
        raise
    log.info("app started", services=[s.service_name for s in started])
    yield
    try:
        await _stop_all(app, log)
        log.info("app stopped")  # before kaiju_app_stopped: still in the configured log format
    finally:
        await await_lifecycle(pm, "kaiju_app_stopped", app=app)


async def _start(app: web.Application, service: Service, log: Any) -> bool:
    settings = app[SETTINGS_KEY]
    container = app[SERVICES_KEY]
    entry = container.entry(service.service_name)
    service.state = ServiceState.STARTING
    if isinstance(service, ContextableService):
        timeout = settings.main.start_timeout
        try:
            await asyncio.wait_for(service.init(), timeout)
        except Exception as exc:
            service.state = ServiceState.FAILED
            if isinstance(exc, TimeoutError):
                cause: Any = f"init() did not finish within {timeout:g} s (main.start_timeout)"
            else:
                cause = exc
            reason = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
            if entry.required:
                log.error("required service %r failed to start: %s", service.service_name, reason,
                          service=service.service_name, exc_info=not isinstance(exc, TimeoutError))
                raise ServiceStartError(service.service_name, cause) from exc
            log.warning("optional service %r failed to start; the app goes on without it "
                        "(required: false): %s", service.service_name, reason,
                        service=service.service_name, error=reason,
                        exc_info=not isinstance(exc, TimeoutError))
            container.mark_failed(service, cause)
            return False
    service.state = ServiceState.RUNNING
    return True


async def _stop_all(app: web.Application, log: Any) -> None:
    settings = app[SETTINGS_KEY]
    pm = app[PLUGINS_KEY].pm
    started = app[SERVICES_KEY].started
    errors: list[Exception] = []
    while started:
        service = started.pop()
        service.state = ServiceState.STOPPING
        if isinstance(service, ContextableService):
            limit = settings.main.stop_timeout
            try:
                await asyncio.wait_for(service.close(), limit)
            except Exception as exc:
                if isinstance(exc, TimeoutError):
                    error = ServiceError(f"service {service.service_name!r}: close() did not finish "
                                         f"within {limit:g} s (main.stop_timeout)")
                else:
                    error = ServiceError(f"service {service.service_name!r}: close() raised "
                                         f"{type(exc).__name__}: {exc}")
                log.error("%s", error, service=service.service_name,
                          exc_info=not isinstance(exc, TimeoutError))
                errors.append(error)
        service.state = ServiceState.STOPPED
        try:
            await await_lifecycle(pm, "kaiju_service_stopped", app=app, service=service)
        except Exception as exc:  # noqa: BLE001 -- stop the others, then raise them together
            errors.append(exc)
    if errors:
        raise ExceptionGroup("errors while stopping services", errors)


async def _stopping(app: web.Application) -> None:
    await await_lifecycle(app[PLUGINS_KEY].pm, "kaiju_app_stopping", app=app)


def run_server(*args: Any, **kwargs: Any) -> Any:
    """Load settings, build the app with ``init_app`` and serve it (see ``_server``)."""
    return _run_server(*args, **kwargs)
