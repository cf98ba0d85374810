"""A real app process with a scheduled task writing to a file; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

GUARD = 30.0

SERVICE = '''
from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY, Scheduler


class Ticker(ContextableService):
    """The guide's scheduler snippet, writing each run to a file."""

    def __init__(self, app=None, logger=None, path=""):
        ContextableService.__init__(self, app=app, logger=logger)
        self.path = path

    async def init(self):
        _scheduler = self.discover_service(None, cls=Scheduler)
        self._task = _scheduler.schedule_task(
          self._tick, interval=0.02, name=f'{self.service_name}._tick',
          policy=_scheduler.ExecPolicy.WAIT)

    async def close(self):
        self._task.enabled = False  #: disable the task
        self._write("closed")

    async def _tick(self) -> None:
        self._write("tick")

    def _write(self, line):
        with open(self.path, "a") as f:
            f.write(line + "\\n")


SERVICE_CLASS_REGISTRY.register(Ticker)
'''


def wait_for_ticks(proc: subprocess.Popen[str], path: Path, count: int) -> None:
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited early ({proc.returncode}):\n{proc.communicate()[1]}")
        if path.exists() and path.read_text().count("tick") >= count:
            return
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no {count} ticks in {path}:\n{proc.communicate()[1]}")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"the app did not stop on SIGTERM:\n{err}") from None
    return proc.returncode, err


def check_ran_and_stopped(path: Path, code: int, err: str) -> None:
    assert code == 0, err
    lines = path.read_text().split()
    assert lines.count("tick") >= 3
    assert lines[-1] == "closed" and lines.count("closed") == 1  # no run after the scheduler stopped
    assert "scheduler started" in err and "scheduler stopped" in err
    assert "Task was destroyed but it is pending" not in err and "Traceback" not in err


def test_app_built_with_init_app_runs_and_stops_its_task(tmp_path: Path) -> None:
    """Kernel and scheduler only: ``init_app`` + :func:`aiohttp.web.run_app`."""
    (tmp_path / "ticker.py").write_text(SERVICE)
    (tmp_path / "serve.py").write_text(
        textwrap.dedent(f"""
        import logging, sys
        from aiohttp import web
        from kaiju_tools import init_app
        import ticker  # noqa: F401 -- registers Ticker

        logging.basicConfig(level="INFO", stream=sys.stderr)
        app = init_app({{"main": {{"name": "ticker"}}, "services": [
            {{"cls": "Ticker", "settings": {{"path": {str(tmp_path / "ticks.txt")!r}}}}},
            {{"cls": "Scheduler"}},
        ]}})
        web.run_app(app, host="127.0.0.1", port=0, print=None, handle_signals=True)
    """)
    )
    proc = subprocess.Popen([sys.executable, "serve.py"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    wait_for_ticks(proc, tmp_path / "ticks.txt", 3)
    check_ran_and_stopped(tmp_path / "ticks.txt", *stop(proc))


def test_app_run_with_run_server_and_yaml_settings(tmp_path: Path) -> None:
    """The guide's way: ``python -m app`` calling ``run_server`` with YAML settings."""
    pytest.importorskip(
        "kaiju_plugins.config_yaml", reason="run_server reads .yml with kaiju-plugin-config-yaml"
    )
    package = tmp_path / "tickapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "services.py").write_text(SERVICE)
    (package / "__main__.py").write_text(
        textwrap.dedent("""
        from kaiju_tools import run_server, init_app

        import tickapp.services  # noqa: F401 -- registers Ticker

        if __name__ == "__main__":
            run_server(init_app, base_config_paths=["./settings/config.yml"],
                       base_env_paths=["./settings/env.json"])
    """)
    )
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "config.yml").write_text(
        textwrap.dedent("""
        main:
          name: tickapp
        run:
          host: 127.0.0.1
          port: 0
        services:
          - cls: Scheduler
          - cls: Ticker
            settings:
              path: "[tick_path]"
    """)
    )
    (tmp_path / "settings" / "env.json").write_text('{"tick_path": "%s"}' % (tmp_path / "ticks.txt"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tickapp"], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    wait_for_ticks(proc, tmp_path / "ticks.txt", 3)
    check_ran_and_stopped(tmp_path / "ticks.txt", *stop(proc))
