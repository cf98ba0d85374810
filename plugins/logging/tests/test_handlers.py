"""TextHandler / JSONHandler: streams, flushing, escaping, never losing a record."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from kaiju_plugins.logging import DataFormatter, JSONHandler, TextFormatter, TextHandler


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1


def record(msg: str = "m") -> logging.LogRecord:
    return logging.makeLogRecord({"msg": msg, "name": "t"})


def test_default_formatters_and_streams(capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(JSONHandler().formatter, DataFormatter)
    assert isinstance(TextHandler().formatter, TextFormatter)
    assert JSONHandler().stream is sys.stderr  # logs never mix with a command's output
    assert TextHandler().stream is sys.stderr
    assert TextHandler(stream="stdout").stream is sys.stdout


def test_formatter_settings_reach_the_default_formatter() -> None:
    handler = TextHandler(formatter_settings={"datefmt": "%Y"})
    assert handler.formatter is not None and handler.formatter.datefmt == "%Y"


def test_used_directly_every_record_is_flushed() -> None:
    stream = CountingStream()
    handler = JSONHandler(stream=stream)
    for i in range(3):
        handler.handle(record(f"r{i}"))
    assert stream.flushes == 3
    assert [json.loads(x)["msg"] for x in stream.getvalue().splitlines()] == ["r0", "r1", "r2"]


def test_filters_apply() -> None:
    stream = io.StringIO()
    handler = TextHandler(stream=stream)
    handler.addFilter(lambda r: r.getMessage() != "hidden")
    handler.handle(record("hidden"))
    handler.handle(record("shown"))
    assert "hidden" not in stream.getvalue() and "shown" in stream.getvalue()


def test_a_stream_that_cannot_take_utf8_gets_escapes() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    handler = JSONHandler(stream=stream)
    handler.handle(record("naïve ☃ 😀"))
    stream.flush()
    assert json.loads(raw.getvalue().decode("ascii"))["msg"] == "naïve ☃ 😀"


def test_behind_the_queue_a_subclass_keeps_its_own_emit() -> None:
    from kaiju_plugins.logging import LogQueue

    class Upper(JSONHandler):
        def emit(self, record: logging.LogRecord) -> None:
            self.stream.write("own " + self.format(record) + "\n")

    stream, plain_stream = CountingStream(), CountingStream()
    queue = LogQueue()
    front = queue.handler([Upper(stream=stream), JSONHandler(stream=plain_stream)])
    front.handle(logging.makeLogRecord({"msg": "quiet", "name": "t", "levelno": logging.INFO}))
    queue.drain()
    assert stream.getvalue().startswith("own {") and json.loads(stream.getvalue()[4:])["msg"] == "quiet"
    assert json.loads(plain_stream.getvalue())["msg"] == "quiet" and plain_stream.flushes == 1
