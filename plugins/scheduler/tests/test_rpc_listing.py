"""With the rpc plugin installed, the task listing is an RPC method (system scope)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession, web
from kaiju_plugins.scheduler import Scheduler
from kaiju_tools import init_app


def test_scheduler_routes_are_plain_callables() -> None:
    scheduler = Scheduler()
    assert scheduler.routes == {
        "list_tasks": scheduler.list_tasks, "add_schedule": scheduler.add_schedule, "pause": scheduler.pause,
        "resume": scheduler.resume, "reschedule": scheduler.reschedule,
        "remove_schedule": scheduler.remove_schedule, "run_now": scheduler.run_now,
    }
    assert not hasattr(scheduler, "permissions")  # the rpc plugin's default: system callers only


def test_list_tasks_over_json_rpc(run: Any) -> None:
    pytest.importorskip("kaiju_plugins.rpc", reason="the RPC route needs kaiju-plugin-rpc")
    from kaiju_tools.http import JSONRPCView

    async def job() -> None:
        pass

    async def main() -> None:
        app = init_app(
            {
                "main": {"name": "t"},
                "services": [
                    {"cls": "Scheduler"},
                    {"cls": "JSONRPCServer", "name": "rpc", "settings": {"enable_permissions": False}},
                ],
            }
        )
        app.router.add_route("*", "/rpc", JSONRPCView)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            from kaiju_tools import get_services

            get_services(app).discover(None, cls=Scheduler).schedule_task(job, 60, name="nightly")
            async with ClientSession() as session:
                resp = await session.post(
                    f"http://127.0.0.1:{port}/rpc",
                    json={"jsonrpc": "2.0", "id": 1, "method": "scheduler.list_tasks"},
                )
                body = await resp.json()
        finally:
            await runner.cleanup()
        assert body["id"] == 1
        assert [t["name"] for t in body["result"]] == ["nightly"]

    run(main())




def test_admin_methods_over_json_rpc(run: Any) -> None:
    pytest.importorskip("kaiju_plugins.rpc", reason="the RPC routes need kaiju-plugin-rpc")
    from kaiju_tools import SERVICE_CLASS_REGISTRY, ContextableService
    from kaiju_tools.http import JSONRPCView

    calls: list[str] = []

    class Ping(ContextableService):
        service_name = "ping"

        async def ping(self) -> None:
            calls.append("ping")

    if "Ping" not in SERVICE_CLASS_REGISTRY:
        SERVICE_CLASS_REGISTRY.register(Ping)

    async def main() -> list[Any]:
        app = init_app({"main": {"name": "t"}, "services": [
            {"cls": "Scheduler"}, {"cls": "Ping"},
            {"cls": "JSONRPCServer", "name": "rpc", "settings": {"enable_permissions": False}},
        ]})  # fmt: skip
        app.router.add_route("*", "/rpc", JSONRPCView)
        runner = web.AppRunner(app)
        await runner.setup()
        answers = []
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            async with ClientSession() as session:
                for i, (method, params) in enumerate([
                    ("scheduler.add_schedule", {"name": "p", "method": "ping.ping", "cron": "0 3 * * *"}),
                    ("scheduler.pause", {"name": "p"}),
                    ("scheduler.resume", {"name": "p"}),
                    ("scheduler.reschedule", {"name": "p", "interval": 3600}),
                    ("scheduler.run_now", {"name": "p"}),
                    ("scheduler.list_tasks", None),
                    ("scheduler.remove_schedule", {"name": "p"}),
                    ("scheduler.pause", {"name": "p"}),
                ]):
                    body = {"jsonrpc": "2.0", "id": i, "method": method,
                            **({"params": params} if params else {})}
                    resp = await session.post(f"http://127.0.0.1:{port}/rpc", json=body)
                    answers.append(await resp.json())
        finally:
            await runner.cleanup()
        return answers

    added, paused, resumed, moved, ran, listed, removed, gone = run(main())
    assert added["result"]["cron"] == "0 3 * * *" and added["result"]["next_run"] is not None
    assert paused["result"]["enabled"] is False and resumed["result"]["enabled"] is True
    assert moved["result"]["interval"] == 3600 and moved["result"]["cron"] is None
    assert ran["result"]["started"] is True and calls == ["ping"]
    assert [t["name"] for t in listed["result"]] == ["p"]
    assert removed["result"] is True
    assert "error" in gone and "no task 'p'" in str(gone["error"])
