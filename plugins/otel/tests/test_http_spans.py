"""A span per HTTP request on a real server: attributes, parent from ``traceparent``, errors,
ids in the request context."""

from __future__ import annotations

import asyncio

from kaiju_plugins.otel import TRACING_KEY, get_tracing
from kaiju_tools import context
from kaiju_tools.plugins import Plugins
from opentelemetry.trace import SpanKind, StatusCode
from otel_support import TRACEPARENT, serve, settings_with


def _spans(running):
    return get_tracing(running.app).exporter.get_finished_spans()


def test_a_request_gets_a_server_span_with_http_semantic_attributes_and_the_app_as_resource():
    async def go():
        async with serve(settings_with()) as running:
            async with running.session.get(running.url + "/hello", headers={"User-Agent": "probe/1"}) as resp:
                assert resp.status == 200
            return _spans(running), running.port

    spans, port = asyncio.run(go())
    [span] = spans
    assert span.name == "GET /hello" and span.kind is SpanKind.SERVER
    assert dict(span.attributes) == {
        "http.request.method": "GET", "url.path": "/hello", "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": port, "network.protocol.version": "1.1", "http.route": "/hello",
        "client.address": "127.0.0.1", "user_agent.original": "probe/1", "http.response.status_code": 200}
    assert span.parent is None
    resource = span.resource.attributes
    assert resource["service.name"] == "otel-test" and resource["service.version"] == "1.2.3"
    assert resource["deployment.environment.name"] == "test"


def test_the_parent_comes_from_traceparent_and_the_ids_are_bound_to_the_request_context():
    async def go():
        async with serve(settings_with()) as running:
            headers = {"traceparent": TRACEPARENT, "tracestate": "vendor=x,other=y"}
            async with running.session.get(running.url + "/hello", headers=headers) as resp:
                body = await resp.json()
            records = running.logs.filter_records("inside the handler")
            return _spans(running), body, [r.context for r in records]

    spans, body, log_contexts = asyncio.run(go())
    [span] = spans
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None and span.parent.is_remote
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert span.parent.trace_state.to_header() == "vendor=x,other=y"
    ids = {"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": format(span.context.span_id, "016x")}
    assert body["extra"] == ids
    assert log_contexts and all({k: c.get(k) for k in ids} == ids for c in log_contexts)


def test_concurrent_requests_each_see_their_own_span():
    async def go():
        async with serve(settings_with()) as running:
            async def one(tag):
                async with running.session.get(f"{running.url}/slow/{tag}") as resp:
                    return (await resp.json())["extra"]

            seen = await asyncio.gather(*(one(i) for i in range(8)))
            return _spans(running), seen

    spans, seen = asyncio.run(go())
    assert len(spans) == 8 and {s.name for s in spans} == {"GET /slow/{tag}"}
    assert {(format(s.context.trace_id, "032x"), format(s.context.span_id, "016x")) for s in spans} == {
        (e["trace_id"], e["span_id"]) for e in seen}
    assert context.get_extra() is None  # nothing leaked into the test's own context


def test_errors_and_unknown_routes_set_status_and_error_type():
    async def go():
        async with serve(settings_with()) as running:
            for path in ("/boom", "/nowhere"):
                async with running.session.get(running.url + path) as resp:
                    await resp.read()
            return {s.attributes["url.path"]: s for s in _spans(running)}

    spans = asyncio.run(go())
    boom, missing = spans["/boom"], spans["/nowhere"]
    assert boom.attributes["http.response.status_code"] == 500 and boom.status.status_code is StatusCode.ERROR
    assert boom.attributes["error.type"] == "RuntimeError"
    assert [e.name for e in boom.events] == ["exception"]
    assert missing.name == "GET" and "http.route" not in missing.attributes
    assert missing.attributes["http.response.status_code"] == 404
    assert missing.status.status_code is StatusCode.UNSET


def test_sampling_off_makes_no_spans_and_binds_no_ids():
    async def go():
        async with serve(settings_with({"exporter": "memory", "sample_ratio": 0})) as running:
            async with running.session.get(running.url + "/hello") as resp:
                body = await resp.json()
            return _spans(running), body

    spans, body = asyncio.run(go())
    assert spans == () and body["extra"] is None


def test_switching_http_and_rpc_spans_off_adds_no_layer():
    async def go():
        otel = {"exporter": "memory", "spans": {"http": False, "rpc": False}}
        async with serve(settings_with(otel)) as running:
            async with running.session.get(running.url + "/hello") as resp:
                assert resp.status == 200
            return _spans(running), len(running.app.middlewares)

    spans, middlewares = asyncio.run(go())
    assert spans == () and middlewares == 0


def test_without_http_spans_the_caller_context_is_still_current():
    async def go():
        async with serve(settings_with({"exporter": "memory", "spans": {"http": False}})) as running:
            headers = {"traceparent": TRACEPARENT}
            async with running.session.get(running.url + "/hello", headers=headers) as resp:
                assert resp.status == 200
            return _spans(running), running.app.middlewares

    spans, middlewares = asyncio.run(go())
    assert spans == () and len(middlewares) == 1


def test_installed_but_not_listed_the_plugin_is_inactive_and_adds_nothing():
    async def go():
        async with serve(settings_with(packages=())) as running:
            async with running.session.get(running.url + "/hello") as resp:
                body = await resp.json()
            return running.app.get(TRACING_KEY), body, len(running.app.middlewares)

    tracing, body, middlewares = asyncio.run(go())
    assert tracing is None and body["extra"] is None and middlewares == 0
    plugins = Plugins()
    plugins.load_first_party()
    info = plugins.infos["otel"]
    assert (info.status, info.kind, info.dist) == ("inactive", "first-party, opt-in", "kaiju-plugin-otel")
    assert "kaiju_plugins.otel" not in str(plugins.pm.get_plugins())


def test_the_none_exporter_still_propagates_and_binds_ids():
    async def go():
        async with serve(settings_with({"exporter": "none"})) as running:
            headers = {"traceparent": TRACEPARENT}
            async with running.session.get(running.url + "/hello", headers=headers) as resp:
                body = await resp.json()
            return get_tracing(running.app).exporter, body

    exporter, body = asyncio.run(go())
    assert exporter is None and body["extra"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


def test_only_the_required_attributes_when_asked():
    async def go():
        async with serve(settings_with({"exporter": "memory", "attributes": "required"})) as running:
            async with running.session.get(running.url + "/hello") as resp:
                assert resp.status == 200
            return _spans(running)

    [span] = asyncio.run(go())
    assert dict(span.attributes) == {"http.request.method": "GET", "url.path": "/hello", "url.scheme": "http",
                                     "http.route": "/hello", "http.response.status_code": 200}
