"""The outcome line of plain web routes (``run.outcome_log``), on real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web
from kaiju_tools import ConfigError, hookimpl, init_app
from kaiju_tools.outcomes import Outcome
from kaiju_tools.testing import start_app


async def item(request: web.Request) -> web.Response:
    if request.match_info["id"] == "missing":
        raise web.HTTPNotFound(text="no such item")
    if request.match_info["id"] == "broken":
        raise RuntimeError("the item store is down")
    if request.match_info["id"] == "slow":
        await asyncio.sleep(0.2)
    return web.json_response({"id": request.match_info["id"]})


def with_routes(settings: Any) -> web.Application:
    app = init_app(settings)
    app.router.add_get("/items/{id}", item)
    return app


def settings(**run: Any) -> dict[str, Any]:
    return {"main": {"name": "shop"}, "run": run, "services": [{"cls": "JSONRPCServer"}]}


def outcomes(logs: Any) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.getMessage() in ("http done", "http slow")]


def test_a_plain_route_logs_one_line_per_request_with_route_status_duration_and_cid() -> None:
    asyncio.run(_test_a_plain_route_logs_one_line_per_request_with_route_status_duration_and_cid())


async def _test_a_plain_route_logs_one_line_per_request_with_route_status_duration_and_cid() -> None:
    async with start_app(settings(), init_app=with_routes, rpc_path="/rpc") as running:
        async with running.session.get(running.url + "/items/7", headers={"Correlation-Id": "c-1"}) as resp:
            assert resp.status == 200
        async with running.session.get(running.url + "/items/missing") as resp:
            assert resp.status == 404
        async with running.session.get(running.url + "/items/broken") as resp:
            assert resp.status == 500
        async with running.session.get(running.url + "/items/8") as resp:  # still serving
            assert resp.status == 200
        async with running.session.get(running.url + "/health/live") as resp:
            assert resp.status == 200
        assert await running.rpc.call("rpc.api") is not None
        records = outcomes(running.logs)
    assert [(r.levelname, r.data["method"], r.data["outcome"]) for r in records] == [
        ("INFO", "GET /items/{id}", 200),
        ("INFO", "GET /items/{id}", 404),
        ("INFO", "GET /items/{id}", 500),
        ("INFO", "GET /items/{id}", 200),
    ]  # no line for the health probe; the JSON-RPC request has the rpc server's own record
    first = records[0].data
    assert first["kind"] == "http" and first["correlation_id"] == "c-1" and first["batch_size"] == 1
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert records[1].data["correlation_id"] is None


def test_a_slow_request_is_logged_at_warning_and_off_turns_the_line_off() -> None:
    asyncio.run(_test_a_slow_request_is_logged_at_warning_and_off_turns_the_line_off())


async def _test_a_slow_request_is_logged_at_warning_and_off_turns_the_line_off() -> None:
    async with start_app(settings(slow_request_time=0.05), init_app=with_routes) as running:
        async with running.session.get(running.url + "/items/slow") as resp:
            assert resp.status == 200
        records = outcomes(running.logs)
    assert [(r.levelname, r.getMessage()) for r in records] == [("WARNING", "http slow")]
    async with start_app(settings(outcome_log="off"), init_app=with_routes) as running:
        async with running.session.get(running.url + "/items/1") as resp:
            assert resp.status == 200
        assert outcomes(running.logs) == []


@pytest.mark.parametrize("cid", ["x" * 129, "a b<script>"])
def test_a_hostile_correlation_id_header_is_not_logged(cid: str) -> None:
    asyncio.run(_test_a_hostile_correlation_id_header_is_not_logged(cid))


async def _test_a_hostile_correlation_id_header_is_not_logged(cid: str) -> None:
    async with start_app(settings(), init_app=with_routes) as running:
        async with running.session.get(running.url + "/items/1", headers={"Correlation-Id": cid}) as resp:
            assert resp.status == 200
        (record,) = outcomes(running.logs)
    assert record.data["correlation_id"] is None


SEEN: list[Outcome] = []


class SinkPlugin:
    @staticmethod
    @hookimpl
    def kaiju_outcome_sink(app: web.Application) -> Any:
        return SEEN.append


def test_sinks_get_plain_route_outcomes_even_with_the_line_off() -> None:
    asyncio.run(_test_sinks_get_plain_route_outcomes_even_with_the_line_off())


async def _test_sinks_get_plain_route_outcomes_even_with_the_line_off() -> None:
    SEEN.clear()
    async with (start_app(settings(outcome_log="off"), init_app=with_routes,
                          plugins={"sink": SinkPlugin}) as running,
                running.session.get(running.url + "/items/missing") as resp):
        assert resp.status == 404
    assert [(o.kind, o.method, o.outcome) for o in SEEN] == [("http", "GET /items/{id}", 404)]


@pytest.mark.parametrize(("run", "expected"), [
    ({"outcome_log": "LOUD"}, "run.outcome_log: expected one of DEBUG, INFO, WARNING, off, got 'LOUD'"),
    ({"slow_request_time": "soon"}, "run.slow_request_time"),
])
def test_bad_outcome_settings_name_the_key(run: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        init_app(settings(**run))
    assert expected in str(info.value)


def test_the_kernels_own_run_keys_stay_out_of_the_arguments_passed_to_aiohttp() -> None:
    from kaiju_tools.settings import validate_settings

    run = validate_settings({"run": {"drain_delay": 1, "outcome_log": "off", "slow_request_time": 2,
                                     "backlog": 64}}).run
    assert run.extra == {"backlog": 64}
    assert (run.drain_delay, run.outcome_log, run.slow_request_time) == (1.0, "off", 2.0)
