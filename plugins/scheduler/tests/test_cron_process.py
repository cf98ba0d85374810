"""Real app processes: a cron task at seconds resolution, and a SIGSTOP / SIGCONT suspension."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

GUARD = 30.0
"""Seconds after which a waiting helper gives up (only to never hang, never asserted)."""

SERVICE = '''
import asyncio, json, time
from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY, Scheduler


class Ticker(ContextableService):
    """Schedules one task from its settings; writes each run's times, and the task's info at close."""

    def __init__(self, app=None, logger=None, path="", task=None):
        ContextableService.__init__(self, app=app, logger=logger)
        self.path = path
        self.task_settings = task or {}

    async def init(self):
        self._scheduler = _scheduler = self.discover_service(None, cls=Scheduler)
        if self.task_settings:
            _scheduler.schedule_task(self._tick, name=f"{self.service_name}._tick", **self.task_settings)

    async def close(self):
        task = self._scheduler.tasks[f"{self.service_name}._tick"]
        task.enabled = False
        self._write({"info": task.info()})

    async def _tick(self) -> None:
        self._write({"wall": time.time(), "loop": asyncio.get_running_loop().time()})

    def _write(self, record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\\n")


SERVICE_CLASS_REGISTRY.register(Ticker)
'''


def start_app(tmp_path: Path, task: dict[str, object]) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "ticker.py").write_text(SERVICE)
    path = tmp_path / "ticks.jsonl"
    (tmp_path / "serve.py").write_text(
        textwrap.dedent(f"""
        import logging, sys
        from aiohttp import web
        from kaiju_tools import init_app
        import ticker  # noqa: F401 -- registers Ticker

        logging.basicConfig(level="INFO", stream=sys.stderr)
        app = init_app({{"main": {{"name": "ticker"}}, "services": [
            {{"cls": "Ticker", "settings": {{"path": {str(path)!r}, "task": {task!r}}}}},
            {{"cls": "Scheduler"}},
        ]}})
        web.run_app(app, host="127.0.0.1", port=0, print=None, handle_signals=True)
    """)
    )
    proc = subprocess.Popen([sys.executable, "serve.py"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    return proc, path


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the app did not stop on SIGTERM:\n{err}") from None
    return proc.returncode, err


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_runs(proc: subprocess.Popen[str], path: Path, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited early ({proc.returncode}):\n{proc.communicate()[1]}")
        runs = [r for r in records(path) if "wall" in r]
        if len(runs) >= count:
            return runs
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no {count} runs in {path}:\n{proc.communicate()[1]}")


def test_a_cron_task_at_seconds_resolution_runs_once_a_second(tmp_path: Path) -> None:
    proc, path = start_app(tmp_path, {"cron": "* * * * * *", "tz": "Europe/Berlin"})
    wait_for_runs(proc, path, 3)
    code, err = stop(proc)
    assert code == 0, err
    lines = records(path)
    walls = [float(r["wall"]) for r in lines if "wall" in r]  # type: ignore[arg-type]
    seconds = [math.floor(w) for w in walls]
    assert len(walls) >= 3 and seconds == sorted(set(seconds))  # one run per second, in order
    info = lines[-1]["info"]
    assert isinstance(info, dict)
    assert info["cron"] == "* * * * * *" and info["tz"] == "Europe/Berlin" and info["interval"] is None
    assert info["runs"] == len(walls) and info["failures"] == 0
    assert "Traceback" not in err


def test_a_suspended_process_skips_late_due_times_and_fires_no_burst(tmp_path: Path) -> None:
    interval, grace = 0.05, 0.02
    proc, path = start_app(tmp_path, {"interval": interval, "misfire_grace": grace})
    wait_for_runs(proc, path, 5)
    os.kill(proc.pid, signal.SIGSTOP)
    time.sleep(1.0)  # 20 due times pass while the process is stopped
    os.kill(proc.pid, signal.SIGCONT)
    before = len(wait_for_runs(proc, path, 1))
    wait_for_runs(proc, path, before + 5)
    code, err = stop(proc)
    assert code == 0, err
    lines = records(path)
    loops = [float(r["loop"]) for r in lines if "loop" in r]  # type: ignore[arg-type]
    # every run starts within the grace of its own due time and due times are an interval
    # apart, so runs are about interval - grace apart at least; a burst of catch-up runs
    # would start back to back (the bound leaves room for a loaded machine)
    assert min(b - a for a, b in itertools.pairwise(loops)) >= 0.005
    info = lines[-1]["info"]
    assert isinstance(info, dict)
    assert info["skipped"] >= 10 and info["misfires"] >= info["skipped"]
    assert info["runs"] == len(loops)
    assert "later than misfire_grace" in err


YAML_APP = """
from kaiju_tools import run_server, init_app

import ticker  # noqa: F401 -- registers Ticker

if __name__ == "__main__":
    run_server(init_app, base_config_paths=["./settings/config.yml"], base_env_paths=["./settings/env.json"])
"""


def yaml_app(tmp_path: Path, cron: str) -> Path:
    pytest.importorskip(
        "kaiju_plugins.config_yaml", reason="run_server reads .yml with kaiju-plugin-config-yaml"
    )
    (tmp_path / "ticker.py").write_text(SERVICE)
    (tmp_path / "app.py").write_text(YAML_APP)
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "env.json").write_text("{}")
    path = tmp_path / "ticks.jsonl"
    (tmp_path / "settings" / "config.yml").write_text(
        textwrap.dedent(f"""
        main:
          name: cronapp
        run:
          host: 127.0.0.1
          port: 0
        services:
          - cls: Ticker
            name: ticker
            settings:
              path: {str(path)!r}
          - cls: Scheduler
            settings:
              tasks:
                - method: ticker._tick
                  name: ticker._tick
                  cron: {cron!r}
                  tz: Europe/Berlin
                  misfire_grace: 0.5
        """)
    )
    return path


def test_a_task_declared_in_yaml_runs_on_its_cron_schedule(tmp_path: Path) -> None:
    path = yaml_app(tmp_path, "*/1 * * * * *")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    wait_for_runs(proc, path, 2)
    code, err = stop(proc)
    assert code == 0, err
    info = records(path)[-1]["info"]
    assert isinstance(info, dict)
    assert (info["cron"], info["tz"], info["misfire_grace"]) == ("*/1 * * * * *", "Europe/Berlin", 0.5)


def test_a_bad_cron_expression_in_yaml_is_a_config_error_with_file_and_line(tmp_path: Path) -> None:
    yaml_app(tmp_path, "61 * * * *")
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=GUARD
    )
    assert result.returncode == 2, result.stderr
    assert "services[1].settings.tasks[0].cron" in result.stderr
    assert "config.yml:17" in result.stderr  # the line of `cron:`
    assert "bad cron expression '61 * * * *': Bad minute" in result.stderr
    assert "Traceback" not in result.stderr
