"""The otel plugin (entry point ``kaiju.plugins: otel``; active only when ``packages:`` lists
``otel`` or ``kaiju-plugin-otel``).

Checks ``etc.otel``; builds each app's :class:`~._tracing.Tracing` when the app is built;
wraps HTTP requests, RPC calls, scheduler runs and outgoing RPC client calls in spans; exports
what is left when the app has stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web
from kaiju_tools.app import get_settings
from kaiju_tools.exceptions import ConfigProblem
from kaiju_tools.hookspecs import hookimpl

from ._settings import parse_settings
from ._spans import call_wrapper, client_wrapper, parent_wrapper, request_wrapper, task_wrapper
from ._tracing import TRACING_KEY, Tracing

__all__ = [
    "kaiju_app_stopped",
    "kaiju_process_settings",
    "kaiju_wrap_call",
    "kaiju_wrap_client_call",
    "kaiju_wrap_request",
    "kaiju_wrap_task",
]


def _tracing(app: web.Application) -> Tracing:
    """The app's tracing, made on first use (in ``init_app``: ``kaiju_wrap_request`` runs there)."""
    tracing = app.get(TRACING_KEY)
    if tracing is None:
        settings = get_settings(app)
        otel, _ = parse_settings(settings.etc.get("otel"))  # checked by kaiju_process_settings
        tracing = Tracing(otel, settings)
        if not app.frozen:  # aiohttp warns on changes to a started app
            app[TRACING_KEY] = tracing
    return tracing


@hookimpl
def kaiju_process_settings(settings: dict[str, Any]) -> Iterable[ConfigProblem] | None:
    """Check ``etc.otel`` (problems name their dotted key)."""
    etc = settings.get("etc")
    if not isinstance(etc, dict):
        return None
    _, problems = parse_settings(etc.get("otel"))
    return problems or None


@hookimpl(tryfirst=True)
def kaiju_wrap_request(app: web.Application) -> Any:
    """A span per HTTP request (outermost, to time everything); without HTTP spans, the caller's
    ``traceparent`` still becomes the parent of the calls' spans."""
    tracing = _tracing(app)
    if tracing.spans["http"]:
        return request_wrapper(tracing)
    return parent_wrapper(tracing) if tracing.spans["rpc"] else None


@hookimpl(tryfirst=True)
def kaiju_wrap_call(app: web.Application) -> Any:
    """A span per RPC call (outermost)."""
    tracing = _tracing(app)
    return call_wrapper(tracing) if tracing.spans["rpc"] else None


@hookimpl(tryfirst=True)
def kaiju_wrap_task(app: web.Application) -> Any:
    """A span per attempt of a scheduled task's run (outermost)."""
    tracing = _tracing(app)
    return task_wrapper(tracing) if tracing.spans["tasks"] else None


@hookimpl(tryfirst=True)
def kaiju_wrap_client_call(app: web.Application) -> Any:
    """A span per request an RPC client of the app sends, ``traceparent`` added (outermost)."""
    tracing = _tracing(app)
    return client_wrapper(tracing) if tracing.spans["client"] else None


@hookimpl
async def kaiju_app_stopped(app: web.Application) -> None:
    """Export the spans left and stop the exporter."""
    tracing = app.get(TRACING_KEY)
    if tracing is not None:
        await tracing.shutdown()
