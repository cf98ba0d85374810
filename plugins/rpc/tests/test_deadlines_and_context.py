"""``Timeout`` / ``Deadline`` headers, cancellation past the deadline, ``Correlation-Id``."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from kaiju_tools import context


def call(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


def test_a_call_past_its_timeout_is_cancelled_and_answered_with_a_timeout_error(serve_app):
    async def go():
        async with serve_app() as served:
            out = await served.post(call("calc.sleep", [30, "late"]), {"Timeout": "0.2"})
            return out, served.service("calc")

    out, calc = asyncio.run(go())
    assert out["id"] == 1 and out["error"]["code"] == -32001
    assert out["error"]["message"] == "Request timeout"
    assert calc.running == 0 and calc.log == []  # cancelled: it never finished


def test_the_deadline_header_bounds_the_call(serve_app):
    async def go():
        async with serve_app() as served:
            return await served.post(call("calc.sleep", [30]), {"Deadline": str(time.time() + 0.2)})

    assert asyncio.run(go())["error"]["code"] == -32001


def test_a_deadline_already_past_answers_every_call_with_a_timeout_and_runs_none(serve_app):
    async def go():
        async with serve_app() as served:
            out = await served.post([call("calc.ping", id_=1), call("calc.log", ["x"], 2)],
                                    {"Deadline": str(time.time() - 5)})
            single = await served.post(call("calc.ping"), {"Timeout": "0"})
            return out, single

    out, single = asyncio.run(go())
    assert [o["error"]["code"] for o in out] == [-32001, -32001]
    assert single["error"]["code"] == -32001


def test_the_remaining_time_a_method_sees_is_bounded_by_max_request_time(serve_app):
    async def go():
        async with serve_app({"default_request_time": 5, "max_request_time": 10}) as served:
            asked = (await served.post(call("calc.context"), {"Timeout": "1000"}))["result"]["remaining"]
            default = (await served.post(call("calc.context")))["result"]["remaining"]
            shorter = (await served.post(call("calc.context"), {"Timeout": "1000", "Deadline": str(
                time.time() + 3)}))["result"]["remaining"]
            return asked, default, shorter

    asked, default, shorter = asyncio.run(go())
    assert 5 < asked <= 10
    assert 0 < default <= 5
    assert 0 < shorter <= 3


@pytest.mark.parametrize(("header", "value"), [("Timeout", "soon"), ("Timeout", "nan"), ("Deadline", "x"),
                                               ("Deadline", "inf")])
def test_a_malformed_timeout_header_is_a_clear_error(serve_app, header, value):
    async def go():
        async with serve_app() as served:
            return await served.post_raw(b'{"jsonrpc":"2.0","method":"calc.ping","id":1}', {header: value})

    status, out, _ = asyncio.run(go())
    assert status == 400
    assert out["error"]["code"] == -32005
    assert out["error"]["data"]["header"] == header and repr(value) in out["error"]["data"]["problem"]


def test_the_correlation_id_is_echoed_and_bound_while_the_call_runs(serve_app):
    async def go():
        async with serve_app() as served:
            _, out, headers = await served.post_raw(
                b'{"jsonrpc":"2.0","method":"calc.context","id":1}', {"Correlation-Id": "cid-42"})
            _, _, no_cid_headers = await served.post_raw(b'{"jsonrpc":"2.0","method":"calc.ping","id":1}')
            return out, headers, no_cid_headers

    out, headers, no_cid_headers = asyncio.run(go())
    assert headers["Correlation-Id"] == "cid-42"
    assert out["result"]["cid"] == "cid-42"
    assert no_cid_headers["Correlation-Id"] not in ("", "cid-42")  # generated (test_content_type_and_ids)
    assert context.get_correlation_id() is None


class _ContextCapture(logging.Handler):
    """What a log-formatting plugin sees: the kernel's request context at emit time."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None, float | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "data", {}).get("marker") == "rpc-test":
            self.seen.append((record.getMessage(), context.get_correlation_id(), context.get_deadline()))


def test_every_log_record_written_during_a_call_carries_its_correlation_id(serve_app):
    capture = _ContextCapture()
    logger = logging.getLogger("rpctest")
    logger.addHandler(capture)
    try:
        async def go():
            async with serve_app() as served:
                await served.post(call("calc.log", ["single"]), {"Correlation-Id": "one"})
                await served.post([call("calc.log", ["in batch a"], 1), call("calc.log", ["in batch b"], 2)],
                                  {"Correlation-Id": "two"})
                await served.post(call("calc.log", ["no id"]))

        asyncio.run(go())
    finally:
        logger.removeHandler(capture)
    assert [(msg, cid) for msg, cid, _ in capture.seen] == [
        ("single", "one"), ("in batch a", "two"), ("in batch b", "two"), ("no id", capture.seen[3][1])]
    assert capture.seen[3][1]  # generated when the client sends none
    assert all(deadline is not None and deadline > time.time() for _, _, deadline in capture.seen)
