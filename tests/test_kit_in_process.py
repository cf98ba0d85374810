"""Kernel behaviours checked in-process with the test kit (``kaiju_tools.testing``).

The same rules other files check through subprocesses (start order, optional services,
failed start-up, lifecycle and request hooks), here with ``start_app`` / ``kaiju_app``:
the way users test their own apps.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

import pytest
from kaiju_tools import ContextableService, ServiceStartError
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.testing import kaiju_app, start_app  # noqa: F401 -- the fixture, used by name

EVENTS: list[str] = []


class KitDb(ContextableService):
    """Records its lifecycle; fails to start when asked to."""

    def __init__(self, app: Any, fail: bool = False, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.fail = fail

    async def init(self) -> None:
        EVENTS.append(f"init {self.service_name}")
        if self.fail:
            raise RuntimeError(f"{self.service_name} cannot connect to db:5432")

    async def close(self) -> None:
        EVENTS.append(f"close {self.service_name}")


class KitApi(ContextableService):
    """Needs a KitDb (constructor parameter), so it starts after it."""

    def __init__(self, app: Any, db: KitDb, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        self.db = db

    async def init(self) -> None:
        EVENTS.append(f"init {self.service_name}")

    async def close(self) -> None:
        EVENTS.append(f"close {self.service_name}")


class KitHooks:
    """An in-code plugin: registers the services, records lifecycle hooks, wraps requests."""

    @staticmethod
    @hookimpl
    def kaiju_register_services() -> list[type]:
        return [KitDb, KitApi]

    @staticmethod
    @hookimpl
    async def kaiju_app_started(app: Any) -> None:
        EVENTS.append("app_started")

    @staticmethod
    @hookimpl
    def kaiju_app_stopped(app: Any) -> None:
        EVENTS.append("app_stopped")

    @staticmethod
    @hookimpl
    def kaiju_wrap_request(app: Any) -> Any:
        def wrapper(handler: Any) -> Any:
            async def tagged(request: Any) -> Any:
                try:
                    response = await handler(request)
                except Exception as exc:  # 404 and friends are raised
                    getattr(exc, "headers", {})["X-Kit"] = "yes"
                    raise
                response.headers["X-Kit"] = "yes"
                return response
            return tagged
        return wrapper


PLUGINS = {"kit_hooks": KitHooks}


def services(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"main": {"name": "kitproc"}, "services": list(entries)}


@pytest.fixture(autouse=True)
def _events() -> None:
    EVENTS.clear()


def test_services_start_in_dependency_order_and_stop_in_reverse() -> None:
    settings = services({"cls": "KitApi", "name": "api"}, {"cls": "KitDb", "name": "db"})

    async def main() -> None:
        async with start_app(settings, plugins=PLUGINS) as running:
            assert running.services.get("api").db is running.services.get("db")
            assert EVENTS == ["init db", "init api", "app_started"]
    asyncio.run(main())
    assert EVENTS == ["init db", "init api", "app_started", "close api", "close db", "app_stopped"]


def test_an_optional_service_that_fails_is_logged_and_not_discoverable(kaiju_app: Any) -> None:  # noqa: F811 -- the fixture
    app = kaiju_app(services({"cls": "KitDb", "name": "cache", "required": False, "settings": {"fail": True}},
                             {"cls": "KitDb", "name": "db"}), plugins=PLUGINS)
    assert app.services.discover("cache", required=False) is None
    [record] = app.logs.filter_records(level="WARNING")
    assert "optional service 'cache' failed to start; the app goes on without it" in record.getMessage()
    assert "RuntimeError: cache cannot connect to db:5432" in record.getMessage()
    assert record.data["service"] == "cache"
    assert EVENTS == ["init cache", "init db", "app_started"]


def test_a_required_service_that_fails_stops_what_started() -> None:
    settings = services({"cls": "KitDb", "name": "db"},
                        {"cls": "KitDb", "name": "queue", "settings": {"fail": True}})

    async def main() -> None:
        async with start_app(settings, plugins=PLUGINS):
            raise AssertionError("the app must not start")
    with pytest.raises(ServiceStartError, match="queue"):
        asyncio.run(main())
    assert EVENTS == ["init db", "init queue", "close db"]  # app_started/stopped never ran


def test_request_wrappers_of_a_plugin_wrap_every_request(kaiju_app: Any) -> None:  # noqa: F811 -- the fixture
    app = kaiju_app(services(), plugins=PLUGINS)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(app.url + "/nothing")
    info.value.close()
    assert info.value.code == 404 and info.value.headers["X-Kit"] == "yes"
