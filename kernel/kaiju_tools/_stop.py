"""How ``run_server`` stops: signals, the grace period, the cut, the hard stop limit.

The contract (docs/deployment.md, "SIGTERM"): the first SIGTERM / SIGINT starts a graceful
stop (after ``run.drain_delay`` when set); more signals are logged and the stop goes on; the
third SIGINT forces the exit (code 130). Requests still running when ``run.shutdown_timeout``
ends are cut: cancelled (their connection closed without an answer: the rpc plugin answers
its own calls before), counted and logged once. In-flight requests are aiohttp's request tasks
(:mod:`._aiohttp_compat`), found at stop time: nothing runs per request. A watchdog thread
ends the process (code 1) with a report of what is still running once the stop passes its
hard limit (counted from the first signal), even when the event loop is blocked.

Signals are Python-level handlers (:func:`signal.signal`), not loop handlers: they run in the
main thread between bytecodes, so a third SIGINT is seen while a ``close()`` blocks the loop.
Once the stop is over, SIGTERM / SIGINT are ignored (``SIG_IGN``) until the process exits: a
Python handler would be reset to the default by the interpreter's finalization, and a late
signal would then kill the process with -15 after a clean stop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from . import _aiohttp_compat
from ._aiohttp_compat import describe_task, request_tasks
from ._container import SERVICES_KEY
from ._health import HEALTH_KEY
from .services import ServiceState

__all__ = ["SLACK", "STOP_KEY", "Stopper"]

SLACK = 10.0
"""Seconds the hard stop limit adds to the configured ones (hooks, the cut, the loop's end)."""

FORCE_AFTER = 3
"""The SIGINT that forces the exit (Ctrl+C three times)."""

_CUT_WAIT = 1.0  # seconds cut handlers get to end
_LIVE = (ServiceState.STARTING, ServiceState.RUNNING, ServiceState.DEGRADED, ServiceState.STOPPING)


class Stopper:
    """One ``run_server`` stop: phases, signal handlers, the drain and its cut, the watchdog.

    Phases: ``starting`` -> ``serving`` -> (``draining``) -> ``stopping`` -> ``stopped``.
    """

    def __init__(self, app: web.Application, log: Any, drain_delay: float = 0.0) -> None:
        settings = app[SERVICES_KEY].settings
        self.app = app
        self.log = log
        self.grace = settings.run.shutdown_timeout
        self.stop_limit = settings.main.stop_timeout
        self.drain_delay = drain_delay
        self.phase = "starting"
        self.grace_deadline: float | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._requests: list[str] | None = None  # labels the loop last saw in flight (stop time)
        self._sigints = 0
        self._delay: asyncio.TimerHandle | None = None
        self._serving = False
        self._hard_limit = ""
        self._deadline: float | None = None  # monotonic; set once, by the first signal or begin()
        self._wake_r, self._wake_w = os.pipe()

    # ---- installing ---------------------------------------------------------------

    def install(self, serving: bool = True) -> None:
        """Add the app signals (and for a server the drain), set the signal handlers.

        Signal handlers can only be set in the main thread; elsewhere the stop has no handlers.
        """
        self.app[STOP_KEY] = self
        self.app.on_startup.append(self._on_startup)
        self._serving = serving
        threading.Thread(target=self._watch, daemon=True, name="kaiju-stop-watchdog").start()
        if serving:
            self.app.on_shutdown.append(self._drain)  # after readiness and kaiju_app_stopping
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._on_signal)

    async def _on_startup(self, app: web.Application) -> None:
        self.loop = asyncio.get_running_loop()
        if self._serving and not _aiohttp_compat.REQUEST_TASKS_FOUND:
            self.log.warning("aiohttp's request tasks are not recognised (checked against aiohttp "
                             "%s): at the stop, in-flight requests get aiohttp's own "
                             "shutdown_timeout, and a cut is neither counted nor logged",
                             _aiohttp_compat.CHECKED_AGAINST)
        if self.phase == "starting":
            self.phase = "serving"

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop that ``run_app`` runs (signals during start-up are delivered to it)."""
        self.loop = loop

    def stopped(self) -> None:
        """The stop is over: ignore SIGTERM / SIGINT until the process exits."""
        self.phase = "stopped"
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)

    # ---- signals ------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
        """Python-level handler: runs in the main thread, also while the loop is blocked."""
        if self.phase != "stopped":
            self._arm(self.drain_delay)
        if signum == signal.SIGINT:
            self._sigints += 1
            if self._sigints >= FORCE_AFTER and self.phase != "stopped":
                self.exit_now(130, f"the {_ordinal(self._sigints)} SIGINT forces the stop")
        loop = self.loop
        if loop is None or loop.is_closed() or self.phase == "stopped":
            return
        try:
            loop.call_soon_threadsafe(self._signal, signal.Signals(signum))
        except RuntimeError:  # the loop closed in between: the stop is over
            pass

    def _signal(self, sig: signal.Signals) -> None:
        """In the loop: move the stop along; a signal never interrupts a stop under way."""
        if self.phase == "starting":
            self.log.info("%s during start-up: stopping the services that started", sig.name)
            self._begin_stop()
        elif self.phase == "serving" and self.drain_delay > 0:
            self.phase = "draining"
            monitor = self.app.get(HEALTH_KEY)
            if monitor is not None:
                monitor.stopping = True
            self.log.info("%s: readiness is false; serving %g s more before stopping "
                          "(run.drain_delay)", sig.name, self.drain_delay)
            assert self.loop is not None
            self._delay = self.loop.call_later(self.drain_delay, self._begin_stop)
        elif self.phase in ("serving", "draining"):  # a second signal skips the rest of the delay
            if self._delay is not None:
                self._delay.cancel()
            if self._serving:
                self.log.info("%s: stopping (in-flight requests get %g s: run.shutdown_timeout)",
                              sig.name, self.grace)
            else:
                self.log.info("%s: stopping", sig.name)
            self._begin_stop()
        elif self.phase == "stopping":
            self.log.warning("%s: already stopping, the stop goes on (hard stop limit %s; "
                             "SIGINT %d times forces it)", sig.name, self._hard_limit, FORCE_AFTER)

    def begin(self) -> None:
        """The stop begins (a signal, or a command returned): later signals are only logged."""
        if self.phase in ("stopping", "stopped"):
            return
        self.phase = "stopping"
        if self.loop is not None and not self.loop.is_closed():
            self.grace_deadline = self.loop.time() + self.grace
            if self._serving:
                self._snapshot(request_tasks(self.loop))
        self._arm(0.0)

    def _begin_stop(self) -> None:
        self.begin()
        raise web.GracefulExit()  # out of the loop: the main task is cancelled, its cleanup runs

    # ---- the hard stop limit ------------------------------------------------------

    def _arm(self, delay: float) -> None:
        """Start the hard stop limit's clock (once; safe inside a signal handler: no locks)."""
        if self._deadline is not None:
            return
        services = len(self.app[SERVICES_KEY])
        limit = delay + self.grace + services * self.stop_limit + SLACK
        self._hard_limit = (f"{limit:g} s = run.drain_delay {delay:g} s + run.shutdown_timeout "
                            f"{self.grace:g} s + {services} service(s) x main.stop_timeout "
                            f"{self.stop_limit:g} s + {SLACK:g} s")
        self._deadline = time.monotonic() + limit
        os.write(self._wake_w, b"!")

    def _watch(self) -> None:
        """The watchdog thread: idle until armed, then ends the process at the deadline."""
        os.read(self._wake_r, 1)
        assert self._deadline is not None
        while (left := self._deadline - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))
        self.exit_now(1, f"the stop passed its hard stop limit of {self._hard_limit}")

    def exit_now(self, code: int, why: str) -> None:
        """Write why and what still runs to stderr and end the process (no loop, no locks)."""
        text = f"kaiju: {why}; exiting with code {code}.\n{self.report()}"
        try:
            os.write(2, text.encode("utf-8", "replace"))
        finally:
            os._exit(code)

    def report(self) -> str:
        """What still runs: the phase, live services, in-flight requests (safe from any thread)."""
        lines = [f"  phase: {self.phase}"]
        try:
            live = [s for s in self.app[SERVICES_KEY] if s.state in _LIVE]
            names = ", ".join(f"{s.service_name} ({s.state.value})" for s in live) or "none"
        except Exception as exc:  # noqa: BLE001 -- a report must never fail
            names = f"unknown ({type(exc).__name__}: {exc})"
        lines.append(f"  services still running: {names}")
        seen = self._requests  # one read: the loop swaps the list, never changes it
        if not self._serving or self.phase == "starting":
            requests = "none"
        elif seen is None:
            requests = "unknown (the event loop did not reach the stop)"
        else:
            requests = self.describe(seen) or "none"
        lines.append(f"  requests in flight: {requests}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def describe(labels: Iterable[str | None]) -> str:
        """``2 x GET /slow, 1 x POST /rpc`` (``?`` for a request without a label)."""
        counts = Counter(label or "?" for label in labels)
        return ", ".join(f"{n} x {label}" for label, n in counts.most_common())

    # ---- in-flight requests -------------------------------------------------------

    def _snapshot(self, tasks: list[asyncio.Task[Any]]) -> list[str | None]:
        """Label the tasks; keep the labels for the watchdog's report (another thread)."""
        labels = [describe_task(task) for task in tasks]
        self._requests = [label or "?" for label in labels]
        return labels

    async def _drain(self, app: web.Application) -> None:
        """``on_shutdown``, last: wait for in-flight requests until the grace ends, then cut.

        The requests are aiohttp's request tasks, found now (:mod:`._aiohttp_compat`); a cut
        task is cancelled, and aiohttp closes its connection without an answer.
        """
        loop = asyncio.get_running_loop()
        deadline = self.grace_deadline if self.grace_deadline is not None else loop.time() + self.grace
        self._snapshot(pending := request_tasks(loop))
        while pending and loop.time() < deadline:
            await asyncio.wait(pending, timeout=deadline - loop.time())
            self._snapshot(pending := request_tasks(loop))
        if not pending:
            return
        labels = self._snapshot(pending)
        self.log.warning("run.shutdown_timeout (%g s) ended with %d %s still running; cut, their "
                         "connections closed: %s", self.grace, len(pending),
                         "request" if len(pending) == 1 else "requests", self.describe(labels),
                         cut=len(pending))
        for task in pending:
            task.cancel("the server is shutting down: run.shutdown_timeout ended")
        await asyncio.wait(pending, timeout=_CUT_WAIT)
        self._snapshot(request_tasks(loop))


STOP_KEY = web.AppKey("kaiju.stop", Stopper)
"""The app's :class:`Stopper` under ``run_server`` (absent under gunicorn and in tests)."""


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")
