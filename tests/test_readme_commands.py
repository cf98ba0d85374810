"""The README's "Try the example" commands, run against the example app (the same requests)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from kernel_support import EXAMPLES, REPO, child_env, free_port
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


def test_the_readme_shows_how_to_change_the_port() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "python -m app --port 8081" in readme and "-e run_port=8081" in readme and "--host" in readme
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=EXAMPLES,
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/my/view?name=port", timeout=10) as response:
            assert json.loads(response.read()) == {"message": "Hello, port!"}
    finally:
        code, _, err = stop(proc)
    assert code == 0, err
    config = example("--port", "8081", "config")
    assert "run.port = 8081  # CLI --port 8081" in config.stdout


def test_the_readme_layout_lists_every_plugin_folder() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for folder in sorted(p.name for p in (REPO / "plugins").iterdir() if (p / "pyproject.toml").is_file()):
        assert f"| `plugins/{folder}/` |" in readme, f"README's layout table misses plugins/{folder}/"
    assert "redis-server" in readme


def test_the_example_is_written_in_house_style() -> None:
    app = EXAMPLES / "app"
    sources = {p.relative_to(app).as_posix(): p.read_text(encoding="utf-8") for p in app.rglob("*.py")}
    for rel, text in sources.items():
        assert text.startswith('"""'), f"examples/app/{rel} has no module docstring"
        assert "__import__" not in text, f"examples/app/{rel} imports with __import__"
    assert "_dir" not in sources["application.py"] and "Path" not in sources["application.py"]
    greeter = sources["services/greeter.py"]
    assert "class Greeter(Service, PublicInterface)" in greeter  # as the tutorial's services are
    assert "self.PermissionKeys.GUEST" in greeter and "1000" not in greeter


def test_the_examples_hello_starts_the_greeter_only() -> None:
    hello = example("hello", "--who", "team")
    assert hello.returncode == 0, hello.stderr
    assert "Hello, team!" in hello.stdout
    assert "scheduler started" not in hello.stdout + hello.stderr  # its `services = ["greeter"]`
