"""The rpc plugin's hook implementations (entry point ``kaiju.plugins: rpc``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from kaiju_tools import get_services
from kaiju_tools.hookspecs import hookimpl

from ._client import JSONRPCClient
from ._server import JSONRPCServer

__all__ = ["kaiju_app_started", "kaiju_app_stopping", "kaiju_register_commands", "kaiju_register_routes",
           "kaiju_register_services"]


@hookimpl
def kaiju_register_services() -> list[type[Any]]:
    """Register :class:`JSONRPCServer` and :class:`JSONRPCClient`."""
    return [JSONRPCServer, JSONRPCClient]


@hookimpl
def kaiju_app_started(app: web.Application) -> None:
    """Rebuild each server's method table once every service has started.

    Optional services that failed to start are no longer discoverable: their routes go.
    """
    for service in get_services(app):
        if isinstance(service, JSONRPCServer):
            service.prepare()


@hookimpl
def kaiju_app_stopping(app: web.Application) -> None:
    """Arm each server's shutdown cut: calls still running shortly before the grace period
    (``run.shutdown_timeout``) ends are answered ``Server shutting down`` and counted."""
    from kaiju_tools.app import SETTINGS_KEY

    settings = app.get(SETTINGS_KEY)
    if settings is None:
        return
    for service in get_services(app):
        if isinstance(service, JSONRPCServer):
            service.stopping(settings.run.shutdown_timeout)


@hookimpl
def kaiju_register_commands() -> list[type[Any]]:
    """Register ``openrpc`` (write the app's OpenRPC document) and ``gen-client`` (standalone)."""
    from ._commands import GenClientCommand, OpenRPCCommand

    return [OpenRPCCommand, GenClientCommand]


@hookimpl
def kaiju_register_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """``GET <docs_path>``: the HTML docs page of each JSON-RPC server that sets ``docs_path``."""
    if not any(isinstance(s, JSONRPCServer) and s.docs_path for s in get_services(app)):
        return []  # no page: the page's module is not imported
    from ._docs_page import docs_routes

    return docs_routes(app)
