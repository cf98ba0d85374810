"""Where ``rpc.discover`` gets what it says about the app: name, version, endpoint URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._openrpc import Documents

if TYPE_CHECKING:
    from ._server import JSONRPCServer

__all__ = ["documents_of", "endpoint_paths"]


def endpoint_paths(app: Any) -> list[str]:
    """The paths the app serves :class:`JSONRPCView` on (``/public/rpc``), trailing-slash twins dropped."""
    from ._view import JSONRPCView, handle_request

    paths: list[str] = []
    if app is None:
        return paths
    try:
        resources = list(app.router.resources())
    except Exception:  # noqa: BLE001 -- an app without a router: no endpoint to name
        return paths
    for resource in resources:
        for route in resource:
            handler = getattr(route, "handler", None)
            if handler is handle_request or (isinstance(handler, type) and issubclass(handler, JSONRPCView)):
                path = resource.canonical
                if path.rstrip("/") not in [p.rstrip("/") for p in paths]:
                    paths.append(path)
    return paths


def documents_of(server: JSONRPCServer) -> Documents:
    """The OpenRPC documents of ``server``'s method table: ``info`` from ``main.name`` /
    ``main.version``, ``servers`` from the paths its view is mounted on."""
    title, version = "app", "0.0.0"
    app = server.app
    if app is not None:
        from kaiju_tools.app import SETTINGS_KEY

        settings = app.get(SETTINGS_KEY)
        if settings is not None:
            title, version = settings.main.name, settings.main.version
    servers = [{"name": title, "url": path} for path in endpoint_paths(app)]
    return Documents(server.routes_table, title=title, version=version, servers=servers,
                     permissions=server.enable_permissions)
