"""The public surface: ``__all__`` pinned, the kernel's lazy names, the entry point."""

from __future__ import annotations

import importlib_metadata
import kaiju_plugins.rpc as rpc

PUBLIC = [
    "Constraint", "InternalError", "InvalidHeader", "InvalidParams", "InvalidRequest", "JSONRPCClient",
    "JSONRPCServer",
    "JSONRPCView", "MethodNotFound", "ParseError", "PermissionDenied", "PermissionKeys", "PublicInterface",
    "RPCError", "RequestTimeout", "RequestTooLarge", "ServerBusy", "ServerShuttingDown", "from_json",
    "must_finish", "raises", "to_json",
]


def test_all_is_exactly_the_public_names_sorted():
    assert rpc.__all__ == sorted(PUBLIC)
    assert all(hasattr(rpc, name) for name in rpc.__all__)


def test_the_guides_names_resolve_from_the_kernel():
    import kaiju_tools
    import kaiju_tools.http

    for name in ("JSONRPCServer", "PublicInterface", "PermissionKeys", "JSONRPCClient"):
        assert getattr(kaiju_tools, name) is getattr(rpc, name)
    assert kaiju_tools.http.JSONRPCView is rpc.JSONRPCView


def test_the_entry_point_registers_the_services():
    (ep,) = [ep for ep in importlib_metadata.entry_points(group="kaiju.plugins") if ep.name == "rpc"]
    assert ep.dist.name == "kaiju-plugin-rpc"
    plugin = ep.load()
    assert plugin.kaiju_register_services() == [rpc.JSONRPCServer, rpc.JSONRPCClient]


def test_rpc_errors_are_kaiju_errors_with_their_spec_codes():
    from kaiju_tools import KaijuError

    codes = {rpc.ParseError: -32700, rpc.InvalidRequest: -32600, rpc.MethodNotFound: -32601,
             rpc.InvalidParams: -32602, rpc.InternalError: -32603}
    for cls, code in codes.items():
        assert issubclass(cls, KaijuError) and cls().to_object()["code"] == code
    for cls in (rpc.RequestTimeout, rpc.PermissionDenied, rpc.ServerBusy, rpc.RequestTooLarge,
                rpc.InvalidHeader, rpc.ServerShuttingDown):
        assert -32099 <= cls.code <= -32000


def test_the_document_modules_wait_for_their_first_use():
    """Importing the plugin and its hooks leaves the OpenRPC / schema / docs page modules out
    (they load with the first ``rpc.discover``, docs page or ``openrpc`` command)."""
    import subprocess
    import sys

    code = ("import sys, kaiju_plugins.rpc, kaiju_plugins.rpc.plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[-1] in "
            "('_openrpc', '_schema', '_docs_page', '_discover', '_codegen', '_typetext')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
