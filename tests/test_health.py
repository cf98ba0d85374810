"""Health probes: live / ready / startup from service states and checks, on real servers.

In-process apps are served on 127.0.0.1 with aiohttp's runner; the SIGTERM test runs a real
app process. No test asserts a duration: hanging checks use short timeouts and counts.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from kaiju_tools import (
    SERVICE_CLASS_REGISTRY,
    ConfigError,
    ContextableService,
    PluginError,
    ServiceState,
    get_services,
    hookimpl,
    init_app,
)
from kaiju_tools._runtime import settings_from_mapping
from kaiju_tools.health import HealthCheck, HealthSettings, get_health
from kaiju_tools.plugins import DISABLE_ENV, Plugins
from kernel_support import AppDir, free_port
from suite_support import wait_port

CALLS: list[str] = []


@SERVICE_CLASS_REGISTRY.register
class HealthDb(ContextableService):
    """A service with its own checks; ``fail`` makes init() raise."""

    def __init__(self, app: Any = None, logger: Any = None, fail: bool = False, check: str = "ok") -> None:
        super().__init__(app=app, logger=logger)
        self.fail = fail
        self.check = check
        self.pings = 0

    async def init(self) -> None:
        if self.fail:
            raise ConnectionError("db is down")

    async def close(self) -> None:
        ok, body = await get_health(self.app).probe("ready")
        CALLS.append(f"close {self.service_name}: ready={ok} stopping={body['stopping']}")

    def health_checks(self) -> list[HealthCheck]:
        return [HealthCheck(f"{self.service_name}.ping", self.ping, timeout=0.3, cache=60.0)]

    async def ping(self) -> Any:
        self.pings += 1
        if self.check == "raise":
            raise OSError("connection reset")
        if self.check == "false":
            return False
        if self.check == "hang":
            await asyncio.sleep(3600)
        return {"pings": self.pings}


def make_plugins(*plugins: object) -> Plugins:
    """The kernel and config_yaml plus in-code plugins (other first-party plugins off)."""
    manager = Plugins(environ={DISABLE_ENV: "rpc,scheduler,logging"})
    manager.load_first_party()
    for index, plugin in enumerate(plugins):
        manager.register(plugin, name=f"health{index}")
    return manager


def build(services: list[dict[str, Any]], *plugins: object,
          etc: dict[str, Any] | None = None) -> web.Application:
    data = {"main": {"name": "h"}, "etc": etc or {}, "services": services}
    return init_app(settings_from_mapping(data, make_plugins(*plugins)))


Probe = Callable[[str], Awaitable[tuple[int, dict[str, Any]]]]


async def with_server(app: web.Application, body: Callable[[Probe, web.Application], Awaitable[Any]]) -> Any:
    """Serve ``app`` on 127.0.0.1, run ``body(get, app)``, stop the app."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            async def get(path: str) -> tuple[int, dict[str, Any]]:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    assert response.content_type == "application/json"
                    return response.status, await response.json()
            return await body(get, app)
    finally:
        await runner.cleanup()


def test_all_probes_answer_200_with_detail_per_service() -> None:
    app = build([{"cls": "HealthDb", "name": "db"},
                 {"cls": "HealthDb", "name": "cache", "required": False, "settings": {"fail": True}}])

    async def body(get: Probe, app: web.Application) -> dict[str, Any]:
        return {kind: await get(f"/health/{kind}") for kind in ("live", "ready", "startup")}

    results = asyncio.run(with_server(app, body))
    for kind, (status, data) in results.items():
        assert status == 200, data
        assert data["status"] == "ok" and data["probe"] == kind and data["app"] == "h"
        assert data["services"]["db"] == {"class": "HealthDb", "required": True, "state": "running"}
        # a required: false service that failed is shown, never fails a probe
        assert data["services"]["cache"]["state"] == "failed"
        assert data["services"]["cache"]["required"] is False
        assert "ConnectionError: db is down" in data["services"]["cache"]["error"]
    ready = results["ready"][1]
    assert ready["checks"]["db.ping"]["status"] == "ok"
    assert ready["checks"]["db.ping"]["detail"] == {"pings": 1}
    assert "cache.ping" not in ready["checks"]  # the failed service's checks are not collected


def test_required_service_states_drive_ready_and_live() -> None:
    app = build([{"cls": "HealthDb", "name": "db"}])

    async def body(get: Probe, app: web.Application) -> list[tuple[str, int, int, list[str]]]:
        service = get_services(app).get("db")
        seen = []
        for state in (ServiceState.RUNNING, ServiceState.DEGRADED, ServiceState.FAILED, ServiceState.RUNNING):
            service.state = state
            live, _ = await get("/health/live")
            ready, data = await get("/health/ready")
            seen.append((state.value, live, ready, data["reasons"]))
        return seen

    seen = asyncio.run(with_server(app, body))
    assert seen == [
        ("running", 200, 200, []),
        ("degraded", 200, 503, ["required service 'db' is degraded, not running"]),
        ("failed", 503, 503, ["required service 'db' is failed"]),
        ("running", 200, 200, []),
    ]


def test_optional_service_degraded_or_failed_never_fails_readiness() -> None:
    app = build([{"cls": "HealthDb", "name": "db", "required": False, "settings": {"check": "raise"}}])

    async def body(get: Probe, app: web.Application) -> list[int]:
        get_services(app).get("db").state = ServiceState.FAILED
        (live, _), (ready, data) = await get("/health/live"), await get("/health/ready")
        assert data["checks"]["db.ping"]["status"] == "fail"
        assert data["checks"]["db.ping"]["required"] is False
        return [live, ready]

    assert asyncio.run(with_server(app, body)) == [200, 200]


@pytest.mark.parametrize(("mode", "error"), [
    ("raise", "OSError: connection reset"),
    ("false", "the check returned False"),
    ("hang", "did not finish within its timeout of 0.3 s"),
])
def test_failed_required_check_fails_readiness_only(mode: str, error: str) -> None:
    app = build([{"cls": "HealthDb", "name": "db", "settings": {"check": mode}}])

    async def body(get: Probe, app: web.Application) -> tuple[int, int, dict[str, Any]]:
        (live, _), (ready, data) = await get("/health/live"), await get("/health/ready")
        return live, ready, data

    live, ready, data = asyncio.run(with_server(app, body))
    assert (live, ready) == (200, 503)
    assert data["checks"]["db.ping"]["status"] == "fail"
    assert data["checks"]["db.ping"]["error"] == error
    assert data["reasons"] == [f"required check 'db.ping' failed: {error}"]


def test_check_results_are_cached_per_check() -> None:
    app = build([{"cls": "HealthDb", "name": "db"}])

    async def body(get: Probe, app: web.Application) -> tuple[int, list[Any]]:
        details = [(await get("/health/ready"))[1]["checks"]["db.ping"]["detail"] for _ in range(5)]
        return get_services(app).get("db").pings, details

    pings, details = asyncio.run(with_server(app, body))
    assert pings == 1 and details == [{"pings": 1}] * 5  # cache=60 s: one run for five probes


def test_check_that_ignores_cancellation_is_never_started_twice() -> None:
    started: list[int] = []

    async def stubborn() -> None:
        started.append(1)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # a badly written check ignores its timeout's cancellation: the probe answers anyway
        await asyncio.sleep(3600)  # cancelled when the app stops

    class Checks:
        @hookimpl
        def kaiju_register_health_checks(self, app: web.Application) -> list[HealthCheck]:
            return [HealthCheck("stubborn", stubborn, timeout=0.2, cache=0.0)]

    app = build([], Checks())

    async def body(get: Probe, app: web.Application) -> list[tuple[int, str, str]]:
        out = []
        for _ in range(3):
            status, data = await get("/health/ready")
            out.append((status, data["checks"]["stubborn"]["error"], data["checks"]["stubborn"]["source"]))
        return out

    out = asyncio.run(with_server(app, body))
    assert out[0] == (503, "did not finish within its timeout of 0.2 s", "plugin health0")
    assert [o[1].split(" (")[0] for o in out[1:]] == ["still running after its timeout of 0.2 s"] * 2
    assert started == [1]


def test_plugin_check_of_wrong_type_names_the_plugin() -> None:
    class Bad:
        @hookimpl
        def kaiju_register_health_checks(self, app: web.Application) -> list[Any]:
            return ["ping"]

    app = build([], Bad())

    async def start() -> None:
        runner = web.AppRunner(app)
        try:
            await runner.setup()
        finally:
            await runner.cleanup()

    with pytest.raises(PluginError, match=r"plugin 'health0': hook kaiju_register_health_checks: expected "
                                          r"kaiju_tools.health.HealthCheck objects, got str: 'ping'"):
        asyncio.run(start())


def test_probe_paths_come_from_etc_health() -> None:
    app = build([], etc={"health": {"ready_path": "/ready", "live_path": "/alive"}})

    async def body(get: Probe, app: web.Application) -> list[int]:
        return [(await get(path))[0] for path in ("/ready", "/alive", "/health/startup")]

    assert asyncio.run(with_server(app, body)) == [200, 200, 200]
    off = build([], etc={"health": {"enabled": False}})
    assert not [r for r in off.router.routes() if r.resource and "health" in r.resource.canonical]


def test_bad_etc_health_names_every_key() -> None:
    with pytest.raises(ConfigError) as info:
        build([], etc={"health": {"ready": "/r", "live_path": "alive", "enabled": "yes"}})
    text = str(info.value)
    assert "etc.health.ready: unknown key 'ready'" in text and "allowed keys: enabled, live_path" in text
    assert "etc.health.live_path: expected a path starting with '/', got 'alive'" in text
    assert "etc.health.enabled: expected true or false, got 'yes'" in text


def test_readiness_turns_false_before_services_stop() -> None:
    CALLS.clear()

    class Stopping:
        @hookimpl
        async def kaiju_app_stopping(self, app: web.Application) -> None:
            ok, _ = await get_health(app).probe("ready")
            CALLS.append(f"kaiju_app_stopping: ready={ok}")

    app = build([{"cls": "HealthDb", "name": "db"}], Stopping())

    async def body(get: Probe, app: web.Application) -> int:
        return (await get("/health/ready"))[0]

    assert asyncio.run(with_server(app, body)) == 200
    assert CALLS == ["kaiju_app_stopping: ready=False", "close db: ready=False stopping=True"]


SLOW_APP = '''
import asyncio, sys
from aiohttp import web
from pathlib import Path
from kaiju_tools import init_app as base_init_app, run_server
from kaiju_tools.health import get_health

async def slow(request):
    Path("started").write_text("1")
    await asyncio.sleep(float(request.query.get("s", "1")))
    ok, body = await get_health(request.app).probe("ready")
    return web.json_response({{"ready": ok, "reasons": body["reasons"]}})

def init_app(settings):
    app = base_init_app(settings)
    app.router.add_get("/slow", slow)
    return app

if __name__ == "__main__":
    run_server(init_app, base_config_paths=["settings/config.yml"], base_env_paths=["settings/env.json"])
'''


def test_sigterm_readiness_false_then_in_flight_requests_drain(tmp_path: Path) -> None:
    app = AppDir(tmp_path)
    app.write("settings/config.yml", 'run: {port: "[run_port]", shutdown_timeout: 30}\nmain: {name: slow}\n')
    port = free_port()
    app.write("settings/env.json", json.dumps({"run_port": port}))
    app.write(f"{app.name}/__main__.py", SLOW_APP.format())
    proc = app.popen()
    try:
        wait_port(port, proc)

        async def scenario() -> tuple[int, dict[str, Any]]:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/health/ready") as response:
                    assert response.status == 200
                request = asyncio.ensure_future(session.get(f"http://127.0.0.1:{port}/slow?s=1.5"))
                while not (tmp_path / "started").exists():  # noqa: ASYNC110 -- another process writes the file
                    await asyncio.sleep(0.02)
                proc.send_signal(signal.SIGTERM)
                async with await request as response:
                    return response.status, await response.json()

        status, data = asyncio.run(scenario())
        _, err = proc.communicate(timeout=60)
        code = proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert status == 200  # the in-flight request was answered, after readiness turned false
    assert data == {"ready": False,
                    "reasons": ["the app is stopping (SIGTERM or shutdown): draining requests"]}
    assert code == 0, err


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                    st.sampled_from(["/a", "/b", "/health/live"]), st.lists(st.integers(), max_size=2))


@given(st.one_of(_VALUES, st.dictionaries(
    st.sampled_from(["enabled", "live_path", "ready_path", "startup_path", "other"]), _VALUES, max_size=5)))
def test_etc_health_either_parses_or_names_the_problem(raw: Any) -> None:
    try:
        settings = HealthSettings.from_etc({"health": raw})
    except ConfigError as exc:
        assert all(p.where.startswith("etc.health") for p in exc.problems)
    else:
        assert all(p.startswith("/") for p in (settings.live_path, settings.ready_path,
                                               settings.startup_path))
        assert isinstance(settings.enabled, bool)


def test_deployment_doc_checks_snippet_runs(tmp_path: Path) -> None:
    import importlib.util

    from kernel_support import REPO

    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    start = text.index("```python\nimport shutil")
    snippet = text[start + len("```python\n"): text.index("```", start + 10)]
    path = tmp_path / "doc_checks.py"
    path.write_text(snippet, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("doc_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the doc's code, imported as a module
    SERVICE_CLASS_REGISTRY.register(module.Database)
    app = build([{"cls": "Database", "name": "db"}], module)

    async def body(get: Probe, app: web.Application) -> tuple[int, dict[str, Any]]:
        return await get("/health/ready")

    status, data = asyncio.run(with_server(app, body))
    assert status == 200, data
    assert data["checks"]["db.ping"]["detail"] == "connected"
    assert data["checks"]["db.ping"]["source"] == "service db"
    disk = data["checks"]["disk"]
    assert disk["required"] is False and disk["source"] == "plugin health0"
