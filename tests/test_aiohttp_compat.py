"""``_aiohttp_compat`` on the pinned aiohttp: it finds a real server's in-flight request."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession, web
from kaiju_tools import _aiohttp_compat
from kaiju_tools._aiohttp_compat import describe_task, request_tasks


async def _in_flight() -> tuple[list[str | None], list[str | None]]:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ClientSession() as session:
            call = asyncio.create_task(session.get(f"http://127.0.0.1:{port}/slow?x=1"))
            await asyncio.wait_for(entered.wait(), 60)
            loop = asyncio.get_running_loop()
            during = [describe_task(t) for t in request_tasks(loop)]
            release.set()
            async with await asyncio.wait_for(call, 60) as response:
                assert await response.text() == "done"
            await asyncio.sleep(0)
            after = [describe_task(t) for t in request_tasks(loop)]
    finally:
        await runner.cleanup()
    return during, after


def test_the_in_flight_request_of_a_real_server_is_found_and_labelled() -> None:
    assert _aiohttp_compat.REQUEST_TASKS_FOUND
    during, after = asyncio.run(_in_flight())
    assert during == ["GET /slow"]  # the only request task; the client's tasks are not
    assert after == []


def test_nothing_is_found_when_the_request_tasks_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_aiohttp_compat, "REQUEST_TASKS_FOUND", False)
    during, _ = asyncio.run(_in_flight())
    assert during == []


def test_a_task_that_is_not_a_request_has_no_label() -> None:
    async def main() -> str | None:
        task = asyncio.create_task(asyncio.sleep(0))
        label = describe_task(task)
        await task
        return label

    assert asyncio.run(main()) is None
