"""Unexpected exceptions of RPC methods, logged without flooding: one traceback per distinct error per window.

Expected errors (:class:`~._errors.RPCError` and its subclasses, invalid params, permission
errors) are answers, not incidents: they are never logged here. An unexpected exception is
logged at ERROR with its traceback the first time; the same error again (same method, same
exception type, raised at the same file and line) within ``window`` seconds is only counted,
and the next traceback logged for it after the window carries ``suppressed``: how many were
not logged meanwhile.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["ErrorLog"]


class ErrorLog:
    """Rate-limits tracebacks of identical errors (see the module docstring).

    :param logger: where the tracebacks go (``logger.error(msg, exc_info=..., **data)``)
    :param window: seconds during which an identical error is counted instead of logged
    :param max_keys: distinct errors remembered at most (then the memory starts again)
    """

    __slots__ = ("logger", "window", "max_keys", "_seen")

    def __init__(self, logger: Any, window: float = 60.0, max_keys: int = 1024) -> None:
        self.logger = logger
        self.window = window
        self.max_keys = max_keys
        self._seen: dict[tuple[Any, ...], list[Any]] = {}

    def report(self, exc: BaseException, method: Any) -> bool:
        """Log ``exc`` raised by ``method`` unless an identical one was logged within the window.

        :return: whether a traceback was written
        """
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else None
        key = (method if type(method) is str else repr(method), type(exc), where)
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.window:
            seen[1] += 1
            return False
        if seen is None and len(self._seen) >= self.max_keys:
            self._seen.clear()
        self._seen[key] = [now, 0]
        data: dict[str, Any] = {"method": method}
        if seen is not None and seen[1]:
            data["suppressed"] = seen[1]
            data["window"] = self.window
        self.logger.error("rpc method raised", exc_info=exc, **data)
        return True
