"""The example app under gunicorn with aiohttp's worker class: 2 worker processes, SIGTERM, nothing lost.

Real gunicorn processes on 127.0.0.1 serve ``examples/app`` (``app.gunicorn:app``); a test-only
service (``pid.get`` / ``pid.slow``: the answering worker's pid) is added through
``KAIJU_CONFIG``, the factory's stand-in for ``-c``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kernel_support import EXAMPLES, child_env, free_port, wait_ready

pytest.importorskip("gunicorn",
                    reason="gunicorn is the `gunicorn` extra: pip install 'kaiju-kernel[gunicorn]'")

PIDSVC = '''
import asyncio, os
from pathlib import Path
from kaiju_tools import Service


class PidService(Service):
    """Answers with the pid of the worker that serves the call."""

    @property
    def routes(self):
        return {"get": self.get, "slow": self.slow}

    @property
    def permissions(self):
        return {"*": 1000}  # guests may call (the example serves with enable_permissions on)

    async def get(self):
        return os.getpid()

    async def slow(self, delay: float = 1.0):
        with open(os.environ["PID_STARTED"], "a") as file:
            file.write(f"{os.getpid()}\\n")
        await asyncio.sleep(delay)
        return os.getpid()
'''

OVERLAY = '''
packages: [pidsvc]
services:
  - cls: PidService
    name: pid
'''


def gunicorn(tmp_path: Path, port: int, *args: str,
             env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    (tmp_path / "pidsvc.py").write_text(textwrap.dedent(PIDSVC), encoding="utf-8")
    (tmp_path / "overlay.yml").write_text(OVERLAY, encoding="utf-8")
    env = child_env({"PYTHONPATH": str(tmp_path), "KAIJU_CONFIG": str(tmp_path / "overlay.yml"),
                     "PID_STARTED": str(tmp_path / "started.txt"), **(env or {})})
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app.gunicorn:app", "--bind", f"127.0.0.1:{port}",
         "--graceful-timeout", "30", "--control-socket", str(tmp_path / "gunicorn.ctl"), *args],
        cwd=EXAMPLES, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def call(session: aiohttp.ClientSession, port: int, method: str, **params: Any) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with session.post(f"http://127.0.0.1:{port}/public/rpc", json=body) as response:
        assert response.status == 200
        data = await response.json()
    assert "result" in data, data
    return data["result"]


def test_two_workers_answer_and_sigterm_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    proc = gunicorn(tmp_path, port, "--worker-class", "aiohttp.GunicornWebWorker", "--workers", "2")
    started = tmp_path / "started.txt"

    async def scenario() -> tuple[int, list[int]]:
        await wait_ready(port, proc)
        answers: list[int] = []
        sent = 0
        # a new connection per call: gunicorn's workers share the listening socket
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            while len(set(answers)) < 2 and sent < 4000:
                batch = [call(session, port, "pid.get") for _ in range(8)]
                sent += len(batch)
                answers.extend(await asyncio.gather(*batch))
            assert len(set(answers)) == 2, f"one worker answered all {sent} calls"
            slow = [asyncio.ensure_future(call(session, port, "pid.slow", delay=1.5)) for _ in range(6)]
            sent += len(slow)
            while len(started.read_text().splitlines() if started.exists() else []) < len(slow):  # noqa: ASYNC110 -- another process writes the file
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGTERM)  # while 6 calls are in flight
            answers.extend(await asyncio.gather(*slow))
        return sent, answers

    try:
        sent, answers = asyncio.run(scenario())
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    per_worker = collections.Counter(answers)
    booted = {int(line.rsplit(" ", 1)[1]) for line in err.splitlines() if "Booting worker with pid" in line}
    assert set(per_worker) <= booted and len(per_worker) == 2
    assert sent == len(answers)  # lost: 0
    assert (out + err).count("app started") == 2 and err.count("Worker exiting") == 2
    print(f"\ngunicorn figures: calls sent {sent}, answered per worker {dict(per_worker)}, "
          f"lost {sent - len(answers)}")


def test_wrong_worker_class_is_refused_when_the_app_loads(tmp_path: Path) -> None:
    proc = gunicorn(tmp_path, free_port())  # gunicorn's default: the sync worker
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3  # gunicorn: worker failed to boot
    assert ("gunicorn worker class: a kaiju app needs aiohttp's worker (aiohttp.GunicornWebWorker), got "
            "gunicorn.workers.sync.SyncWorker. Fix: run gunicorn with --worker-class "
            "aiohttp.GunicornWebWorker") in err


@pytest.mark.parametrize("args", [("-c", "python:kaiju_tools.gunicorn", "--worker-class", "sync"),
                                  ("--preload",)], ids=["config-hook", "preload"])
def test_wrong_worker_class_is_refused_before_any_worker(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = gunicorn(tmp_path, free_port(), *args)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "Error: gunicorn worker class: a kaiju app needs aiohttp's worker" in err
    assert "Booting worker" not in err


def test_config_module_sets_the_worker_class(tmp_path: Path) -> None:
    port = free_port()
    proc = gunicorn(tmp_path, port, "-c", "python:kaiju_tools.gunicorn", "--workers", "2")

    async def scenario() -> int:
        await wait_ready(port, proc)
        async with aiohttp.ClientSession() as session:
            return await call(session, port, "greeter.add", a=2, b=3)

    try:
        assert asyncio.run(scenario()) == 5
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Using worker: aiohttp.GunicornWebWorker" in err


def test_json_logs_for_shipping(tmp_path: Path) -> None:
    """JSON records alone on stdout (gunicorn's own lines on stderr); each names its worker's pid."""
    port = free_port()
    proc = gunicorn(tmp_path, port, "--worker-class", "aiohttp.GunicornWebWorker", "--workers", "2",
                    env={"log_handler": "JSONHandler", "log_stream": "stdout"})

    async def scenario() -> int:
        await wait_ready(port, proc)
        async with aiohttp.ClientSession() as session:
            return await call(session, port, "greeter.add", a=1, b=1)

    try:
        assert asyncio.run(scenario()) == 2
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]  # every stdout line is one JSON record
    started = [r for r in records if r["msg"] == "app started"]
    assert len(started) == 2 and started[0]["name"] == "example" and started[0]["lvl"] == "INFO"
    assert {"t", "cid", "sid", "t_max", "data", "pid"} <= set(started[0])
    booted = {int(line.rsplit(" ", 1)[1]) for line in err.splitlines() if "Booting worker with pid" in line}
    assert {r["pid"] for r in started} == booted and len(booted) == 2  # the workers' lines told apart
    assert {r["pid"] for r in records} == booted
    assert all(line.startswith("[") for line in err.splitlines())  # stderr: gunicorn's format only


def test_factory_called_as_wsgi_app_says_how_to_fix() -> None:
    from kaiju_tools import init_app
    from kaiju_tools.gunicorn import WorkerClassError, app_factory

    factory = app_factory(init_app)
    with pytest.raises(WorkerClassError, match=r"called as a WSGI/ASGI app with 2 arguments\. Fix: run "
                                               r"gunicorn with --worker-class aiohttp\.GunicornWebWorker"):
        asyncio.run(factory({}, None))


def test_factory_loads_settings_like_run_server(tmp_path: Path) -> None:
    from kaiju_tools import get_services, get_settings, init_app
    from kaiju_tools.gunicorn import app_factory

    (tmp_path / "config.yml").write_text('main: {name: "[name]"}\n', encoding="utf-8")
    (tmp_path / "env.json").write_text('{"name": "base"}', encoding="utf-8")
    (tmp_path / "local.json").write_text('{"name": "local"}', encoding="utf-8")
    (tmp_path / "more.yml").write_text("main: {version: '2.0'}\n", encoding="utf-8")
    factory = app_factory(init_app, [str(tmp_path / "config.yml")], [str(tmp_path / "env.json")],
                          environ={"KAIJU_CONFIG": str(tmp_path / "more.yml"),
                                   "KAIJU_ENV_FILE": str(tmp_path / "local.json"), "name": "from-env"})

    app = asyncio.run(factory())
    main = get_settings(app).main
    assert (main.name, main.version) == ("from-env", "2.0")  # OS environment > -f file; -c merged
    assert len(get_services(app)) == 0
    assert os.environ.get("KAIJU_CONFIG") is None
