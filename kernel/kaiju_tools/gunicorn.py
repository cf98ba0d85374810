"""Serve a kaiju app with gunicorn and aiohttp's worker class (several processes, one port).

An app module for gunicorn (the example app's ``app/gunicorn.py``)::

    from kaiju_tools.gunicorn import app_factory
    from app.application import init_app

    app = app_factory(init_app, base_config_paths=["./settings/config.yml"],
                      base_env_paths=["./settings/env.json"])

and the command (from the app's directory)::

    gunicorn 'app.gunicorn:app' --worker-class aiohttp.GunicornWebWorker --workers 2 --bind 127.0.0.1:8080

Each worker loads the settings as ``run_server`` does (base paths, env files, OS environment;
``KAIJU_CONFIG`` and ``KAIJU_ENV_FILE`` stand for ``-c`` and ``-f``, several paths joined by
``os.pathsep``), builds the app and runs the whole service lifecycle. gunicorn's argv is
never parsed: ``--bind`` replaces ``run.host``/``run.port``, ``--graceful-timeout`` replaces
``run.shutdown_timeout``.

Any other worker class is refused with :class:`WorkerClassError`: when the app module is
loaded (gunicorn's own config is inspected) and, when this module is also gunicorn's config
(``-c python:kaiju_tools.gunicorn``, which sets the worker class), before any worker starts.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from ._runtime import Runtime
from ._server import _default_logging
from .exceptions import KaijuError
from .plugins import Plugins

__all__ = ["WORKER_CLASS", "WorkerClassError", "app_factory", "check_worker_class", "on_starting"]

WORKER_CLASS = "aiohttp.GunicornWebWorker"
"""The gunicorn worker class a kaiju app needs (or a subclass, e.g. ``GunicornUVLoopWebWorker``)."""

worker_class = WORKER_CLASS  # read by gunicorn when this module is its config (-c python:...)

_FIX = (f"run gunicorn with --worker-class {WORKER_CLASS} (or set worker_class = "
        f"{WORKER_CLASS!r} in gunicorn.conf.py, or add -c python:kaiju_tools.gunicorn)")


class WorkerClassError(KaijuError, RuntimeError):
    """gunicorn runs a worker class that cannot serve an aiohttp app."""


def check_worker_class(cls: Any) -> None:
    """Raise :class:`WorkerClassError` unless ``cls`` is aiohttp's gunicorn worker (or a subclass)."""
    from aiohttp.worker import GunicornWebWorker

    if isinstance(cls, type) and issubclass(cls, GunicornWebWorker):
        return
    found = f"{cls.__module__}.{cls.__qualname__}" if isinstance(cls, type) else repr(cls)
    raise WorkerClassError(f"gunicorn worker class: a kaiju app needs aiohttp's worker "
                           f"({WORKER_CLASS}), got {found}. Fix: {_FIX}")


def on_starting(server: Any) -> None:
    """gunicorn server hook (``-c python:kaiju_tools.gunicorn``): check the worker class first."""
    check_worker_class(server.cfg.worker_class)


def app_factory(
    init_app: Callable[..., web.Application],
    base_config_paths: Sequence[str] = (),
    base_env_paths: Sequence[str] = (),
    default_env_paths: Sequence[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
) -> Callable[[], Awaitable[web.Application]]:
    """An async app factory for ``aiohttp.GunicornWebWorker`` (same arguments as ``run_server``).

    :param init_app: the app's ``init_app(settings) -> web.Application``
    :param environ: the environment to read (default: ``os.environ`` when the worker starts)

    Called while gunicorn loads the app module, it checks gunicorn's worker class.
    """
    worker = _gunicorn_worker_class()
    if worker is not None:
        check_worker_class(worker)

    async def kaiju_app(*args: Any) -> web.Application:
        if args:  # WSGI (environ, start_response) or ASGI (scope, receive, send)
            raise WorkerClassError(f"the kaiju app factory was called as a WSGI/ASGI app with "
                                   f"{len(args)} arguments. Fix: {_FIX}")
        env = os.environ if environ is None else environ
        settings = _load_settings(init_app, base_config_paths, base_env_paths, default_env_paths, env)
        app = init_app(settings)
        logging.getLogger(settings.main.name).info("worker %s: app built", os.getpid())
        gc.collect()
        gc.freeze()  # start-up objects live as long as the worker
        return app

    kaiju_app.__qualname__ = f"app_factory({getattr(init_app, '__module__', '?')}.init_app)"
    return kaiju_app


def _load_settings(
    init_app: Callable[..., web.Application], base_config_paths: Sequence[str],
    base_env_paths: Sequence[str], default_env_paths: Sequence[str], environ: Mapping[str, str],
) -> Any:
    """Load and validate the settings as ``run_server`` does, without a command line."""
    def paths(key: str) -> list[str] | None:
        value = environ.get(key, "")
        return [p for p in value.split(os.pathsep) if p] or None

    args = argparse.Namespace(config_paths=paths("KAIJU_CONFIG"), env_paths=paths("KAIJU_ENV_FILE"),
                              env_values=None)
    plugins = Plugins()
    plugins.load_first_party()
    runtime = Runtime(plugins, args=args, init_app=init_app, prog="gunicorn")
    try:
        settings = runtime.load_settings(base_config_paths=base_config_paths, base_env_paths=base_env_paths,
                                         default_env_paths=default_env_paths, environ=environ)
    except KaijuError as exc:
        print(f"gunicorn worker {os.getpid()}: error: {exc}", file=sys.stderr)
        raise
    _default_logging(settings.main.loglevel)
    return settings


def _gunicorn_worker_class() -> Any:
    """gunicorn's configured worker class when called while gunicorn loads the app, else ``None``."""
    base = sys.modules.get("gunicorn.app.base")
    if base is None:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, base.BaseApplication) and getattr(owner, "cfg", None) is not None:
            return owner.cfg.worker_class
        frame = frame.f_back  # type: ignore[assignment]
    return None
