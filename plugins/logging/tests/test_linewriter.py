"""Line writers (``Logger.line_writer``): the fast path writes what ``logger.log`` writes, or steps aside."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kaiju_plugins.logging import LoggingService, LogQueue, QueueHandler
from kaiju_tools import context, get_logger
from kaiju_tools.exceptions import ConfigError
from kaiju_tools.logsetup import line_writer_provider

Served = tuple[LoggingService, io.StringIO]
KEYS = ("kind", "method", "outcome", "duration_ms", "correlation_id", "scope", "batch_size")
VALUES = ("rpc", "calc.ping", "result", 0.125, "cid-7", 3, 1)


class ListHandler(logging.Handler):
    """A handler of the program's own: the records it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(params=["TextHandler", "JSONHandler"])
def service(request: pytest.FixtureRequest) -> Iterator[Served]:
    svc = LoggingService(loggers=[{"name": "lw", "handlers": True, "level": "DEBUG"}],
                         handlers=[{"cls": request.param, "name": "default"}])
    stream = io.StringIO()
    svc.handlers["default"].setStream(stream)  # type: ignore[attr-defined]
    svc.configure()
    yield svc, stream
    svc.unconfigure()
    logging.getLogger("lw").handlers.clear()  # the program's own handlers a test added


def _ours_only() -> None:
    """Take pytest's capture handlers (added for the test's call) off ``lw``: ours alone remain."""
    log = logging.getLogger("lw")
    log.handlers[:] = [h for h in log.handlers if isinstance(h, QueueHandler)]


def _lines(svc: LoggingService, stream: io.StringIO) -> list[str]:
    svc.write_directly()  # drains the queue, flushes
    return stream.getvalue().splitlines()


def _same(a: str, b: str) -> None:
    """Two lines equal but for the time."""
    if a.startswith("{"):
        one, two = json.loads(a), json.loads(b)
        one.pop("t"), two.pop("t")
        assert one == two
    else:
        assert a.split(" | ", 1)[1] == b.split(" | ", 1)[1]


def _log_both(values: tuple[Any, ...], **bind: Any) -> None:
    log = get_logger("lw.outcome")
    write = log.line_writer("rpc done", KEYS)

    async def go() -> None:
        context.bind(correlation_id="cid-7", **bind)
        write(logging.INFO, values)
        log.info("rpc done", **dict(zip(KEYS, values, strict=True)))

    asyncio.run(go())


def test_the_fast_path_is_taken_for_the_configured_queue(service: Served) -> None:
    _ours_only()
    provider = line_writer_provider()
    assert provider is not None
    fast = provider(logging.getLogger("lw.outcome"), "rpc done", KEYS, (__file__, 1, "test"))
    assert fast is not None and fast(logging.INFO, VALUES) is True
    logging.getLogger("lw").addHandler(ListHandler())  # a handler of the program's own: the stdlib path
    assert fast(logging.INFO, VALUES) is False
    assert provider(logging.getLogger("lw.outcome"), "rpc done", KEYS, (__file__, 1, "test")) is None


@pytest.mark.parametrize("values, bind", [
    (VALUES, {}),
    (VALUES, {"trace_id": "ab" * 16}),  # extra context keys (otel's trace_id) go to the extras
    (("rpc", "a|b\nc", -32601, 1.5, None, None, 2), {}),  # values that need escaping
    (("rpc", object(), "é", float("nan"), "cid", 1, 1), {}),  # any value: its repr / the JSON fallback
])
def test_a_line_writer_writes_what_logger_log_writes(service: Served,
                                                     values: tuple[Any, ...], bind: dict[str, Any]) -> None:
    _ours_only()
    svc, stream = service
    _log_both(values, **bind)
    fast, slow = _lines(svc, stream)
    _same(fast, slow)
    assert "cid-7" in fast


def test_other_handlers_and_filters_get_the_stdlib_record(service: Served) -> None:
    _ours_only()
    svc, stream = service
    mine = ListHandler()
    logging.getLogger("lw").addHandler(mine)
    svc.handlers["default"].addFilter(lambda record: record.data["method"] != "skip")  # type: ignore[attr-defined]
    _log_both(VALUES)
    _log_both(("rpc", "skip", "result", 1.0, "c", 1, 1))
    assert [r.data for r in mine.records] == [dict(zip(KEYS, VALUES, strict=True))] * 2 + [
        dict(zip(KEYS, ("rpc", "skip", "result", 1.0, "c", 1, 1), strict=True))] * 2
    assert mine.records[0].funcName == "go"  # the stdlib path: the caller is the writer's caller
    assert len(_lines(svc, stream)) == 2


def test_a_filter_on_the_handler_behind_the_queue_sees_a_log_record(service: Served) -> None:
    _ours_only()
    svc, stream = service
    seen: list[Any] = []
    svc.handlers["default"].addFilter(lambda record: seen.append(type(record)) or True)  # type: ignore[attr-defined]
    _log_both(VALUES)
    assert len(_lines(svc, stream)) == 2 and seen == [logging.LogRecord] * 2


def test_handler_levels_apply(service: Served) -> None:
    _ours_only()
    svc, stream = service
    svc.handlers["default"].setLevel(logging.WARNING)
    write = get_logger("lw.outcome").line_writer("rpc slow", KEYS)
    write(logging.INFO, VALUES)
    write(logging.WARNING, VALUES)
    lines = _lines(svc, stream)
    assert len(lines) == 1 and "WARNING" in lines[0] and "rpc slow" in lines[0]


def test_after_the_queue_stops_lines_are_written_directly(service: Served) -> None:
    _ours_only()
    svc, stream = service
    svc.write_directly()
    assert line_writer_provider() is None
    get_logger("lw.outcome").line_writer("rpc done", KEYS)(logging.INFO, VALUES)
    assert len(stream.getvalue().splitlines()) == 1


def test_without_a_provider_the_stdlib_path_writes() -> None:
    mine = ListHandler()
    log = logging.getLogger("lw")
    log.addHandler(mine)
    log.setLevel(logging.INFO)
    assert line_writer_provider() is None
    get_logger("lw.x").line_writer("m", ("a", "b"))(logging.INFO, (1, 2))
    log.removeHandler(mine)
    assert [(r.getMessage(), r.data) for r in mine.records] == [("m", {"a": 1, "b": 2})]


def test_line_writer_lines_queued_at_exit_are_all_written() -> None:
    script = textwrap.dedent("""
        from kaiju_plugins.logging import LoggingService
        from kaiju_tools import get_logger
        svc = LoggingService(loggers=[{"name": "exit", "handlers": True, "level": "INFO"}],
                             handlers=[{"cls": "JSONHandler", "name": "default"}])
        svc.configure()
        write = get_logger("exit.outcome").line_writer("rpc done", ("i",))
        for i in range(3000):
            write(20, (i,))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["data"]["i"] for line in out.stderr.splitlines()] == list(range(3000))


def test_queue_linger_is_checked() -> None:
    with pytest.raises(ConfigError, match="queue_linger"):
        LoggingService(queue_linger=-1)
    with pytest.raises(ValueError, match="linger"):
        LogQueue(linger=2)


class CountingStream(io.StringIO):
    """A text stream that counts its ``write`` calls."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@contextmanager
def _queued_json(name: str, stream: io.StringIO, linger: float) -> Iterator[LogQueue]:
    """A started :class:`LogQueue` writing logger ``name``'s records to ``stream`` as JSON lines."""
    from kaiju_plugins.logging import JSONHandler

    q = LogQueue(linger=linger)
    log = logging.getLogger(name)
    log.propagate = False
    log.addHandler(q.handler([JSONHandler(stream=stream)]))
    try:
        q.start()
        yield q
    finally:
        log.handlers.clear()


def test_the_writer_writes_a_burst_with_one_write_per_batch() -> None:
    stream = CountingStream()
    with _queued_json("lw.burst", stream, linger=0.05) as q:
        klog = get_logger("lw.burst", "INFO")
        for i in range(1000):
            klog.info("r", i=i)
        q.stop()
    assert [json.loads(line)["data"]["i"] for line in stream.getvalue().splitlines()] == list(range(1000))
    assert stream.writes < 1000


def test_stop_cuts_the_writers_linger_short(capfd: pytest.CaptureFixture[str]) -> None:
    """A writer lingering for its batch to fill is woken by ``stop``: the records queued are written
    before ``stop`` returns, even when ``stop`` may wait less than the linger (here 0.5 s of 1 s)."""
    stream = io.StringIO()
    with _queued_json("lw.linger", stream, linger=1.0) as q:
        get_logger("lw.linger", "INFO").info("queued", n=1)
        q.stop(timeout=0.5)
    assert "did not finish" not in capfd.readouterr().err
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["queued"]
    q.start()  # a restarted writer lingers again (the wake-up is not left set)
    assert not q._wake.is_set()  # noqa: SLF001 -- the state that makes the next linger wait
    q.stop()


def test_a_second_service_keeps_its_fast_path_when_the_first_closes(service: Served) -> None:
    _ours_only()
    first, _ = service
    second = LoggingService(loggers=[{"name": "lw2", "handlers": True}], handlers=[{"cls": "JSONHandler"}])
    second.configure()
    try:
        mine = line_writer_provider()
        first.write_directly()
        assert line_writer_provider() is mine is not None
    finally:
        second.unconfigure()
    assert line_writer_provider() is None


def test_outcome_lines_carry_the_outcome_records_fields_in_its_order() -> None:
    from kaiju_tools.outcomes import FIELDS, Outcome

    assert tuple(Outcome("http", "GET /", 200, 1.23456, "c", None).as_dict()) == FIELDS
    assert Outcome("http", "GET /", 200, 1.23456, "c", None).as_dict()["duration_ms"] == 1.235
