"""A server rebuilding its method table with nothing changed reuses the table and its documents."""

from __future__ import annotations

from kaiju_plugins.rpc import JSONRPCServer

from .conftest import RpcCalc


def _server() -> tuple[JSONRPCServer, RpcCalc]:
    server = JSONRPCServer(enable_permissions=False)
    calc = RpcCalc()
    server.prepare([calc])
    return server, calc


def test_same_services_reuse_the_table_and_documents() -> None:
    server, calc = _server()
    table, documents = server.routes_table, server.openrpc()
    server.prepare([calc])
    assert server.routes_table is table and server.openrpc() is documents


def test_a_change_rebuilds() -> None:
    server, calc = _server()
    table = server.routes_table
    server.prepare([calc, server])  # another service
    assert server.routes_table is not table and set(table) < set(server.routes_table)
    server.prepare([calc])
    only_calc = server.routes_table
    calc.service_name = "renamed"
    server.prepare([calc])
    assert server.routes_table is not only_calc
    assert all(name.startswith("renamed.") for name in server.routes_table)
