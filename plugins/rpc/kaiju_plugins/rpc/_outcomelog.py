"""The request outcome log: one record per HTTP request carrying JSON-RPC (``outcome_log``).

:func:`make_emitter` is called once when the server starts; the view calls what it returns
(or nothing, when it returns ``None``) with the decoded body and the answer. The record
(:class:`kaiju_tools.outcomes.Outcome`) is built only when it is logged or a sink wants it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from kaiju_tools.outcomes import LEVELS, Outcome, deliver, outcome_writers, parse_level

__all__ = ["LEVELS", "make_emitter", "parse_level"]

Emitter = Callable[[Any, Any, float, str, int], None]


def _summary(data: Any, out: Any) -> tuple[str, str | int, int]:
    """(method, outcome, batch size) of a decoded body and its answer."""
    if type(data) is list:
        outcome: str | int = "result"
        if type(out) is list:
            for item in out:
                if type(item) is dict and "error" in item:
                    outcome = item["error"].get("code", "error")
                    break
        return "batch", outcome, len(data)
    method = data.get("method") if type(data) is dict else None
    if type(method) is not str:
        method = "?"
    if type(out) is dict and "error" in out:
        return method, out["error"].get("code", "error"), 1
    return method, "result", 1


def make_emitter(logger: Any, level: int | None, slow_call_time: float,
                 sinks: Sequence[Callable[[Outcome], None]], ascribe: Callable[[str], str]) -> Emitter | None:
    """The per-request outcome function, or ``None`` when there is nothing to do (log off, no sinks).

    :param logger: the server's logger
    :param level: the log level of a record, ``None``: no log
    :param slow_call_time: seconds; a slower request is logged at WARNING (when the log is on)
    :param sinks: the ``kaiju_outcome_sink`` functions of the app
    :param ascribe: the method name as logged: a registered method, or one fixed label
    """
    if level is None and not sinks:
        return None
    slow_ms = slow_call_time * 1000.0
    is_enabled = getattr(logger, "logger", logger).isEnabledFor  # the wrapped logger: a call less
    sinks = tuple(sinks)
    now = time.time
    done, slow = outcome_writers(logger, "rpc done", "rpc slow")

    def emit(data: Any, out: Any, start: float, cid: str, scope: int) -> None:
        ms = (now() - start) * 1000.0
        log_level = level
        if log_level is not None:
            if ms >= slow_ms:
                log_level = logging.WARNING
            if not is_enabled(log_level):
                log_level = None
        if log_level is None and not sinks:
            return  # the hot path of a disabled level: no record
        method, outcome, size = _summary(data, out)
        if size == 1:
            method = ascribe(method)
        if scope <= -(2**62):
            scope = None  # type: ignore[assignment]
        if log_level is not None:  # the values of Outcome.as_dict(), in its order (and its rounding)
            write = slow if log_level == logging.WARNING and ms >= slow_ms else done
            write(log_level, ("rpc", method, outcome, round(ms * 1000.0) / 1000.0, cid, scope, size))
        if not sinks:
            return
        deliver(Outcome("rpc", method, outcome, ms, cid, scope, size), sinks, logger)

    return emit
