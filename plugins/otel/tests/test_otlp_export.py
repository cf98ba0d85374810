"""End to end: spans exported over OTLP/HTTP to a receiver the test runs, decoded with opentelemetry-proto."""

from __future__ import annotations

import asyncio

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otel_support import TRACEPARENT, serve, settings_with


async def _receiver() -> tuple[web.AppRunner, str, list[ExportTraceServiceRequest], list[dict[str, str]]]:
    got: list[ExportTraceServiceRequest] = []
    headers: list[dict[str, str]] = []

    async def traces(request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        got.append(message)
        headers.append(dict(request.headers))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/v1/traces", got, headers


def test_spans_reach_an_otlp_http_receiver_with_the_resource_and_attributes():
    async def go():
        runner, url, got, headers = await _receiver()
        try:
            otel = {"exporter": "otlp", "endpoint": url, "headers": {"x-api-key": "secret"}, "timeout": 5}
            async with serve(settings_with(otel, name="exported")) as running:
                for _ in range(3):
                    parent = {"traceparent": TRACEPARENT}
                    async with running.session.get(running.url + "/hello", headers=parent):
                        pass
            # the app has stopped: kaiju_app_stopped flushed the batch processor
        finally:
            await runner.cleanup()
        return got, headers

    got, headers = asyncio.run(go())
    assert got and all(h.get("x-api-key") == "secret" for h in headers)
    assert all(h.get("Content-Type") == "application/x-protobuf" for h in headers)
    spans, resources = [], []
    for message in got:
        for resource_spans in message.resource_spans:
            resources.append({a.key: a.value.string_value for a in resource_spans.resource.attributes})
            for scope_spans in resource_spans.scope_spans:
                assert scope_spans.scope.name == "kaiju_plugins.otel"
                spans.extend(scope_spans.spans)
    assert len(spans) == 3
    assert all(r["service.name"] == "exported" and r["service.version"] == "1.2.3" for r in resources)
    for span in spans:
        assert span.name == "GET /hello"
        assert span.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
        assert span.parent_span_id.hex() == "b7ad6b7169203331"
        attributes = {a.key: a.value for a in span.attributes}
        assert attributes["http.response.status_code"].int_value == 200
        assert attributes["http.route"].string_value == "/hello"
        assert span.kind == span.SPAN_KIND_SERVER
