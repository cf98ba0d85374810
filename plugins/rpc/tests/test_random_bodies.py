"""hypothesis: random bodies against one real server; every answer well-formed, never a 500.

The server runs in a thread with its own event loop for the whole module; the examples
post with a plain blocking HTTP client, like any other process would.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kaiju_tools import context
from kaiju_tools.hookspecs import hookimpl

METHODS = ["calc.ping", "calc.add", "calc.echo", "calc.fail", "calc.fail_rpc", "calc.typed", "calc.user_only",
           "subtract", "sum", "update", "get_data", "rpc.api", "nope.nothing", ""]

json_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20)
                | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
    st.text(max_size=8), kids, max_size=4), max_leaves=12)


@st.composite
def requests(draw: Any) -> Any:
    obj: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        obj["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2]))
    if draw(st.integers(0, 9)):
        obj["method"] = draw(st.sampled_from(METHODS) | json_values)
    if draw(st.booleans()):
        names = st.sampled_from(["a", "b", "minuend", "subtrahend", "x"])
        obj["params"] = draw(st.lists(json_scalars, max_size=4)
                             | st.dictionaries(names, json_scalars, max_size=3) | json_values)
    if draw(st.integers(0, 3)):
        obj["id"] = draw(st.integers(-5, 2**40) | st.text(max_size=6) | st.none() | json_values)
    return obj


bodies = requests() | st.lists(requests() | json_values, max_size=6) | json_values


def is_valid_id(value: Any) -> bool:
    return value is None or type(value) in (str, int, float)


def is_notification(item: Any) -> bool:
    return (type(item) is dict and item.get("jsonrpc") == "2.0" and type(item.get("method")) is str
            and "id" not in item and type(item.get("params", [])) in (list, dict))


def check_response(obj: Any, request: Any) -> None:
    assert type(obj) is dict and obj.get("jsonrpc") == "2.0", obj
    assert ("result" in obj) != ("error" in obj), obj
    assert "id" in obj and is_valid_id(obj["id"]), obj
    if "error" in obj:
        assert type(obj["error"]["code"]) is int and type(obj["error"]["message"]) is str, obj
    if (type(request) is dict and "id" in request and is_valid_id(request["id"])
            and type(request["id"]) is not bool):
        assert obj["id"] == request["id"], (obj, request)


def strict_loads(raw: bytes) -> Any:
    def no_constants(name: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {name} in a response")

    return json.loads(raw, parse_constant=no_constants)


class RecordingCallHook:
    """A call hook that passes every call through and records it: (method, params, the call's id)."""

    __name__ = "recording_call_hook"
    seen: ClassVar[list[tuple[Any, ...]]] = []

    @staticmethod
    @hookimpl
    def kaiju_wrap_call(app: Any) -> Any:
        def wrapper(next_call: Any) -> Any:
            def call(method: str, params: Any) -> Any:
                RecordingCallHook.seen.append((method, params, context.call_id.get()))
                return next_call(method, params)

            return call

        return wrapper


# every test runs against a server without call hooks (the engine's inline path) and with one
# (the hooks' chain): both must answer as the general path does
@pytest.fixture(scope="module", params=["no call hooks", "a call hook"])
def server(serve_app, request):
    hooks = [RecordingCallHook] if request.param == "a call hook" else []
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        # 204 for notifications (not the default 200 with an empty body): "nothing" is a status here
        async with serve_app({"default_request_time": 5, "max_batch_size": 50, "notification_status": 204},
                             hooks=hooks) as served:
            state["url"] = served.url
            state["stop"] = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            state["rpc"] = served.service("rpc")
            ready.set()
            await state["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    parts = urlsplit(state["url"])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def post(body: bytes) -> tuple[int, bytes]:
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()

    def general(obj: Any) -> Any:  # the server's general path (JSONRPCServer.handle), in the server's loop
        return asyncio.run_coroutine_threadsafe(state["rpc"].handle(obj), state["loop"]).result(30)

    post.general = general  # type: ignore[attr-defined]
    yield post
    RecordingCallHook.seen = []
    status, raw = post(b'{"jsonrpc": "2.0", "method": "calc.ping", "id": 1}')
    assert RecordingCallHook.seen == ([("calc.ping", None, 1)] if hooks else [])
    conn.close()
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(30)
    assert (status, strict_loads(raw)) == (200, {"jsonrpc": "2.0", "result": "pong", "id": 1})


HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(data=bodies)
def test_random_json_bodies_get_well_formed_answers_or_none_for_notifications(server, data):
    status, raw = server(json.dumps(data).encode())
    assert status in (200, 204), (status, raw)
    if type(data) is list and data:
        expected = [item for item in data if not is_notification(item)]
        if len(data) > 50:  # too large: one error per item, notifications included
            assert len(strict_loads(raw)) == len(data)
            return
        if not expected:
            assert (status, raw) == (204, b"")
            return
        out = strict_loads(raw)
        assert type(out) is list and len(out) == len(expected), (out, data)
        for obj, item in zip(out, expected, strict=True):
            check_response(obj, item)
    elif is_notification(data):
        assert (status, raw) == (204, b"")
    else:
        check_response(strict_loads(raw), data)


@HYPOTHESIS
@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_random_bytes_get_a_parse_error_or_a_well_formed_answer(server, raw):
    status, out = server(raw)
    assert status in (200, 204), (status, out)
    if status == 200:
        decoded = strict_loads(out)
        for obj in decoded if type(decoded) is list else [decoded]:
            check_response(obj, None)


@st.composite
def common_requests(draw: Any) -> Any:
    """Mostly the shape the view answers on its fast path (int / str id, list / object / no params)."""
    obj: dict[str, Any] = {"jsonrpc": "2.0", "method": draw(st.sampled_from(METHODS)),
                           "id": draw(st.integers(-5, 2**40) | st.text(max_size=6))}
    params = draw(st.none() | st.lists(json_scalars, max_size=4) | st.dictionaries(
        st.sampled_from(["a", "b", "minuend", "subtrahend", "value", "x"]), json_scalars, max_size=3))
    if params is not None:
        obj["params"] = params
    return obj


@HYPOTHESIS
@given(obj=common_requests() | requests())
def test_the_views_fast_path_answers_exactly_as_the_general_path(server, obj):
    """The view answers common requests in its own flat code; whatever it answers must be
    what the server's general path (``JSONRPCServer.handle``) answers for the same object."""
    body = json.dumps(obj).encode()
    RecordingCallHook.seen = []
    status, raw = server(body)
    seen_fast = RecordingCallHook.seen
    RecordingCallHook.seen = []
    expected = server.general(json.loads(body))
    assert seen_fast == RecordingCallHook.seen, obj  # with a call hook: the same calls, call ids included
    if expected is None:
        assert (status, raw) == (204, b""), (obj, raw)
    else:
        assert status == 200, (obj, raw)
        assert strict_loads(raw) == json.loads(json.dumps(expected)), (obj, raw, expected)


KNOWN = {"calc.ping", "calc.add", "calc.echo", "calc.fail", "calc.fail_rpc", "calc.typed", "calc.user_only",
         "subtract", "sum", "update", "get_data", "rpc.api"}


def expected_code(obj: Any) -> int | None:
    """The specification's verdict on a request object, written out plainly: -32600 (invalid),
    -32601 (no such method), or None (the method runs: its answer depends on the method)."""
    if type(obj) is not dict or obj.get("jsonrpc") != "2.0" or type(obj.get("method")) is not str:
        return -32600
    if "id" in obj and not (obj["id"] is None or type(obj["id"]) in (str, int, float)):
        return -32600
    if "params" in obj and type(obj["params"]) not in (list, dict):
        return -32600
    return None if obj["method"] in KNOWN else -32601


@HYPOTHESIS
@given(obj=requests() | common_requests() | json_values.filter(lambda v: type(v) is not list))
def test_each_request_object_gets_the_verdict_the_specification_gives(server, obj):
    status, raw = server(json.dumps(obj).encode())
    code = expected_code(obj)
    if status == 204:  # only a valid notification goes unanswered
        assert code != -32600 and type(obj) is dict and "id" not in obj, (obj, raw)
        return
    answer = strict_loads(raw)
    got = answer.get("error", {}).get("code")
    if code is None:
        assert got not in (-32600, -32601), (obj, answer)
    else:
        assert got == code, (obj, answer)
        if code == -32600 and type(obj) is dict and type(obj.get("id")) in (str, int) and \
                type(obj.get("id")) is not bool:
            assert answer["id"] == obj["id"], (obj, answer)  # a readable id is echoed


@HYPOTHESIS
@given(items=st.lists(requests() | common_requests() | json_values.filter(lambda v: type(v) is not list),
                      min_size=1, max_size=8))
def test_a_batch_answers_each_item_as_it_would_be_answered_alone_in_order(server, items):
    alone = []  # (a list sent alone would be a batch: items here are anything else)
    for item in items:
        status, raw = server(json.dumps(item).encode())
        if status == 200:
            alone.append(strict_loads(raw))
    status, raw = server(json.dumps(items).encode())
    if not alone:
        assert (status, raw) == (204, b""), (items, raw)
    else:
        assert status == 200, (items, raw)
        assert strict_loads(raw) == alone, (items, raw, alone)
