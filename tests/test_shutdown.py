"""The shutdown contract of ``run_server`` under every signal sequence (docs/deployment.md, SIGTERM).

A small app serves ``/slow`` (records ``started``, sleeps ``?s=`` seconds, answers ``done``)
and runs services that record their lifecycle in ``events.txt``; one of them may block the
event loop in ``close()``. The app runs as a real subprocess, gets real signals and real
HTTP clients in flight. No test asserts a duration: every wait is a generous upper bound.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kernel_support import AppDir
from suite_support import CHILD_ENV, EVENTS_SERVICES, events, serving

SERVICES = EVENTS_SERVICES + '''

import time


class BlocksOnClose(Recorder):
    """close() blocks the event loop (a sync call where an await belonged)."""

    async def close(self):
        note(f"close {self.service_name}")
        time.sleep(3600)


class BlocksOnInit(Recorder):
    """init() blocks the event loop."""

    async def init(self):
        note(f"init {self.service_name}")
        time.sleep(3600)


class SlowClose(Recorder):
    """close() takes a while, as a pool that waits for its connections does."""

    async def close(self):
        note(f"close {self.service_name}")
        await asyncio.sleep(1.5)
        note(f"closed {self.service_name}")
'''

MAIN = '''
import asyncio
import os
from aiohttp import web
from kaiju_tools import _aiohttp_compat
from kaiju_tools import init_app as init_app_base, run_server
from kaiju_tools.app import grace_deadline
import tapp
from tapp.services import note


async def slow(request):
    note("started")
    try:
        await asyncio.sleep(float(request.query.get("s", "1")))
    except asyncio.CancelledError:
        note("cancelled")
        raise
    note("finished")
    return web.Response(text="done")


async def deadline(request):
    return web.Response(text=repr(grace_deadline(request.app)))


async def middlewares(request):
    return web.Response(text=repr([getattr(m, "__qualname__", repr(m)) for m in request.app.middlewares]))


async def note_deadline(app):
    left = grace_deadline(app) - asyncio.get_running_loop().time()
    note(f"grace left {left:.3f}")


def init_app(settings, **kws):
    app = init_app_base(settings, **kws)
    app.router.add_get("/slow", slow)
    app.router.add_get("/deadline", deadline)
    app.router.add_get("/middlewares", middlewares)
    app.on_shutdown.append(note_deadline)  # after readiness and the kaiju_app_stopping hooks
    return app


if __name__ == "__main__":
    if os.environ.get("TAPP_NO_COMPAT"):  # as on an aiohttp whose request tasks are unknown
        _aiohttp_compat.REQUEST_TASKS_FOUND = False
    run_server(init_app, base_config_paths=["settings/config.yml"],
               base_env_paths=["settings/env.json"])
'''

WAIT = 60.0  # "it did finish" bound of every wait below; never a speed claim


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", SERVICES)
    app_dir.write("tapp/__main__.py", MAIN)
    app_dir.write("settings/env.json", '{"run_port": 8080}')
    return app_dir


def config(app: AppDir, services: str, run: str = "", main: str = "") -> None:
    app.write("settings/config.yml", "main:\n  name: halt\n" + main + "run:\n  port: '[run_port]'\n"
              + run + "services:\n" + services)


def count(app: AppDir, line: str) -> int:
    return events(app.root / "events.txt").count(line)


def wait_for(predicate: object, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate() or proc.poll() is not None:  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("the app never got there")


@contextmanager
def calls(port: int, n: int, seconds: float) -> Iterator[list[tuple[int, bytes]]]:
    """``n`` GET /slow?s=seconds on their own connections, in flight until the block ends."""
    answers: list[tuple[int, bytes]] = []

    def one() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            conn.request("GET", f"/slow?s={seconds}")
            response = conn.getresponse()
            answers.append((response.status, response.read()))
        except (OSError, http.client.HTTPException) as exc:
            answers.append((0, repr(exc).encode()))
        finally:
            conn.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        for thread in threads:
            thread.join(WAIT)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the app did not exit:\n{err}") from None
    return proc.returncode, err


def signal_until_exit(proc: subprocess.Popen[str], sigs: list[int], every: float = 0.02) -> None:
    """Send ``sigs`` in turn, then the last one again and again, until the process ends."""
    deadline = time.monotonic() + WAIT
    index = 0
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            proc.send_signal(sigs[min(index, len(sigs) - 1)])
        except ProcessLookupError:
            break
        index += 1
        time.sleep(every)


@pytest.mark.parametrize("sigs", [
    [signal.SIGTERM],  # SIGTERM, then SIGTERM again every 20 ms across the whole drain
    [signal.SIGINT, signal.SIGINT, signal.SIGTERM],  # Ctrl+C twice (not three times), then SIGTERMs
])
def test_repeated_signals_during_the_drain_never_crash_the_stop(app: AppDir, sigs: list[int]) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 30\n")
    with serving(app) as (proc, port), calls(port, 50, 1.5) as answers:
        wait_for(lambda: count(app, "started") == 50, proc)
        signal_until_exit(proc, sigs)
        code, err = finish(proc)
    assert code == 0, err
    assert "Traceback" not in err
    assert answers == [(200, b"done")] * 50
    assert events(app.root / "events.txt")[-1] == "close db"
    assert "already stopping" in err  # each extra signal is logged, the stop goes on


def test_a_close_that_blocks_the_loop_ends_at_the_hard_limit_with_a_report(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: a\n  - cls: BlocksOnClose\n    name: blocker\n",
           run="  shutdown_timeout: 1\n", main="  stop_timeout: 0.5\n")
    with serving(app) as (proc, _):
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: count(app, "close blocker") == 1, proc)
        proc.send_signal(signal.SIGTERM)  # ignored while blocked: the watchdog ends it
        code, err = finish(proc)
    assert code == 1, err
    report = err[err.index("hard stop limit"):]
    assert "blocker (stopping)" in report and "a (running)" in report
    assert "main.stop_timeout" in report and "run.shutdown_timeout" in report
    assert "close a" not in events(app.root / "events.txt")


def test_a_start_up_that_blocks_the_loop_ends_at_the_hard_limit_after_a_signal(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: a\n  - cls: BlocksOnInit\n    name: blocker\n",
           run="  shutdown_timeout: 0.5\n", main="  stop_timeout: 0.5\n")
    proc = app.popen("run", env=CHILD_ENV)
    try:
        wait_for(lambda: count(app, "init blocker") == 1, proc)
        proc.send_signal(signal.SIGTERM)  # the loop never sees it: the watchdog is armed anyway
        code, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 1, err
    report = err[err.index("hard stop limit"):]
    assert "phase: starting" in report and "blocker (starting)" in report and "a (running)" in report


def test_a_third_sigint_forces_the_exit_with_a_report(app: AppDir) -> None:
    config(app, "  - cls: BlocksOnClose\n    name: blocker\n", main="  stop_timeout: 300\n")
    with serving(app) as (proc, _):
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: count(app, "close blocker") == 1, proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        code, err = finish(proc)
    assert code == 130, err
    assert "third SIGINT" in err
    assert "blocker (stopping)" in err[err.index("third SIGINT"):]


def test_calls_cut_at_the_end_of_the_grace_period_are_closed_counted_and_logged(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 2\n")
    with serving(app) as (proc, port), calls(port, 3, 3600) as answers:
        wait_for(lambda: count(app, "started") == 3, proc)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    assert code == 0, err  # the stop itself completed: the grace period is the contract
    assert "Traceback" not in err
    assert [status for status, _ in answers] == [0] * 3  # plain handlers: closed, no answer
    cut = [line for line in err.splitlines() if "cut" in line and "run.shutdown_timeout" in line]
    assert len(cut) == 1, err
    assert "3 requests still running" in cut[0] and "3 x GET /slow" in cut[0]
    assert count(app, "cancelled") == 3 and count(app, "finished") == 0
    assert events(app.root / "events.txt")[-1] == "close db"  # services stop after the cut


def test_where_request_tasks_are_unknown_the_stop_is_aiohttps_own_and_still_ends(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 2\n")
    with serving(app, env={"TAPP_NO_COMPAT": "1"}) as (proc, port), calls(port, 2, 3600) as answers:
        wait_for(lambda: count(app, "started") == 2, proc)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)  # within WAIT, far below a 3600 s handler
    assert code == 0, err
    assert "request tasks are not recognised" in err and "aiohttp's own shutdown_timeout" in err
    assert [status for status, _ in answers] == [0] * 2
    assert count(app, "cancelled") == 2 and count(app, "finished") == 0
    assert events(app.root / "events.txt")[-1] == "close db"


def test_a_stop_within_the_grace_period_cuts_nothing(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 30\n")
    with serving(app) as (proc, port), calls(port, 2, 0.5) as answers:
        wait_for(lambda: count(app, "started") == 2, proc)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    assert code == 0, err
    assert answers == [(200, b"done")] * 2
    assert "cut" not in err


def half_headers(port: int) -> socket.socket:
    """A client that sent part of its request head and stalls (a slow-loris connection)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def test_a_client_stuck_in_its_headers_does_not_hold_up_the_stop(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 300\n")
    with serving(app) as (proc, port):
        sock = half_headers(port)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
        assert sock.recv(1024) == b""  # closed by the server
        sock.close()
    assert code == 0, err
    assert events(app.root / "events.txt")[-1] == "close db"


def test_run_keepalive_timeout_bounds_a_header_read(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  keepalive_timeout: 1\n")
    with serving(app) as (proc, port):
        sock = half_headers(port)
        assert sock.recv(1024) == b""  # closed by the server (WAIT is the "it did" bound)
        sock.close()
        assert proc.poll() is None


WORKER = '''
import asyncio
from kaiju_tools import Command
from tapp.services import note


class Worker(Command):
    name = "worker"

    async def run(self, app, args):
        note("working")
        await asyncio.sleep(3600)
'''


@pytest.mark.parametrize("sigs", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT, signal.SIGTERM]])
def test_repeated_signals_while_a_command_stops_never_crash_it(app: AppDir, sigs: list[int]) -> None:
    app.write("tapp/commands.py", WORKER)
    config(app, "  - cls: Recorder\n    name: a\n  - cls: SlowClose\n    name: slow\n")
    proc = app.popen("worker", env=CHILD_ENV)
    try:
        wait_for(lambda: count(app, "working") == 1, proc)
        signal_until_exit(proc, sigs)
        code, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == 0, err
    assert "Traceback" not in err
    assert events(app.root / "events.txt")[-3:] == ["close slow", "closed slow", "close a"]


def test_run_handle_signals_is_refused_since_run_server_owns_the_signals(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  handle_signals: true\n")
    result = app.run("config", env=CHILD_ENV)
    assert result.returncode == 2, result.stderr
    assert "run.handle_signals" in result.stderr and "Traceback" not in result.stderr


def test_grace_deadline_is_set_when_the_stop_begins(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n", run="  shutdown_timeout: 30\n")
    with serving(app) as (proc, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("GET", "/deadline")
        assert conn.getresponse().read() == b"None"  # serving: no stop, no deadline
        conn.close()
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    assert code == 0, err
    [line] = [e for e in events(app.root / "events.txt") if e.startswith("grace left ")]
    assert 0 < float(line.split()[-1]) <= 30  # loop.time() + run.shutdown_timeout, in the future


def test_the_stop_adds_no_middleware_so_requests_pay_nothing_for_it(app: AppDir) -> None:
    config(app, "  - cls: Recorder\n    name: db\n")
    with serving(app) as (proc, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("GET", "/middlewares")
        installed = conn.getresponse().read().decode()
        conn.close()
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc)
    assert code == 0, err
    assert "Stopper" not in installed, installed  # aiohttp skips its middleware machinery then
