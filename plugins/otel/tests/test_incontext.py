"""``run_in``: a coroutine run step by step in a context of its own, resumed anywhere."""

from __future__ import annotations

import asyncio
import contextvars
import types

import pytest
from kaiju_plugins.otel._incontext import run_in

var: contextvars.ContextVar[str] = contextvars.ContextVar("test_incontext", default="outer")


async def _body(events):
    token = var.set("inner")
    await asyncio.sleep(0)
    events.append(var.get())
    await asyncio.sleep(0.001)
    var.reset(token)  # the token was made in the private context: resetting it there works
    events.append(var.get())
    return "done"


def test_bindings_stay_inside_and_the_result_comes_out():
    async def go():
        events = []
        ctx = contextvars.copy_context()
        result = await run_in(ctx, _body(events))
        return result, events, var.get()

    assert asyncio.run(go()) == ("done", ["inner", "outer"], "outer")


@types.coroutine
def _resume(gen):
    """Go on driving ``gen`` (suspended on a bare yield) from the task awaiting this."""
    value = yield None
    while True:
        try:
            yielded = gen.send(value)
        except StopIteration as stop:
            return stop.value
        value = yield yielded


def test_a_coroutine_started_in_one_task_finishes_in_another():
    async def go():
        events = []
        ctx = contextvars.copy_context()
        gen = run_in(ctx, _body(events))
        first = next(gen)  # the first step inline, here (suspends on sleep(0): yields None)
        assert first is None and var.get() == "outer"

        async def resume():
            return await _resume(gen)

        return await asyncio.create_task(resume()), events

    assert asyncio.run(go()) == ("done", ["inner", "outer"])


def test_exceptions_and_cancellation_pass_through():
    async def fails():
        await asyncio.sleep(0)
        raise ValueError("no")

    async def go():
        with pytest.raises(ValueError, match="no"):
            await run_in(contextvars.copy_context(), fails())
        task = asyncio.create_task(run_in(contextvars.copy_context(), asyncio.sleep(10)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


def test_closing_closes_the_inner_coroutine():
    closed = []

    async def body():
        try:
            await asyncio.sleep(10)
        finally:
            closed.append(var.get())

    async def go():
        ctx = contextvars.copy_context()
        ctx.run(var.set, "private")
        gen = run_in(ctx, body())
        next(gen)
        gen.close()

    asyncio.run(go())
    assert closed == ["private"]
