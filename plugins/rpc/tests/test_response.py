"""The view's lean 200 answer is the very object ``web.Response`` would build."""

from __future__ import annotations

from aiohttp import web
from kaiju_plugins.rpc import _response


def test_the_lean_response_is_in_use_on_the_pinned_aiohttp():
    assert _response.LEAN, "aiohttp's Response changed: json_response fell back to the plain constructor"
    assert _response.json_response is _response._JSONResponse


def test_the_lean_response_has_the_state_of_a_plain_one():
    body = b'{"jsonrpc":"2.0","result":1,"id":1}'
    lean = _response.json_response(body, "c-1")
    plain = web.Response(body=body, content_type="application/json")
    plain.headers["Correlation-Id"] = "c-1"
    assert isinstance(lean, web.Response)
    assert _response._state(lean) == _response._state(plain)
    assert (lean.status, lean.reason, lean.body, lean.content_type) == (200, "OK", body, "application/json")


def test_each_lean_response_owns_its_headers():
    a, b = _response.json_response(b"1", "a"), _response.json_response(b"2", "b")
    a.headers["X-Extra"] = "x"
    assert "X-Extra" not in b.headers
    assert "X-Extra" not in _response.json_response(b"3", "c").headers
    assert (a.headers["Correlation-Id"], b.headers["Correlation-Id"]) == ("a", "b")
