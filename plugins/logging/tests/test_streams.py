"""Real processes: which stream logs go to, one format per stream, client errors, unsafe input.

- a command's output is alone on stdout, its logs on stderr (``> out 2> err``);
- a served app writes every line of its log stream in the configured format (the final
  ``app stopped`` line and aiohttp's records included), each line valid UTF-8;
- a client's bad request (a 100 KB header) is one WARNING line without a traceback, also
  when the root logger is configured.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
GUARD = 60  # seconds: an upper bound for "it did finish", never a speed assertion


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


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KAIJU_DISABLE_PLUGINS"}
    env.update(extra)
    return env


def strict_lines(raw: bytes) -> list[str]:
    """Lines of a log stream; each must be valid UTF-8 (raises otherwise)."""
    return raw.decode("utf-8", "strict").splitlines()


def strict_json(line: str) -> dict[str, Any]:
    out = json.loads(line)
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # no lone surrogate decoded from a \\u escape
    assert isinstance(out, dict)
    return out


class Server:
    """A served app whose stdout and stderr go to files, as ``> out 2> err`` would."""

    def __init__(self, args: list[str], cwd: Path, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.out_path, self.err_path = tmp / "out", tmp / "err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(args, cwd=cwd, env=child_env(**(env or {})), stdout=out, stderr=err)

    def err(self) -> bytes:
        return self.err_path.read_bytes()

    def wait_for(self, text: bytes, where: Path | None = None) -> None:
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:
            if text in (where or self.err_path).read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never logged; stderr:\n{self.err().decode(errors='replace')[-3000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(GUARD)


def send_raw(port: int, request: bytes) -> bytes:
    """Send raw bytes on a new connection; return what the server answered before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=GUARD) as sock:
        try:
            sock.sendall(request)
        except OSError:  # the server may answer and close before reading everything
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


BIG_HEADER = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"


def is_400(response: bytes) -> bool:
    return response.startswith(b"HTTP/1.") and response.split(b" ", 2)[1] == b"400"


@needs_example
@pytest.mark.parametrize("handler", ["TextHandler", "JSONHandler"])
def test_command_output_alone_on_stdout_logs_on_stderr(tmp_path: Path, handler: str) -> None:
    """``python -m app hello --who team > out 2> err``: out is the greeting, nothing else."""
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        code = subprocess.run([sys.executable, "-m", "app", "hello", "--who", "team", "-e",
                               f"log_handler={handler}"],
                              cwd=EXAMPLES, env=child_env(), stdout=out, stderr=err, timeout=GUARD,
                              check=False).returncode
    assert code == 0, (tmp_path / "err").read_text()
    assert (tmp_path / "out").read_bytes() == b"Hello, team!\n"
    logs = strict_lines((tmp_path / "err").read_bytes())
    assert any("app started" in line for line in logs)
    if handler == "JSONHandler":
        assert all(strict_json(line)["pid"] for line in logs)
    else:
        assert all(line.count(" | ") == 5 for line in logs), logs


@needs_example
def test_served_app_one_format_client_error_once_non_utf8_correlation_id(tmp_path: Path) -> None:
    """JSON to stdout (log shipping), a 100 KB header and a non-UTF-8 Correlation-Id, then SIGTERM."""
    port = free_port()
    app = Server([sys.executable, "-m", "app", "-e", f"run_port={port}", "-e", "cache_interval=600",
                  "-e", "log_handler=JSONHandler", "-e", "log_stream=stdout"], EXAMPLES, tmp_path,
                 env={"PYTHONIOENCODING": "utf-8:surrogateescape"})  # a C-locale server writes raw bytes
    try:
        app.wait_for(b"serving on", where=app.out_path)
        assert is_400(send_raw(port, BIG_HEADER))
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "greeter.greet", "params": {"name": "Ann"}}'
        send_raw(port,
                 b"POST /public/rpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCorrelation-Id: caf\xe9\r\n"
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        app.wait_for(b"Error handling request", where=app.out_path)
    finally:
        assert app.stop() == 0, app.err().decode(errors="replace")
    lines = strict_lines(app.out_path.read_bytes())
    records = [strict_json(line) for line in lines]  # one format: every stdout line is a JSON record
    client = [r for r in records if r["msg"].startswith("Error handling request")]
    assert len(client) == 1, client
    assert client[0]["lvl"] == "WARNING" and client[0]["name"] == "aiohttp.server" and "exc" not in client[0]
    assert "LineTooLong" in client[0]["msg"] or "BadHttpMessage" in client[0]["msg"]
    assert records[-1]["msg"] == "app stopped" and records[-1]["name"] == "example"
    assert b"Traceback" not in app.out_path.read_bytes() + app.err()
    assert app.err() == b""  # nothing on stderr: no second copy, no plain-format line


LAPP_MAIN = ("from kaiju_tools import init_app, run_server\n"
             "if __name__ == '__main__':\n"
             "    run_server(init_app, base_config_paths=['settings/config.yml'])\n")


@needs_yaml
@pytest.mark.parametrize("root", [False, True], ids=["app-logger", "root-logger-configured"])
def test_client_error_once_at_warning_in_the_configured_format(tmp_path: Path, root: bool) -> None:
    port = free_port()
    (tmp_path / "lapp").mkdir()
    (tmp_path / "settings").mkdir()
    (tmp_path / "lapp" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "lapp" / "__main__.py").write_text(LAPP_MAIN, encoding="utf-8")
    loggers = "[{name: root, handlers: True}, {name: lapp, handlers: True}]" if root else "[{name: lapp}]"
    (tmp_path / "settings" / "config.yml").write_text(textwrap.dedent(f"""
        run: {{host: 127.0.0.1, port: {port}}}
        main: {{name: lapp}}
        services:
          - cls: LoggingService
            settings:
              loggers: {loggers}
              handlers: [{{cls: JSONHandler}}]
    """), encoding="utf-8")
    app = Server([sys.executable, "-m", "lapp"], tmp_path, tmp_path)
    try:
        app.wait_for(b"serving on")
        assert is_400(send_raw(port, BIG_HEADER))
        app.wait_for(b"Error handling request")
    finally:
        assert app.stop() == 0
    lines = strict_lines(app.err())
    records = [strict_json(line) for line in lines]  # stderr: one format, JSON only
    client = [r for r in records if "Error handling request" in r["msg"]]
    assert len(client) == 1 and client[0]["lvl"] == "WARNING" and "exc" not in client[0], client
    assert records[-1]["msg"] == "app stopped"
    assert (tmp_path / "out").read_bytes() == b""
