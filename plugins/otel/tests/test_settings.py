"""``etc.otel``: defaults, and every wrong value named by its dotted key with a hint."""

from __future__ import annotations

import asyncio

import pytest
from kaiju_plugins.otel import OtelSettings, parse_settings
from kaiju_tools.exceptions import ConfigError
from otel_support import serve, settings_with


def test_defaults():
    settings, problems = parse_settings(None)
    assert problems == [] and settings == OtelSettings()
    assert (settings.exporter, settings.sample_ratio, settings.spans) == (
        "otlp", 1.0, {"http": True, "rpc": True, "tasks": True, "client": True})


@pytest.mark.parametrize(("raw", "where", "found"), [
    ("otlp", "etc.otel", "expected a mapping, got str"),
    ({"exporter": "jaeger"}, "etc.otel.exporter", "'jaeger'"),
    ({"endpoint": "collector:4318"}, "etc.otel.endpoint", "expected an http(s) URL"),
    ({"headers": {"k": 1}}, "etc.otel.headers", "mapping of strings to strings"),
    ({"timeout": 0}, "etc.otel.timeout", "positive number"),
    ({"timeout": True}, "etc.otel.timeout", "positive number"),
    ({"sample_ratio": 1.5}, "etc.otel.sample_ratio", "from 0 to 1"),
    ({"spans": {"db": True}}, "etc.otel.spans.db", "unknown span kind"),
    ({"spans": {"rpc": "no"}}, "etc.otel.spans.rpc", "true or false"),
    ({"exporters": "otlp"}, "etc.otel.exporters", "unknown key"),
    ({"attributes": "all"}, "etc.otel.attributes", "recommended, required"),
])
def test_each_wrong_value_is_named(raw, where, found):
    _, problems = parse_settings(raw)
    assert len(problems) == 1
    [problem] = problems
    assert problem.where == where and found in problem.message and problem.hint


def test_an_app_with_wrong_settings_does_not_start_and_says_where():
    async def go():
        async with serve(settings_with({"exporter": "zipkin", "sample_ratio": -1})):
            pass

    with pytest.raises(ConfigError) as info:
        asyncio.run(go())
    text = str(info.value)
    assert "etc.otel.exporter" in text and "etc.otel.sample_ratio" in text and "zipkin" in text


def test_the_console_exporter_writes_spans_to_stdout(capfd):
    async def go():
        async with serve(settings_with({"exporter": "console"}, name="console-app")) as running, \
                running.session.get(running.url + "/hello"):
            pass

    asyncio.run(go())
    out = capfd.readouterr().out
    assert '"name": "GET /hello"' in out and '"service.name": "console-app"' in out
