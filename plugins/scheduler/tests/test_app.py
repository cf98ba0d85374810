"""The scheduler inside a kaiju app (in-process): the guide's snippet, start and stop."""

from __future__ import annotations

import asyncio
from typing import Any

import kaiju_tools
from aiohttp import web
from kaiju_plugins.scheduler import Scheduler
from kaiju_tools import (
    SERVICE_CLASS_REGISTRY,
    ContextableService,
    ServiceState,
    get_runtime,
    get_services,
    init_app,
)

EVENTS: list[str] = []


# The guide's snippet, as written (not reformatted).
# fmt: off
class SchedTestCache(ContextableService):
    """The guide's ``MyService``, as written (plus an event log and a short interval)."""

    async def init(self):
        _scheduler = self.discover_service(None, cls=Scheduler)
        self._task = _scheduler.schedule_task(
          self._reload_local_cache, interval=0.02, name=f'{self.service_name}._reload_local_cache',
          policy=_scheduler.ExecPolicy.WAIT)
        self._scheduler = _scheduler

    async def close(self):
        self._task.enabled = False  #: disable the task
        EVENTS.append(f"cache closed (scheduler running: {self._scheduler.running})")

    async def _reload_local_cache(self) -> None:
        EVENTS.append("reload")
# fmt: on


class SchedTestLate(ContextableService):
    """Starts after the cache (config order); a run at start must find it started."""

    async def init(self) -> None:
        scheduler = self.discover_service(None, cls=Scheduler)
        self.task = scheduler.schedule_task(self.check, 3600, name="late.check", run_at_start=True)
        self.seen: list[bool] = []

    async def check(self) -> None:
        services = list(get_services(self.app))
        self.seen.append(all(s.state is ServiceState.RUNNING for s in services))


class SchedTestSlow(ContextableService):
    """Has a run in progress when the app stops."""

    def __init__(self, app: Any = None, logger: Any = None, hang: bool = False) -> None:
        super().__init__(app=app, logger=logger)
        self.hang = hang
        self.state_log: list[str] = []

    async def init(self) -> None:
        scheduler = self.discover_service(None, cls=Scheduler)
        self.task = scheduler.schedule_task(self.work, 3600, name="slow.work", run_at_start=True)

    async def work(self) -> None:
        self.state_log.append("started")
        try:
            await asyncio.sleep(3600 if self.hang else 0.05)
            self.state_log.append("finished")
        except asyncio.CancelledError:
            self.state_log.append("cancelled")
            raise


for _cls in (SchedTestCache, SchedTestLate, SchedTestSlow):
    SERVICE_CLASS_REGISTRY.register(_cls)


def settings(*services: dict[str, Any], scheduler: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "main": {"name": "schedtest"},
        "services": [*services, {"cls": "Scheduler", "settings": scheduler or {}}],
    }


def test_kaiju_tools_exports_the_scheduler() -> None:
    assert kaiju_tools.Scheduler is Scheduler
    assert kaiju_tools.ExecPolicy is Scheduler.ExecPolicy
    app = init_app(settings())  # loads the first-party plugins: the entry point registers the class
    assert get_runtime(app).service_classes.get("Scheduler") is Scheduler  # in the app's runtime (#19.4)


def test_guide_snippet_runs_in_an_app_and_stops_before_services_close(run: Any, until: Any) -> None:
    EVENTS.clear()

    async def main() -> None:
        config = settings({"cls": "SchedTestCache"})
        config["services"].insert(0, config["services"].pop())  # the Scheduler starts first, stops last
        app = init_app(config)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            scheduler = get_services(app).discover(None, cls=Scheduler)
            assert scheduler.running
            await until(lambda: EVENTS.count("reload") >= 3, "3 reloads")
            (info,) = scheduler.list_tasks()
            assert info["name"] == "SchedTestCache._reload_local_cache" and info["policy"] == "WAIT"
        finally:
            await runner.cleanup()
        # kaiju_app_stopping stopped the scheduler before any service closed; no run after that
        assert EVENTS[-1] == "cache closed (scheduler running: False)"
        assert not scheduler.running
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


def test_tasks_start_only_when_every_service_has_started(run: Any, until: Any) -> None:
    async def main() -> None:
        config = settings({"cls": "SchedTestLate"}, {"cls": "SchedTestCache"})
        config["services"].insert(0, config["services"].pop())  # the Scheduler starts first
        app = init_app(config)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            late = get_services(app).get("SchedTestLate")
            await until(lambda: bool(late.seen), "the start run")
            assert late.seen == [True]
        finally:
            await runner.cleanup()

    run(main())


def test_a_run_in_progress_at_stop_finishes_within_the_grace_period(run: Any, until: Any) -> None:
    async def main() -> None:
        app = init_app(settings({"cls": "SchedTestSlow"}, scheduler={"shutdown_timeout": 30}))
        runner = web.AppRunner(app)
        await runner.setup()
        slow = get_services(app).get("SchedTestSlow")
        await until(lambda: slow.state_log == ["started"], "the run")
        await runner.cleanup()
        assert slow.state_log == ["started", "finished"]
        assert slow.task.cancelled == 0
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


def test_a_run_outlasting_the_grace_period_is_cancelled_and_nothing_is_left(run: Any, until: Any) -> None:
    async def main() -> None:
        app = init_app(
            settings(
                {"cls": "SchedTestSlow", "settings": {"hang": True}}, scheduler={"shutdown_timeout": 0.05}
            )
        )
        runner = web.AppRunner(app)
        await runner.setup()
        slow = get_services(app).get("SchedTestSlow")
        await until(lambda: slow.state_log == ["started"], "the run")
        await runner.cleanup()
        assert slow.state_log == ["started", "cancelled"]
        assert slow.task.cancelled == 1
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


def test_a_bad_scheduler_setting_names_the_config_key() -> None:
    import pytest
    from kaiju_tools import ConfigError

    with pytest.raises(ConfigError, match=r"services\[0\]\.settings\.shutdown_timeout: .* got .*'soon'"):
        init_app(
            {
                "main": {"name": "t"},
                "services": [{"cls": "Scheduler", "settings": {"shutdown_timeout": "soon"}}],
            }
        )
