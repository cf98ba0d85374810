"""Errors that say what to do: close method names, what is invalid, per-item batch refusals, quiet logs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kaiju_tools.testing import capture_logs


def call(method: str, params: Any = None, id_: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


def scenario(serve_app: Any, *bodies: Any, **kws: Any) -> list[Any]:
    async def go() -> list[Any]:
        async with serve_app(**kws) as served:
            return [await served.post(body) for body in bodies]

    return asyncio.run(go())


def test_an_unknown_method_suggests_close_matches_and_rpc_api(serve_app):
    (out,) = scenario(serve_app, call("calc.ad", [1, 2]))
    error = out["error"]
    assert (error["code"], error["message"], out["id"]) == (-32601, "Method not found", 1)
    assert error["data"]["method"] == "calc.ad"
    assert error["data"]["similar"][0] == "calc.add"
    assert "rpc.api" in error["data"]["hint"]


def test_suggestions_only_name_methods_the_caller_may_call(serve_app):
    # calc.system_only needs SYSTEM; a guest asking for a near miss must not learn it exists
    (out,) = scenario(serve_app, call("calc.system_onl"))
    assert "calc.system_only" not in out["error"]["data"]["similar"]
    (out,) = scenario(serve_app, call("calc.system_onl"), rpc_settings={"enable_permissions": False})
    assert "calc.system_only" in out["error"]["data"]["similar"]


def test_a_method_name_close_to_nothing_gets_no_suggestions_but_the_hint(serve_app):
    (out,) = scenario(serve_app, call("zzzzzzzzzzzzzzzzzzzz"))
    assert out["error"]["data"]["similar"] == [] and "rpc.api" in out["error"]["data"]["hint"]


def test_the_same_answer_in_a_batch_and_alone(serve_app):
    alone, batch = scenario(serve_app, call("calc.ad", id_=3),
                            [call("calc.ping", id_=1), call("calc.ad", id_=3)])
    assert batch[1] == alone


@pytest.mark.parametrize("body, problem", [
    ({"method": "calc.ping", "id": 5}, '"jsonrpc" must be "2.0"'),
    ({"jsonrpc": "2.0", "id": 5}, '"method" must be a string'),
    ({"jsonrpc": "2.0", "method": "calc.ping", "params": 3, "id": 5},
     '"params" must be an array or an object'),
    ({"jsonrpc": "2.0", "method": "calc.ping", "id": True}, '"id" must be a string, a number or null'),
    (7, "a request must be an object"),
])
def test_an_invalid_request_says_what_is_wrong(serve_app, body, problem):
    (out,) = scenario(serve_app, body)
    assert out["error"]["code"] == -32600 and out["error"]["message"] == "Invalid Request"
    assert problem in out["error"]["data"]["problem"], out


def test_an_empty_batch_says_so(serve_app):
    (out,) = scenario(serve_app, [])
    assert out["error"]["code"] == -32600 and "empty batch" in out["error"]["data"]["problem"]


def test_a_batch_over_the_limit_is_answered_item_by_item_with_ids_echoed(serve_app):
    items = [call("calc.ping", id_=i) for i in range(3)] + [{"jsonrpc": "2.0", "method": "calc.ping"}, 5,
                                                            call("calc.ping", id_="s")]
    (out,) = scenario(serve_app, items, rpc_settings={"max_batch_size": 3})
    assert type(out) is list and len(out) == 6
    assert [o["id"] for o in out] == [0, 1, 2, None, None, "s"]
    for o in out:
        assert o["error"]["code"] == -32004 and "at most 3 calls, got 6" in o["error"]["data"]["problem"]


def test_expected_errors_write_no_traceback_and_unexpected_ones_are_rate_limited(serve_app):
    async def go() -> Any:
        async with serve_app() as served:
            for _ in range(50):
                await served.post(call("calc.fail"))
                await served.post(call("calc.fail_rpc"))
                await served.post(call("calc.add", ["x", 1]))
            return await served.post([call("calc.fail", id_=i) for i in range(50)])

    with capture_logs("") as logs:
        batch = asyncio.run(go())
    assert all(o["error"]["code"] == -32603 for o in batch)
    tracebacks = [r for r in logs.records if r.exc_info]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert tracebacks[0].levelname == "ERROR" and tracebacks[0].data["method"] == "calc.fail"
    assert not [r for r in logs.records if r.levelname == "ERROR" and "fail_rpc" in str(r.data)]
    assert not [r for r in logs.records if "calc.add" in str(getattr(r, "data", ""))]


def test_a_repeated_traceback_is_logged_again_with_the_count_after_the_window(serve_app):
    from kaiju_plugins.rpc import _errorlog

    async def go() -> Any:
        async with serve_app() as served:
            server = served.service("rpc")
            server.error_log.window = 0.2
            for _ in range(10):
                await served.post(call("calc.fail"))
            await asyncio.sleep(0.3)
            await served.post(call("calc.fail"))

    with capture_logs("") as logs:
        asyncio.run(go())
    tracebacks = [r for r in logs.records if r.exc_info]
    assert len(tracebacks) == 2
    assert "suppressed" not in tracebacks[0].data and tracebacks[1].data["suppressed"] == 9
    assert _errorlog.__all__ == ["ErrorLog"]
