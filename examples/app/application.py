"""The app factory: the kernel's init_app plus the app's routes (the guide's application.py)."""

from kaiju_tools import App
from kaiju_tools.app import init_app as init_app_base
from kaiju_tools.http import JSONRPCView

from app.tables import METADATA
from app.views import MyView

__all__ = ["URLS", "init_app"]

URLS = [
    ("*", "/public/rpc", JSONRPCView, "json_rpc_view"),
    ("*", "/my/view", MyView, "my_view"),
]  #: web app routes


def init_app(settings, **kws) -> App:
    """Build the app from its settings; keep the table metadata in its attrs; add the routes."""
    app = init_app_base(settings, attrs={"db_meta": METADATA}, **kws)
    for method, reg, handler, name in URLS:
        app.router.add_route(method, reg, handler)
        app.router.add_route(method, reg + "/", handler, name=name)
    return app
