"""Tracing across plugins (rpc + scheduler + logging + otel) on real servers on 127.0.0.1.

A three-app chain A -> B -> C over HTTP with ``JSONRPCClient`` is one trace with the right
parent/child spans; batch items (inline, suspended, queued) are children of the request's
span; log records written inside carry the span's trace id in both log formats; the
remaining deadline keeps travelling; a scheduled run has its own span.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kaiju_plugins.logging._record import capture_context
from kaiju_plugins.logging.formatters import DataFormatter, TextFormatter
from kaiju_plugins.otel import get_tracing
from kaiju_plugins.rpc import JSONRPCClient, PermissionKeys, PublicInterface, RPCError
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service, context
from kaiju_tools.testing import RunningApp, start_app
from opentelemetry.trace import SpanKind, StatusCode


class ChainHop(Service, PublicInterface):
    """``chain.hop(depth)``: log, call the next app (when there is one), answer what was seen."""

    service_name = "chain"

    def __init__(self, app: Any = None, logger: Any = None, client: str | None = None) -> None:
        super().__init__(app=app, logger=logger)
        self.client = self.discover_service(client, cls=JSONRPCClient) if client else None
        self.ticks = 0

    @property
    def routes(self) -> dict[str, Any]:
        return {"hop": self.hop, "sleep": self.sleep, "fail": self.fail, "fail_rpc": self.fail_rpc,
                "tick": self.tick, "quick": self.quick}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST}

    async def hop(self, depth: int) -> dict[str, Any]:
        self.logger.info("hop", depth=depth)
        remaining = context.remaining_time()
        inner = await self.client.call("chain.hop", [depth + 1]) if self.client is not None else None
        return {"depth": depth, "remaining": remaining, "inner": inner,
                "ids": context.get_extra()}

    async def sleep(self, seconds: float) -> dict[str, Any] | None:
        await asyncio.sleep(seconds)
        self.logger.info("slept")
        return context.get_extra()

    def quick(self) -> dict[str, Any] | None:
        return context.get_extra()

    async def fail(self) -> None:
        raise ValueError("broken on purpose")

    def fail_rpc(self) -> None:
        raise RPCError("custom failure", code=-32050)

    async def tick(self) -> None:
        self.ticks += 1
        self.logger.info("tick")
        if self.ticks == 2:
            raise RuntimeError("second tick fails")


SERVICE_CLASS_REGISTRY.register(ChainHop)


class Formatted(logging.Handler):
    """Keeps each record with its context captured as the logging plugin's queue does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        capture_context(record)
        self.records.append(record)


def _settings(name: str, next_url: str | None = None, rpc: dict[str, Any] | None = None,
              tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    services: list[dict[str, Any]] = [{"cls": "JSONRPCServer", "name": "rpc", "settings": rpc or {}}]
    if next_url is not None:
        services.append({"cls": "JSONRPCClient", "name": "next",
                         "settings": {"url": next_url, "timeout": 20}})
    services.append({"cls": "ChainHop", "settings": {"client": "next"} if next_url else {}})
    if tasks is not None:
        services.append({"cls": "Scheduler", "settings": {"tasks": tasks}})
    return {"packages": ["otel"], "main": {"name": name, "version": "0.1", "env": "test"},
            "etc": {"otel": {"exporter": "memory"}}, "services": services}


@contextlib.asynccontextmanager
async def _app(settings: dict[str, Any]) -> AsyncIterator[RunningApp]:
    async with start_app(settings, rpc_path="/rpc") as running:
        yield running


def _spans(running: RunningApp) -> list[Any]:
    return list(get_tracing(running.app).exporter.get_finished_spans())


async def _post(running: RunningApp, body: Any, headers: dict[str, str] | None = None) -> Any:
    async with running.session.post(running.url + "/rpc", json=body, headers=headers or {}) as resp:
        return await resp.json()


def test_a_three_app_chain_is_one_trace_with_parent_child_spans_and_trace_ids_in_logs():
    handler = Formatted()

    async def go():
        async with _app(_settings("app-c")) as c, \
                _app(_settings("app-b", c.url + "/rpc")) as b, \
                _app(_settings("app-a", b.url + "/rpc")) as a:
            for name in ("app-a", "app-b", "app-c"):
                logging.getLogger(name).addHandler(handler)
            try:
                out = await _post(a, {"jsonrpc": "2.0", "method": "chain.hop", "params": [0], "id": 7},
                                  {"Timeout": "5"})
            finally:
                for name in ("app-a", "app-b", "app-c"):
                    logging.getLogger(name).removeHandler(handler)
            return out, _spans(a), _spans(b), _spans(c)

    out, a, b, c = asyncio.run(go())
    result = out["result"]
    assert result["inner"]["inner"]["depth"] == 2
    # the deadline travels: B and C see what is left of the 5 s A was given (the Timeout header
    # is rounded to the millisecond)
    assert 0 < result["inner"]["inner"]["remaining"] <= result["remaining"] + 0.002 <= 5.002
    assert result["inner"]["inner"]["remaining"] < 5.0005
    every = a + b + c
    assert len({s.context.trace_id for s in every}) == 1, "one trace across the three apps"

    def one(spans, kind, name):
        [span] = [s for s in spans if s.kind is kind and s.name == name]
        return span

    chain = [one(a, SpanKind.SERVER, "POST /rpc"), one(a, SpanKind.SERVER, "chain.hop"),
             one(a, SpanKind.CLIENT, "chain.hop"),
             one(b, SpanKind.SERVER, "POST /rpc"), one(b, SpanKind.SERVER, "chain.hop"),
             one(b, SpanKind.CLIENT, "chain.hop"),
             one(c, SpanKind.SERVER, "POST /rpc"), one(c, SpanKind.SERVER, "chain.hop")]
    assert len(every) == len(chain)
    assert chain[0].parent is None
    for parent, child in itertools.pairwise(chain):
        assert child.parent is not None and child.parent.span_id == parent.context.span_id, child.name
    assert chain[3].parent.is_remote and chain[6].parent.is_remote
    server_call, client_call = chain[1], chain[2]
    assert dict(server_call.attributes) == {"rpc.system": "jsonrpc", "rpc.method": "chain.hop",
                                            "rpc.jsonrpc.version": "2.0", "rpc.jsonrpc.request_id": "7"}
    assert client_call.attributes["rpc.method"] == "chain.hop"
    assert client_call.attributes["server.address"] == "127.0.0.1"
    assert client_call.attributes["rpc.jsonrpc.request_id"] == "1"
    assert {s.resource.attributes["service.name"] for s in every} == {"app-a", "app-b", "app-c"}
    # each app's method saw its own call span's ids in the request context
    trace_id = format(chain[0].context.trace_id, "032x")
    assert result["ids"] == {"trace_id": trace_id, "span_id": format(server_call.context.span_id, "016x")}
    # the log records written inside carry the same trace id, in both formats of the logging plugin
    hops = [r for r in handler.records if r.getMessage() == "hop"]
    assert len(hops) == 3
    text, data = TextFormatter(), DataFormatter()
    for record in hops:
        line = json.loads(data.format(record))
        assert line["data"]["trace_id"] == trace_id and len(line["data"]["span_id"]) == 16
        assert f"'trace_id': '{trace_id}'" in text.format(record)
    assert {json.loads(data.format(r))["data"]["span_id"] for r in hops} == {
        format(s.context.span_id, "016x") for s in (chain[1], chain[4], chain[7])}


def test_batch_items_inline_suspended_and_queued_are_each_a_child_of_the_request_span():
    async def go():
        async with _app(_settings("batch", rpc={"max_parallel": 2, "max_queue": 10})) as app:
            body = [{"jsonrpc": "2.0", "method": "chain.sleep", "params": [0.02], "id": i} for i in range(4)]
            body += [{"jsonrpc": "2.0", "method": "chain.quick", "id": "q"},
                     {"jsonrpc": "2.0", "method": "chain.fail", "id": "f"},
                     {"jsonrpc": "2.0", "method": "chain.fail_rpc", "id": "r"},
                     {"jsonrpc": "2.0", "method": "no.such", "id": "n"},
                     {"jsonrpc": "2.0", "method": "chain.quick"}]
            out = await _post(app, body)
            return out, _spans(app), context.get_extra()

    out, spans, leaked = asyncio.run(go())
    assert leaked is None
    answers = {o["id"]: o for o in out}
    assert len(answers) == 8  # the notification has no answer
    [request] = [s for s in spans if s.name == "POST /rpc"]
    calls = [s for s in spans if s is not request]
    assert len(calls) == 9
    assert all(s.parent.span_id == request.context.span_id for s in calls), "children of the request"
    by_id = {s.attributes.get("rpc.jsonrpc.request_id"): s for s in calls}
    for i in range(4):  # suspended (2) and queued (2): each saw its own span in its context
        span = by_id[str(i)]
        assert answers[i]["result"]["span_id"] == format(span.context.span_id, "016x")
    assert answers["q"]["result"]["span_id"] == format(by_id["q"].context.span_id, "016x")
    assert by_id["f"].attributes["rpc.jsonrpc.error_code"] == -32603
    assert by_id["f"].status.status_code is StatusCode.ERROR
    assert [e.name for e in by_id["f"].events] == ["exception"]
    assert by_id["r"].attributes["rpc.jsonrpc.error_code"] == -32050 and not by_id["r"].events
    assert by_id["n"].name == "jsonrpc unknown method"
    assert by_id["n"].attributes["rpc.jsonrpc.error_code"] == -32601
    assert by_id["n"].attributes["rpc.method"] == "no.such"
    assert by_id[None].name == "chain.quick"  # the notification: no request id


def test_the_client_span_records_an_error_answer():
    async def go():
        async with _app(_settings("callee")) as callee, \
                _app(_settings("caller", callee.url + "/rpc")) as caller:
            client = caller.services.get("next")
            with pytest.raises(RPCError):
                await client.call("chain.fail_rpc")
            batch = await client.batch([("chain.quick", None), ("chain.quick", None)])
            return _spans(caller), batch

    spans, batch = asyncio.run(go())
    assert len(batch) == 2
    single, many = spans
    assert single.kind is SpanKind.CLIENT and single.attributes["rpc.jsonrpc.error_code"] == -32050
    assert single.status.status_code is StatusCode.ERROR
    assert many.name == "jsonrpc batch" and many.attributes["kaiju.rpc.batch_size"] == 2
    assert single.parent is None  # called outside any request: a new trace


def test_each_scheduled_run_has_its_own_span_and_a_failure_is_recorded():
    handler = Formatted()

    async def go():
        settings = _settings("ticker", tasks=[{"method": "chain.tick", "interval": 0.05, "name": "tick"}])
        logging.getLogger("ticker").addHandler(handler)
        try:
            async with _app(settings) as app:
                hop = app.services.get("chain")
                for _ in range(200):
                    if hop.ticks >= 3:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.05)
                return [s for s in _spans(app) if s.name.startswith("task ")]
        finally:
            logging.getLogger("ticker").removeHandler(handler)

    spans = asyncio.run(go())
    assert len(spans) >= 3
    assert all(s.parent is None and s.kind is SpanKind.INTERNAL for s in spans)
    assert len({s.context.trace_id for s in spans}) == len(spans), "each run is its own trace"
    failed = [s for s in spans if s.status.status_code is StatusCode.ERROR]
    assert len(failed) == 1 and failed[0].attributes["error.type"] == "RuntimeError"
    assert spans[0].attributes["kaiju.task.name"] == "tick"
    ticks = [r for r in handler.records if r.getMessage() == "tick"]
    ids = {format(s.context.span_id, "016x") for s in spans}
    assert ticks and all(json.loads(DataFormatter().format(r))["data"]["span_id"] in ids for r in ticks)


def test_without_http_spans_the_call_span_joins_the_callers_trace():
    settings = _settings("lean")
    settings["etc"]["otel"].update(spans={"http": False}, attributes="required")

    async def go():
        async with _app(settings) as app:
            out = await _post(app, {"jsonrpc": "2.0", "method": "chain.quick", "id": 1},
                              {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
            return out, _spans(app)

    out, spans = asyncio.run(go())
    [span] = spans
    assert span.name == "chain.quick" and span.parent.is_remote
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert out["result"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert dict(span.attributes) == {"rpc.system": "jsonrpc", "rpc.method": "chain.quick",
                                     "rpc.jsonrpc.version": "2.0"}


@pytest.mark.parametrize("how", ["the caller's flag off", "sample_ratio 0 at the first app"])
def test_an_unsampled_trace_makes_no_span_in_any_app_and_each_app_tells_the_next(how):
    # B and C sample every new trace (the default ratio 1.0): a span there would mean that the
    # app before did not pass on "not sampled"
    async def go():
        async with _app(_settings("third")) as c, _app(_settings("second", c.url + "/rpc")) as b:
            settings = _settings("first", b.url + "/rpc")
            headers = {}
            if how == "the caller's flag off":
                headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
            else:
                settings["etc"]["otel"]["sample_ratio"] = 0.0
            async with _app(settings) as a:
                single = await _post(a, {"jsonrpc": "2.0", "method": "chain.hop", "params": [0], "id": 1},
                                     headers)
                calls = [{"jsonrpc": "2.0", "method": "chain.quick", "id": i} for i in range(3)]
                batch = await _post(a, calls, headers)
                return single, batch, _spans(a), _spans(b), _spans(c)

    single, batch, *spans = asyncio.run(go())
    assert single["result"]["inner"]["inner"]["depth"] == 2
    assert [o["result"] for o in batch] == [None, None, None]  # no trace ids bound: nothing recorded
    assert spans == [[], [], []]
