"""The README's "Try the example" commands, run against the example app (the same requests)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from kernel_support import EXAMPLES, child_env, free_port
from suite_support import stop, wait_port


def example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=EXAMPLES, capture_output=True,
                          text=True, timeout=120, env=child_env())


def test_the_example_serves_the_readme_requests() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "-e", f"run_port={port}"], cwd=EXAMPLES,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/my/view?name=you", timeout=10) as response:
            assert json.loads(response.read()) == {"message": "Hello, you!"}
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "greeter.add", "params": {"a": 1, "b": 2}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"jsonrpc": "2.0", "result": 3, "id": 1}
    finally:
        code, _, err = stop(proc)
    assert code == 0, err


def test_the_readme_cli_commands() -> None:
    help_text = example("--help").stdout
    assert "-c FILE" in help_text and "-f FILE" in help_text and "-e KEY=VALUE" in help_text
    assert "hello" in help_text and "config" in help_text and "plugins" in help_text
    config = example("config")
    assert config.returncode == 0, config.stderr
    assert "run.port = 8080  # settings/config.yml:" in config.stdout
    plugins = example("plugins")
    assert plugins.returncode == 0 and "rpc  [active]" in plugins.stdout
    hello = example("hello", "--who", "team")
    assert hello.returncode == 0, hello.stderr
    assert "Hello, team!" in hello.stdout  # log lines share stdout (the guide logs to stdout)
