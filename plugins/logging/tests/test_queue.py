"""The log queue: records written off the caller's thread, context kept, overflow counted, no loss."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import pytest
from kaiju_plugins.logging import JSONHandler, LogQueue, QueueHandler
from kaiju_plugins.logging.testing import ListHandler
from kaiju_tools import Logger, context, get_logger


class Gate(logging.Handler):
    """Blocks in ``emit`` until :attr:`open` is set, so the queue fills up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.entered = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entered.set()
        self.open.wait(10)
        self.messages.append(record.getMessage())


class Broken(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError("handler is broken")

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 -- the stdlib's name
        self.errors = getattr(self, "errors", 0) + 1


@pytest.fixture
def queued() -> Iterator[tuple[Logger, LogQueue, ListHandler]]:
    """Logger ``t`` (kaiju's) writing to a ListHandler through a running queue."""
    std = logging.getLogger("t")
    std.setLevel(logging.DEBUG)
    std.propagate = False
    target = ListHandler()
    q = LogQueue(maxsize=10_000)
    std.addHandler(q.handler([target]))
    q.start()
    yield get_logger("t"), q, target
    q.stop()


def test_records_are_written_by_the_listener_in_order(queued: tuple[Logger, LogQueue, ListHandler]) -> None:
    log, q, target = queued
    for i in range(2000):
        log.info("n=%d", i)
    q.stop()
    assert target.messages() == [f"n={i}" for i in range(2000)]
    assert set(target.threads) == {q.name}


def test_stop_drains_every_record_from_many_threads(queued: tuple[Logger, LogQueue, ListHandler]) -> None:
    log, q, target = queued

    def work(n: int) -> None:
        for i in range(300):
            log.info("w", worker=n, i=i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.stop()
    assert len(target.records) == 1200
    for n in range(4):
        assert [r.data["i"] for r in target.records if r.data["worker"] == n] == list(range(300))


def test_context_survives_await_tasks_threads_and_executors(
    queued: tuple[Logger, LogQueue, ListHandler],
) -> None:
    log, q, target = queued

    async def request(cid: str) -> None:
        tokens = context.bind(correlation_id=cid, user=cid.upper())
        try:
            await asyncio.sleep(0)
            log.info("after await")
            await asyncio.create_task(asyncio.to_thread(log.info, "in to_thread"))
            # run_in_executor does not copy the context by itself (asyncio.to_thread does)
            ctx = contextvars.copy_context()
            await asyncio.get_running_loop().run_in_executor(None, ctx.run, log.info, "in executor")

            async def child() -> None:
                await asyncio.sleep(0)
                log.info("in task")

            await asyncio.create_task(child())
        finally:
            context.reset(tokens)
        log.info("after reset")

    async def main() -> None:
        await asyncio.gather(request("aaa"), request("bbb"))

    asyncio.run(main())
    q.stop()
    out = target.json()
    assert len(out) == 10
    for line in out:
        if line["msg"] == "after reset":
            assert line["cid"] is None and line["data"] == {}
        else:
            assert line["cid"] in ("aaa", "bbb")
            assert line["data"] == {"user": line["cid"].upper()}


def test_message_args_are_frozen_when_logged(queued: tuple[Logger, LogQueue, ListHandler]) -> None:
    log, q, target = queued
    items = [1]
    log.info("items=%s", items)
    items.append(2)
    q.stop()
    assert target.messages() == ["items=[1]"]


def test_overflow_drops_counts_and_reports() -> None:
    gate = Gate()
    q = LogQueue(maxsize=5)
    front = q.handler([gate])
    log = logging.getLogger("t")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(front)
    q.start()
    try:
        log.info("first")
        assert gate.entered.wait(5)
        for i in range(20):
            log.info("r%d", i)
        assert q.dropped == 15
    finally:
        gate.open.set()
        q.stop()
    assert gate.messages[:6] == ["first", "r0", "r1", "r2", "r3", "r4"]
    assert gate.messages[6:] == ["log queue full: 15 records dropped"]
    assert "dropped=15" in repr(q)


def test_a_broken_handler_does_not_stop_the_writer(queued: tuple[Logger, LogQueue, ListHandler]) -> None:
    log, q, target = queued
    broken = Broken()
    logging.getLogger("t").addHandler(q.handler([broken]))
    log.info("one")
    log.info("two")
    q.stop()
    assert target.messages() == ["one", "two"]
    assert broken.errors == 2


def test_queue_handler_level_is_the_lowest_target_level() -> None:
    info, error = ListHandler(), ListHandler()
    info.setLevel(logging.INFO)
    error.setLevel(logging.ERROR)
    q = LogQueue()
    front = q.handler([info, error])
    assert isinstance(front, QueueHandler) and front.level == logging.INFO
    log = logging.getLogger("t")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(front)
    q.start()
    log.debug("d")
    log.info("i")
    log.error("e")
    q.stop()
    assert info.messages() == ["i", "e"] and error.messages() == ["e"]


def test_stream_handlers_flush_per_batch_behind_the_queue() -> None:
    handler = JSONHandler(stream=io.StringIO())
    q = LogQueue()
    q.handler([handler])
    assert handler.flush_each_record is False
    q.start()
    q.stop()
    assert handler.flush_each_record is True


def test_stop_gives_up_on_a_writer_blocked_for_good(capsys: pytest.CaptureFixture[str]) -> None:
    gate = Gate()
    q = LogQueue()
    log = logging.getLogger("t")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(q.handler([gate]))
    q.start()
    log.info("stuck")
    log.info("waiting")
    assert gate.entered.wait(5)
    q.stop(timeout=0.05)
    assert "the log writer did not finish within 0.05 s; records still queued: 1" in capsys.readouterr().err
    gate.open.set()


def test_bad_queue_size() -> None:
    with pytest.raises(ValueError, match="expected maxsize to be a positive int, got 0"):
        LogQueue(0)


def test_records_queued_at_exit_are_written() -> None:
    script = textwrap.dedent("""
        import logging
        from kaiju_plugins.logging import JSONHandler, LogQueue
        q = LogQueue()
        from kaiju_tools import get_logger
        logging.getLogger("exit").addHandler(q.handler([JSONHandler()]))
        log = get_logger("exit", "INFO")
        q.start()
        for i in range(3000):
            log.info("r", i=i)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stderr.splitlines()]
    assert [line["data"]["i"] for line in lines] == list(range(3000))
