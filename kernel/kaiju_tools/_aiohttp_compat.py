"""What the kernel knows about aiohttp's internals, in one place: its request tasks, and
where a route keeps its handler.

aiohttp runs each request's handler in a task of its own whose coroutine is
``RequestHandler._handle_request`` (``web_protocol.py``, created in ``RequestHandler.start``).
At stop time the requests in flight are so the tasks in ``asyncio.all_tasks(loop)`` that run
that coroutine: ``run_server``'s drain finds them there, with no per-request cost (no
middleware: docs/architecture.md, "Decisions").

Checked against aiohttp 3.14.5. On an aiohttp without ``RequestHandler._handle_request``,
:data:`REQUEST_TASKS_FOUND` is false, :func:`request_tasks` returns ``[]`` and the drain is
aiohttp's own (its ``shutdown_timeout``: docs/deployment.md, "SIGTERM").
"""

from __future__ import annotations

import asyncio
from types import CodeType
from typing import Any

from aiohttp import web_protocol

__all__ = ["CHECKED_AGAINST", "REQUEST_TASKS_FOUND", "describe_task", "replace_handler", "request_tasks"]

CHECKED_AGAINST = "3.14.5"
"""The aiohttp version these internals were read from."""

_HANDLE_REQUEST: CodeType | None = getattr(
    getattr(getattr(web_protocol, "RequestHandler", None), "_handle_request", None), "__code__", None)

REQUEST_TASKS_FOUND = isinstance(_HANDLE_REQUEST, CodeType)
"""Whether the installed aiohttp's request tasks can be recognised (see the module doc)."""


def request_tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
    """The loop's unfinished aiohttp request tasks (``[]`` when they cannot be recognised).

    Call it in the loop's thread: :func:`asyncio.all_tasks` is not thread-safe.
    """
    if not REQUEST_TASKS_FOUND:
        return []
    return [task for task in asyncio.all_tasks(loop)
            if getattr(task.get_coro(), "cr_code", None) is _HANDLE_REQUEST and not task.done()]


def describe_task(task: asyncio.Task[Any]) -> str | None:
    """``GET /slow`` for a request task (from its coroutine's ``request``), else ``None``."""
    try:
        frame = task.get_coro().cr_frame  # type: ignore[union-attr]
        request = frame.f_locals["request"]
        return f"{request.method} {request.path}"
    except Exception:  # noqa: BLE001 -- a label is a nicety, never an error
        return None


def replace_handler(route: Any, handler: Any) -> None:
    """Make ``handler`` the handler of ``route`` (an :class:`aiohttp.web.AbstractRoute`).

    aiohttp has no public way to change a route's handler once the route is added (its
    ``handler`` property reads ``_handler``); the kernel does it once per route, at start.
    """
    route._handler = handler  # the one place that writes a route of aiohttp
