"""kaiju-plugin-rpc: a JSON-RPC 2.0 server, its HTTP view and a client for kaiju-kernel.

The names the guide uses resolve from the kernel too: ``from kaiju_tools import
JSONRPCServer, PublicInterface, PermissionKeys, JSONRPCClient`` and ``from kaiju_tools.http
import JSONRPCView``.
"""

from ._client import JSONRPCClient
from ._encoding import from_json, to_json
from ._errors import (
    InternalError,
    InvalidHeader,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    PermissionDenied,
    RequestTimeout,
    RequestTooLarge,
    RPCError,
    ServerBusy,
    ServerShuttingDown,
)
from ._interface import PermissionKeys, PublicInterface
from ._raises import raises
from ._routes import must_finish
from ._server import JSONRPCServer
from ._types import Constraint
from ._view import JSONRPCView

__all__ = [
    "Constraint",
    "InternalError",
    "InvalidHeader",
    "InvalidParams",
    "InvalidRequest",
    "JSONRPCClient",
    "JSONRPCServer",
    "JSONRPCView",
    "MethodNotFound",
    "ParseError",
    "PermissionDenied",
    "PermissionKeys",
    "PublicInterface",
    "RPCError",
    "RequestTimeout",
    "RequestTooLarge",
    "ServerBusy",
    "ServerShuttingDown",
    "from_json",
    "must_finish",
    "raises",
    "to_json",
]
