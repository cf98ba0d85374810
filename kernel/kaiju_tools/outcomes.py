"""Request outcomes: one :class:`Outcome` per finished HTTP request / RPC call.

A transport makes one record when a request is answered, logs it and hands it to every
``kaiju_outcome_sink`` of the app (metrics, audit...): the rpc plugin's HTTP view for JSON-RPC
requests (the rpc server's ``outcome_log`` level; WARNING when slower than ``slow_call_time``),
the kernel for every other web route (``run.outcome_log``; WARNING when slower than
``run.slow_request_time``). When the log level is disabled and no sink is registered, no
record is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["FIELDS", "LEVELS", "OUTCOME_KINDS", "Outcome", "OutcomeLog", "OutcomeSink", "deliver",
           "outcome_writers", "parse_level"]

LEVELS = ("DEBUG", "INFO", "WARNING", "off")
"""Values of an outcome log setting (the rpc server's ``outcome_log``, ``run.outcome_log``)."""


def parse_level(value: Any) -> int | None:
    """An outcome log setting as a :mod:`logging` level, ``None`` for off (``off``, ``false``, ``null``).

    :raises ValueError: not one of :data:`LEVELS`
    """
    if value is None or value is False or (isinstance(value, str) and value.lower() in ("off", "none", "")):
        return None
    if isinstance(value, str) and value.upper() in LEVELS:
        return int(logging.getLevelName(value.upper()))
    raise ValueError(f"expected one of {', '.join(LEVELS)}, got {value!r}")


FIELDS = ("kind", "method", "outcome", "duration_ms", "correlation_id", "scope", "batch_size")
"""The outcome line's extra fields, in order (the keys of :meth:`Outcome.as_dict`; a line
writer's keys)."""

OUTCOME_KINDS = ("http", "rpc")
"""Values of :attr:`Outcome.kind`."""


class Outcome:
    """What happened to one request: plain attributes, no behaviour (cheap to make).

    :param kind: ``"rpc"`` (a JSON-RPC request or batch) or ``"http"`` (another web request)
    :param method: the RPC method (``"batch"`` for a batch), or the HTTP route
    :param outcome: ``"result"``, or the error code (an ``int``: JSON-RPC code or HTTP status)
    :param duration_ms: milliseconds from the body being read to the answer
    :param correlation_id: the request's correlation id
    :param scope: the caller's scope (an int; ``None`` when permissions are off)
    :param batch_size: calls in the request (1 for a single call)
    """

    __slots__ = ("batch_size", "correlation_id", "duration_ms", "kind", "method", "outcome", "scope")

    def __init__(self, kind: str, method: str, outcome: str | int, duration_ms: float,
                 correlation_id: str | None, scope: int | None, batch_size: int = 1) -> None:
        self.kind = kind
        self.method = method
        self.outcome = outcome
        self.duration_ms = duration_ms
        self.correlation_id = correlation_id
        self.scope = scope
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return (f"<Outcome {self.kind} {self.method} {self.outcome} {self.duration_ms:.3f}ms "
                f"cid={self.correlation_id} scope={self.scope} batch={self.batch_size}>")

    def as_dict(self) -> dict[str, Any]:
        """The record's fields (the log line's extra fields; the duration to the microsecond)."""
        # round(x * 1000) / 1000, not round(x, 3): the same value but for exact binary ties,
        # without the decimal string round() with digits goes through
        return {"kind": self.kind, "method": self.method, "outcome": self.outcome,
                "duration_ms": round(self.duration_ms * 1000.0) / 1000.0,
                "correlation_id": self.correlation_id, "scope": self.scope, "batch_size": self.batch_size}


OutcomeSink = Callable[[Outcome], None]
"""``sink(outcome: Outcome) -> None``: called once per finished request; must not raise or block."""


def outcome_writers(logger: Any, *messages: str) -> list[Callable[[int, tuple[Any, ...]], None]]:
    """``write(level, values)`` per message: an outcome line with :data:`FIELDS` as its extras.

    The kernel logger's line writers (the logging plugin's fast path), or ``logger.log`` with
    the same extras for a logger without them. The caller checks ``isEnabledFor``.
    """
    if hasattr(logger, "line_writer"):
        return [logger.line_writer(message, FIELDS) for message in messages]

    def writer(message: str) -> Callable[[int, tuple[Any, ...]], None]:
        def write(level: int, values: tuple[Any, ...]) -> None:
            logger.log(level, message, **dict(zip(FIELDS, values, strict=True)))
        return write

    return [writer(message) for message in messages]


def deliver(record: Outcome, sinks: tuple[OutcomeSink, ...], logger: Any) -> None:
    """Hand ``record`` to each sink; a sink that raises is logged (with its name) and kept."""
    for sink in sinks:
        try:
            sink(record)
        except Exception:
            logger.exception("outcome sink failed", sink=repr(sink))


class OutcomeLog:
    """The outcome line and sinks of one transport (``kind``): the rpc view's, the plain routes'.

    :param logger: where the line goes (a kaiju logger: line writers, keyword extras)
    :param kind: :attr:`Outcome.kind` of its records
    :param level: the line's level, ``None``: no line (the sinks still get records)
    :param slow_ms: a request at least this slow is logged at WARNING, as ``"<kind> slow"``
    :param sinks: the app's ``kaiju_outcome_sink`` functions
    """

    __slots__ = ("done", "is_enabled", "kind", "level", "logger", "sinks", "slow", "slow_ms")

    def __init__(self, logger: Any, kind: str, level: int | None, slow_ms: float,
                 sinks: tuple[OutcomeSink, ...]) -> None:
        self.logger = logger
        self.kind = kind
        self.level = level
        self.slow_ms = slow_ms
        self.sinks = sinks
        #: the wrapped stdlib logger's own method when there is one: a Python call less
        self.is_enabled: Callable[[int], bool] = getattr(logger, "logger", logger).isEnabledFor
        self.done, self.slow = outcome_writers(logger, f"{kind} done", f"{kind} slow")

    def level_for(self, ms: float) -> int | None:
        """The level of the line of a request that took ``ms`` (``None``: no line)."""
        level = self.level
        if level is None:
            return None
        if ms >= self.slow_ms:
            level = logging.WARNING
        return level if self.is_enabled(level) else None

    def emit(self, log_level: int | None, method: str, outcome: str | int, ms: float,
             cid: str | None, scope: int | None, size: int) -> None:
        """Write the line at ``log_level`` (``None``: none) and hand the record to the sinks."""
        if log_level is not None:  # the values of Outcome.as_dict(), in its order (and its rounding)
            write = self.slow if ms >= self.slow_ms else self.done
            write(log_level, (self.kind, method, outcome, round(ms * 1000.0) / 1000.0, cid, scope, size))
        if self.sinks:
            deliver(Outcome(self.kind, method, outcome, ms, cid, scope, size), self.sinks, self.logger)
