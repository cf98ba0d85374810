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

from kaiju_tools.outcomes import LEVELS, Outcome, OutcomeLog, parse_level

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
    log = OutcomeLog(logger, "rpc", level, slow_call_time * 1000.0, tuple(sinks))
    slow_ms, is_enabled, has_sinks, now = log.slow_ms, log.is_enabled, bool(log.sinks), time.time

    def emit(data: Any, out: Any, start: float, cid: str, scope: int) -> None:
        ms = (now() - start) * 1000.0
        log_level = level  # OutcomeLog.level_for, inline: this runs for every request
        if log_level is not None:
            if ms >= slow_ms:
                log_level = logging.WARNING
            if not is_enabled(log_level):
                log_level = None
        if log_level is None and not has_sinks:
            return  # the hot path of a disabled level: no record
        method, outcome, size = _summary(data, out)
        if size == 1:
            method = ascribe(method)
        log.emit(log_level, method, outcome, ms, cid, scope if scope > -(2**62) else None, size)

    return emit
