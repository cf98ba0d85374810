"""Outcome records of plain web routes: one per finished request that is not JSON-RPC.

The rpc plugin's view makes the records of JSON-RPC requests itself (its handler says so with
a ``kaiju_outcome`` attribute). Every other route of the app (a user's aiohttp views, the
metrics scrape, the rpc docs page) gets its handler wrapped once, when the app starts, so
that each finished request is logged at ``run.outcome_log`` (WARNING when slower than
``run.slow_request_time``) and handed to every ``kaiju_outcome_sink``. The health probes
are quiet (``kaiju_outcome = "quiet"``): an orchestrator calls them every few seconds.
No middleware: the JSON-RPC path does not pay for it (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from . import _aiohttp_compat
from .outcomes import OutcomeLog, OutcomeSink, parse_level

__all__ = ["CLIENT_GONE", "install"]

CLIENT_GONE = 499
"""The outcome of a request whose client went away before the answer (nginx's convention)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(app: web.Application, level_setting: Any, slow_request_time: float,
            sinks: Sequence[OutcomeSink], logger: Any) -> int:
    """Wrap the handler of every route of ``app`` that does not report its own outcome.

    :param level_setting: ``run.outcome_log``
    :param slow_request_time: seconds; a slower request is logged at WARNING
    :param sinks: the ``kaiju_outcome_sink`` functions of the app
    :param logger: the app's logger (a kaiju logger: keyword extras)
    :return: how many routes were wrapped (0 when the log is off and there is no sink)
    """
    level = parse_level(level_setting)
    if level is None and not sinks:
        return 0
    emit = _emitter(logger, level, slow_request_time * 1000.0, tuple(sinks))
    count = 0
    for route in app.router.routes():
        handler = route.handler
        if getattr(handler, "kaiju_outcome", None) is not None:
            continue  # reports its own outcomes, or is quiet
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix") or "?"
        _aiohttp_compat.replace_handler(route, _wrap(handler, f"{route.method} {path}", emit))
        count += 1
    return count


_cid_ok = re.compile(r"[A-Za-z0-9._:/+=@;~-]{1,128}").fullmatch  # as the rpc view accepts


def _correlation_id(request: web.Request) -> str | None:
    cid = request.headers.get("Correlation-Id")
    return cid if cid is not None and _cid_ok(cid) else None  # a client's header is not trusted


def _wrap(handler: Any, label: str, emit: Callable[[str, int, float, str | None], None]) -> Handler:
    async def outcome_logged(request: web.Request) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response: web.StreamResponse = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_GONE
            raise
        finally:
            emit(label, status, (time.perf_counter() - start) * 1000.0, _correlation_id(request))

    outcome_logged.kaiju_outcome = "self"  # type: ignore[attr-defined]  # wrapped once
    return outcome_logged


def _emitter(logger: Any, level: int | None, slow_ms: float,
             sinks: tuple[OutcomeSink, ...]) -> Callable[[str, int, float, str | None], None]:
    log = OutcomeLog(logger, "http", level, slow_ms, sinks)

    def emit(label: str, status: int, ms: float, cid: str | None) -> None:
        log_level = log.level_for(ms)
        if log_level is not None or sinks:
            log.emit(log_level, label, status, ms, cid, None, 1)

    return emit
