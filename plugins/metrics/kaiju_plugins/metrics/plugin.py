"""The metrics plugin (entry point ``kaiju.plugins: metrics``; active only when ``packages:`` lists
``metrics`` or ``kaiju-plugin-metrics``).

Checks ``etc.metrics``; builds each app's :class:`~._metrics.Metrics` when the app is built; serves
``GET <path>`` on the app (or on a port of its own); counts HTTP requests, RPC calls, scheduler
runs, service states and log records through the kernel's hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from kaiju_tools.app import get_settings
from kaiju_tools.exceptions import ConfigProblem
from kaiju_tools.hookspecs import hookimpl

from ._metrics import _APP_KEY, METRICS_KEY, Metrics
from ._settings import parse_settings
from ._wrappers import call_wrapper, outcome_sink, request_wrapper, task_wrapper

__all__ = [
    "kaiju_app_created",
    "kaiju_app_started",
    "kaiju_app_stopped",
    "kaiju_outcome_sink",
    "kaiju_process_settings",
    "kaiju_register_routes",
    "kaiju_service_started",
    "kaiju_service_stopped",
    "kaiju_wrap_call",
    "kaiju_wrap_request",
    "kaiju_wrap_task",
]

_RUNNER_KEY = web.AppKey("kaiju_plugins.metrics.runner", web.AppRunner)


def _metrics(app: web.Application) -> Metrics:
    """The app's metrics, made on first use (while the app is built)."""
    metrics = app.get(METRICS_KEY)
    if metrics is None:
        # checked by kaiju_process_settings
        settings, _ = parse_settings(get_settings(app).etc.get("metrics"))
        metrics = Metrics(settings)
        if not app.frozen:
            app[METRICS_KEY] = metrics
    return metrics


def _app_logger(app: web.Application) -> logging.Logger:
    return logging.getLogger(get_settings(app).main.name)


@hookimpl
def kaiju_process_settings(settings: dict[str, Any]) -> Iterable[ConfigProblem] | None:
    """Check ``etc.metrics`` (problems name their dotted key)."""
    etc = settings.get("etc")
    if not isinstance(etc, dict):
        return None
    _, problems = parse_settings(etc.get("metrics"))
    return problems or None


@hookimpl
def kaiju_register_routes(app: web.Application) -> Iterable[tuple[str, str, Any]] | None:
    """``GET <path>`` on the app, unless the scrape has a port of its own."""
    metrics = _metrics(app)
    if metrics.settings.port is not None:
        return None
    return [("GET", metrics.settings.path, metrics.handle)]


@hookimpl
def kaiju_wrap_request(app: web.Application) -> Any:
    """Count HTTP requests by route and status."""
    return request_wrapper(_metrics(app))


@hookimpl
def kaiju_wrap_call(app: web.Application) -> Any:
    """Count and time RPC calls by method and outcome."""
    return call_wrapper(_metrics(app))


@hookimpl
def kaiju_wrap_task(app: web.Application) -> Any:
    """Count scheduled runs, failures, skipped due times; observe lateness."""
    return task_wrapper(_metrics(app))


@hookimpl
def kaiju_outcome_sink(app: web.Application) -> Any:
    """Multiprocess mode: keep the load gauges and busy rejections current after each RPC request."""
    return outcome_sink(_metrics(app))


@hookimpl
def kaiju_app_created(app: web.Application) -> None:
    """Find the RPC server (method labels, load figures); count the app logger's records."""
    from kaiju_tools import get_services

    metrics = _metrics(app)
    for service in get_services(app):
        if callable(getattr(service, "ascribe", None)) and callable(getattr(service, "load_stats", None)):
            metrics.server = service
            break
    _app_logger(app).addHandler(metrics.log_handler)
    metrics.refresh(app)


@hookimpl
def kaiju_service_started(app: web.Application, service: Any) -> None:
    """The service's state gauge."""
    metrics = app.get(METRICS_KEY)
    if metrics is not None:
        metrics.set_state(service)


@hookimpl
def kaiju_service_stopped(app: web.Application, service: Any) -> None:
    """The service's state gauge."""
    kaiju_service_started(app, service)


@hookimpl
async def kaiju_app_started(app: web.Application) -> None:
    """Serve the scrape on its own port, when configured."""
    metrics = app.get(METRICS_KEY)
    if metrics is None or metrics.settings.port is None:
        return
    side = web.Application()
    side[_APP_KEY] = app
    side.router.add_get(metrics.settings.path, metrics.handle)
    runner = web.AppRunner(side, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, metrics.settings.host, metrics.settings.port, reuse_port=True).start()
    app[_RUNNER_KEY] = runner


@hookimpl
async def kaiju_app_stopped(app: web.Application) -> None:
    """Stop the scrape port; stop counting the app's log records."""
    metrics = app.get(METRICS_KEY)
    if metrics is None:
        return
    _app_logger(app).removeHandler(metrics.log_handler)
    runner = app.get(_RUNNER_KEY)
    if runner is not None:
        await runner.cleanup()
