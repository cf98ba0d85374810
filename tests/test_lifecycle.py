"""Lifecycle: dependency-ordered start, reverse stop, failures, time limits, signals.

Services append ``build``/``init``/``close`` lines to ``events.txt`` in the app dir; the
tests read that file after the subprocess ends. Where serving is involved the app runs
a real server on 127.0.0.1 and is stopped with a signal.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time

import pytest
from kernel_support import AppDir
from suite_support import CHILD_ENV, EVENTS_SERVICES, events, run, serving, stop

SERVICES = EVENTS_SERVICES + '''

class Db(Recorder):
    pass


class Web(Recorder):
    """Depends on Db through an annotated constructor parameter (the guide's way)."""

    def __init__(self, app=None, db: Db = None, logger=None):
        super().__init__(app=app, logger=logger)
        self.db = db


class Needs(Recorder):
    """Depends on whatever `dependencies` lists."""

    dependencies = ("db",)


class NeedsCls(Recorder):
    dependencies = (Db,)


class X(Recorder):
    def __init__(self, app=None, y: "Y" = None, logger=None):
        super().__init__(app=app, logger=logger)


class Y(Recorder):
    def __init__(self, app=None, x: X = None, logger=None):
        super().__init__(app=app, logger=logger)


class HangsOnClose(Recorder):
    async def close(self):
        note(f"close {self.service_name}")
        await asyncio.sleep(3600)


class Optional(Recorder):
    """Discovers `flaky` in init() with required=False."""

    async def init(self):
        found = self.discover_service("flaky", required=False)
        note(f"init {self.service_name} sees flaky={found}")
'''

LIFE = '''
from kaiju_tools import Command

class Life(Command):
    """Run inside the started app and return."""
    name = "life"
    async def run(self, app, args):
        print("inside")
'''


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", SERVICES)
    app_dir.write("tapp/commands.py", LIFE)
    app_dir.write("settings/env.json", '{"run_port": 8080, "start_timeout": 30}')
    return app_dir


def config(app: AppDir, services: str, main: str = "") -> None:
    app.write("settings/config.yml", "main:\n  name: life\n" + main + "run:\n  port: '[run_port]'\n"
              "services:\n" + services)


def life(app: AppDir, code: int = 0) -> tuple[list[str], str]:
    result = run(app, "life")
    assert result.returncode == code, result.stderr
    return events(app.root / "events.txt"), result.stderr


def inits(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("init ")]


def closes(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("close ")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_gracefully_in_reverse_order(app: AppDir, sig: int) -> None:
    config(app, "  - cls: Web\n  - cls: Recorder\n    name: cache\n  - cls: Db\n")
    with serving(app) as (proc, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/nothing-here")
        assert conn.getresponse().status == 404  # a real aiohttp server answers
        conn.close()
        # config order breaks ties: of the services ready to start, the earliest listed goes first
        assert inits(events(app.root / "events.txt")) == ["cache", "Db", "Web"]
        code, _, err = stop(proc, sig)
    assert code == 0, err
    assert "Traceback" not in err
    assert closes(events(app.root / "events.txt")) == ["Web", "Db", "cache"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_long_command_gracefully(app: AppDir, sig: int) -> None:
    app.write("tapp/commands.py", '''
        import asyncio
        from kaiju_tools import Command
        from tapp.services import note

        class Worker(Command):
            name = "worker"
            async def run(self, app, args):
                note("working")
                await asyncio.sleep(3600)
    ''')
    config(app, "  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: b\n")
    proc = app.popen("worker", env=CHILD_ENV)
    try:
        for _ in range(1500):
            if "working" in events(app.root / "events.txt") or proc.poll() is not None:
                break
            time.sleep(0.02)
        code, _, err = stop(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert closes(events(app.root / "events.txt")) == ["b", "a"]
    assert code == 0, err


def test_in_flight_requests_finish_on_sigterm(app: AppDir) -> None:
    app.write("tapp/__main__.py", '''
        import asyncio
        from aiohttp import web
        from kaiju_tools import init_app as init_app_base, run_server
        import tapp
        from tapp.services import note

        async def slow(request):
            note("request started")
            await asyncio.sleep(1)
            note("request finished")
            return web.Response(text="done")

        def init_app(settings, **kws):
            app = init_app_base(settings, **kws)
            app.router.add_get("/slow", slow)
            return app

        if __name__ == "__main__":
            run_server(init_app, base_config_paths=["settings/config.yml"],
                       base_env_paths=["settings/env.json"])
    ''')
    config(app, "  - cls: Db\n")
    answers: list[tuple[int, bytes]] = []
    with serving(app) as (proc, port):
        def fetch() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/slow")
            response = conn.getresponse()
            answers.append((response.status, response.read()))
            conn.close()

        thread = threading.Thread(target=fetch)
        thread.start()
        for _ in range(1500):  # the request reaches the handler
            if "request started" in events(app.root / "events.txt"):
                break
            thread.join(0.02)
        code, _, err = stop(proc)
        thread.join(30)
    assert code == 0, err
    assert answers == [(200, b"done")]
    lines = events(app.root / "events.txt")
    assert lines.index("request finished") < lines.index("close Db")


def test_sigterm_during_start_up_stops_what_started(app: AppDir) -> None:
    config(app,
           "  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: slow\n    settings: {hang: true}\n")
    proc = app.popen("run", env=CHILD_ENV)
    try:
        for _ in range(1500):
            if "init slow" in events(app.root / "events.txt") or proc.poll() is not None:
                break
            time.sleep(0.02)
        code, _, err = stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 0, err
    assert inits(events(app.root / "events.txt")) == ["a", "slow"]
    assert closes(events(app.root / "events.txt")) == ["a"]


@pytest.mark.parametrize(("services", "order"), [
    ("  - cls: Web\n  - cls: Db\n", ["Db", "Web"]),  # annotated constructor parameter
    ("  - cls: Recorder\n    name: a\n    settings: {discover: db}\n  - cls: Db\n    name: db\n",
     ["db", "a"]),  # discover_service in __init__
    ("  - cls: Needs\n  - cls: Db\n    name: db\n", ["db", "Needs"]),  # `dependencies` names
    ("  - cls: NeedsCls\n  - cls: Db\n", ["Db", "NeedsCls"]),  # `dependencies` classes
    ("  - cls: Recorder\n    name: a\n    depends_on: [b]\n  - cls: Recorder\n    name: b\n",
     ["b", "a"]),  # depends_on in the config
    ("  - cls: Recorder\n    name: c\n  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: b\n",
     ["c", "a", "b"]),  # no dependencies: config order
    ("  - cls: Recorder\n    name: z\n  - cls: Web\n  - cls: Recorder\n    name: y\n  - cls: Db\n",
     ["z", "y", "Db", "Web"]),  # of the services ready to start, the earliest listed goes first
])
def test_dependency_ordered_start_and_reverse_stop(app: AppDir, services: str, order: list[str]) -> None:
    config(app, services)
    lines, _ = life(app)
    assert inits(lines) == order
    assert closes(lines) == order[::-1]


@pytest.mark.parametrize(("services", "cycle"), [
    ("  - cls: X\n  - cls: Y\n", "X -> Y -> X"),
    ("  - cls: Recorder\n    name: a\n    depends_on: [b]\n  - cls: Recorder\n    name: b\n"
     "    depends_on: [c]\n  - cls: Recorder\n    name: c\n    depends_on: [a]\n", "a -> b -> c -> a"),
    ("  - cls: Recorder\n    name: a\n    settings: {discover: b}\n  - cls: Recorder\n    name: b\n"
     "    settings: {discover: a}\n", "a -> b -> a"),  # discover_service in both __init__s
])
def test_a_dependency_cycle_is_an_error_that_shows_the_cycle(app: AppDir, services: str, cycle: str) -> None:
    config(app, services)
    lines, err = life(app, code=1)
    assert f"service dependency cycle: {cycle}" in err
    assert "Traceback" not in err
    assert inits(lines) == []


def test_stop_is_strictly_reverse_after_a_half_failed_start(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: b\n"
                "  - cls: Recorder\n    name: c\n    settings: {fail: true}\n"
                "  - cls: Recorder\n    name: d\n")
    lines, err = life(app, code=1)
    assert inits(lines) == ["a", "b", "c"]
    assert closes(lines) == ["b", "a"]
    assert "service 'c' failed to start: RuntimeError: c cannot connect to db:5432" in err


def test_an_optional_service_that_fails_is_logged_and_the_app_goes_on(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: flaky\n    required: false\n"
                "    settings: {fail: true}\n  - cls: Optional\n")
    result = run(app, "life")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "inside"
    lines = events(app.root / "events.txt")
    assert inits(lines) == ["a", "flaky", "Optional"]
    assert "init Optional sees flaky=None" in lines  # a failed optional service is not discoverable
    assert closes(lines) == ["Optional", "a"]
    assert "flaky" in result.stderr and "flaky cannot connect to db:5432" in result.stderr


def test_an_optional_service_whose_constructor_fails_is_skipped(app: AppDir) -> None:
    app.write("tapp/services.py", SERVICES + '''

class Broken(Recorder):
    def __init__(self, app=None, logger=None):
        raise ValueError("broken on purpose")
''')
    config(app, "  - cls: Broken\n    required: false\n  - cls: Db\n")
    lines, err = life(app)
    assert inits(lines) == ["Db"]
    assert "broken on purpose" in err


@pytest.mark.parametrize("services", [
    "  - cls: NeedsBroken\n  - cls: Broken\n    required: false\n",
    "  - cls: Broken\n    required: false\n  - cls: NeedsBroken\n",
])
def test_a_dependency_on_a_failed_optional_service_names_the_failure(app: AppDir, services: str) -> None:
    app.write("tapp/services.py", SERVICES + '''

class Broken(Recorder):
    def __init__(self, app=None, logger=None):
        raise ValueError("broken on purpose")


class NeedsBroken(Recorder):
    def __init__(self, dep: Broken, app=None, logger=None):
        super().__init__(app=app, logger=logger)
''')
    config(app, services)
    result = run(app, "life")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "NeedsBroken" in last and "broken on purpose" in last
    assert "TypeError" not in last and "none is configured" not in result.stderr


def test_the_start_time_limit(app: AppDir) -> None:
    config(app,
           "  - cls: Recorder\n    name: a\n  - cls: Recorder\n    name: slow\n    settings: {hang: true}\n",
           main="  start_timeout: 0.5\n")
    lines, err = life(app, code=1)
    assert inits(lines) == ["a", "slow"]
    assert closes(lines) == ["a"]
    assert "service 'slow' failed to start" in err
    assert "init() did not finish within 0.5 s (main.start_timeout)" in err


def test_an_optional_service_over_the_time_limit_is_left_behind(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: slow\n    required: false\n    settings: {hang: true}\n"
                "  - cls: Recorder\n    name: b\n", main="  start_timeout: '[start_timeout]'\n")
    result = run(app, "-e", "start_timeout=0.3", "life")
    assert result.returncode == 0, result.stderr
    lines = events(app.root / "events.txt")
    assert inits(lines) == ["slow", "b"]
    assert closes(lines) == ["b"]


def test_an_optional_failure_log_names_the_service_and_the_cause(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: slow\n    required: false\n    settings: {hang: true}\n",
           main="  start_timeout: 0.3\n")
    result = run(app, "life")
    assert result.returncode == 0, result.stderr
    assert "slow" in result.stderr
    assert "main.start_timeout" in result.stderr


STUCK = ("  - cls: Recorder\n    name: a\n  - cls: HangsOnClose\n    name: stuck\n"
         "  - cls: Recorder\n    name: c\n")


def test_the_stop_time_limit(app: AppDir) -> None:
    config(app, STUCK, main="  stop_timeout: 0.3\n")
    with serving(app) as (proc, _):
        code, _, err = stop(proc)
    assert closes(events(app.root / "events.txt")) == ["c", "stuck", "a"]  # the others still stop
    assert code == 1
    assert "the app stopped with errors" in err


def test_the_stop_time_limit_error_names_the_service_and_the_limit(app: AppDir) -> None:
    config(app, STUCK, main="  stop_timeout: 0.3\n")
    with serving(app) as (proc, _):
        code, _, err = stop(proc)
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert "stuck" in last
    assert "main.stop_timeout" in err


def test_a_close_failure_after_a_command_is_a_clear_error(app: AppDir) -> None:
    config(app, STUCK, main="  stop_timeout: 0.3\n")
    lines, err = life(app, code=1)
    assert closes(lines) == ["c", "stuck", "a"]
    assert "Exception Group Traceback" not in err
    assert "stuck" in err.strip().splitlines()[-1]
