"""``kaiju new-app`` / ``kaiju new-plugin``: generated projects work untouched, bad input is refused.

Black-box: the scaffolds run as ``python -m kaiju_tools ...`` in a subprocess; the generated
app's tests run with this interpreter; the generated plugin is ``pip install``-ed into a
temporary venv that sees this environment through a ``.pth`` file (as in
``test_third_party_plugin.py``), then an app lists it in ``packages:``.
"""

from __future__ import annotations

import json
import keyword
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_tools._scaffold import suggest_name, validate_name
from kaiju_tools.exceptions import CommandError
from kernel_support import child_env, free_port
from scaffold_support import make_venv
from suite_support import stop, wait_port


def kaiju(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m kaiju_tools *args`` in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "kaiju_tools", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=child_env())


def files(root: Path) -> set[str]:
    """Relative paths of the files below ``root``."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a generated app ``shop`` and a generated plugin ``audit``."""
    root = tmp_path_factory.mktemp("scaffolds")
    for args in (("new-app", "shop"), ("new-plugin", "audit")):
        result = kaiju(*args, cwd=root)
        assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def venv_python(made: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv seeing this environment, with the generated plugin pip-installed."""
    python = str(make_venv(tmp_path_factory.mktemp("venv")) / "python")
    result = subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q",
                             str(made / "kaiju-audit-plugin")],
                            capture_output=True, text=True, env=child_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return python


# ---- new-app --------------------------------------------------------------------------

def test_new_app_writes_the_guides_basic_layout(made: Path) -> None:
    assert {
        "app/__init__.py", "app/__main__.py", "app/application.py", "app/commands.py", "app/views.py",
        "app/services/__init__.py", "app/services/greeter.py", "settings/config.yml",
        "settings/services.yml", "settings/env.json", "settings/env.local.json", "tests/test_app.py",
        "README.md", "pyproject.toml", "requirements.txt",
    } <= files(made / "shop")
    assert json.loads((made / "shop" / "settings" / "env.json").read_text())["main_name"] == "shop"


def test_generated_app_passes_its_own_tests(made: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=made / "shop",
                            capture_output=True, text=True, timeout=240, env=child_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_generated_app_serves_rpc_and_stops_on_sigterm(made: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "-e", f"run_port={port}"], cwd=made / "shop",
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "greeter.greet", "params": ["rpc"]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read()) == {"jsonrpc": "2.0", "result": "Hello, rpc!", "id": 7}
    finally:
        code, _, err = stop(proc)
    assert code == 0, err


# ---- new-plugin -----------------------------------------------------------------------

def test_new_plugin_writes_a_distribution(made: Path) -> None:
    root = made / "kaiju-audit-plugin"
    assert {"pyproject.toml", "README.md", "kaiju_audit_plugin/__init__.py", "kaiju_audit_plugin/plugin.py",
            "kaiju_audit_plugin/service.py", "tests/test_plugin.py"} <= files(root)
    text = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."kaiju.plugins"]\naudit = "kaiju_audit_plugin.plugin"' in text


def test_generated_plugin_passes_its_own_tests(made: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=made / "kaiju-audit-plugin", capture_output=True, text=True, timeout=240,
                            env=child_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def _app_listing(made: Path, name: str, packages: list[str]) -> Path:
    result = kaiju("new-app", name, cwd=made)
    assert result.returncode == 0, result.stderr
    services = made / name / "settings" / "services.yml"
    listed = "".join(f"  - {p}\n" for p in packages)
    services.write_text((f"packages:\n{listed}" if packages else "") + services.read_text()
                        + ("  - cls: AuditService\n    settings:\n      greeting: Hey\n" if packages else ""))
    return made / name


def test_installed_plugin_shows_up_and_activates_when_listed(made: Path, venv_python: str) -> None:
    app = _app_listing(made, "listed", ["audit"])
    result = subprocess.run([venv_python, "-m", "app", "plugins"], cwd=app, capture_output=True, text=True,
                            timeout=60, env=child_env())
    assert result.returncode == 0, result.stderr
    assert "audit  [active]" in result.stdout
    assert "kaiju-audit-plugin 0.1.0 (third-party)" in result.stdout
    assert "registered: AuditService" in result.stdout
    port = free_port()
    proc = subprocess.Popen([venv_python, "-m", "app", "-e", f"run_port={port}"], cwd=app, env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, proc)
        call = {"jsonrpc": "2.0", "id": 1, "method": "audit.hello", "params": {"name": "x"}}
        body = json.dumps(call).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["result"] == "Hey, x!"
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert "plugin audit ready" in out + err


def test_installed_plugin_is_inactive_until_listed(made: Path, venv_python: str) -> None:
    app = _app_listing(made, "unlisted", [])
    result = subprocess.run([venv_python, "-m", "app", "plugins"], cwd=app, capture_output=True, text=True,
                            timeout=60, env=child_env())
    assert result.returncode == 0, result.stderr
    assert "audit  [inactive (not listed in `packages:`)]" in result.stdout


# ---- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["new-app", "new-plugin"])
def test_an_existing_target_is_refused_and_nothing_is_overwritten(tmp_path: Path, command: str) -> None:
    target = tmp_path / ("taken" if command == "new-app" else "kaiju-taken-plugin")
    target.mkdir()
    (target / "README.md").write_text("mine")
    result = kaiju(command, "taken", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{target.name} exists already; nothing was written" in result.stderr
    assert files(target) == {"README.md"} and (target / "README.md").read_text() == "mine"


@pytest.mark.parametrize(("command", "name", "expected"), [
    ("new-app", "My-Shop", "invalid app name 'My-Shop': expected a lower-case identifier"),
    ("new-app", "1shop", "e.g. 'my_1shop'"),
    ("new-app", "class", "invalid app name 'class': it is a Python keyword"),
    ("new-plugin", "audit log", "invalid plugin name 'audit log'"),
    ("new-plugin", "rpc", "a first-party plugin has this name"),
])
def test_an_invalid_name_is_refused_with_the_reason(tmp_path: Path, command: str, name: str,
                                                    expected: str) -> None:
    result = kaiju(command, name, cwd=tmp_path)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert files(tmp_path) == set()


def test_scaffolds_are_listed_in_help(tmp_path: Path) -> None:
    result = kaiju("--help", cwd=tmp_path)
    assert "new-app" in result.stdout and "new-plugin" in result.stdout
    result = kaiju("new-app", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--dir" in result.stdout


@given(st.text(max_size=50))
@settings(max_examples=300, deadline=None)
def test_any_name_is_accepted_or_refused_with_a_valid_suggestion(name: str) -> None:
    try:
        assert validate_name(name, "app") == name
    except CommandError as exc:
        assert repr(name) in str(exc)
        suggestion = suggest_name(name)
        assert validate_name(suggestion, "app") == suggestion
        assert repr(suggestion) in str(exc)
    else:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name) and not keyword.iskeyword(name)
