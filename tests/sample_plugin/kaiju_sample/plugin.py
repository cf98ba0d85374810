"""The working sample plugin: registers SampleService and implements lifecycle/request hooks.

Importing this module appends "imported" to the file named by $SAMPLE_MARKER, so tests
can prove an inactive plugin is never imported.
"""

import os
from pathlib import Path

from aiohttp import web
from kaiju_tools import ContextableService
from kaiju_tools.hookspecs import hookimpl

MARKER = os.environ.get("SAMPLE_MARKER")


def _mark(text: str) -> None:
    if MARKER:
        with Path(MARKER).open("a", encoding="utf-8") as f:
            f.write(text + "\n")


_mark("imported")


class SampleService(ContextableService):
    """A service class provided by a third-party plugin."""

    def __init__(self, app, word: str = "sample", logger=None):
        super().__init__(app=app, logger=logger)
        self.word = word

    async def init(self):
        _mark(f"init {self.word}")

    async def close(self):
        _mark(f"close {self.word}")


@hookimpl
def kaiju_register_services():
    return [SampleService]


@hookimpl
async def kaiju_app_started(app):
    _mark("app_started")


@hookimpl
def kaiju_app_stopped(app):
    _mark("app_stopped")


@hookimpl
def kaiju_wrap_request(app):
    def wrapper(handler):
        async def wrapped(request):
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # 404 and friends are raised, not returned
                exc.headers["X-Sample"] = "yes"
                raise
            response.headers["X-Sample"] = "yes"
            return response
        return wrapped
    return wrapper
