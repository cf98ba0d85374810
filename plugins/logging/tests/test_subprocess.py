"""Real processes: the example app and small apps, run as users run them, stopped with SIGTERM."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d \| +(\w+) \| (\S+) \| (\S+) \| (.*) \| (\{.*\})$")


def installed(*dists: str) -> bool:
    try:
        for dist in dists:
            metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_yaml = pytest.mark.skipif(not installed("kaiju-plugin-config-yaml"),
                                reason="reading .yml settings needs kaiju-plugin-config-yaml")
needs_example = pytest.mark.skipif(
    not installed("kaiju-plugin-config-yaml", "kaiju-plugin-rpc", "kaiju-plugin-scheduler")
    or not (EXAMPLES / "app").is_dir(),
    reason="the example app needs every first-party plugin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A child process whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        environ = {k: v for k, v in os.environ.items() if k != "KAIJU_DISABLE_PLUGINS"}
        environ.update(env or {})
        environ["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen(args, cwd=cwd, env=environ, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, lines), daemon=True)
                         for s, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[str], bool], where: str = "err", timeout: float = 30) -> str:
        lines = self.out if where == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if predicate(line):
                    return line
            if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers):
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"no matching line; stdout={self.out[-20:]} stderr={self.err[-20:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


def rpc(port: int, method: str, params: Any, cid: str, req_id: int = 1) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Correlation-Id": cid})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def example(port: int, *env: str) -> Proc:
    args = [sys.executable, "-m", "app", "-e", f"run_port={port}", "-e", "cache_interval=600"]
    for item in env:
        args += ["-e", item]
    return Proc(args, EXAMPLES)


@needs_example
def test_example_app_json_lines_carry_the_rpc_correlation_id_and_extras() -> None:
    port = free_port()
    app = example(port, "log_handler=JSONHandler")
    app.wait_for(lambda line: "serving on" in line)
    assert rpc(port, "greeter.greet", {"name": "Ann"}, cid="cid-json-1")["result"] == "Hello, Ann!"
    assert app.stop() == 0
    lines = [json.loads(line) for line in app.err]
    assert all({"t", "name", "lvl", "msg", "cid", "sid", "t_max", "data"} <= set(line) for line in lines)
    caused = [line for line in lines if line["cid"] == "cid-json-1"]
    greeting = [line for line in caused if line["msg"] == "Greeting."]
    assert greeting and greeting[0]["name"] == "example.greeter"
    assert greeting[0]["data"] == {"name": "Ann"}
    assert isinstance(greeting[0]["t_max"], (int, float))
    assert all(line["cid"] is None for line in lines if line["msg"] in ("app started", "scheduler started"))


@needs_example
def test_example_app_text_lines() -> None:
    port = free_port()
    app = example(port)  # the example's default handler is TextHandler
    app.wait_for(lambda line: "serving on" in line)
    rpc(port, "greeter.greet", {"name": "Bo"}, cid="cidtext1")
    assert app.stop() == 0
    parsed = [TEXT_LINE.match(line) for line in app.err]
    assert all(parsed), app.err
    greeting = [m.groups() for m in parsed if m and m.group(4) == "Greeting."]  # type: ignore[union-attr]
    assert greeting == [("INFO", "cidtext1", "example.greeter", "Greeting.", "{'name': 'Bo'}")]


@needs_example
def test_example_app_no_record_lost_on_sigterm() -> None:
    port = free_port()
    app = example(port, "log_handler=JSONHandler")
    app.wait_for(lambda line: "serving on" in line)
    names = [f"n{i}" for i in range(150)]
    threads = [threading.Thread(target=rpc, args=(port, "greeter.greet", {"name": n}, f"c-{n}"))
               for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert app.stop() == 0
    greeted = sorted(json.loads(line)["data"]["name"] for line in app.err if '"Greeting."' in line)
    assert greeted == sorted(names)


BURST_APP = '''
import asyncio, sys
from aiohttp import web
from kaiju_tools import ContextableService, SERVICE_CLASS_REGISTRY, init_app


class Burst(ContextableService):
    async def init(self):
        asyncio.get_running_loop().call_later(0.2, self.burst)

    def burst(self):
        for i in range(5000):
            self.logger.info("burst", i=i)
        print("BURST DONE", flush=True)


SERVICE_CLASS_REGISTRY.register(Burst)
app = init_app({"main": {"name": "b"}, "services": [
    {"cls": "LoggingService", "settings": {
        "loggers": [{"name": "b", "handlers": True}], "handlers": [{"cls": "JSONHandler"}]}},
    {"cls": "Burst"}]})
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, handle_signals=True)
'''


def test_records_queued_when_sigterm_arrives_are_all_written(tmp_path: Path) -> None:
    """Only the kernel and this plugin: 5000 records logged, SIGTERM at once, 5000 lines."""
    (tmp_path / "burst_app.py").write_text(BURST_APP, encoding="utf-8")
    app = Proc([sys.executable, "burst_app.py", str(free_port())], tmp_path,
               env={"KAIJU_DISABLE_PLUGINS": "rpc,scheduler,config_yaml"})
    app.wait_for(lambda line: line == "BURST DONE", where="out")
    assert app.stop() == 0, app.err
    burst = [json.loads(line)["data"]["i"] for line in app.err if '"burst"' in line]
    assert burst == list(range(5000))


APP_INIT = "from kaiju_tools import SERVICE_CLASS_REGISTRY\nfrom lapp import services\n" \
           "SERVICE_CLASS_REGISTRY.register_from_module(services)\n"
APP_MAIN = ("from kaiju_tools import init_app, run_server\nimport lapp\n"
            "if __name__ == '__main__':\n"
            "    run_server(init_app, base_config_paths=['settings/config.yml'])\n")
APP_SERVICES = '''
from kaiju_tools import ContextableService


class Chatty(ContextableService):
    async def init(self):
        self.logger.debug("debug at start")
        self.logger.info("info at start", level="info")
        self.logger.error("error at start")
'''


def write_app(root: Path, config: str) -> None:
    (root / "lapp").mkdir()
    (root / "settings").mkdir()
    (root / "lapp" / "__init__.py").write_text(APP_INIT, encoding="utf-8")
    (root / "lapp" / "__main__.py").write_text(APP_MAIN, encoding="utf-8")
    (root / "lapp" / "services.py").write_text(APP_SERVICES, encoding="utf-8")
    (root / "settings" / "config.yml").write_text(textwrap.dedent(config), encoding="utf-8")


@needs_yaml
def test_service_loglevel_overrides_the_app_level_per_service(tmp_path: Path) -> None:
    write_app(tmp_path, f"""
        run: {{host: 127.0.0.1, port: {free_port()}}}
        main: {{name: lapp, loglevel: INFO}}
        services:
          - cls: LoggingService
            settings:
              loggers:
                - name: lapp
                  handlers: True
              handlers:
                - cls: JSONHandler
                  name: default
          - cls: Chatty
            name: quiet
            loglevel: ERROR
          - cls: Chatty
            name: loud
          - cls: Chatty
            name: verbose
            loglevel: DEBUG
    """)
    app = Proc([sys.executable, "-m", "lapp"], tmp_path)
    app.wait_for(lambda line: '"app started"' in line)
    assert app.stop() == 0, app.err
    seen = {(line["name"], line["msg"]) for line in map(json.loads, app.err)}
    assert ("lapp.quiet", "error at start") in seen
    assert ("lapp.quiet", "info at start") not in seen
    assert {("lapp.loud", "info at start"), ("lapp.loud", "error at start")} <= seen
    assert ("lapp.loud", "debug at start") not in seen
    assert ("lapp.verbose", "debug at start") in seen


@needs_yaml
def test_bad_logging_config_exits_2_naming_the_keys(tmp_path: Path) -> None:
    write_app(tmp_path, """
        main: {name: lapp}
        services:
          - cls: LoggingService
            settings:
              loggers:
                - name: lapp
                  handlers: [default, missing]
                  level: LOUD
              handlers:
                - cls: JSONHandlr
                  name: default
    """)
    env = {k: v for k, v in os.environ.items() if k != "KAIJU_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-m", "lapp"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env=env, check=False)
    assert out.returncode == 2, out.stderr
    where = "settings/config.yml"
    assert (f"services[0].settings.handlers[0].cls ({where}:11): unknown handler class 'JSONHandlr'"
            in out.stderr)
    assert "did you mean: JSONHandler" in out.stderr
    assert f"services[0].settings.loggers[0].level ({where}:9): expected a log level name" in out.stderr
    assert (f"services[0].settings.loggers[0].handlers[1] ({where}:8): handler 'missing' is not defined"
            in out.stderr)
    assert "Traceback" not in out.stderr


@needs_yaml
def test_without_logging_service_the_app_logs_to_stderr(tmp_path: Path) -> None:
    write_app(tmp_path, f"""
        run: {{host: 127.0.0.1, port: {free_port()}}}
        main: {{name: lapp}}
        services:
          - cls: Chatty
            name: plain
    """)
    app = Proc([sys.executable, "-m", "lapp"], tmp_path)
    app.wait_for(lambda line: "app started" in line)
    assert app.stop() == 0
    assert any("lapp.plain" in line and "error at start" in line for line in app.err)
    assert app.out == []


@needs_example
@pytest.mark.parametrize("handler", ["JSONHandler", "TextHandler"])
def test_example_app_outcome_lines_at_info_in_both_formats(handler: str) -> None:
    # the line writer's fast path (a queued fixed-shape record) writes what logger.log would
    port = free_port()
    app = example(port, f"log_handler={handler}", "rpc_outcome_log=INFO")
    app.wait_for(lambda line: "serving on" in line)
    assert rpc(port, "greeter.greet", {"name": "Ann"}, cid="cid-out-1")["result"] == "Hello, Ann!"
    assert rpc(port, "no.such", {}, cid="cid-out-2")["error"]["code"] == -32601
    assert app.stop() == 0
    if handler == "JSONHandler":
        done = [line for line in map(json.loads, app.err) if line["msg"] == "rpc done"]
        got = [(d["lvl"], d["cid"], d["name"], d["data"]) for d in done]
    else:
        parsed = [m.groups() for m in map(TEXT_LINE.match, app.err) if m and m.group(4) == "rpc done"]
        got = [(lvl, cid, name, ast.literal_eval(data)) for lvl, cid, name, _, data in parsed]
    assert [(lvl, cid) for lvl, cid, _, _ in got] == [("INFO", "cid-out-1"), ("INFO", "cid-out-2")]
    assert len({name for _, _, name, _ in got}) == 1
    first, second = (data for _, _, _, data in got)
    assert list(first) == ["kind", "method", "outcome", "duration_ms", "correlation_id", "scope",
                           "batch_size"]
    assert first["method"] == "greeter.greet" and first["outcome"] == "result" and first["batch_size"] == 1
    assert first["correlation_id"] == "cid-out-1" and first["duration_ms"] >= 0
    assert second["method"] == "unknown" and second["outcome"] == -32601
