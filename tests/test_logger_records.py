"""The kernel logger's records are the stdlib's records (issue 18: made faster, not different).

``kaiju_tools.Logger`` builds the common call's :class:`logging.LogRecord` itself
(``kaiju_tools._logrecord``): these tests log the same call through the kernel logger and
through the stdlib logger and compare every attribute, with the stdlib's switches on and
off, inside and outside an asyncio task, and check that a custom record factory or logger
class still gets its say.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from kaiju_tools import get_logger

TIMES = {"created", "msecs", "relativeCreated"}


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[Kept]:
    handler = Kept()
    logger = logging.getLogger("t.records")
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(saved[0])
    logger.propagate = saved[1]


def both(handler: Kept, *args: Any) -> tuple[logging.LogRecord, logging.LogRecord]:
    """The same call through the kernel logger and through the stdlib logger, on one line."""
    ours, std = get_logger("t.records"), logging.getLogger("t.records")
    ours.warning(*args, user=7); std.warning(*args, extra={"data": {"user": 7}})  # same line  # noqa: E702 -- one line number for both
    return handler.records[-2], handler.records[-1]


def assert_same(ours: logging.LogRecord, theirs: logging.LogRecord) -> None:
    assert type(ours) is type(theirs) is logging.LogRecord
    assert list(ours.__dict__) == list(theirs.__dict__)  # same attributes, same order
    for key, value in theirs.__dict__.items():
        if key not in TIMES:
            assert ours.__dict__[key] == value, key
    assert abs(ours.created - theirs.created) < 5
    assert ours.getMessage() == theirs.getMessage()


def test_a_kernel_logger_record_is_the_stdlib_record(kept: Kept) -> None:
    ours, theirs = both(kept, "user %s logged in", "ann")
    assert_same(ours, theirs)
    assert ours.pathname == __file__ and ours.funcName == "both" and ours.filename == "test_logger_records.py"
    assert ours.module == "test_logger_records" and ours.data == {"user": 7}  # type: ignore[attr-defined]
    assert ours.process == os.getpid() and ours.levelname == "WARNING"
    assert ours.msecs == int((ours.created - int(ours.created)) * 1000) + 0.0  # LogRecord's formula


def test_a_mapping_argument_and_no_argument(kept: Kept) -> None:
    assert_same(*both(kept, "%(who)s came", {"who": "ann"}))
    assert kept.records[-1].getMessage() == "ann came"
    assert_same(*both(kept, "plain"))


def test_the_stdlib_switches_are_honoured(kept: Kept, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "_srcfile", None)
    for name in ("logThreads", "logProcesses", "logMultiprocessing", "logAsyncioTasks"):
        if hasattr(logging, name):
            monkeypatch.setattr(logging, name, False)
    ours, theirs = both(kept, "lean")
    assert_same(ours, theirs)
    assert ours.lineno == 0 and ours.thread is None and ours.process is None and ours.processName is None


def test_inside_an_asyncio_task(kept: Kept) -> None:
    async def main() -> tuple[logging.LogRecord, logging.LogRecord]:
        return both(kept, "in a task")  # asyncio.run runs main as a task (Python 3.12+: taskName)

    assert_same(*asyncio.run(main()))


def test_a_custom_record_factory_still_makes_the_records(kept: Kept) -> None:
    default = logging.getLogRecordFactory()

    def factory(*args: Any, **kws: Any) -> logging.LogRecord:
        record = default(*args, **kws)
        record.tenant = "a"  # type: ignore[attr-defined]
        return record

    logging.setLogRecordFactory(factory)
    try:
        get_logger("t.records").info("with a factory", user=1)
    finally:
        logging.setLogRecordFactory(default)
    record = kept.records[-1]
    assert record.tenant == "a" and record.data == {"user": 1}  # type: ignore[attr-defined]


def test_a_logger_class_of_its_own_still_makes_the_records() -> None:
    class Tagging(logging.Logger):
        def makeRecord(self, *args: Any, **kws: Any) -> logging.LogRecord:  # noqa: N802 -- the stdlib's name
            record = super().makeRecord(*args, **kws)
            record.tagged = True  # type: ignore[attr-defined]
            return record

    handler = Kept()
    logger = Tagging("t.records.tagging")
    logger.addHandler(handler)
    from kaiju_tools import Logger

    Logger(logger).warning("tagged", user=2)
    assert handler.records[0].tagged and handler.records[0].data == {"user": 2}  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_records_its_own_pid(kept: Kept) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: log, send the record's pid, leave without running the parent's cleanup
        try:
            get_logger("t.records").info("from the child")
            os.write(write, str(kept.records[-1].process).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_pid = int(pipe.read())
    os.waitpid(pid, 0)
    assert child_pid == pid != os.getpid()


def test_logger_filters_and_disabled_loggers_still_apply(kept: Kept) -> None:
    logger = logging.getLogger("t.records")
    drop_zero = logging.Filter()
    drop_zero.filter = lambda record: record.data != {"user": 0}  # type: ignore[method-assign,attr-defined]
    logger.addFilter(drop_zero)
    try:
        get_logger("t.records").info("kept", user=1)
        get_logger("t.records").info("dropped", user=0)
    finally:
        logger.removeFilter(drop_zero)
    logger.disabled = True
    try:
        get_logger("t.records").info("disabled", user=2)
    finally:
        logger.disabled = False
    assert [r.getMessage() for r in kept.records] == ["kept"]


def test_in_another_thread(kept: Kept) -> None:
    import threading

    out: list[tuple[logging.LogRecord, logging.LogRecord]] = []
    worker = threading.Thread(target=lambda: out.append(both(kept, "in a thread")), name="worker-7")
    worker.start()
    worker.join()
    assert_same(*out[0])
    assert out[0][0].threadName == "worker-7" and out[0][0].thread == worker.ident
