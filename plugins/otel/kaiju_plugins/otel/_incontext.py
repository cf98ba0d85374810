"""Run a coroutine in a context of its own, step by step, wherever it is resumed.

An RPC call's coroutine may start inline in the request's task and be resumed in another
task (a batch's suspended calls finish each in its own task). A span made current with
``ContextVar.set`` there could not be reset in the other task (a token belongs to its
context) and would leak into the calls after it. So each traced call runs every step in a
:class:`contextvars.Context` of its own (a copy of the caller's, with the span bound), as an
:class:`asyncio.Task` runs its coroutine: nothing it binds is seen outside, and nothing is
reset.
"""

from __future__ import annotations

import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["run_in"]


@types.coroutine
def run_in(ctx: contextvars.Context, coro: Coroutine[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Await ``coro``, each of its steps run in ``ctx`` (``await run_in(ctx, coro)``)."""
    run, send, throw = ctx.run, coro.send, coro.throw
    try:
        yielded = run(send, None)
    except StopIteration as stop:
        return stop.value
    while True:
        try:
            value = yield yielded
        except GeneratorExit:
            run(coro.close)
            raise
        except BaseException as exc:  # noqa: BLE001 -- forwarded to the coroutine, as a task would
            try:
                yielded = run(throw, exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = run(send, value)
            except StopIteration as stop:
                return stop.value
