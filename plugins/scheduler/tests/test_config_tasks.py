"""``tasks:`` in the scheduler's settings: every entry checked when the scheduler is built."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from kaiju_plugins.scheduler import Scheduler
from kaiju_tools import SERVICE_CLASS_REGISTRY, ContextableService, get_services, init_app
from kaiju_tools.exceptions import ConfigError


class Reports(ContextableService):
    async def send(self) -> None:
        pass

    def blocking(self) -> None:
        pass


SERVICE_CLASS_REGISTRY.register(Reports)


@pytest.mark.parametrize(
    ("entry", "key", "pattern"),
    [
        ({"method": "reports.send", "cron": "61 * * * *"}, "tasks[0].cron", "bad cron expression '61 "),
        ({"method": "reports.send", "cron": "@every_minute"}, "tasks[0].cron", "unknown cron alias"),
        (
            {"method": "reports.send", "cron": "* * * * *", "tz": "Nowhere/Town"},
            "tasks[0].cron",
            "unknown time zone",
        ),
        ({"method": "reports.send", "at": "tomorrow"}, "tasks[0].at", "at must be an ISO 8601 date-time"),
        ({"method": "reports.send"}, "tasks[0].cron", "interval must be a positive number"),
        (
            {"method": "reports", "interval": 5},
            "tasks[0].method",
            "method must be '<service name>.<method name>'",
        ),
        ({"method": "reports.send", "interval": 5, "every": 5}, "tasks[0].every", "unknown key 'every'"),
        ({"method": "reports.send", "interval": 5, "policy": "LATER"}, "tasks[0].policy", "unknown policy"),
        (
            {"method": "reports.send", "interval": 5, "misfire_grace": -1},
            "tasks[0].misfire_grace",
            "misfire_grace",
        ),
        ({"method": "reports.send", "interval": 5, "coalesce": "no"}, "tasks[0].coalesce", "true or false"),
        (
            {"method": "reports.send", "cron": "* * * * *", "jitter": 2},
            "tasks[0].jitter",
            "interval= tasks only",
        ),
        ("reports.send", "tasks[0]", "expected a mapping"),
    ],
)
def test_a_bad_task_entry_is_a_config_error_naming_its_key(entry: Any, key: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        Scheduler(tasks=[entry])
    assert f"settings.{key}" in str(info.value)


def test_tasks_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match="expected a list of task mappings"):
        Scheduler(tasks={"method": "reports.send"})  # type: ignore[arg-type]


def app_with(tasks: list[dict[str, Any]]) -> web.Application:
    return init_app({"main": {"name": "t"}, "services": [
        {"cls": "Reports", "name": "reports"},
        {"cls": "Scheduler", "settings": {"tasks": tasks}},
    ]})  # fmt: skip


@pytest.mark.parametrize(
    ("method", "pattern"),
    [("reports.nope", "no method 'nope' on a service named 'reports'"),
     ("ghost.send", "no method 'send' on a service named 'ghost'"),
     ("reports.blocking", "method must be an async function")],
)  # fmt: skip
def test_a_method_that_is_not_there_is_a_config_error_at_init(run: Any, method: str, pattern: str) -> None:
    scheduler = get_services(app_with([{"method": method, "interval": 5}])).get("scheduler")

    async def main() -> None:
        with pytest.raises(ConfigError, match=pattern) as info:
            await scheduler.init()
        assert "services[1].settings.tasks[0].method" in str(info.value)

    run(main())


def test_declared_tasks_are_scheduled_with_their_settings(run: Any) -> None:
    scheduler = get_services(app_with([
        {"method": "reports.send", "cron": "0 9 * * mon-fri", "tz": "Europe/Berlin", "misfire_grace": 60},
        {"method": "reports.send", "name": "once", "at": "2030-01-01T09:00:00+01:00", "coalesce": False},
    ])).get("scheduler")  # fmt: skip

    async def main() -> None:
        await scheduler.init()
        tasks = scheduler.tasks
        assert set(tasks) == {"reports.send", "once"}
        info = tasks["reports.send"].info()
        assert (info["cron"], info["tz"], info["misfire_grace"]) == ("0 9 * * mon-fri", "Europe/Berlin", 60.0)
        assert tasks["once"].info()["at"] == "2030-01-01T09:00:00+01:00" and not tasks["once"].coalesce
        await scheduler.close()

    run(main())


def test_declared_tasks_need_an_app() -> None:
    with pytest.raises(ConfigError, match="declared tasks name services of an app"):
        Scheduler(tasks=[{"method": "reports.send", "interval": 5}])
