"""``TextFormatter`` (for people at a terminal) and ``DataFormatter`` (one JSON object per line).

Both accept any :class:`logging.LogRecord`, ours or a library's, and never raise: a value
JSON cannot hold is written as its ``repr``, a message whose ``msg % args`` fails is
written as it is with the error in ``data["log_error"]``, and exceptions are rendered with
their traceback. Whatever the fields hold, each record is one line of valid UTF-8 with
control characters escaped (see :mod:`._escape`).
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import copy_context
from typing import Any

import ujson

from ._encode import ENCODER, ENCODERS, ORJSON_OPTIONS, UJSON_OPTIONS, dumps, orjson, safe_repr
from ._escape import json_line, text_field
from ._fixedrecord import FixedRecord
from ._record import (
    CID_VAR,
    CONTEXT_ATTR,
    DEADLINE_VAR,
    EXTRA_VAR,
    FAST_CONTEXT,
    PLAIN_SIZE,
    SID_VAR,
    current_pid,
    exception_text,
    plain_fields,
    record_context,
    record_data,
    record_message,
)

__all__ = ["DataFormatter", "TextFormatter"]

_ujson_dumps = ujson.dumps
_orjson_dumps = orjson.dumps if orjson is not None else None
_PLAIN_SIZE = PLAIN_SIZE
_PRINTABLE_REPR = frozenset({str, int, float, bool, type(None)})
"""Types whose ``repr`` is always printable (a ``str``'s escapes what is not)."""


def _fallback(record: logging.LogRecord, exc: BaseException) -> dict[str, Any]:
    """The fields of a record that broke its formatter, each read defensively."""
    created = getattr(record, "created", None)
    return {
        "t": created if type(created) is float else safe_repr(created),
        "name": safe_repr(getattr(record, "name", None)),
        "lvl": safe_repr(getattr(record, "levelname", None)),
        "msg": safe_repr(getattr(record, "msg", None)),
        "data": {"log_error": f"formatter failed: {type(exc).__name__}: {safe_repr(exc)}"},
        "pid": _pid_of(record),
    }


def _pid_of(record: logging.LogRecord) -> int:
    try:
        return current_pid(record)
    except Exception:  # noqa: BLE001 -- a record without a __dict__
        return os.getpid()


def _fields(record: logging.LogRecord) -> tuple[str, Any, Any, Any, dict[str, Any]]:
    """``(message, cid, sid, deadline, data)`` of any record (the general path)."""
    cid, sid, deadline, extra = record_context(record)
    msg, error = record_message(record)
    data = record_data(record, extra)
    if error:
        data["log_error"] = error
    return msg, cid, sid, deadline, data


class TextFormatter(logging.Formatter):
    """``time | level | correlation id | logger name | message | extra data``, for reading.

    ::

        12:18:40 |  INFO | 135125a5 | app.rpc | rpc accepted | {'request': {'method': 'rpc.api', 'id': 0}}

    A record without a correlation id shows ``-`` in that column. Each record is one line:
    control characters are escaped (``\\n``, ``\\x1b``), bytes that were not UTF-8 are
    written ``\\xe9``, and ``|`` inside a column is written ``\\|``, so `` | `` only ever
    separates columns. An exception's traceback is the last column, its line breaks
    escaped.

    :param datefmt: :func:`time.strftime` format of the time column (local time)
    :param pid: add the process id after the level (``12:18:40 |  INFO | 4242 | ...``), to
        tell the workers of a multi-process server apart
    """

    def __init__(self, datefmt: str = "%H:%M:%S", pid: bool = False, **kws: Any) -> None:
        super().__init__(datefmt=datefmt, **kws)
        self.pid = bool(pid)
        self._separators = 5 + self.pid
        self._last: tuple[int, str] = (-1, "")
        self._head: tuple[int, int, str | None] = (-1, -1, None)

    def _time(self, created: float) -> str:
        second = int(created)
        last = self._last
        if last[0] == second:
            return last[1]
        text = time.strftime(self.datefmt or "%H:%M:%S", self.converter(created))
        self._last = (second, text)
        return text

    @staticmethod
    def _data(data: dict[str, Any]) -> str:
        try:
            return repr(data)
        except Exception:  # noqa: BLE001 -- one broken value never hides the others
            return "{" + ", ".join(f"{safe_repr(k)}: {safe_repr(v)}" for k, v in data.items()) + "}"

    def format_fixed(self, record: FixedRecord) -> str:
        """A line writer's record: the line :meth:`format` writes for the record it stands for."""
        try:
            shape, level, values, created, ctx, process = record
            name_msg = shape.name_msg
            if name_msg is not None and FAST_CONTEXT and not ctx.get(EXTRA_VAR):
                cid = ctx.get(CID_VAR) or "-"
                data = shape.text % values
                head = self._head
                if head[0] != int(created) or head[1] != level:
                    head = self._make_head(created, record.levelname, level)
                # each part is checked, not the whole line: the repr of a str, int, float, bool or
                # None is printable, so only '|' can need escaping in the extras
                if (head[2] is not None and _PRINTABLE_REPR.issuperset(map(type, values)) and "|" not in data
                        and type(cid) is str and "|" not in cid and cid.isprintable()):
                    if self.pid:
                        return f"{head[2]}{process} | {cid} | {name_msg} | {data}"
                    return f"{head[2]}{cid} | {name_msg} | {data}"
        except Exception:  # noqa: BLE001 -- a value's repr failed: the general path notes it
            pass
        return self.format(record.to_record())

    def _make_head(self, created: float, levelname: str, level: int) -> tuple[int, int, str | None]:
        """``(second, level, "time | level | ")``, the head ``None`` when it needs escaping."""
        text = f"{self._time(created)} | {levelname:>5} | "
        head = (int(created), level, text if text.isprintable() and text.count("|") == 2 else None)
        self._head = head
        return head

    def format(self, record: logging.LogRecord | FixedRecord) -> str:
        """Render ``record`` as one text line; never raises."""
        if isinstance(record, FixedRecord):
            return self.format_fixed(record)
        try:
            fields = plain_fields(record)
            msg, cid, _, _, data = fields if fields is not None else _fields(record)
            head = f"{self._time(record.created)} | {record.levelname:>5} | "
            if self.pid:
                head += f"{current_pid(record)} | "
            cid = "-" if cid is None or cid == "" else cid
            line = f"{head}{cid} | {record.name} | {msg} | {self._data(data)}"
            # the common line needs no escaping: one scan for non-printables, one count of '|'
            if not line.isprintable() or line.count("|") != self._separators:
                line = " | ".join((f"{self._time(record.created)} | {text_field(record.levelname):>5}",
                                   *([str(current_pid(record))] if self.pid else []),
                                   text_field(cid), text_field(record.name), text_field(msg),
                                   text_field(self._data(data))))
            if record.exc_info or record.exc_text or record.stack_info:
                exc = exception_text(self, record)
                if exc:
                    return f"{line} | {text_field(exc)}"
            return line
        except Exception as exc:  # noqa: BLE001 -- a log line must never raise
            broken = _fallback(record, exc)
            return " | ".join(text_field(broken[k]) for k in ("t", "lvl", "name", "msg", "data"))


class DataFormatter(logging.Formatter):
    """One compact JSON object per record, for log collectors::

        {"t":1682328051.3172748,"name":"app.rpc","lvl":"INFO","msg":"rpc accepted","cid":"20d35cfc",
         "sid":"6f580b919f00704584a0453a883310be","t_max":1682328142,"data":{"request":{...}},"pid":4242}

    Keys: ``t`` (unix time), ``name`` (logger), ``lvl``, ``msg``, ``cid`` (correlation id),
    ``sid`` (session id), ``t_max`` (request deadline, unix time), ``data`` (keyword extras,
    ``extra=`` attributes and extra context keys), ``pid`` (process id); ``cid``, ``sid`` and
    ``t_max`` are ``null`` outside a request. ``exc`` holds the traceback text when an
    exception is logged. Output is UTF-8 (not ``\\u`` escapes) and ``/`` is not escaped;
    control characters, U+2028/U+2029 are ``\\u`` escapes and bytes that were not UTF-8
    (lone surrogates) are written as text (``"caf\\\\xe9"``), so every line is valid UTF-8.

    :param encoder: ``"orjson"`` (the default when orjson is installed) or ``"ujson"``. Both
        write the same line for the same record, except for values JSON has no type for:
        orjson writes NaN and infinities as ``null`` (ujson: ``"nan"``), UUIDs as their
        string and enums as their value (ujson: their ``repr``)
    :param kws: :class:`logging.Formatter` parameters
    """

    def __init__(self, encoder: str | None = None, **kws: Any) -> None:
        super().__init__(**kws)
        encoder = ENCODER if encoder is None else encoder
        if encoder not in ENCODERS:
            hint = " (install orjson, or use 'ujson')" if encoder == "orjson" else ""
            raise ValueError(f"DataFormatter: expected encoder to be one of {list(ENCODERS)}, "
                             f"got {encoder!r}{hint}")
        self.encoder = encoder
        self._orjson = _orjson_dumps if encoder == "orjson" else None

    def format_fixed(self, record: FixedRecord) -> str:
        """A line writer's record: the line :meth:`format` writes for the record it stands for."""
        try:
            shape, _, values, created, ctx, process = record
            if not FAST_CONTEXT or ctx.get(EXTRA_VAR):
                return self.format(record.to_record())
            obj = {
                "t": created, "name": shape.name, "lvl": record.levelname, "msg": shape.msg,
                "cid": ctx.get(CID_VAR), "sid": ctx.get(SID_VAR), "t_max": ctx.get(DEADLINE_VAR),
                "data": dict(zip(shape.keys, values, strict=False)), "pid": process,
            }
        except Exception:  # noqa: BLE001 -- a log line must never raise
            return self.format(record.to_record())
        return self._encode(obj)

    def format(self, record: logging.LogRecord | FixedRecord) -> str:
        """Render ``record`` as one JSON line; never raises."""
        if isinstance(record, FixedRecord):
            return self.format_fixed(record)
        try:
            attrs = record.__dict__
            msg, data, ctx = attrs["msg"], attrs.get("data"), attrs.get(CONTEXT_ATTR)
            if ctx is None:
                ctx = copy_context()
                size = len(attrs) + 1
            else:
                size = len(attrs)
            # the common record, inlined (this is the hot path of the writer thread): a str
            # message without args, no extra attributes, no extra context keys
            if (
                type(msg) is str and not attrs["args"] and size <= _PLAIN_SIZE + (data is not None)
                and (data is None or type(data) is dict)
                and FAST_CONTEXT and not ctx.get(EXTRA_VAR)  # type: ignore[arg-type]
            ):
                pid = attrs["process"]
                obj = {
                    "t": attrs["created"], "name": attrs["name"], "lvl": attrs["levelname"], "msg": msg,
                    "cid": ctx.get(CID_VAR), "sid": ctx.get(SID_VAR), "t_max": ctx.get(DEADLINE_VAR),
                    "data": {} if data is None else data,
                    "pid": pid if type(pid) is int else current_pid(record),
                }
            else:
                msg, cid, sid, deadline, data = _fields(record)
                obj = {
                    "t": record.created, "name": record.name, "lvl": record.levelname, "msg": msg,
                    "cid": cid, "sid": sid, "t_max": deadline, "data": data, "pid": current_pid(record),
                }
            if attrs["exc_info"] or attrs["exc_text"] or attrs["stack_info"]:
                exc = exception_text(self, record)
                if exc:
                    obj["exc"] = exc
        except Exception as exc:  # noqa: BLE001 -- a log line must never raise
            return json_line(dumps(_fallback(record, exc)))
        return self._encode(obj)

    def _encode(self, obj: dict[str, Any]) -> str:
        """``obj`` as one line of JSON; never raises."""
        try:
            fast = self._orjson
            if fast is not None:
                line = fast(obj, default=safe_repr, option=ORJSON_OPTIONS).decode()
            else:
                line = _ujson_dumps(obj, *UJSON_OPTIONS)
        except Exception:  # noqa: BLE001 -- NaN, cycles, surrogates, huge ints: the total path
            return json_line(dumps(obj))
        if line.isascii() and "\x7f" not in line:  # json_line's own first check, inlined
            return line
        return json_line(line)
