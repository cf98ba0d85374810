"""Eager start of coroutines (what ``asyncio.eager_task_factory`` does on Python 3.12+).

Most RPC methods finish without ever suspending. :func:`start` runs a coroutine's first
step inline: when it finishes there, its result is known at once (no task, no timer, no
loop iteration); only when it suspends does the caller pay for a task or a timeout, and
:func:`resume` continues it faithfully (``send`` / ``throw`` forwarded, so cancellation
reaches the coroutine exactly as if it had been awaited from the start).
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["DONE", "drive", "resume", "start"]

DONE = object()
"""The marker :func:`start` returns as first item when the coroutine finished (and the
default to read :func:`drive` with: ``next(drive(coro, box), DONE)``)."""


def start(coro: Coroutine[Any, Any, Any]) -> tuple[Any, Any]:
    """Run the first step of ``coro``.

    :return: ``(DONE, result)`` when it finished, ``(yielded, None)`` when it suspended on
        ``yielded`` (a future, or ``None`` for a bare ``sleep(0)``); pass both to :func:`resume`
    :raises: whatever the coroutine raised in its first step
    """
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return DONE, stop.value
    return yielded, None


@types.coroutine
def resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Continue a coroutine that :func:`start` left suspended on ``yielded``; await it."""
    while True:
        try:
            yield yielded
        except BaseException as exc:  # noqa: BLE001 -- forwarded to the coroutine, as a task would
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        break
    return (yield from coro)



@types.coroutine
def drive(coro: Coroutine[Any, Any, Any], box: list[Any]) -> Generator[Any, Any, Any]:
    """:func:`start` without an exception per call, for the hot path.

    ``next(drive(coro, box), DONE)`` runs the first step: ``DONE`` when ``coro`` finished,
    its result then in ``box``; else the value it suspended on. A generator that returns
    ``None`` raises no ``StopIteration`` to ``next()`` with a default, where ``coro.send()``
    always does. After a suspension, append anything to ``box`` and resume the generator
    (:func:`resume`): it then returns the result.
    """
    value = yield from coro
    if box:
        return value
    box.append(value)
    return None
