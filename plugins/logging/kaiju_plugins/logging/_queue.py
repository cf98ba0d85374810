"""The log queue: loggers put records on it, one listener thread writes them.

Caller side (any thread, the event loop included) a :class:`QueueHandler` captures the
caller's :mod:`contextvars` context, freezes ``msg % args`` and puts the record on a
bounded queue: no formatting of extras, no encoding, no I/O. The listener thread takes
records in batches, hands each to its target handlers and flushes them once per batch.

When the queue is full, records are dropped and counted; the listener writes one warning
record with the count as soon as it catches up. :meth:`LogQueue.stop` drains everything
queued before it returns, so nothing is lost at shutdown.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from contextvars import copy_context
from typing import Any

from ._fixedrecord import FixedRecord
from ._record import CONTEXT_ATTR

__all__ = ["DROP_LOGGER", "LINGER", "LogQueue", "QueueHandler"]

DROP_LOGGER = "kaiju.logging"
"""Logger name of the warning record that reports dropped records."""

_STOP = object()
_FLUSH_EVERY = 512
LINGER = 0.005
"""Default :attr:`LogQueue.linger`: 5 ms, unnoticeable in a log, ten or more records a batch under load."""


class LogQueue:
    """A bounded record queue with one listener thread.

    :param maxsize: records the queue holds before new ones are dropped (and counted)
    :param name: name of the listener thread
    :param linger: seconds the listener waits after the first record of a batch, so that a
        burst is written (and flushed) at once rather than a record at a time; ``0``: none
    """

    def __init__(self, maxsize: int = 10_000, name: str = "kaiju-log-writer", linger: float = LINGER) -> None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
            raise ValueError(f"LogQueue: expected maxsize to be a positive int, got {maxsize!r}")
        if not isinstance(linger, (int, float)) or isinstance(linger, bool) or not 0 <= linger <= 1:
            raise ValueError(f"LogQueue: expected linger to be seconds between 0 and 1, got {linger!r}")
        self.maxsize = maxsize
        self.name = name
        self.linger = float(linger)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._qsize = self._queue.qsize
        self._thread: threading.Thread | None = None
        self._drop_lock = threading.Lock()
        self._dropped = 0
        self._reported = 0
        self._targets: set[logging.Handler] = set()
        self._wake = threading.Event()  # set by stop(): cuts a linger short

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LogQueue {state} size={self._qsize()}/{self.maxsize} dropped={self._dropped}>"

    @property
    def running(self) -> bool:
        """Whether the listener thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def dropped(self) -> int:
        """Records dropped so far because the queue was full."""
        return self._dropped

    def handler(self, targets: Sequence[logging.Handler]) -> QueueHandler:
        """A handler that queues records for ``targets`` (attach it to a logger)."""
        self._targets.update(targets)
        for target in targets:
            if hasattr(target, "flush_each_record"):
                target.flush_each_record = False
        return QueueHandler(self, targets)

    def inline_parts(self) -> tuple[Callable[[], int], Callable[[Any], None]]:
        """``(qsize, put)`` of the underlying queue, for a handler that inlines :meth:`put`."""
        return self._qsize, self._queue.put

    def put(self, item: tuple[tuple[logging.Handler, ...], logging.LogRecord | FixedRecord]) -> None:
        """Queue ``(targets, record)``, or drop and count it when the queue is full."""
        if self._qsize() >= self.maxsize:
            with self._drop_lock:
                self._dropped += 1
            return
        self._queue.put(item)

    def start(self) -> None:
        """Start the listener thread (no-op when it runs already)."""
        if self.running:
            return
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def stop(self, timeout: float = 10.0) -> None:
        """Write every queued record, flush the handlers and stop the listener."""
        atexit.unregister(self.stop)
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            self._wake.set()  # a lingering writer goes on at once
            thread.join(timeout)
            if thread.is_alive():  # a stream blocked for good: never write from two threads
                _print_error(f"the log writer did not finish within {timeout:g} s; "
                             f"records still queued: {max(0, self._qsize() - 1)}")
                return
        self.drain()
        for target in self._targets:
            if hasattr(target, "flush_each_record"):
                target.flush_each_record = True

    def drain(self) -> None:
        """Write what is queued now, in the calling thread (used after the listener stopped)."""
        touched: set[logging.Handler] = set()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                self._dispatch(item, touched)
        self._finish_batch(touched)

    def _run(self) -> None:
        get, get_nowait, qsize = self._queue.get, self._queue.get_nowait, self._qsize
        touched: set[logging.Handler] = set()
        touch = touched.add
        linger, wait = self.linger, self._wake.wait
        while True:
            item = get()
            if linger and item is not _STOP and qsize() < _FLUSH_EVERY:
                # let the burst this record belongs to arrive (one write for all); stop() cuts it short
                wait(linger)
            count = 0
            while item is not _STOP:
                targets, record = item  # _dispatch, inlined: the writer's hot loop
                for target in targets:
                    if record.levelno >= target.level:
                        try:
                            target.handle(record)
                        except Exception:  # noqa: BLE001 -- a broken handler never stops the writer
                            target.handleError(record)
                        touch(target)
                count += 1
                if count % _FLUSH_EVERY == 0:
                    self._finish_batch(touched)
                if not qsize():  # the only reader: no exception raised and caught per batch
                    break
                item = get_nowait()
            self._finish_batch(touched)
            if item is _STOP:
                return

    @staticmethod
    def _dispatch(item: Any, touched: set[logging.Handler]) -> None:
        targets, record = item
        for target in targets:
            if record.levelno >= target.level:
                try:
                    target.handle(record)
                except Exception:  # noqa: BLE001 -- a broken handler never stops the writer
                    target.handleError(record)
                touched.add(target)

    def _finish_batch(self, touched: set[logging.Handler]) -> None:
        if self._dropped != self._reported:
            self._report_drops(touched)
        for target in touched:
            try:
                target.flush()
            except Exception:  # noqa: BLE001
                _print_error(f"flushing log handler {target!r} failed")
        touched.clear()

    def _report_drops(self, touched: set[logging.Handler]) -> None:
        total = self._dropped
        new, self._reported = total - self._reported, total
        record = logging.LogRecord(
            DROP_LOGGER, logging.WARNING, __file__, 0,
            "log queue full: %d records dropped", (new,), None,
        )
        record.data = {"dropped": new, "dropped_total": total, "queue_size": self.maxsize}
        self._dispatch((tuple(self._targets), record), touched)


class QueueHandler(logging.Handler):
    """Puts records on a :class:`LogQueue` for a fixed set of target handlers.

    Its level is the lowest level of its targets, so records no target wants are never
    queued. ``handle`` takes no lock: the queue is thread-safe.
    """

    def __init__(self, log_queue: LogQueue, targets: Iterable[logging.Handler]) -> None:
        self.targets = tuple(targets)
        super().__init__(min((t.level for t in self.targets), default=logging.NOTSET))
        self.log_queue = log_queue
        self._put = log_queue.put
        self._qsize, self._queue_put = log_queue.inline_parts()  # put inlined in handle
        self._maxsize = log_queue.maxsize

    def __repr__(self) -> str:
        names = ", ".join(t.get_name() or type(t).__name__ for t in self.targets)
        return f"<QueueHandler -> [{names}]>"

    def handle(self, record: logging.LogRecord) -> bool:
        """Capture the caller's context, freeze the message and queue the record."""
        if self.filters and not self.filter(record):
            return False
        # _record.capture_context, inlined (the caller's hot path); an attribute, not through
        # record.__dict__, so the record crosses the queue without its dict (the writer makes it)
        if getattr(record, CONTEXT_ATTR, None) is None:
            setattr(record, CONTEXT_ATTR, copy_context())
        if record.args:
            with suppress(Exception):  # on failure the formatter notes the error
                record.msg, record.args = record.getMessage(), None
        if self._qsize() < self._maxsize:  # LogQueue.put, inlined
            self._queue_put((self.targets, record))
        else:
            self._put((self.targets, record))  # counts the drop
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Same as :meth:`handle` (for code that calls ``emit`` directly)."""
        self.handle(record)


def _print_error(message: str) -> None:
    with suppress(Exception):  # stderr itself may be gone at exit
        sys.stderr.write(f"kaiju logging: {message}\n")
