"""A real third-party plugin, pip-installed into a temporary virtual environment.

The venv sees this test environment's packages (kaiju-kernel and the first-party
plugins) through a ``.pth`` file, and gets ``tests/sample_plugin`` by a real
``pip install``. Its plugin is active only when listed in ``packages:``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from kernel_support import REPO, AppDir, child_env, free_port
from scaffold_support import make_venv

SAMPLE = REPO / "tests" / "sample_plugin"
SAMPLE_BROKEN = REPO / "tests" / "sample_plugin_broken"


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    python = str(make_venv(tmp_path_factory.mktemp("venv")) / "python")
    result = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "-q", str(SAMPLE), str(SAMPLE_BROKEN)],
        capture_output=True, text=True, env=child_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def make_app(app_dir: AppDir, packages: list[str], services: str = "  []") -> None:
    listed = "".join(f"  - {p}\n" for p in packages)
    app_dir.write("settings/config.yml",
                  "main:\n  name: t\nrun:\n  port: \"[run_port]\"\n"
                  + (f"packages:\n{listed}" if packages else "") + f"services:\n{services}\n")
    app_dir.write("settings/env.json", '{"run_port": 8080}')


def run(python: str, app_dir: AppDir, *args: str, marker: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, "-m", app_dir.name, *args], cwd=app_dir.root, capture_output=True,
                          text=True, timeout=60, env=child_env({"SAMPLE_MARKER": str(marker)}))


def serve_and_get(python: str, app_dir: AppDir, marker: Path) -> tuple[dict[str, str], str, int]:
    """Start the app, GET an unknown path, SIGTERM it; return headers, stderr, exit code."""
    port = free_port()
    proc = subprocess.Popen([python, "-m", app_dir.name, "-e", f"run_port={port}"], cwd=app_dir.root,
                            env=child_env({"SAMPLE_MARKER": str(marker)}), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        headers = wait_headers(f"http://127.0.0.1:{port}/nothing", proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    return headers, err, proc.returncode


def wait_headers(url: str, proc: subprocess.Popen[str]) -> dict[str, str]:
    """Poll ``url`` until the server answers (any status); return its headers."""
    for _ in range(400):
        if proc.poll() is not None:
            raise AssertionError(f"app exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(response.headers)
        except urllib.error.HTTPError as exc:
            return dict(exc.headers)
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not come up")


def test_listed_plugin_is_active_and_its_service_runs(venv_python: str, app_dir: AppDir,
                                                      tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    make_app(app_dir, ["sample"], "  - cls: SampleService\n    settings:\n      word: hi\n")
    headers, err, code = serve_and_get(venv_python, app_dir, marker)
    assert code == 0, err
    assert headers.get("X-Sample") == "yes"  # its kaiju_wrap_request hook wraps every request
    events = marker.read_text().splitlines()
    assert events == ["imported", "init hi", "app_started", "close hi", "app_stopped"]


def test_plugin_can_be_listed_by_distribution_name(venv_python: str, app_dir: AppDir, tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    make_app(app_dir, ["kaiju-sample-plugin"], "  - cls: SampleService\n")
    result = run(venv_python, app_dir, "config", marker=marker)
    assert result.returncode == 0, result.stderr
    assert marker.read_text().splitlines() == ["imported"]


def test_unlisted_plugin_is_inert_and_never_imported(venv_python: str, app_dir: AppDir,
                                                     tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    make_app(app_dir, [])
    headers, err, code = serve_and_get(venv_python, app_dir, marker)
    assert code == 0, err
    assert "X-Sample" not in headers
    assert not marker.exists()


def test_unlisted_plugin_service_class_is_unknown(venv_python: str, app_dir: AppDir, tmp_path: Path) -> None:
    make_app(app_dir, [], "  - cls: SampleService\n")
    result = run(venv_python, app_dir, "config", marker=tmp_path / "m")
    assert result.returncode == 2
    assert "unknown service class 'SampleService'" in result.stderr
    assert "services[0].cls" in result.stderr


def test_unknown_class_names_the_inactive_plugin_that_provides_it(
    venv_python: str, app_dir: AppDir, tmp_path: Path
) -> None:
    make_app(app_dir, [], "  - cls: SampleService\n")
    result = run(venv_python, app_dir, "config", marker=tmp_path / "m")
    assert result.returncode == 2
    assert ("hint: the third-party plugin 'sample' (distribution kaiju-sample-plugin 0.3.1) provides it, "
            "and is installed but not active: add `sample` to `packages:`") in result.stderr
    assert "did you mean" not in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_runs_when_a_listed_plugin_is_broken(venv_python: str, app_dir: AppDir,
                                                     tmp_path: Path) -> None:
    make_app(app_dir, ["sample_route_typo", "sample_broken", "sample"], "  - cls: SampleService\n")
    result = run(venv_python, app_dir, "plugins", marker=tmp_path / "m")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("sample_route_typo  [failed (unknown hook implementation: kaiju_register_route is not a kaiju "
            "hook (did you mean: kaiju_register_routes?))]") in out
    assert "sample_broken  [failed (RuntimeError: sample plugin is broken on purpose)]" in out
    assert "sample  [active]" in out  # the plugins after a broken one are still activated
    assert "config_yaml  [active]" in out
    assert "Traceback" not in result.stderr


def test_plugins_runs_when_the_settings_are_invalid_too(venv_python: str, app_dir: AppDir,
                                                        tmp_path: Path) -> None:
    make_app(app_dir, ["sample_route_typo"], "  - cls: RouteService\n")
    result = run(venv_python, app_dir, "plugins", marker=tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert "sample_route_typo  [failed (unknown hook implementation" in result.stdout
    assert "warning: invalid configuration" in result.stderr  # said, not hidden
    assert "unknown service class 'RouteService'" in result.stderr


def test_a_misspelt_hook_stops_the_app_with_a_did_you_mean(venv_python: str, app_dir: AppDir,
                                                           tmp_path: Path) -> None:
    make_app(app_dir, ["sample_route_typo"])
    result = run(venv_python, app_dir, "config", marker=tmp_path / "m")
    assert result.returncode != 0
    assert "kaiju_register_route is not a kaiju hook (did you mean: kaiju_register_routes?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_flags_a_misspelt_hook_of_an_inactive_plugin(venv_python: str, app_dir: AppDir,
                                                             tmp_path: Path) -> None:
    make_app(app_dir, [])
    result = run(venv_python, app_dir, "plugins", marker=tmp_path / "m")
    assert result.returncode == 0, result.stderr
    assert ("sample_route_typo  [inactive (not listed in `packages:`; "
            "kaiju_register_route is not a kaiju hook "
            "(did you mean: kaiju_register_routes?))]") in result.stdout


def test_plugins_command_lists_every_plugin_with_status(venv_python: str, app_dir: AppDir,
                                                        tmp_path: Path) -> None:
    make_app(app_dir, ["sample"])
    result = run(venv_python, app_dir, "plugins", marker=tmp_path / "m")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sample  [active]" in out
    assert "kaiju-sample-plugin 0.3.1 (third-party)" in out
    assert "registered: SampleService" in out
    assert "kaiju_app_started" in out and "kaiju_wrap_request" in out
    assert "sample_broken  [failed (import failed: RuntimeError: sample plugin is broken on purpose)]" in out
    assert ("sample_typo  [inactive (not listed in `packages:`; kaiju_app_startd is not a kaiju hook "
            "(did you mean: kaiju_app_started?))]") in out
    assert "config_yaml  [active]" in out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sample_broken", "plugin 'sample_broken' (distribution kaiju-sample-broken 0.0.2) failed to import: "
                          "RuntimeError: sample plugin is broken on purpose"),
        ("sample_typo", "kaiju_app_startd"),
        ("sample_async", "hook kaiju_register_services must not be async"),
    ],
)
def test_listed_plugin_that_fails_stops_the_app_with_a_clear_message(
    venv_python: str, app_dir: AppDir, tmp_path: Path, name: str, expected: str
) -> None:
    make_app(app_dir, [name])
    result = run(venv_python, app_dir, "config", marker=tmp_path / "m")
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_package_lists_installed_plugins(venv_python: str, app_dir: AppDir, tmp_path: Path) -> None:
    make_app(app_dir, ["sampel"])
    result = run(venv_python, app_dir, "config", marker=tmp_path / "m")
    assert result.returncode == 2
    assert "packages[0]" in result.stderr and "unknown package 'sampel'" in result.stderr
    assert "sample (kaiju-sample-plugin)" in result.stderr
    assert "did you mean: sample" in result.stderr


def test_disabled_plugin_is_skipped(venv_python: str, app_dir: AppDir, tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    make_app(app_dir, ["sample"])
    result = subprocess.run([venv_python, "-m", app_dir.name, "plugins"], cwd=app_dir.root,
                            capture_output=True, text=True, timeout=60,
                            env=child_env({"SAMPLE_MARKER": str(marker), "KAIJU_DISABLE_PLUGINS": ",".join(
                                [os.environ.get("KAIJU_DISABLE_PLUGINS", ""), "sample"])}))
    assert result.returncode == 0, result.stderr
    assert "sample  [disabled (disabled by KAIJU_DISABLE_PLUGINS)]" in result.stdout
    assert not marker.exists()


def test_trace_env_prints_hook_calls(venv_python: str, app_dir: AppDir, tmp_path: Path) -> None:
    make_app(app_dir, ["sample"])
    result = subprocess.run([venv_python, "-m", app_dir.name, "config"], cwd=app_dir.root,
                            capture_output=True,
                            text=True, timeout=60, env=child_env({"KAIJU_TRACE_HOOKS": "1"}))
    assert result.returncode == 0, result.stderr
    assert "kaiju-trace: hook=kaiju_load_config_source plugins=" in result.stderr
    assert "kaiju-trace: hook=kaiju_register_services plugins=sample duration_us=" in result.stderr
