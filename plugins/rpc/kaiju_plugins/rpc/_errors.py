"""JSON-RPC error objects as exceptions, one class per error code.

::

    RPCError (KaijuError)            -32000  server error (base; raise it from a method)
    ├── ParseError                   -32700  the body is not valid JSON
    ├── InvalidRequest               -32600  the JSON is not a valid request object
    ├── MethodNotFound               -32601  no such method
    ├── InvalidParams                -32602  params do not match the method's signature
    ├── InternalError                -32603  the method raised an unexpected exception
    ├── RequestTimeout               -32001  the call passed its deadline and was cancelled
    ├── PermissionDenied             -32002  the caller's scope may not call the method
    ├── ServerBusy                   -32003  the concurrency bound and its queue are full
    ├── RequestTooLarge              -32004  body size or batch length above the server's limit
    ├── InvalidHeader                -32005  a ``Timeout`` / ``Deadline`` header is malformed
    └── ServerShuttingDown           -32006  the server stopped; the call was cut at the end of its
                                             grace period

A method may raise any of them (or its own subclass of :class:`RPCError` with another
code in the server range -32000..-32099, or any code outside the reserved range); the
server turns it into the error object ``{"code", "message", "data"?}``. The client
turns an error object back into the exception of its code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kaiju_tools import KaijuError

__all__ = [
    "ERROR_CLASSES",
    "InternalError",
    "InvalidHeader",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "ParseError",
    "PermissionDenied",
    "RPCError",
    "RequestTimeout",
    "RequestTooLarge",
    "ServerBusy",
    "ServerShuttingDown",
    "error_from_object",
]


class RPCError(KaijuError):
    """An error a JSON-RPC call answers with.

    :param message: the error object's ``message`` (default: the class's ``message``)
    :param data: the error object's ``data`` (any JSON value; omitted when ``None``)
    :param code: override the class's ``code``
    """

    code: ClassVar[int] = -32000
    message: ClassVar[str] = "Server error"

    def __init__(self, message: str | None = None, data: Any = None, code: int | None = None) -> None:
        self.error_message = message if message is not None else type(self).message
        self.data = data
        self.error_code = code if code is not None else type(self).code
        super().__init__(self.error_message if data is None else f"{self.error_message}: {data!r}")

    def to_object(self) -> dict[str, Any]:
        """The JSON-RPC error object."""
        obj: dict[str, Any] = {"code": self.error_code, "message": self.error_message}
        if self.data is not None:
            obj["data"] = self.data
        return obj


class ParseError(RPCError):
    """The body is not valid JSON."""

    code = -32700
    message = "Parse error"


class InvalidRequest(RPCError):
    """The JSON sent is not a valid request object."""

    code = -32600
    message = "Invalid Request"


class MethodNotFound(RPCError):
    """The method does not exist (or is not served)."""

    code = -32601
    message = "Method not found"


class InvalidParams(RPCError):
    """Params do not match the method's signature; ``data`` names the parameter and the problem."""

    code = -32602
    message = "Invalid params"


class InternalError(RPCError):
    """The method raised an exception that is not an :class:`RPCError`."""

    code = -32603
    message = "Internal error"


class RequestTimeout(RPCError):
    """The call passed its deadline (``Timeout`` / ``Deadline`` headers) and was cancelled."""

    code = -32001
    message = "Request timeout"


class PermissionDenied(RPCError):
    """The caller's permission scope does not allow this method."""

    code = -32002
    message = "Permission denied"


class ServerBusy(RPCError):
    """Too many calls in flight and the waiting queue is full: retry later."""

    code = -32003
    message = "Server busy"


class RequestTooLarge(RPCError):
    """The body or the batch is larger than the server accepts."""

    code = -32004
    message = "Request too large"


class InvalidHeader(RPCError):
    """A transport header (``Timeout``, ``Deadline``) has a value the server cannot use."""

    code = -32005
    message = "Invalid header"


class ServerShuttingDown(RPCError):
    """The server is stopping: the call was still running at the end of the shutdown grace period."""

    code = -32006
    message = "Server shutting down"


ERROR_CLASSES: dict[int, type[RPCError]] = {
    cls.code: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, InternalError, RequestTimeout,
                PermissionDenied, ServerBusy, RequestTooLarge, InvalidHeader, ServerShuttingDown)
}
"""Error class of each code this package defines."""


def error_from_object(obj: Any) -> RPCError:
    """Turn a JSON-RPC error object back into the exception of its code."""
    if not isinstance(obj, dict):
        return RPCError("malformed error object", data=obj)
    code = obj.get("code")
    message = obj.get("message")
    cls = ERROR_CLASSES.get(code, RPCError) if isinstance(code, int) else RPCError
    return cls(str(message) if message is not None else None, data=obj.get("data"),
               code=code if isinstance(code, int) and not isinstance(code, bool) else None)
