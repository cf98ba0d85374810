"""aiohttp internals are read in one module, on tested versions only; the public fallback serves the same."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from kaiju_plugins.rpc import _aiohttp_compat as compat
from kaiju_plugins.rpc import _flight, _view

from .conftest import run

CASES = [
    {"jsonrpc": "2.0", "method": "calc.ping", "id": 1},
    {"jsonrpc": "2.0", "method": "calc.add", "params": [1, 2], "id": "a"},
    {"jsonrpc": "2.0", "method": "calc.add", "params": {"a": 3, "b": 4}, "id": 2},
    {"jsonrpc": "2.0", "method": "calc.sleep", "params": [0.01, "t"], "id": 3},
    {"jsonrpc": "2.0", "method": "calc.nope", "id": 4},
    {"jsonrpc": "2.0", "method": "calc.ping"},
    [{"jsonrpc": "2.0", "method": "calc.add", "params": [1, 2], "id": 5},
     {"jsonrpc": "2.0", "method": "calc.sleep", "params": [0.01, "u"], "id": 6}, 7],
]


def test_the_pinned_aiohttp_is_read_directly():
    assert compat.FAST and compat.LEAN, f"aiohttp {aiohttp.__version__}: the fast functions are off"
    assert compat.request_parts is compat._fast_parts
    assert compat.json_response is compat._JSONResponse
    assert compat.read_body is compat._fast_read


@pytest.mark.parametrize("version",
                         ["3.8.6", "4.0.0", "2.3", "unknown", f"{compat.TESTED[1][0]}.{compat.TESTED[1][1]}"])
def test_an_untested_aiohttp_gets_the_public_functions(version):
    chosen = compat.select(version)
    assert not chosen.fast and not chosen.lean
    assert chosen.request_parts is compat._public_parts
    assert chosen.json_response is compat._plain
    assert chosen.watch_eof is compat._no_watch
    assert chosen.read_body is compat._no_read


def _answers(serve_app: object) -> list[object]:
    async def go() -> list[object]:
        async with serve_app() as served:  # type: ignore[operator]
            out = []
            for body in CASES:
                status, answer, headers = await served.post_raw(json.dumps(body))
                out.append((status, answer, headers.get("Content-Type"), "Correlation-Id" in headers))
            status, answer, _ = await served.post_raw(b"{}", method="GET")
            out.append((status, answer["error"]["code"]))
            return out

    return run(go())


def test_the_public_fallback_answers_exactly_as_the_fast_functions(serve_app, monkeypatch):
    fast = _answers(serve_app)
    public = compat.select("0.0")
    monkeypatch.setattr(_view, "_request_parts", public.request_parts)
    monkeypatch.setattr(_view, "_json_response", public.json_response)
    monkeypatch.setattr(_view, "_read_body", public.read_body)
    monkeypatch.setattr(_flight, "watch_eof", public.watch_eof)
    monkeypatch.setattr(_flight, "unwatch_eof", public.unwatch_eof)
    assert _answers(serve_app) == fast
    assert fast[0][:2] == (200, {"jsonrpc": "2.0", "result": "pong", "id": 1})
    assert fast[3][1]["result"] == "t"


def test_the_fast_eof_watch_hands_the_waiter_slot_back(serve_app):
    seen: list[object] = []

    async def go() -> None:
        async with serve_app() as served:
            original = compat.watch_eof

            def spy(request, signal):
                handle = original(request, signal)
                seen.append(handle)
                return handle

            _flight.watch_eof = spy
            try:
                await served.call("calc.sleep", [0.01, "x"])
            finally:
                _flight.watch_eof = original
            await asyncio.sleep(0)

    run(go())
    assert seen and seen[0] is not None and seen[0]._eof_waiter is None
