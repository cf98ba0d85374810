"""LoggingService in an app built by the kernel: the guide's config, levels, lifecycle, bad input."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from aiohttp import ClientSession, web
from kaiju_plugins.logging import JSONHandler, LoggingService, TextHandler
from kaiju_plugins.logging.testing import ListHandler, capture_logs
from kaiju_tools import ConfigError, context, get_services, init_app
from kaiju_tools._runtime import settings_from_mapping
from kaiju_tools.hookspecs import hookimpl
from kaiju_tools.plugins import Plugins


def app_settings(handlers: list[dict[str, Any]] | None = None, loggers: list[dict[str, Any]] | None = None,
                 probe_level: str | None = None, **logging_settings: Any) -> dict[str, Any]:
    """The guide's LoggingService config for an app named ``t``, plus a ``LogProbe`` service."""
    settings: dict[str, Any] = {
        "loggers": loggers if loggers is not None else [{"name": "[main_name]", "handlers": True}],
        "handlers": handlers if handlers is not None else [{"cls": "JSONHandler", "name": "default"}],
        **logging_settings,
    }
    return {"main": {"name": "t"}, "services": [
        {"cls": "LoggingService", "settings": settings},
        {"cls": "LogProbe", "name": "probe", "loglevel": probe_level},
    ]}


async def serve(app: web.Application, body: Any) -> Any:
    """Start ``app``, run ``body(app)`` while it serves, stop it."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        return await body(app)
    finally:
        await runner.cleanup()


def stderr_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr()
    assert out.out == ""  # logs never go to stdout unless configured to
    return [json.loads(line) for line in out.err.splitlines()]


def test_guide_config_writes_json_lines_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    async def body(app: web.Application) -> None:
        probe = get_services(app).get("probe")
        probe.logger.info("Log in completed.", user_id=7)
        tokens = context.bind(correlation_id="c-1", deadline=1682328142)
        try:
            await asyncio.sleep(0)
            probe.logger.info("rpc accepted", request={"method": "rpc.api", "id": 0})
        finally:
            context.reset(tokens)

    asyncio.run(serve(init_app(app_settings()), body))
    lines = stderr_json(capsys)
    by_msg = {line["msg"]: line for line in lines}
    assert by_msg["app started"]["name"] == "t"
    assert by_msg["Log in completed."]["name"] == "t.probe"
    assert by_msg["Log in completed."]["data"] == {"user_id": 7}
    accepted = by_msg["rpc accepted"]
    assert (accepted["cid"], accepted["t_max"]) == ("c-1", 1682328142)
    assert list(accepted) == ["t", "name", "lvl", "msg", "cid", "sid", "t_max", "data", "pid"]


def test_text_handler(capsys: pytest.CaptureFixture[str]) -> None:
    async def body(app: web.Application) -> None:
        get_services(app).get("probe").logger.warning("careful", n=1)

    asyncio.run(serve(init_app(app_settings([{"cls": "TextHandler", "name": "default"}])), body))
    line = next(x for x in capsys.readouterr().err.splitlines() if "careful" in x)
    assert line.endswith(" | WARNING | - | t.probe | careful | {'n': 1}")


def test_service_loglevel_overrides_the_app_level_for_that_service_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def body(app: web.Application) -> None:
        get_services(app).get("probe").logger.info("probe info")
        get_services(app).get("probe").logger.error("probe error")
        get_services(app).get("logging").logger.info("logging info")

    asyncio.run(serve(init_app(app_settings(probe_level="ERROR")), body))
    messages = [line["msg"] for line in stderr_json(capsys)]
    assert "probe error" in messages and "logging info" in messages
    assert "probe info" not in messages


def test_logger_and_handler_levels(capsys: pytest.CaptureFixture[str]) -> None:
    settings = app_settings(
        handlers=[{"cls": "JSONHandler", "name": "all"},
                  {"cls": "JSONHandler", "name": "errors", "level": "error",
                   "settings": {"stream": "stdout"}}],
        loggers=[{"name": "[main_name]", "handlers": ["all", "errors"], "level": "WARNING"}],
    )

    async def body(app: web.Application) -> None:
        log = get_services(app).get("probe").logger
        log.info("dropped by the logger level")
        log.warning("w")
        log.error("e")

    asyncio.run(serve(init_app(settings), body))
    out = capsys.readouterr()
    assert [json.loads(x)["msg"] for x in out.err.splitlines()] == ["w", "e"]
    assert [json.loads(x)["msg"] for x in out.out.splitlines()] == ["e"]


@hookimpl
def kaiju_register_log_handlers() -> dict[str, type]:
    """A third-party plugin's contribution: a handler and a formatter class LoggingService can name."""
    return {"ListHandler": ListHandler, "ShoutFormatter": ShoutFormatter}


class ShoutFormatter(logging.Formatter):
    def __init__(self, suffix: str = "!") -> None:
        super().__init__()
        self.suffix = suffix

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage().upper() + self.suffix


def test_plugin_handler_class_records_written_off_the_loop_and_removed_at_stop() -> None:
    async def body(app: web.Application) -> LoggingService:
        service = get_services(app).get("logging")
        service.logger.info("from the loop")
        return service

    plugins = Plugins()
    plugins.load_first_party()
    plugins.pm.register(SimpleNamespace(kaiju_register_log_handlers=kaiju_register_log_handlers),
                        name="test-handlers")
    settings = settings_from_mapping(app_settings([
        {"cls": "ListHandler", "name": "mem"},
        {"cls": "ListHandler", "name": "loud", "formatter": "ShoutFormatter",
         "formatter_settings": {"suffix": "?"}},
    ]), plugins)
    service = asyncio.run(serve(init_app(settings), body))
    handler = service.handlers["mem"]
    assert isinstance(handler, ListHandler)
    assert "from the loop" in handler.messages()
    assert "FROM THE LOOP?" in service.handlers["loud"].lines  # type: ignore[attr-defined]
    assert handler.threads[handler.messages().index("from the loop")] == "kaiju-log-writer"
    assert handler.messages()[-1] == "app stopped"  # written directly, after close()
    assert not service.configured
    assert handler not in logging.getLogger("t").handlers


class BlockedStream(logging.Handler):
    """A stdout that blocks until :attr:`gate` opens (records wait in the queue)."""

    gate: ClassVar[threading.Event] = threading.Event()
    lines: ClassVar[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.gate.wait(30)
        self.lines.append(record.getMessage())


@hookimpl(specname="kaiju_register_log_handlers")
def register_blocked_stream() -> dict[str, type]:
    return {"BlockedStream": BlockedStream}


def test_a_blocked_stream_never_stalls_requests_and_overflow_is_counted() -> None:
    """Requests are answered while the writer is blocked; the overflow is dropped, counted, reported."""
    BlockedStream.gate.clear()
    BlockedStream.lines.clear()

    async def logs_a_lot(request: web.Request) -> web.Response:
        probe = get_services(request.app).get("probe")
        for i in range(100):
            probe.logger.info("req", i=i)
        return web.Response(text="ok")

    plugins = Plugins()
    plugins.load_first_party()
    plugins.pm.register(SimpleNamespace(register_blocked_stream=register_blocked_stream), name="blocked")
    settings = settings_from_mapping(app_settings([{"cls": "BlockedStream", "name": "slow"}], queue_size=50),
                                     plugins)
    app = init_app(settings)
    app.router.add_get("/log", logs_a_lot)

    async def main() -> int:
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            async with ClientSession() as session:
                for _ in range(5):
                    async with session.get(f"http://127.0.0.1:{port}/log") as response:
                        assert await response.text() == "ok"
            dropped = get_services(app).get("logging").dropped
            BlockedStream.gate.set()
            return dropped
        finally:
            BlockedStream.gate.set()
            await runner.cleanup()

    dropped = asyncio.run(main())
    written = [line for line in BlockedStream.lines if line in ("req", "http done")]
    assert dropped > 0
    assert len(written) + dropped == 505  # 5 x 100 records, and each request's outcome line
    assert any(line.startswith("log queue full: ") for line in BlockedStream.lines)
    assert "log records were dropped while the queue was full" in BlockedStream.lines


def test_close_switches_to_direct_writing_until_the_app_stops(capsys: pytest.CaptureFixture[str]) -> None:
    async def body(app: web.Application) -> None:
        service = get_services(app).get("logging")
        await service.close()
        service.logger.info("after close")
        assert service.configured
        assert logging.getLogger("t").handlers == list(service.handlers.values())

    asyncio.run(serve(init_app(app_settings()), body))
    assert "after close" in [line["msg"] for line in stderr_json(capsys)]


def test_use_queue_false_writes_in_the_calling_thread(capsys: pytest.CaptureFixture[str]) -> None:
    async def body(app: web.Application) -> None:
        assert logging.getLogger("t").handlers == list(get_services(app).get("logging").handlers.values())

    asyncio.run(serve(init_app(app_settings(use_queue=False)), body))


def test_disabled_handlers_and_loggers_are_left_out() -> None:
    service = LoggingService(
        loggers=[{"name": "other", "handlers": ["on", "off"]}, {"name": "t", "enabled": False}],
        handlers=[{"cls": "JSONHandler", "name": "on"},
                  {"cls": "TextHandler", "name": "off", "enabled": False}],
    )
    service.configure()
    try:
        (front,) = logging.getLogger("other").handlers
        assert [h.get_name() for h in front.targets] == ["on"]  # type: ignore[attr-defined]
        assert logging.getLogger("t").handlers == []
    finally:
        service.unconfigure()
    assert logging.getLogger("other").handlers == []


def test_record_caller_and_process_switches_are_set_and_restored() -> None:
    def switches() -> tuple[Any, ...]:
        return (logging._srcfile, logging.logThreads, logging.logProcesses)  # type: ignore[attr-defined]  # noqa: SLF001 -- the stdlib's switch, saved and restored

    before = switches()
    service = LoggingService(loggers=[{"name": "other", "level": "INFO"}], handlers=[{"cls": "JSONHandler"}],
                             record_caller=False, record_process=False, use_queue=False)
    service.configure()
    try:
        with capture_logs("other") as logs:
            logging.getLogger("other").info("fast")
        assert (logs.records[0].lineno, logs.records[0].threadName) == (0, None)
        assert logs.json()[0]["msg"] == "fast"
    finally:
        service.unconfigure()
    assert switches() == before


def test_defaults_give_a_text_handler_on_the_app_logger() -> None:
    service = LoggingService()
    assert [type(h) for h in service.handlers.values()] == [TextHandler]


def test_standalone_service_without_an_app(capsys: pytest.CaptureFixture[str]) -> None:
    service = LoggingService(loggers=[{"name": "other", "handlers": True, "level": "INFO"}],
                             handlers=[{"cls": "JSONHandler"}])

    async def main() -> None:
        async with service:
            logging.getLogger("other").info("standalone")
        service.unconfigure()

    asyncio.run(main())
    assert [line["msg"] for line in stderr_json(capsys)] == ["standalone"]
    assert isinstance(service.handlers["JSONHandler"], JSONHandler)


def test_root_logger_captures_foreign_loggers(capsys: pytest.CaptureFixture[str]) -> None:
    service = LoggingService(loggers=[{"name": "root", "level": "INFO"}], handlers=[{"cls": "JSONHandler"}])
    service.configure()
    try:
        logging.getLogger("third.party").info("foreign", extra={"k": 1})
    finally:
        service.unconfigure()
    line = next(x for x in stderr_json(capsys) if x["msg"] == "foreign")
    assert line["name"] == "third.party" and line["data"] == {"k": 1}


class TestBadInput:
    def problems(self, **settings: Any) -> str:
        with pytest.raises(ConfigError) as info:
            init_app(app_settings(**settings))
        return str(info.value)

    def test_unknown_handler_class_lists_close_matches(self) -> None:
        text = self.problems(handlers=[{"cls": "JSONHandlr", "name": "default"}])
        assert "services[0].settings.handlers[0].cls: unknown handler class 'JSONHandlr'" in text
        assert "did you mean: JSONHandler" in text

    def test_unknown_formatter_class(self) -> None:
        text = self.problems(handlers=[{"cls": "TextHandler", "formatter": "DataFormater"}])
        assert "services[0].settings.handlers[0].formatter: unknown formatter class 'DataFormater'" in text
        assert "did you mean: DataFormatter" in text

    def test_unknown_level_name(self) -> None:
        text = self.problems(loggers=[{"name": "t", "level": "VERBOSE"}],
                             handlers=[{"cls": "JSONHandler", "level": "INFOO"}])
        assert "services[0].settings.loggers[0].level: expected a log level name" in text
        assert "got 'VERBOSE'" in text
        assert "services[0].settings.handlers[0].level" in text and "did you mean: INFO" in text

    def test_undefined_handler_referenced_by_a_logger(self) -> None:
        text = self.problems(loggers=[{"name": "t", "handlers": ["defualt"]}])
        assert "services[0].settings.loggers[0].handlers[0]: handler 'defualt' is not defined" in text
        assert "did you mean: default" in text

    def test_unknown_keys_and_handler_settings(self) -> None:
        text = self.problems(
            handlers=[{"cls": "JSONHandler", "lvl": "INFO", "settings": {"strem": "stdout"}}])
        assert "handlers[0].lvl: unknown key 'lvl'" in text
        assert "handlers[0].settings.strem: unknown setting 'strem' for JSONHandler" in text

    def test_handler_that_cannot_be_built(self) -> None:
        text = self.problems(handlers=[{"cls": "JSONHandler", "settings": {"stream": "stdin"}}])
        assert "services[0].settings.handlers[0].settings: cannot create JSONHandler handler" in text
        assert "expected stream 'stdout' or 'stderr', got 'stdin'" in text

    def test_duplicate_handler_names_and_bad_shapes(self) -> None:
        text = self.problems(handlers=[{"cls": "JSONHandler"}, {"cls": "JSONHandler"}, "TextHandler"],
                             queue_size=0)
        assert "two handlers are named 'JSONHandler'" in text
        assert "handlers[2]: expected a mapping of handler settings" in text
        assert "queue_size: expected a positive number of records, got 0" in text
        # a wrong type for the annotation is found by the kernel, when the settings are validated
        assert "loggers: setting 'loggers' of LoggingService 'logging': expected list | null, got dict" \
            in self.problems(loggers={"name": "t"})


def test_formatter_settings_of_a_handlers_own_formatter(capsys: pytest.CaptureFixture[str]) -> None:
    """``TextHandler`` with ``formatter_settings: {pid: true}``: the workers of a server told apart."""
    service = LoggingService(loggers=[{"name": "other", "level": "INFO"}],
                             handlers=[{"cls": "TextHandler", "formatter_settings": {"pid": True}}],
                             use_queue=False)
    service.configure()
    try:
        logging.getLogger("other").info("with pid")
    finally:
        service.unconfigure()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.split(" | ")[2] == str(os.getpid())


def test_formatter_settings_without_a_formatter_to_configure() -> None:
    with pytest.raises(ConfigError) as info:
        LoggingService(handlers=[{"cls": "NullHandler", "formatter_settings": {"pid": True}}])
    assert ("handlers[0].formatter_settings: NullHandler has no formatter of its own to configure"
            in str(info.value))
    with pytest.raises(ConfigError) as info:
        LoggingService(handlers=[{"cls": "TextHandler", "formatter_settings": {"pdi": True}}])
    assert "unknown setting 'pdi' for TextFormatter" in str(info.value) and "pid" in str(info.value)
