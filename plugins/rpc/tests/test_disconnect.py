"""A caller that goes away frees its capacity: its queued calls are dropped, its running calls cancelled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kaiju_plugins.rpc import PermissionKeys, PublicInterface, must_finish
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service


class Ledger(Service, PublicInterface):
    """A method that must finish once started, and one that may be cut."""

    def __init__(self, app: Any = None, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.finished: list[Any] = []
        self.cancelled: list[Any] = []

    @property
    def routes(self) -> dict[str, Any]:
        return {"write": self.write, "wait": self.wait}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    @must_finish
    async def write(self, seconds: float, tag: Any) -> Any:
        await asyncio.sleep(seconds)
        self.finished.append(tag)
        return tag

    async def wait(self, seconds: float, tag: Any) -> Any:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.cancelled.append(tag)
            raise
        self.finished.append(tag)
        return tag


SERVICE_CLASS_REGISTRY.register(Ledger)


def raw_post(body: bytes) -> bytes:
    return (b"POST /public/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


async def until(predicate: Any, limit: float = 10) -> bool:
    """Poll ``predicate`` until true or ``limit`` seconds passed (a generous bound, not a timing)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)
    return True


def test_batches_abandoned_by_their_callers_free_every_slot_and_queue_place(serve_app):
    batch = json.dumps([{"jsonrpc": "2.0", "method": "calc.sleep", "params": [60, i], "id": i}
                        for i in range(100)]).encode()

    async def go() -> Any:
        async with serve_app() as served:  # the defaults: 256 in flight, 1024 waiting, batches of 100
            host, port = served.url.split("/")[2].split(":")
            writers = []
            for _ in range(13):
                _, writer = await asyncio.open_connection(host, int(port))
                writer.write(raw_post(batch))
                writers.append(writer)
            limiter = served.service("rpc").limiter
            await until(lambda: limiter.active + limiter.waiting >= 256 + 1024)
            busy = await served.call("calc.ping")  # a def route runs inline; an async one waits
            refused = await served.call("calc.sleep", [0.01, "now"])
            for writer in writers:
                writer.close()
            freed = await until(lambda: (limiter.active, limiter.waiting) == (0, 0))
            after = await served.call("calc.sleep", [0.01, "after"])
            return busy, refused, freed, after, served.service("calc").running

    busy, refused, freed, after, running = asyncio.run(go())
    assert busy["result"] == "pong"
    assert refused["error"]["code"] == -32003  # the attack worked: everything was taken
    assert freed  # within the bound, where the calls would have held it for 60 s
    assert after["result"] == "after"
    assert running == 0  # the running calls were cancelled, not left to finish


def test_a_single_call_abandoned_is_cancelled_and_a_must_finish_one_completes(serve_app):
    async def go() -> Any:
        async with serve_app(services=[{"cls": "Ledger", "name": "ledger"}]) as served:
            host, port = served.url.split("/")[2].split(":")
            writers = []
            for method, tag in (("ledger.wait", "cut"), ("ledger.write", "kept")):
                _, writer = await asyncio.open_connection(host, int(port))
                body = json.dumps({"jsonrpc": "2.0", "method": method,
                                   "params": [1.0, tag], "id": 1}).encode()
                writer.write(raw_post(body))
                writers.append(writer)
            limiter = served.service("rpc").limiter
            await until(lambda: limiter.active == 2)
            for writer in writers:
                writer.close()
            ledger = served.service("ledger")
            await until(lambda: ledger.cancelled == ["cut"])
            await until(lambda: ledger.finished == ["kept"])
            await until(lambda: limiter.active == 0)
            return ledger.cancelled, ledger.finished, limiter.active

    assert asyncio.run(go()) == (["cut"], ["kept"], 0)


def test_in_an_abandoned_batch_must_finish_calls_complete_and_the_rest_is_dropped(serve_app):
    async def go() -> Any:
        async with serve_app({"max_parallel": 2}, services=[{"cls": "Ledger", "name": "ledger"}]) as served:
            host, port = served.url.split("/")[2].split(":")
            body = json.dumps([
                {"jsonrpc": "2.0", "method": "ledger.write", "params": [1.0, "kept"], "id": 1},
                {"jsonrpc": "2.0", "method": "ledger.wait", "params": [1.0, "cut"], "id": 2},
                {"jsonrpc": "2.0", "method": "ledger.write", "params": [0.01, "queued"], "id": 3},
            ]).encode()
            _, writer = await asyncio.open_connection(host, int(port))
            writer.write(raw_post(body))
            limiter = served.service("rpc").limiter
            await until(lambda: (limiter.active, limiter.waiting) == (2, 1))
            writer.close()
            ledger = served.service("ledger")
            await until(lambda: ledger.finished == ["kept"])
            await until(lambda: limiter.active == 0)
            await asyncio.sleep(0.1)
            return ledger.cancelled, ledger.finished, (limiter.active, limiter.waiting)

    assert asyncio.run(go()) == (["cut"], ["kept"], (0, 0))


def test_cancelling_on_disconnect_can_be_turned_off(serve_app):
    async def go() -> Any:
        async with serve_app({"cancel_on_disconnect": False},
                             services=[{"cls": "Ledger", "name": "ledger"}]) \
                as served:
            host, port = served.url.split("/")[2].split(":")
            _, writer = await asyncio.open_connection(host, int(port))
            body = json.dumps({"jsonrpc": "2.0", "method": "ledger.wait",
                               "params": [0.5, "t"], "id": 1}).encode()
            writer.write(raw_post(body))
            limiter = served.service("rpc").limiter
            await until(lambda: limiter.active == 1)
            writer.close()
            ledger = served.service("ledger")
            await until(lambda: ledger.finished == ["t"])
            return ledger.cancelled, ledger.finished

    assert asyncio.run(go()) == ([], ["t"])
