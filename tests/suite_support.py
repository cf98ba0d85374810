"""Shared pieces of the kernel's black-box suite: the child environment, serving helpers.

``CHILD_ENV`` is the one place that says which plugins the suite's subprocesses disable:
the rpc, scheduler and logging plugins are being written in parallel and may not import
yet. Drop the variable (make ``CHILD_ENV`` empty) once they land.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kernel_support import AppDir, free_port

__all__ = [
    "CHILD_ENV",
    "EVENTS_SERVICES",
    "config_json",
    "events",
    "fake_dist",
    "run",
    "serving",
    "stop",
    "wait_port",
]

CHILD_ENV: dict[str, str] = {}
"""Extra environment of every subprocess the suite starts."""


def run(app: AppDir, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m <app> *args`` with :data:`CHILD_ENV` (plus ``env``), to completion."""
    return app.run(*args, env={**CHILD_ENV, **(env or {})}, timeout=timeout)


def config_json(app: AppDir, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The merged settings printed by ``python -m <app> [args] config --json``."""
    result = run(app, *args, "config", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


EVENTS_SERVICES = '''
import asyncio, os
from pathlib import Path
from kaiju_tools import Service, ContextableService

EVENTS = Path(os.environ.get("EVENTS_FILE", "events.txt"))


def note(text):
    with EVENTS.open("a", encoding="utf-8") as f:
        f.write(text + "\\n")


class Recorder(ContextableService):
    """Appends `init <name>` / `close <name>` to the events file; may fail or hang on demand."""

    def __init__(self, app=None, logger=None, fail=False, hang=False, discover=None):
        super().__init__(app=app, logger=logger)
        self.fail = fail
        self.hang = hang
        if discover:
            self.discover_service(discover)
        note(f"build {self.service_name}")

    async def init(self):
        note(f"init {self.service_name}")
        if self.hang:
            await asyncio.sleep(3600)
        if self.fail:
            raise RuntimeError(f"{self.service_name} cannot connect to db:5432")

    async def close(self):
        note(f"close {self.service_name}")
'''
"""A ``services.py`` whose ``Recorder`` writes its lifecycle to ``$EVENTS_FILE``."""


def events(path: Path) -> list[str]:
    """Lines of an events file (empty when nothing was written)."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def wait_port(port: int, proc: subprocess.Popen[str], limit: float = 30.0) -> None:
    """Wait until something accepts on ``127.0.0.1:port`` (or the process exits)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the app exited with {proc.returncode} before serving:\n{err}\n{out}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    """Send ``sig`` and wait for the process: ``(exit code, stdout, stderr)``."""
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the app did not stop on signal {sig}:\n{err}") from None
    return proc.returncode, out, err


@contextmanager
def serving(app: AppDir, *args: str, port: int | None = None,
            env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Start ``python -m <app> -e run_port=<port> *args run`` and wait until it serves.

    The app's settings must define ``run_port`` in an env file and use ``"[run_port]"``.
    The process is killed on exit if the test did not stop it.
    """
    port = port or free_port()
    proc = app.popen("-e", f"run_port={port}", *args, "run", env={**CHILD_ENV, **(env or {})})
    try:
        wait_port(port, proc)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def fake_dist(site: Path, dist: str, version: str, entry_points: dict[str, str],
              modules: dict[str, str]) -> Path:
    """An installed distribution below ``site`` (a ``.dist-info`` plus modules), no pip needed.

    Put ``site`` on the child's ``PYTHONPATH``; ``importlib.metadata`` finds it there like
    any installed distribution. ``entry_points`` maps ``kaiju.plugins`` names to modules.
    """
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
                                   encoding="utf-8")
    lines = ["[kaiju.plugins]", *(f"{name} = {value}" for name, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in modules.items():
        (site / f"{name}.py").write_text(text, encoding="utf-8")
    return site
