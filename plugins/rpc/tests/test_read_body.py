"""``_aiohttp_compat.read_body``: a wholly arrived body read without ``request.read()``'s coroutines.

A real aiohttp server on 127.0.0.1 and a raw socket client that sends the request in the
pieces a test chooses: whatever the shape (one piece, several with pauses, chunked transfer
encoding, over the size limit, empty), ``read_body`` gives the body or ``None``, and
``request.read()`` afterwards gives exactly the bytes that were sent.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import itertools
import json
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_plugins.rpc import _aiohttp_compat as compat

from .conftest import run

LIMIT = 300_000


async def _echo(request: web.Request) -> web.Response:
    fast = compat.read_body(request)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"too_large": True, "fast": fast is not None})
    again = await request.read()
    return web.json_response({"fast": fast is not None, "same": fast is None or fast == body,
                              "again": again == body, "size": len(body),
                              "sha": hashlib.sha256(body).hexdigest()})


async def _serve() -> tuple[web.AppRunner, int]:
    app = web.Application(client_max_size=LIMIT)
    app.router.add_post("/echo", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


def _request(body: bytes, chunked: bool = False) -> tuple[bytes, bytes]:
    if chunked:
        head = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        return head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head, body


async def _exchange(port: int, pieces: list[bytes], pause: float = 0.0, requests: int = 1) -> list[Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
        answers = []
        for _ in range(requests):
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answers.append((status.split()[1], json.loads(await reader.readexactly(length))))
        return answers
    finally:
        writer.close()


def _post(pieces: list[bytes], pause: float = 0.0, requests: int = 1) -> list[Any]:
    async def go() -> list[Any]:
        runner, port = await _serve()
        try:
            return await asyncio.wait_for(_exchange(port, pieces, pause, requests), 20)
        finally:
            await runner.cleanup()

    return run(go())


def _expect(body: bytes) -> dict[str, Any]:
    return {"same": True, "again": True, "size": len(body), "sha": hashlib.sha256(body).hexdigest()}


def test_a_body_sent_at_once_is_read_directly_and_stays_readable():
    body = json.dumps({"jsonrpc": "2.0", "method": "x.y", "id": 1}).encode()
    [(status, answer)] = _post([b"".join(_request(body))])
    assert status == b"200" and answer.pop("fast") is True
    assert answer == _expect(body)


def test_a_body_still_arriving_is_left_to_the_public_read():
    body = b'{"jsonrpc": "2.0", "method": "x.y", "params": [' + b"1, " * 500 + b'1], "id": 1}'
    head, rest = _request(body)
    # the handler starts with part of the body in the stream
    [(status, answer)] = _post([head + rest[:100], rest[100:]], pause=0.05)
    assert status == b"200" and answer.pop("fast") is False
    assert answer == _expect(body)


def test_a_chunked_body_is_left_to_the_public_read():
    body = b'{"jsonrpc": "2.0", "method": "x.y", "id": 1}'
    [(status, answer)] = _post([b"".join(_request(body, chunked=True))])
    assert status == b"200" and answer.pop("fast") is False
    assert answer == _expect(body)


def test_a_body_over_the_apps_limit_gets_the_public_413():
    body = b"x" * (LIMIT + 1)
    [(status, answer)] = _post([b"".join(_request(body))])
    assert status == b"200" and answer == {"too_large": True, "fast": False}


@pytest.mark.parametrize("size", [50, 5_000, 250_000])
def test_a_gzip_body_reads_back_decompressed(size):
    body = b'{"jsonrpc": "2.0", "method": "x.y", "params": ["' + b"z" * size + b'"], "id": 1}'
    packed = gzip.compress(body)
    head = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(packed))
    [(status, answer)] = _post([head + packed])
    assert status == b"200"
    answer.pop("fast")
    assert answer == _expect(body)


def test_an_empty_body_reads_empty():
    [(status, answer)] = _post([b"".join(_request(b""))])
    assert status == b"200" and answer.pop("fast") is False
    assert answer == _expect(b"")


@pytest.mark.parametrize("size", [100_000, 200_000, 290_000])
def test_a_large_body_then_a_second_request_on_the_connection(size):
    """Bodies past the stream's high-water mark pause reading; the connection must go on."""
    first, second = b"a" * size, b'{"b": 2}'
    answers = _post([b"".join(_request(first)) + b"".join(_request(second))], requests=2)
    assert [status for status, _ in answers] == [b"200", b"200"]
    assert [{k: v for k, v in answer.items() if k != "fast"} for _, answer in answers] == [
        _expect(first), _expect(second)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=3000), cuts=st.lists(st.integers(min_value=0, max_value=3200), max_size=4),
       chunked=st.booleans())
def test_any_body_in_any_pieces_reads_back_exactly(body, cuts, chunked):
    head, rest = _request(body, chunked)
    data = head + rest
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(points) if b > a]
    [(status, answer)] = _post(pieces, pause=0.002 if len(pieces) > 1 else 0.0)
    assert status == b"200"
    answer.pop("fast")
    assert answer == _expect(body)
