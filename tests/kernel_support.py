"""Helpers for the kernel's black-box tests: app dirs, subprocesses, free ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


APP_INIT = '''
from kaiju_tools import COMMANDS, SERVICE_CLASS_REGISTRY
from {name} import services, commands

SERVICE_CLASS_REGISTRY.register_from_module(services)
COMMANDS.register_from_module(commands)
'''

APP_MAIN = '''
from kaiju_tools import init_app, run_server
import {name}

if __name__ == "__main__":
    run_server(init_app, base_config_paths={configs!r}, base_env_paths={envs!r},
               default_env_paths={defaults!r})
'''


class AppDir:
    """A throw-away app package in a temp dir, run as ``python -m <name>`` in a subprocess."""

    def __init__(self, root: Path, name: str = "tapp") -> None:
        self.root = root
        self.name = name
        (root / name).mkdir()
        (root / "settings").mkdir()
        self.write(f"{name}/services.py", "from kaiju_tools import Service, ContextableService\n")
        self.write(f"{name}/commands.py", "from kaiju_tools import Command\n")
        self.write(f"{name}/__init__.py", APP_INIT.format(name=name))
        self.main()

    def main(self, configs: list[str] | None = None, envs: list[str] | None = None,
             defaults: list[str] | None = None) -> None:
        """(Re)write ``__main__.py`` with the given base paths."""
        self.write(f"{self.name}/__main__.py", APP_MAIN.format(
            name=self.name, configs=configs if configs is not None else ["settings/config.yml"],
            envs=envs if envs is not None else ["settings/env.json"],
            defaults=defaults if defaults is not None else []))

    def write(self, rel: str, text: str) -> Path:
        """Write a file (dedented) below the app dir."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``python -m <name> *args`` to completion."""
        return subprocess.run([sys.executable, "-m", self.name, *args], cwd=self.root,
                              env=child_env(env), capture_output=True, text=True, timeout=timeout,
                              input=input)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``python -m <name> *args`` in the background."""
        return subprocess.Popen([sys.executable, "-m", self.name, *args], cwd=self.root,
                                env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: ours, without kaiju switches, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIJU_") or k == "KAIJU_DISABLE_PLUGINS"}
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


async def wait_ready(port: int, proc: subprocess.Popen[str]) -> None:
    """Wait until the gunicorn arbiter on ``port`` answers ``/health/ready`` with 200 (fails if it exits)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {proc.returncode}:\n{proc.communicate()[1]}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/health/ready") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("gunicorn never became ready")
