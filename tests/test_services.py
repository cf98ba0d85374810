"""Services as the guide shows them: classes, registry, settings, names, discovery.

Each test writes an app package (``services.py``, ``commands.py``, ``settings/``) and runs
``python -m tapp <command>`` in a subprocess; a command with ``needs_app`` runs inside the
started app, so it sees the services the kernel built.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from kaiju_tools import (
    SERVICE_CLASS_REGISTRY,
    ContextableService,
    KaijuError,
    Service,
    ServiceNotFound,
    get_services,
    init_app,
)
from kernel_support import AppDir
from suite_support import CHILD_ENV, EVENTS_SERVICES, events, run

SHOW = '''
import json
from kaiju_tools import Command, get_services, SERVICE_CLASS_REGISTRY
import logging


class Show(Command):
    """Print each service: name, class, logger name, logger level, settings."""

    name = "show"

    async def run(self, app, args):
        for s in get_services(app):
            level = logging.getLevelName(s.logger.getEffectiveLevel())
            print(s.service_name, type(s).__name__, s.logger.name, level,
                  json.dumps(getattr(s, "seen", None)), sep=" | ")
'''


def show(app: AppDir, config: str, *args: str) -> list[list[str]]:
    app.write("tapp/commands.py", SHOW)
    app.write("settings/config.yml", config)
    app.write("settings/env.json", "{}")
    result = run(app, *args, "show")
    assert result.returncode == 0, result.stderr
    return [line.split(" | ") for line in result.stdout.splitlines()]


def test_the_guides_first_service(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service, SERVICE_CLASS_REGISTRY

        class MyService(Service):
          """My service does something I'm not sure."""

        SERVICE_CLASS_REGISTRY.register(MyService)
    ''')
    rows = show(app_dir, "main:\n  name: guide\nservices:\n  - cls: MyService\n")
    assert rows == [["MyService", "MyService", "guide.MyService", "INFO", "null"]]


def test_the_guides_service_options(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service, SERVICE_CLASS_REGISTRY

        class MyService(Service):
            def __init__(self, app, logger, some_value=0):
                Service.__init__(self, app=app, logger=logger)
                self.seen = some_value

        SERVICE_CLASS_REGISTRY.register(MyService)
    ''')
    rows = show(app_dir, """
        main:
          name: opts
        services:
          - cls: MyService
            name: my_service_with_different_name
            enabled: True
            required: False
            loglevel: ERROR
            settings:
              some_value: 42
    """)
    name = "my_service_with_different_name"
    assert rows == [[name, "MyService", f"opts.{name}", "ERROR", "42"]]


def test_the_app_loglevel_applies_to_services_without_their_own(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", "from kaiju_tools import Service\n\nclass Svc(Service):\n    pass\n")
    rows = show(app_dir, "main:\n  name: lv\n  loglevel: WARNING\nservices:\n  - cls: Svc\n")
    assert rows[0][3] == "WARNING"


def test_service_name_rules(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service

        class Named(Service):
            service_name = "attr_name"

            def __init__(self, app=None, logger=None):
                self.seen = self.service_name  # set by the kernel before __init__ runs
                super().__init__(app=app, logger=logger)

        class Plain(Service):
            def __init__(self, app=None, logger=None):
                self.seen = self.service_name
                super().__init__(app=app, logger=logger)
    ''')
    rows = show(app_dir, """
        services:
          - cls: Named
          - cls: Plain
          - cls: Named
            name: custom
    """)
    assert [(r[0], r[4]) for r in rows] == [
        ("attr_name", '"attr_name"'), ("Plain", '"Plain"'), ("custom", '"custom"')]


def test_a_disabled_service_is_never_built(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", EVENTS_SERVICES)
    rows = show(app_dir, """
        services:
          - cls: Recorder
            name: alive
          - cls: Recorder
            name: dead
            enabled: false
          - cls: NotInstalledAnywhere
            enabled: false
          - cls: Recorder
            name: toggled
            enabled: "[use_toggled:false]"
    """)
    assert [r[0] for r in rows] == ["alive"]
    assert events(app_dir.root / "events.txt") == ["build alive", "init alive", "close alive"]


def test_register_from_module_skips_bases_and_imports(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service, ContextableService

        class Base(ContextableService):
            __abstract__ = True

        class Concrete(Base):
            pass
    ''')
    app_dir.write("tapp/commands.py", '''
        from kaiju_tools import Command, SERVICE_CLASS_REGISTRY

        class Names(Command):
            name = "names"
            needs_app = False
            async def run(self, app, args):
                names = SERVICE_CLASS_REGISTRY.names()
                print(sorted(n for n in ("Base", "Concrete", "Service", "ContextableService") if n in names))
    ''')
    app_dir.write("settings/config.yml", "main:\n  name: x\n")
    app_dir.write("settings/env.json", "{}")
    result = run(app_dir, "names")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['Concrete']"
    app_dir.write("settings/config.yml", "services:\n  - cls: Base\n")
    result = run(app_dir, "names")
    assert result.returncode == 2
    assert "unknown service class 'Base'" in result.stderr


def test_settings_are_constructor_arguments(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service

        class Db(Service):
            def __init__(self, app, dsn: str, pool: int = 1, *, opts=None, logger=None):
                super().__init__(app=app, logger=logger)
                self.seen = [dsn, pool, opts]
    ''')
    rows = show(app_dir, "services:\n  - cls: Db\n    settings: {dsn: 'pg://x', opts: {a: 1}}\n")
    assert rows[0][4] == '["pg://x", 1, {"a": 1}]'


def test_a_missing_required_setting_is_reported(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", '''
        from kaiju_tools import Service

        class Db(Service):
            def __init__(self, app, dsn: str, logger=None):
                super().__init__(app=app, logger=logger)
    ''')
    app_dir.write("settings/config.yml", "services:\n  - cls: Db\n    settings: {logger: 1}\n")
    app_dir.write("settings/env.json", "{}")
    result = run(app_dir, "config")
    assert result.returncode == 2
    assert "services[0].settings.dsn" in result.stderr
    assert "Db needs the setting 'dsn'" in result.stderr
    assert "'logger' is passed by the kernel" in result.stderr


DISCOVERY = EVENTS_SERVICES + '''

class Cache(Recorder):
    pass


class Unconfigured(Service):
    pass


class Consumer(ContextableService):
    async def init(self):
        # the guide's three forms
        first = self.discover_service(None, cls=Cache)
        named = self.discover_service("cache_two", cls=Cache)
        maybe = self.discover_service(None, cls=Unconfigured, required=False)
        wrong_cls = self.discover_service("plain", cls=Cache, required=False)
        by_name = self.discover_service("plain")
        note(f"discovered {first.service_name} {named.service_name} {maybe} {wrong_cls} "
             f"{by_name.service_name}")
        try:
            self.discover_service("nope", cls=Cache)
        except LookupError as exc:
            note(f"not found: {exc}")
'''


def test_discover_service_as_the_guide_shows(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", DISCOVERY)
    rows = show(app_dir, """
        services:
          - cls: Consumer
          - cls: Cache
            name: cache_one
          - cls: Cache
            name: cache_two
          - cls: Recorder
            name: plain
    """)
    assert [r[0] for r in rows] == ["Consumer", "cache_one", "cache_two", "plain"]
    lines = events(app_dir.root / "events.txt")
    assert "discovered cache_one cache_two None None plain" in lines
    [missing] = [line for line in lines if line.startswith("not found")]
    assert "no service named 'nope' of class Cache" in missing
    assert "cache_one (Cache)" in missing  # what is configured
    assert "required=False" in missing  # how to fix it


def test_the_guides_dependencies_snippet(app_dir: AppDir) -> None:
    # The guide's signature `(self, app, dep: MyDependency = None, logger)` is not valid
    # Python (a parameter without a default after one with a default); `logger=None` is.
    app_dir.write("tapp/services.py", EVENTS_SERVICES + '''

class MyDependency(Recorder):
    pass


class MyService(ContextableService):

  def __init__(self, app, dep: MyDependency = None, logger=None):
    ContextableService.__init__(self, app=app, logger=logger)
    self._dep = dep

  async def init(self):
    self._dep = self.discover_service(self._dep, cls=MyDependency)
    note(f"init {self.service_name} with {self._dep.service_name}")

  async def close(self):
    note(f"close {self.service_name}")
''')
    show(app_dir, "services:\n  - cls: MyService\n  - cls: MyDependency\n")
    assert events(app_dir.root / "events.txt") == [
        "build MyDependency", "init MyDependency", "init MyService with MyDependency",
        "close MyService", "close MyDependency"]


def test_a_dependency_can_be_named_in_settings(app_dir: AppDir) -> None:
    app_dir.write("tapp/services.py", EVENTS_SERVICES + '''

class User(ContextableService):
    def __init__(self, app, cache: Recorder = None, logger=None):
        super().__init__(app=app, logger=logger)
        self.seen = cache.service_name
''')
    rows = show(app_dir, """
        services:
          - cls: Recorder
            name: one
          - cls: Recorder
            name: two
          - cls: User
            settings: {cache: two}
    """)
    assert rows[-1][4] == '"two"'


CALLS: list[str] = []


class InProcessSuiteDb(ContextableService):
    """A service for the in-process test (module level, so its annotations resolve)."""

    async def init(self) -> None:
        CALLS.append(f"init {self.service_name}")

    async def close(self) -> None:
        CALLS.append(f"close {self.service_name}")


class InProcessSuiteApi(ContextableService):
    """Depends on :class:`InProcessSuiteDb` through an annotated constructor parameter."""

    def __init__(self, app: web.Application, db: InProcessSuiteDb, logger: object = None) -> None:
        super().__init__(app=app, logger=logger)
        self.db = db

    async def init(self) -> None:
        CALLS.append(f"init {self.service_name}")

    async def close(self) -> None:
        CALLS.append(f"close {self.service_name}")


def test_init_app_with_a_mapping_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process API the plugin helpers use: ``init_app(dict)``, ``AppRunner``, ``get_services``."""
    for key, value in CHILD_ENV.items():
        monkeypatch.setenv(key, value)
    SERVICE_CLASS_REGISTRY.register(InProcessSuiteDb)
    SERVICE_CLASS_REGISTRY.register(InProcessSuiteApi)
    CALLS.clear()

    async def main() -> None:
        app = init_app({"main": {"name": "inproc"}, "services": [
            {"cls": "InProcessSuiteApi", "name": "api"}, {"cls": "InProcessSuiteDb", "name": "db"}]})
        services = get_services(app)
        assert services.discover("api").db is services.get("db")
        assert services.discover(None, cls=InProcessSuiteDb).service_name == "db"
        assert services.discover("nope", required=False) is None
        assert services.get("api").logger.name == "inproc.api"
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert CALLS == ["init db", "init api"]
        await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        logging.getLogger("inproc").setLevel(logging.NOTSET)
    assert CALLS == ["init db", "init api", "close api", "close db"]


def test_a_service_outside_an_app_discovers_nothing() -> None:
    service = Service()
    assert service.service_name == "Service"
    assert service.discover_service("db", required=False) is None
    with pytest.raises(ServiceNotFound, match="not part of an app"):
        service.discover_service("db")


def test_a_contextable_service_is_an_async_context_manager() -> None:
    calls: list[str] = []

    class Ctx(ContextableService):
        async def init(self) -> None:
            calls.append("init")

        async def close(self) -> None:
            calls.append("close")

    async def main() -> None:
        async with Ctx() as ctx:
            calls.append(f"inside {ctx.service_name}")

    asyncio.run(main())
    assert calls == ["init", "inside Ctx", "close"]


def test_the_registry_refuses_what_is_not_a_service_and_name_clashes() -> None:
    class SuiteClash(Service):
        pass

    SERVICE_CLASS_REGISTRY.register(SuiteClash)
    SERVICE_CLASS_REGISTRY.register(SuiteClash)  # the same class again: a no-op
    with pytest.raises(TypeError, match="expected a subclass of Service"):
        SERVICE_CLASS_REGISTRY.register(int)  # type: ignore[arg-type]
    other = type("SuiteClash", (Service,), {"__module__": "elsewhere"})
    with pytest.raises(KaijuError, match="'SuiteClash' is taken") as exc:
        SERVICE_CLASS_REGISTRY.register(other)
    assert "elsewhere.SuiteClash" in str(exc.value) and "rename one of the classes" in str(exc.value)
    with pytest.raises(LookupError, match="did you mean: SuiteClash"):
        SERVICE_CLASS_REGISTRY["SuiteClsh"]
