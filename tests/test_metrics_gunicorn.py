"""The metrics plugin under gunicorn with 2 workers (prometheus_client's multiprocess mode): a scrape
of either worker sums the calls both served (the example app, ``packages: [metrics]``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from kernel_support import EXAMPLES, child_env, free_port, wait_ready

pytest.importorskip("gunicorn", reason="gunicorn is the `gunicorn` extra")
pytest.importorskip("kaiju_plugins.metrics", reason="the metrics plugin is not installed")
from prometheus_client.parser import text_string_to_metric_families

PIDSVC = '''
import os
from kaiju_tools import Service


class PidService(Service):
    """Answers with the pid of the worker that serves the call."""

    @property
    def routes(self):
        return {"get": self.get}

    @property
    def permissions(self):
        return {"*": 1000}

    async def get(self):
        return os.getpid()
'''

OVERLAY = '''
packages: [pidsvc, metrics]
services:
  - cls: PidService
    name: pid
'''

# the gunicorn config of the docs (docs/plugins/metrics.md): a dead worker's live gauges go
GUNICORN_CONF = '''
from prometheus_client import multiprocess


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
'''


def test_a_scrape_sums_the_calls_of_both_workers(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "pidsvc.py").write_text(textwrap.dedent(PIDSVC), encoding="utf-8")
    (tmp_path / "overlay.yml").write_text(OVERLAY, encoding="utf-8")
    (tmp_path / "gunicorn_conf.py").write_text(GUNICORN_CONF, encoding="utf-8")
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    env = child_env({"PYTHONPATH": str(tmp_path), "KAIJU_CONFIG": str(tmp_path / "overlay.yml"),
                     "PROMETHEUS_MULTIPROC_DIR": str(prom_dir)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app.gunicorn:app", "--bind", f"127.0.0.1:{port}",
         "-c", str(tmp_path / "gunicorn_conf.py"), "--worker-class", "aiohttp.GunicornWebWorker",
         "--workers", "2", "--control-socket", str(tmp_path / "gunicorn.ctl")],
        cwd=EXAMPLES, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    async def scenario() -> tuple[list[int], str]:
        connector = aiohttp.TCPConnector(force_close=True)  # a new connection per call: both workers serve
        await wait_ready(port, proc)
        async with aiohttp.ClientSession(connector=connector) as session:
            pids: list[int] = []

            async def one() -> int:
                body = {"jsonrpc": "2.0", "id": 1, "method": "pid.get"}
                async with session.post(f"http://127.0.0.1:{port}/public/rpc", json=body) as resp:
                    pid: int = (await resp.json())["result"]
                    return pid

            while len(set(pids)) < 2 and len(pids) < 4000:
                pids.extend(await asyncio.gather(*(one() for _ in range(8))))
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                return pids, await resp.text()

    try:
        pids, text = asyncio.run(scenario())
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert len(set(pids)) == 2, "one worker answered every call"
    calls = {s.labels["outcome"]: s.value for family in text_string_to_metric_families(text)
             for s in family.samples
             if s.name == "kaiju_rpc_calls_total" and s.labels.get("method") == "pid.get"}
    assert calls == {"result": len(pids)}
    assert len(list(prom_dir.glob("counter_*.db"))) >= 2  # one file per worker
