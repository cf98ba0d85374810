"""Services given a plain stdlib logger: keyword extras never crash them (issue 14 item 21).

``Scheduler(logger=logging.getLogger("x"))`` used to crash at start with ``Logger._log() got an
unexpected keyword argument 'tasks'``. The kernel wraps whatever stdlib logger a service is
given in its own logger, so our plugins' ``self.logger.info("x", tasks=3)`` works everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service
from kaiju_tools.testing import start_app


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def kept(name: str) -> Kept:
    handler = Kept()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


def test_a_service_given_a_stdlib_logger_takes_keyword_extras() -> None:
    handler = kept("stdlib.plain")
    service = Service(logger=logging.getLogger("stdlib.plain"))
    service.logger.info("Log in completed.", user_id=7)
    adapted = Service(logger=logging.LoggerAdapter(logging.getLogger("stdlib.plain"), {"tenant": "a"}))
    adapted.logger.warning("via an adapter %s", "too", user_id=8)
    assert [(r.getMessage(), r.data) for r in handler.records] == [  # type: ignore[attr-defined]
        ("Log in completed.", {"user_id": 7}), ("via an adapter too", {"user_id": 8})]
    assert handler.records[1].tenant == "a"  # type: ignore[attr-defined]
    logging.getLogger("stdlib.plain").removeHandler(handler)


def test_scheduler_and_rpc_server_with_stdlib_loggers_in_a_real_app() -> None:
    scheduler = pytest.importorskip("kaiju_plugins.scheduler")
    rpc = pytest.importorskip("kaiju_plugins.rpc")

    class StdlibScheduler(scheduler.Scheduler):  # type: ignore[misc,name-defined]
        def __init__(self, app: Any = None, logger: Any = None, **kws: Any) -> None:
            super().__init__(app=app, logger=logging.getLogger("stdlib.scheduler"), **kws)

        async def init(self) -> None:
            self.schedule_task(self.tick, interval=3600, name="tick")
            await super().init()

        async def tick(self) -> None:
            pass

    class StdlibRPC(rpc.JSONRPCServer):  # type: ignore[misc,name-defined]
        def __init__(self, app: Any = None, logger: Any = None, **kws: Any) -> None:
            super().__init__(app=app, logger=logging.getLogger("stdlib.rpc"), **kws)

    SERVICE_CLASS_REGISTRY.register(StdlibScheduler)
    SERVICE_CLASS_REGISTRY.register(StdlibRPC)
    records = kept("stdlib")
    settings = {"main": {"name": "stdlib-app"}, "services": [
        {"cls": "StdlibScheduler", "name": "scheduler"},
        {"cls": "StdlibRPC", "name": "rpc", "settings": {"request_logs": True, "enable_permissions": False}},
    ]}

    async def scenario() -> Any:
        async with start_app(settings, rpc_path="/rpc") as running:
            return await running.rpc.call("rpc.api")

    try:
        assert asyncio.run(scenario()) is not None
    finally:
        logging.getLogger("stdlib").removeHandler(records)
    seen = {(r.name, r.getMessage()): getattr(r, "data", None) for r in records.records}
    assert seen[("stdlib.scheduler", "scheduler started")] == {"tasks": 1}
    assert ("stdlib.scheduler", "scheduler stopped") in seen
    assert seen[("stdlib.rpc", "rpc accepted")]["request"]["method"] == "rpc.api"
