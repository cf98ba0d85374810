"""The request outcome log: one line per request (level, slow → WARNING, off) and the sink hook."""

from __future__ import annotations

import asyncio
import logging
import types

import pytest
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.outcomes import Outcome
from kaiju_tools.testing import capture_logs


def call(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


def _done(logs):
    return [r for r in logs.records if r.getMessage() in ("rpc done", "rpc slow")]


def _run(serve_app, settings, bodies, hooks=(), level=logging.DEBUG):
    async def go():
        with capture_logs("rpctest", level=level) as logs:
            async with serve_app(settings, hooks=list(hooks)) as served:
                for body in bodies:
                    await served.post(body, {"Correlation-Id": "cid-1"})
            return _done(logs)

    return asyncio.run(go())


def test_one_info_line_per_request_with_method_outcome_duration_cid_and_batch_size(serve_app):
    records = _run(serve_app, {"outcome_log": "INFO"},
                   [call("calc.ping"), call("no.such"),
                    [call("calc.ping", id_=1), call("calc.ping", id_=2)]])
    assert [r.levelno for r in records] == [logging.INFO] * 3
    data = [r.data for r in records]
    assert data[0]["method"] == "calc.ping" and data[0]["outcome"] == "result" and data[0]["batch_size"] == 1
    assert data[0]["correlation_id"] == "cid-1" and data[0]["duration_ms"] >= 0
    assert data[1]["method"] == "unknown" and data[1]["outcome"] == -32601
    assert data[2]["method"] == "batch" and data[2]["batch_size"] == 2


def test_a_slow_request_is_logged_at_warning_even_when_its_level_is_disabled(serve_app):
    # the app logs at INFO: the fast call's DEBUG line is not written, the slow one is a WARNING
    records = _run(serve_app, {"outcome_log": "DEBUG", "slow_call_time": 0.05},
                   [call("calc.sleep", [0.1, "a"]), call("calc.ping")])
    assert [(r.levelno, r.getMessage()) for r in records] == [(logging.WARNING, "rpc slow")]
    assert records[0].data["duration_ms"] >= 50


def test_off_logs_nothing_and_a_disabled_level_logs_nothing(serve_app):
    assert _run(serve_app, {"outcome_log": "off"}, [call("calc.ping")]) == []
    assert _run(serve_app, {"outcome_log": "DEBUG"}, [call("calc.ping")], level=logging.INFO) == []


def test_hook_kaiju_outcome_sink(serve_app):
    """Sinks get a record per request (a batch: one), even with the log off."""
    seen: list[Outcome] = []
    plugin = types.ModuleType("outcome_probe")

    @hookimpl
    def kaiju_outcome_sink(app):
        return seen.append

    plugin.kaiju_outcome_sink = kaiju_outcome_sink
    _run(serve_app, {"outcome_log": "off"}, [call("calc.ping"), [call("calc.ping"), call("x.y", id_=2)]],
         hooks=[plugin])
    assert [(o.kind, o.method, o.outcome, o.batch_size) for o in seen] == [
        ("rpc", "calc.ping", "result", 1), ("rpc", "batch", -32601, 2)]
    assert all(o.correlation_id == "cid-1" for o in seen)


@pytest.mark.parametrize("value", ["LOUD", 3, True])
def test_a_wrong_outcome_log_is_a_config_error(value):
    from kaiju_plugins.rpc import JSONRPCServer
    from kaiju_tools import ConfigError

    with pytest.raises(ConfigError, match="outcome_log"):
        JSONRPCServer(outcome_log=value)
