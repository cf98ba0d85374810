"""The app's own aiohttp views."""

from aiohttp import web
from kaiju_tools import get_services


class MyView(web.View):
    """GET /my/view?name=you -> {"message": "Hello, you!"}: a plain aiohttp view that uses a service."""

    async def get(self) -> web.Response:
        greeter = get_services(self.request.app).discover("greeter")
        return web.json_response({"message": greeter.greet(self.request.query.get("name", "world"))})
