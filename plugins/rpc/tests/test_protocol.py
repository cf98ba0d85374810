"""JSON-RPC 2.0 beyond the specification's examples: ids, invalid requests, errors, batches."""

from __future__ import annotations

import asyncio
import json

import pytest

INVALID = {"code": -32600, "message": "Invalid Request"}


def call(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


def scenario(serve_app, body, **kws):
    async def go():
        async with serve_app(**kws) as served:
            return await served.post(body)

    return bare(asyncio.run(go()))


def bare(answer):
    """The answer without the ``data`` of its -32600 / -32601 errors (test_helpful_errors checks it)."""
    if type(answer) is list:
        return [bare(item) for item in answer]
    if type(answer) is dict and answer.get("error", {}).get("code") in (-32600, -32601):
        answer = {**answer, "error": {k: v for k, v in answer["error"].items() if k != "data"}}
    return answer


@pytest.mark.parametrize("id_", [0, -7, 2**70, 1.5, "", "abc", "ключ", None])
def test_every_allowed_id_type_is_echoed(serve_app, id_):
    assert scenario(serve_app, call("calc.ping", id_=id_)) == {"jsonrpc": "2.0", "result": "pong", "id": id_}


@pytest.mark.parametrize("id_", [True, False, [], {}, [1], {"a": 1}])
def test_an_id_of_a_forbidden_type_is_an_invalid_request_answered_with_id_null(serve_app, id_):
    assert scenario(serve_app, call("calc.ping", id_=id_)) == {"jsonrpc": "2.0", "error": INVALID, "id": None}


@pytest.mark.parametrize("body", [
    {"method": "calc.ping", "id": 5},
    {"jsonrpc": "1.0", "method": "calc.ping", "id": 5},
    {"jsonrpc": 2.0, "method": "calc.ping", "id": 5},
    {"jsonrpc": "2.0", "id": 5},
    {"jsonrpc": "2.0", "method": None, "id": 5},
    {"jsonrpc": "2.0", "method": ["calc.ping"], "id": 5},
    {"jsonrpc": "2.0", "method": "calc.ping", "params": "x", "id": 5},
    {"jsonrpc": "2.0", "method": "calc.ping", "params": 3, "id": 5},
    {"jsonrpc": "2.0", "method": "calc.ping", "params": None, "id": 5},
], ids=["no jsonrpc", "jsonrpc 1.0", "jsonrpc number", "no method", "method null", "method list",
        "params str", "params int", "params null"])
def test_an_invalid_request_with_a_valid_id_is_answered_with_that_id(serve_app, body):
    assert scenario(serve_app, body) == {"jsonrpc": "2.0", "error": INVALID, "id": 5}


@pytest.mark.parametrize("body", ["1", '"text"', "null", "true", "3.5"])
def test_a_json_value_that_is_no_request_is_an_invalid_request(serve_app, body):
    async def go():
        async with serve_app() as served:
            return await served.post_raw(body)

    status, out, _ = asyncio.run(go())
    assert (status, bare(out)) == (200, {"jsonrpc": "2.0", "error": INVALID, "id": None})


@pytest.mark.parametrize("body", [b"", b"   ", b"\xff\xfe\x00", b"{", b"[1,]", b'{"a":1}}'])
def test_a_body_that_is_not_json_is_a_parse_error(serve_app, body):
    async def go():
        async with serve_app() as served:
            return await served.post_raw(body)

    status, out, _ = asyncio.run(go())
    assert (status, out) == (200, {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"},
                                   "id": None})


def test_notifications_are_never_answered_even_when_they_fail(serve_app):
    notes = [{"jsonrpc": "2.0", "method": m, "params": p} for m, p in [
        ("nope.nothing", []), ("calc.add", [1]), ("calc.fail", []), ("calc.fail_rpc", []),
        ("calc.user_only", []), ("calc.bad_result", [])]]

    async def go():
        async with serve_app() as served:
            singles = [await served.post(n) for n in notes]
            return singles, await served.post(notes)

    singles, batch = asyncio.run(go())
    assert singles == [None] * len(notes)
    assert batch is None


def test_an_exception_in_a_method_becomes_an_internal_error_and_the_server_keeps_serving(serve_app):
    async def go():
        async with serve_app() as served:
            return [await served.post(call("calc.fail", id_=i)) for i in range(3)] + [
                await served.post(call("calc.ping"))]

    *failures, ping = asyncio.run(go())
    for i, out in enumerate(failures):
        assert out == {"jsonrpc": "2.0", "id": i, "error": {
            "code": -32603, "message": "Internal error",
            "data": {"method": "calc.fail", "type": "ValueError", "message": "broken on purpose"}}}
    assert ping["result"] == "pong"


def test_an_rpc_error_raised_by_a_method_keeps_its_code_message_and_data(serve_app):
    out = scenario(serve_app, call("calc.fail_rpc"))
    assert out["error"] == {"code": -32050, "message": "custom failure", "data": {"why": "testing"}}


def test_a_result_json_cannot_carry_is_an_internal_error_for_that_call_only(serve_app):
    out = scenario(serve_app, [call("calc.bad_result", id_=1), call("calc.ping", id_=2)])
    assert out[0]["id"] == 1 and out[0]["error"]["code"] == -32603
    assert "cannot be encoded" in out[0]["error"]["data"]["problem"]
    assert out[1] == {"jsonrpc": "2.0", "result": "pong", "id": 2}


@pytest.mark.parametrize(("params", "param", "problem"), [
    ([1], "b", "missing required parameter"),
    ([1, 2, 3], None, "expected at most 2 positional params, got 3"),
    ([1, "2"], "b", "expected int, got str"),
    ([True, 2], "a", "expected int, got bool"),
    ([1.0, 2], "a", "expected int, got float"),
    ({"a": 1}, "b", "missing required parameter"),
    ({"a": 1, "b": 2, "c": 3}, "c", "unexpected parameter; expected one of: a, b"),
    ({"a": None, "b": 2}, "a", "expected int, got null"),
])
def test_params_that_do_not_fit_the_signature_are_invalid_params_naming_the_parameter(
        serve_app, params, param, problem):
    out = scenario(serve_app, call("calc.add", params))
    assert out["error"]["code"] == -32602
    assert out["error"]["message"] == "Invalid params"
    assert out["error"]["data"]["param"] == param
    assert out["error"]["data"]["problem"].startswith(problem)
    assert out["error"]["data"]["method"] == "calc.add"


def test_typed_params_accept_their_json_types(serve_app):
    good = [1, 2, "s", True, [1, 2], {"k": [1]}]
    assert scenario(serve_app, call("calc.typed", good))["result"] == "ok"
    assert scenario(serve_app, call("calc.typed", [1, 2.5, "s", False, [], {}, None]))["result"] == "ok"
    named = dict(zip(["i", "f", "s", "b", "items", "mapping"], good, strict=True))
    assert scenario(serve_app, call("calc.typed", {**named, "maybe": 3}))["result"] == "ok"


def test_var_positional_and_var_keyword_routes_take_any_params(serve_app):
    assert scenario(serve_app, call("calc.echo", [1, "a", None]))["result"] == [1, "a", None]
    assert scenario(serve_app, call("calc.echo", {"x": 1}))["result"] == {"x": 1}
    assert scenario(serve_app, call("calc.echo"))["result"] == []


def test_a_batch_runs_its_calls_concurrently_and_answers_in_request_order(serve_app):
    batch = [call("calc.sleep", [0.3, "slow"], "a"), call("calc.sleep", [0.05, "fast"], "b"),
             {"jsonrpc": "2.0", "method": "calc.sleep", "params": [0.01, "note"]}, call("calc.ping", id_="c"),
             call("missing.method", id_="d")]

    async def go():
        async with serve_app() as served:
            out = await served.post(batch)
            return out, served.service("calc")

    out, calc = asyncio.run(go())
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert [o.get("result") for o in out[:3]] == ["slow", "fast", "pong"]
    assert out[3]["error"]["code"] == -32601
    assert calc.max_running == 3
    assert calc.log == ["note", "fast", "slow"]


def test_a_batch_stays_within_the_concurrency_bound(serve_app):
    batch = [call("calc.sleep", [0.02, i], i) for i in range(12)]

    async def go():
        async with serve_app({"max_parallel": 3}) as served:
            return await served.post(batch), served.service("calc")

    out, calc = asyncio.run(go())
    assert [o["result"] for o in out] == list(range(12))
    assert calc.max_running == 3


def test_a_method_other_than_post_is_refused_with_405_and_a_json_error(serve_app):
    async def go():
        async with serve_app() as served:
            return await served.post_raw(b"", method="GET")

    status, out, headers = asyncio.run(go())
    assert status == 405 and headers["Allow"] == "POST"
    assert out["jsonrpc"] == "2.0" and out["id"] is None and "POST" in out["error"]["data"]["problem"]


def test_nan_in_params_is_a_parse_error_and_results_never_carry_nan(serve_app):
    async def go():
        async with serve_app() as served:
            return await served.post_raw(
                b'{"jsonrpc": "2.0", "method": "calc.echo", "params": [NaN], "id": 1}')

    status, out, _ = asyncio.run(go())
    assert status == 200
    assert out["error"]["code"] == -32700
    json.loads(json.dumps(out), parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
