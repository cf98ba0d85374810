"""The concurrency bound never wedges; body size, batch length and nesting limits."""

from __future__ import annotations

import asyncio
import json


def call(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


def test_ten_thousand_concurrent_slow_calls_are_all_answered_and_a_ping_then_succeeds(serve_app):
    batches, per_batch, singles = 50, 190, 500  # 50 * 190 + 500 = 10,000 calls at once

    async def go():
        async with serve_app({"max_parallel": 200, "max_queue": 500, "max_batch_size": 200},
                             connector_limit=0) as served:
            batch_posts = [served.post([call("calc.sleep", [0.2, "done"], i) for i in range(per_batch)])
                           for _ in range(batches)]
            single_posts = [served.post(call("calc.sleep", [0.2, "done"], i)) for i in range(singles)]
            outs = await asyncio.gather(*batch_posts, *single_posts)
            ping = await served.post(call("calc.ping"))
            limiter = served.service("rpc").limiter
            return outs, ping, (limiter.active, limiter.waiting), served.service("calc")

    outs, ping, (active, waiting), calc = asyncio.run(go())
    answers = [a for out in outs[:batches] for a in out] + list(outs[batches:])
    assert len(answers) == 10_000
    results = sum(1 for a in answers if a.get("result") == "done")
    busy = sum(1 for a in answers if a.get("error", {}).get("code") == -32003)
    assert results + busy == 10_000
    assert results >= 700  # every slot and every queue place was used
    assert calc.max_running <= 200
    assert ping["result"] == "pong"
    assert (active, waiting) == (0, 0)


def test_beyond_the_queue_calls_are_rejected_at_once_with_a_clear_busy_error(serve_app):
    async def go():
        async with serve_app({"max_parallel": 1, "max_queue": 0}) as served:
            return await served.post([call("calc.sleep", [0.1, "a"], 1), call("calc.sleep", [0.1, "b"], 2)])

    first, second = asyncio.run(go())
    assert first["result"] == "a"
    assert second["error"]["code"] == -32003 and second["error"]["message"] == "Server busy"
    assert "max_parallel" in second["error"]["data"]["hint"]


def test_a_call_waiting_for_a_slot_past_its_deadline_is_answered_with_a_timeout(serve_app):
    async def go():
        async with serve_app({"max_parallel": 1, "max_queue": 10}) as served:
            out = await served.post([call("calc.sleep", [30, "a"], 1), call("calc.sleep", [0.01, "b"], 2)],
                                    {"Timeout": "0.3"})
            after = await served.post(call("calc.sleep", [0.01, "c"]))
            return out, after, served.service("rpc").limiter

    (first, second), after, limiter = asyncio.run(go())
    assert first["error"]["code"] == -32001
    assert second["error"]["code"] == -32001 and "free slot" in second["error"]["data"]["problem"]
    assert after["result"] == "c"
    assert (limiter.active, limiter.waiting) == (0, 0)


def test_a_body_above_max_body_size_is_refused_with_413_and_a_clear_error(serve_app):
    body = json.dumps(call("calc.echo", ["x" * 5000])).encode()

    async def go():
        async with serve_app({"max_body_size": 1000}) as served:
            sized = await served.post_raw(body)

            async def chunks():
                for i in range(0, len(body), 100):
                    yield body[i:i + 100]

            async with served.session.post(served.url, data=chunks(),
                                           headers={"Content-Type": "application/json"}) as resp:
                chunked = resp.status, json.loads(await resp.read())
            small = await served.post(call("calc.ping"))
            return sized, chunked, small

    (status, out, _), (chunked_status, chunked_out), small = asyncio.run(go())
    for status_, out_ in ((status, out), (chunked_status, chunked_out)):
        assert status_ == 413
        assert out_["error"]["code"] == -32004 and out_["error"]["data"]["max_body_size"] == 1000
    assert small["result"] == "pong"


def test_a_batch_longer_than_max_batch_size_is_refused_whole_one_error_per_call(serve_app):
    async def go():
        async with serve_app({"max_batch_size": 3}) as served:
            return await served.post([call("calc.ping", id_=i) for i in range(4)])

    out = asyncio.run(go())
    assert [o["id"] for o in out] == [0, 1, 2, 3] and all(o["error"]["code"] == -32004 for o in out)
    assert "at most 3 calls, got 4" in out[0]["error"]["data"]["problem"]


def test_deeply_nested_or_huge_json_never_crashes_the_server(serve_app):
    deep = b"[" * 200_000 + b"]" * 200_000
    deep_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    nested_params = json.dumps(call("calc.echo", [json.loads("[" * 900 + "]" * 900)])).encode()
    huge = json.dumps(call("calc.echo", ["y" * 900_000])).encode()

    async def go():
        async with serve_app({"max_body_size": 2_000_000}, client_max_size=2_000_000) as served:
            outs = [await served.post_raw(body) for body in (deep, deep_object, nested_params, huge)]
            return outs, await served.post(call("calc.ping"))

    outs, ping = asyncio.run(go())
    assert [status for status, _, _ in outs] == [200, 200, 200, 200]
    assert outs[0][1]["error"]["code"] == -32700 and outs[1][1]["error"]["code"] == -32700
    assert "error" in outs[2][1] or "result" in outs[2][1]
    assert outs[3][1]["result"] == ["y" * 900_000]
    assert ping["result"] == "pong"
