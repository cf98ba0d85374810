"""A test kit for apps built on kaiju-kernel: start an app, call it over RPC, capture logs.

Opt-in pytest plugin (never auto-loaded; pytest is not imported until it is used)::

    # tests/conftest.py
    pytest_plugins = ["kaiju_tools.testing"]

In-process, on a free port of 127.0.0.1, usable with or without pytest::

    from kaiju_tools.testing import capture_logs, start_app

    async def main():
        with capture_logs("my_app") as logs:
            async with start_app(SETTINGS, override_services={"mailer": FakeMailer()}) as running:
                assert await running.rpc.call("greeter.greet", name="you") == "Hello, you!"
        assert logs.find("Greeting.").data == {"name": "you"}

    asyncio.run(main())

With the pytest plugin enabled, sync tests get fixtures (no pytest-asyncio needed):
``kaiju_app`` starts an app in a background thread and gives blocking calls,
``kaiju_logs`` captures log records for the test.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, web

from ._runtime import Runtime, settings_from_mapping
from ._testing_logs import LogCapture, capture_logs
from ._testing_rpc import RPCCallError, RPCTestClient, find_rpc_path
from .app import get_services, get_settings
from .app import init_app as _kernel_init_app
from .exceptions import KaijuError
from .plugins import Plugins
from .settings import ProjectSettings

__all__ = [
    "BlockingApp",
    "LogCapture",
    "RPCCallError",
    "RPCTestClient",
    "RunningApp",
    "capture_logs",
    "kaiju_app",
    "kaiju_logs",
    "load_settings",
    "make_settings",
    "start_app",
]


def make_settings(data: Mapping[str, Any], plugins: Mapping[str, object] | None = None) -> ProjectSettings:
    """Validated settings from a mapping shaped like the YAML, with in-code plugins.

    :param data: ``{"main": {"name": "t"}, "services": [...]}``
    :param plugins: ``{name: module_or_object}`` registered like installed plugins (their
        ``kaiju_register_services`` classes become usable in ``services:``)
    """
    registry = Plugins()
    registry.load_first_party()
    for name, plugin in (plugins or {}).items():
        registry.register(plugin, name)
    return settings_from_mapping(data, registry)


def load_settings(
    config_paths: Sequence[str], env_paths: Sequence[str] = (), *,
    env: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
) -> ProjectSettings:
    """Settings loaded from files the way ``python -m app`` loads them.

    :param config_paths: ``.yml`` files, merged in order (``base_config_paths``)
    :param env_paths: ``.env.json`` files, merged in order (``base_env_paths``)
    :param env: values set like ``-e key=value`` (highest priority; keys must exist in the env files)
    :param environ: environment variables to apply (default: none, so tests do not depend on
        the shell they run in)
    """
    import argparse

    args = argparse.Namespace(env_values=[f"{k}={v!r}" for k, v in (env or {}).items()])
    plugins = Plugins()
    plugins.load_first_party()
    return Runtime(plugins, args=args).load_settings(
        base_config_paths=[str(p) for p in config_paths], base_env_paths=[str(p) for p in env_paths],
        environ=dict(environ or {}))


class RunningApp:
    """An app started by :func:`start_app`: its aiohttp app, address and RPC client."""

    def __init__(self, app: web.Application, host: str, port: int, session: ClientSession,
                 logs: LogCapture) -> None:
        self.app = app
        self.logs = logs
        """Records of the app's logger (``main.name`` and below) since the app was built."""
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        """Base URL, ``http://127.0.0.1:<port>``."""
        self.session = session
        """An :class:`aiohttp.ClientSession` for plain HTTP calls (``running.url + "/my/view"``)."""
        self._rpc: RPCTestClient | None = None

    @property
    def services(self) -> Any:
        """The app's service container (``.get(name)``, ``.discover(...)``, iteration)."""
        return get_services(self.app)

    @property
    def rpc(self) -> RPCTestClient:
        """An RPC client posting to the route that serves ``JSONRPCView``."""
        if self._rpc is None:
            self._rpc = RPCTestClient(self.session, self.url + find_rpc_path(self.app))
        return self._rpc


@asynccontextmanager
async def start_app(
    settings: ProjectSettings | Mapping[str, Any],
    *,
    init_app: Callable[..., web.Application] | None = None,
    override_services: Mapping[str, Any] | None = None,
    plugins: Mapping[str, object] | None = None,
    rpc_path: str | None = None,
    host: str = "127.0.0.1",
) -> AsyncIterator[RunningApp]:
    """Build the app, start its services and serve it on a free port until the block exits.

    :param settings: :class:`ProjectSettings` or a mapping shaped like the YAML config
    :param init_app: the app factory (your ``app.application.init_app``); default the kernel's
    :param override_services: ``{service name: fake}``: the fake takes the named service's place
        before start (discovery, start order, RPC routes, and attributes of other services
        that held the real one); the real one is built but never started
    :param plugins: in-code plugins ``{name: module}`` (only with mapping settings)
    :param rpc_path: mount ``JSONRPCView`` at this path (for apps that mount none themselves)
    :param host: address to bind (a free port is picked)
    """
    if plugins and not isinstance(settings, ProjectSettings):
        settings = make_settings(settings, plugins)
    elif plugins:
        raise KaijuError("start_app(plugins=...) needs settings as a mapping; with ProjectSettings already "
                         "built, pass the plugins to kaiju_tools.testing.make_settings(data, plugins)")
    app = (init_app or _kernel_init_app)(settings)
    if override_services:
        _override(app, override_services)
    if rpc_path is not None:
        from .http import JSONRPCView

        app.router.add_route("*", rpc_path, JSONRPCView)
    with capture_logs(get_settings(app).main.name, level=None) as logs:
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, 0)
            await site.start()
            port = runner.addresses[0][1]
            async with ClientSession() as session:
                yield RunningApp(app, host, port, session, logs)
        finally:
            await runner.cleanup()


def _override(app: web.Application, fakes: Mapping[str, Any]) -> None:
    container = get_services(app)
    services = container._services  # noqa: SLF001 -- the kit is the kernel's own
    unknown = [name for name in fakes if name not in services]
    if unknown:
        raise KaijuError(
            f"override_services: no service named {', '.join(map(repr, unknown))} was built; the app's "
            f"services are {', '.join(services) or 'none'}. Use a name from `services:` (its `name:`, "
            "or the class name when none is given)")
    swaps = [(services[name], fake) for name, fake in fakes.items()]  # (real, fake), kept alive here
    for name, fake in fakes.items():
        try:
            fake.service_name = name
        except AttributeError:  # an object without a settable attribute still stands in
            pass
        services[name] = fake
    for service in list(services.values()):
        for attr, value in list(getattr(service, "__dict__", {}).items()):
            for real, fake in swaps:
                if value is real and service is not fake:
                    setattr(service, attr, fake)


class BlockingApp:
    """An app served from a background thread's event loop, driven by blocking calls.

    Made by the ``kaiju_app`` fixture (or :meth:`start` / :meth:`stop` directly) for sync tests.
    """

    __test__ = False

    def __init__(self, settings: ProjectSettings | Mapping[str, Any], **options: Any) -> None:
        self._settings = settings
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaiju-test-app", daemon=True)
        self._cm: Any = None
        self.running: RunningApp | None = None

    def start(self) -> BlockingApp:
        """Start the app (raises what start-up raised)."""
        self._thread.start()
        self._cm = start_app(self._settings, **self._options)
        try:
            self.running = self.run(self._cm.__aenter__())
        except BaseException:
            self._close_loop()
            raise
        return self

    def stop(self) -> None:
        """Stop the app and its loop (errors while stopping are raised)."""
        if self._cm is None:
            return
        cm, self._cm = self._cm, None
        try:
            self.run(cm.__aexit__(None, None, None))
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the app's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _running(self) -> RunningApp:
        if self.running is None:
            raise KaijuError("the app is not running: call start() first (the kaiju_app fixture does)")
        return self.running

    @property
    def app(self) -> web.Application:
        """The aiohttp app."""
        return self._running().app

    @property
    def url(self) -> str:
        """Base URL of the app."""
        return self._running().url

    @property
    def services(self) -> Any:
        """The app's service container."""
        return self._running().services

    @property
    def logs(self) -> LogCapture:
        """Records of the app's logger (see :attr:`RunningApp.logs`)."""
        return self._running().logs

    def call(self, method: str, params: Any = None, /, **kwargs: Any) -> Any:
        """Call an RPC method and return its result (see :meth:`RPCTestClient.call`)."""
        return self.run(self._running().rpc.call(method, params, **kwargs))

    def request(self, body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        """POST a raw JSON-RPC body: ``(HTTP status, decoded body or None)``."""
        answer: tuple[int, Any] = self.run(self._running().rpc.request(body, headers))
        return answer


# ---- the pytest plugin ----------------------------------------------------------------
# Fixtures exist when pytest has been imported (it has, when it loads this module as a
# plugin); a script that only uses start_app() never pays for importing pytest.
if TYPE_CHECKING:
    import pytest as _pytest
else:
    _pytest = sys.modules.get("pytest")

if _pytest is not None:

    @_pytest.fixture
    def kaiju_app() -> Iterator[Callable[..., BlockingApp]]:
        """Factory ``kaiju_app(settings, **start_app options) -> BlockingApp``; apps stop at teardown."""
        apps: list[BlockingApp] = []

        def factory(settings: ProjectSettings | Mapping[str, Any], **options: Any) -> BlockingApp:
            app = BlockingApp(settings, **options).start()
            apps.append(app)
            return app

        yield factory
        errors = []
        for app in reversed(apps):
            try:
                app.stop()
            except Exception as exc:  # noqa: BLE001 -- stop the others, then report
                errors.append(exc)
        if errors:
            raise ExceptionGroup("errors while stopping kaiju test apps", errors)

    @_pytest.fixture
    def kaiju_logs() -> Iterator[LogCapture]:
        """Every log record written during the test (all loggers, DEBUG and up)."""
        with capture_logs("") as logs:
            yield logs
else:  # pragma: no cover
    kaiju_app = kaiju_logs = None
