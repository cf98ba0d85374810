from pathlib import Path  # the guide's snippet uses Path without importing it

from kaiju_tools import App
from kaiju_tools.app import init_app as init_app_base
from kaiju_tools.http import JSONRPCView

from app.tables import METADATA
from app.views import MyView

__all__ = ['init_app', 'URLS']

URLS = [
  ('*', '/public/rpc', JSONRPCView, 'json_rpc_view'),
  ('*', '/my/view', MyView, 'my_view')
]  #: web app routes

def init_app(settings, **kws) -> App:
    _dir = Path(__file__).parent
    app = init_app_base(settings, attrs={'db_meta': METADATA}, **kws)
    for method, reg, handler, name in URLS:
        app.router.add_route(method, reg, handler)
        app.router.add_route(method, reg + '/', handler, name=name)
    return app
