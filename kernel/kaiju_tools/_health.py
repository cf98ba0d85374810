"""Probe logic and aiohttp views behind :mod:`kaiju_tools.health`.

:func:`install` (called by ``init_app``) adds the probe routes and three signal handlers:
``on_startup`` (runs after the services started) collects the checks and marks the app
started; ``on_shutdown`` (first in the list, before ``kaiju_app_stopping``) turns
readiness false; ``on_cleanup`` marks the app stopped.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import time
from dataclasses import field
from typing import Any

from aiohttp import web

from ._keys import HEALTH_KEY, PLUGINS_KEY, SERVICES_KEY, SETTINGS_KEY
from .caches import dataclass
from .exceptions import PluginError
from .health import PROBES, HealthCheck, HealthSettings
from .plugins import call_each
from .services import ServiceState

__all__ = ["HEALTH_KEY", "HealthMonitor", "install"]

_SHOWN = (str, int, float, list, dict)


@dataclass
class _Check:
    spec: HealthCheck
    source: str
    required: bool
    result: dict[str, Any] | None = None
    at: float = 0.0
    running: asyncio.Task[dict[str, Any]] | None = None
    stuck: asyncio.Future[Any] | None = None


@dataclass
class HealthMonitor:
    """Keeps an app's probe state and runs its checks (one per app: :func:`get_health`)."""

    app: web.Application
    settings: HealthSettings
    started: bool = False
    stopping: bool = False
    checks: list[_Check] = field(default_factory=list)

    # ---- lifecycle ----------------------------------------------------------------

    def collect(self) -> None:
        """Gather checks from ``kaiju_register_health_checks`` and services' ``health_checks()``."""
        found: list[_Check] = []
        for plugin, checks in call_each(self.app[PLUGINS_KEY].pm, "kaiju_register_health_checks",
                                        app=self.app):
            for spec in _as_checks(checks, f"plugin {plugin!r}: hook kaiju_register_health_checks"):
                found.append(_Check(spec, f"plugin {plugin}", spec.required))
        container = self.app[SERVICES_KEY]
        for service in container:
            method = getattr(service, "health_checks", None)
            if not callable(method):
                continue
            where = f"service {service.service_name!r}: health_checks()"
            try:
                checks = method()
            except Exception as exc:
                raise PluginError(f"{where} raised {type(exc).__name__}: {exc}") from exc
            required = container.entry(service.service_name).required
            for spec in _as_checks(checks, where):
                found.append(_Check(spec, f"service {service.service_name}", spec.required and required))
        names = [c.spec.name for c in found]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            sources = {n: [c.source for c in found if c.spec.name == n] for n in dupes}
            raise PluginError(f"health checks with the same name: {sources}; give each check its "
                              "own name (e.g. '<service>.<what>')")
        self.checks = found

    def follow(self, app: web.Application) -> None:
        """Follow ``app``'s state: the checks are collected at start-up, ``stopping`` set at shutdown."""
        app.on_startup.append(self._on_startup)
        app.on_shutdown.insert(0, self._on_shutdown)
        app.on_cleanup.append(self._on_cleanup)

    async def _on_startup(self, app: web.Application) -> None:
        self.collect()
        self.started = True

    async def _on_shutdown(self, app: web.Application) -> None:
        self.stopping = True

    async def _on_cleanup(self, app: web.Application) -> None:
        self.stopping = True
        tasks = [t for c in self.checks for t in (c.running, c.stuck) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a check that ignores cancellation does not hold the stop up
            await asyncio.wait(tasks, timeout=1.0)

    # ---- probes -------------------------------------------------------------------

    async def probe(self, kind: str) -> tuple[bool, dict[str, Any]]:
        """Evaluate a probe (``live``, ``ready`` or ``startup``) -> ``(ok, JSON detail)``."""
        if kind not in PROBES:
            raise ValueError(f"unknown probe {kind!r}; expected one of {', '.join(PROBES)}")
        main = self.app[SETTINGS_KEY].main
        services, reasons = self._services(kind)
        checks: dict[str, Any] = {}
        if kind == "ready":
            if not self.started:
                reasons.append("the app has not started yet")
            elif self.stopping:
                reasons.append("the app is stopping (SIGTERM or shutdown): draining requests")
            else:
                checks = await self._run_checks(reasons)
        elif kind == "startup" and not self.started:
            reasons.append("the app has not started yet")
        ok = not reasons
        body = {"status": "ok" if ok else "fail", "probe": kind, "app": main.name, "version": main.version,
                "pid": os.getpid(), "started": self.started, "stopping": self.stopping,
                "reasons": reasons, "services": services, "checks": checks}
        return ok, body

    def _services(self, kind: str) -> tuple[dict[str, Any], list[str]]:
        settings = self.app[SETTINGS_KEY]
        container = self.app[SERVICES_KEY]
        out: dict[str, Any] = {}
        reasons: list[str] = []
        for entry in settings.services:
            if not entry.enabled:
                continue
            name = settings.service_name(entry)
            service = container.get(name)
            info: dict[str, Any] = {"class": entry.cls, "required": entry.required}
            if service is None:
                state = ServiceState.FAILED
                cause = container.failed.get(name, "not built")
                info["error"] = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
            else:
                state = ServiceState(service.state)
            info["state"] = state.value
            out[name] = info
            if not entry.required:
                continue
            if state is ServiceState.FAILED:
                reasons.append(f"required service {name!r} is failed")
            elif kind == "ready" and state is not ServiceState.RUNNING and not self.stopping:
                reasons.append(f"required service {name!r} is {state.value}, not running")
            elif kind == "startup" and state in (ServiceState.CREATED, ServiceState.STARTING):
                reasons.append(f"required service {name!r} is {state.value}")
        return out, reasons

    async def _run_checks(self, reasons: list[str]) -> dict[str, Any]:
        now = time.monotonic()
        for check in self.checks:
            fresh = check.result is not None and now - check.at < check.spec.cache
            if not fresh and (check.running is None or check.running.done()):
                check.running = asyncio.ensure_future(self._measure(check))
        pending = [c.running for c in self.checks if c.running is not None and not c.running.done()]
        if pending:
            await asyncio.wait([asyncio.shield(t) for t in pending])
        out: dict[str, Any] = {}
        now = time.monotonic()
        for check in self.checks:
            if check.running is not None and check.running.done():
                check.result, check.at = check.running.result(), now
                check.running = None
            result = dict(check.result or {"status": "fail", "error": "never ran"})
            result.update(required=check.required, source=check.source, age=round(now - check.at, 3))
            out[check.spec.name] = result
            if result["status"] != "ok" and check.required:
                reasons.append(f"required check {check.spec.name!r} failed: {result.get('error')}")
        return out

    async def _measure(self, check: _Check) -> dict[str, Any]:
        """Run one check under its timeout; never raises, never waits past the timeout."""
        spec = check.spec
        start = time.monotonic()
        if check.stuck is not None and not check.stuck.done():
            return {"status": "fail", "duration": 0.0,
                    "error": f"still running after its timeout of {spec.timeout:g} s (it ignores "
                             "cancellation); not started again"}
        try:
            value = spec.check()
            if inspect.isawaitable(value):
                task = asyncio.ensure_future(value)
                done, _ = await asyncio.wait({task}, timeout=spec.timeout)
                if not done:
                    task.cancel()
                    check.stuck = task
                    task.add_done_callback(_consume)
                    return {"status": "fail", "duration": round(time.monotonic() - start, 3),
                            "error": f"did not finish within its timeout of {spec.timeout:g} s"}
                value = task.result()
        except Exception as exc:  # noqa: BLE001 -- a check that raises has failed: a result, not an error
            return {"status": "fail", "duration": round(time.monotonic() - start, 3),
                    "error": f"{type(exc).__name__}: {exc}"}
        result: dict[str, Any] = {"status": "ok" if value is not False else "fail",
                                  "duration": round(time.monotonic() - start, 3)}
        if value is False:
            result["error"] = "the check returned False"
        elif isinstance(value, _SHOWN) and not isinstance(value, bool):
            result["detail"] = value
        return result


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning


def _as_checks(checks: Any, where: str) -> list[HealthCheck]:
    items = list(checks or ())
    for item in items:
        if not isinstance(item, HealthCheck):
            raise PluginError(f"{where}: expected kaiju_tools.health.HealthCheck objects, got "
                              f"{type(item).__name__}: {item!r}. Return e.g. "
                              "[HealthCheck('db', self.ping, timeout=1.0)]")
    return items


def _dumps(value: Any) -> str:
    return json.dumps(value, default=repr)


def _view(kind: str) -> Any:
    async def probe(request: web.Request) -> web.Response:
        try:
            ok, body = await request.app[HEALTH_KEY].probe(kind)
        except Exception as exc:  # noqa: BLE001 -- a probe answers, always: never a 500
            ok, body = False, {"status": "fail", "probe": kind, "pid": os.getpid(),
                               "reasons": [f"the probe itself failed: {type(exc).__name__}: {exc}"]}
        return web.json_response(body, status=200 if ok else 503, dumps=_dumps,
                                 headers={"Cache-Control": "no-store"})

    probe.__name__ = probe.__qualname__ = f"health_{kind}"
    probe.kaiju_outcome = "quiet"  # type: ignore[attr-defined]  # no outcome line per probe
    return probe


def install(app: web.Application) -> HealthMonitor:
    """Add the probe routes (``etc.health``) and the state handlers to an app."""
    settings = HealthSettings.from_etc(app[SETTINGS_KEY].etc)
    monitor = HealthMonitor(app, settings)
    app[HEALTH_KEY] = monitor
    if settings.enabled:
        for kind in PROBES:
            app.router.add_get(getattr(settings, f"{kind}_path"), _view(kind), name=f"health_{kind}")
    monitor.follow(app)
    return monitor
