"""``TextHandler`` and ``JSONHandler``: stream handlers with our formatters preset."""

from __future__ import annotations

import logging
import sys
from typing import Any, ClassVar, TextIO

from ._fixedrecord import FixedRecord
from .formatters import DataFormatter, TextFormatter

__all__ = ["JSONHandler", "StreamHandler", "TextHandler"]

_STREAMS = ("stdout", "stderr")
_DEFAULT = logging.Formatter()
_FIXED = frozenset({TextFormatter, DataFormatter})
"""Formatters that render a :class:`FixedRecord` themselves (exact classes: a subclass may
override ``format``)."""


class StreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes one line per record and can defer flushing.

    :param stream: ``"stderr"`` (default: logs never mix with a command's output on stdout),
        ``"stdout"`` (for platforms that ship stdout) or an open text stream
    :param formatter: a formatter instance (default: an instance of :attr:`formatter_class`)
    :param formatter_settings: keyword arguments for the default formatter

    Behind the log queue the listener sets :attr:`flush_each_record` to ``False``: only the
    listener thread writes, so ``handle`` takes no lock; it holds the batch's lines and
    :meth:`flush` (once per batch) writes them with one ``write`` and flushes the stream.
    Used directly, every record is written under the lock and flushed.
    """

    formatter_class: ClassVar[type[logging.Formatter]] = TextFormatter

    def __init__(
        self,
        stream: str | TextIO = "stderr",
        formatter: logging.Formatter | None = None,
        formatter_settings: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(stream, str):
            if stream not in _STREAMS:
                raise ValueError(
                    f"{type(self).__name__}: expected stream 'stdout' or 'stderr', got {stream!r}"
                )
            stream = getattr(sys, stream)
        super().__init__(stream)
        self.flush_each_record = True
        self._pending: list[str] = []
        self.setFormatter(formatter or self.formatter_class(**(formatter_settings or {})))

    def handle(self, record: logging.LogRecord | FixedRecord) -> bool:
        """Filter and emit ``record``; behind the queue (one writer thread) without the lock.

        A line writer's :class:`FixedRecord` goes to our formatters as it is; filters, another
        formatter, a subclass's ``emit`` or the direct path get the ``LogRecord`` it stands for.
        """
        if isinstance(record, FixedRecord):
            if (self.filters or self.flush_each_record or type(self.formatter) not in _FIXED
                    or type(self).emit is not StreamHandler.emit):
                record = record.to_record()
            else:  # the writer thread's path for a line writer's record: held for the batch's flush
                try:
                    self._pending.append(self.formatter.format_fixed(record) + self.terminator)  # type: ignore[union-attr]
                except RecursionError:
                    raise
                except Exception:  # noqa: BLE001 -- the stdlib's contract: report, never raise
                    self.handleError(record.to_record())
                return True
        if self.filters:
            result = self.filter(record)
            if not result:
                return False
            if isinstance(result, logging.LogRecord):
                record = result
        if self.flush_each_record:
            with self.lock:  # type: ignore[union-attr]
                self.emit(record)
            return True
        if type(self).emit is not StreamHandler.emit:  # a subclass's own emit
            self.emit(record)
            return True
        try:  # the writer thread's path: ``emit`` inlined, the line held until the batch's flush
            self._pending.append((self.formatter or _DEFAULT).format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 -- the stdlib's contract: report, never raise
            self.handleError(record)
        return True

    def flush(self) -> None:
        """Write the lines held for the batch (one ``write``), then flush the stream."""
        pending = self._pending
        if pending:
            with self.lock:  # type: ignore[union-attr]  # one flush at a time (the writer's, or at exit)
                count = len(pending)  # the writer thread may append meanwhile: those stay for the next
                text = "".join(pending[:count])
                del pending[:count]
                try:
                    try:
                        self.stream.write(text)
                    except UnicodeEncodeError:
                        self.stream.write(_ascii_escape(text))
                except RecursionError:
                    raise
                except Exception:  # noqa: BLE001 -- the stdlib's contract: report, never raise
                    self.handleError(logging.makeLogRecord({"msg": f"{count} log lines not written"}))
        super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and write it with a newline."""
        try:
            text = (self.formatter or _DEFAULT).format(record) + self.terminator
            stream = self.stream
            try:
                stream.write(text)
            except UnicodeEncodeError:  # a stream that cannot take UTF-8: escape, never lose it
                stream.write(_ascii_escape(text))
            if self.flush_each_record:
                stream.flush()
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 -- the stdlib's contract: report, never raise
            self.handleError(record)


def _ascii_escape(text: str) -> str:
    """Non-ASCII characters as JSON-compatible ``\\uXXXX`` escapes (surrogate pairs above U+FFFF)."""
    out = []
    for char in text:
        code = ord(char)
        if code < 128:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


class TextHandler(StreamHandler):
    """Writes :class:`~kaiju_plugins.logging.TextFormatter` lines (default: stderr)."""

    formatter_class = TextFormatter


class JSONHandler(StreamHandler):
    """Writes :class:`~kaiju_plugins.logging.DataFormatter` JSON lines (default: stderr)."""

    formatter_class = DataFormatter
