"""The local env file: listed files must exist, and the scaffold shows how one is made.

``kaiju new-app`` writes ``settings/env.local.json`` (git-ignored), a committed example
``settings/env.local.example.json`` and a ``.gitignore``; a missing local file is an error
that says how to create it. Black-box: the scaffold and the generated app in subprocesses.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_support import AppDir, child_env
from suite_support import run


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120, env=child_env(),
                          check=False)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("envlocal")
    result = sh(sys.executable, "-m", "kaiju_tools", "new-app", "shop", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "shop"


def test_the_scaffold_commits_an_example_and_ignores_the_local_file(shop: Path) -> None:
    local = shop / "settings" / "env.local.json"
    example = shop / "settings" / "env.local.example.json"
    assert local.read_text() == example.read_text()
    assert "settings/env.local.json" in (shop / ".gitignore").read_text().splitlines()
    assert "cp settings/env.local.example.json settings/env.local.json" in (shop / "README.md").read_text()
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    assert sh("git", "init", "-q", cwd=shop).returncode == 0
    assert sh("git", "check-ignore", "-q", "settings/env.local.json", cwd=shop).returncode == 0
    assert sh("git", "check-ignore", "-q", "settings/env.local.example.json", cwd=shop).returncode == 1
    assert sh("git", "check-ignore", "-q", "settings/env.json", cwd=shop).returncode == 1


def test_a_fresh_clone_is_told_to_copy_the_example(shop: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(shop, clone, ignore=shutil.ignore_patterns(".git", "env.local.json"))
    result = sh(sys.executable, "-m", "app", "config", cwd=clone)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "settings/env.local.json: env file does not exist" in result.stderr
    hint = "cp settings/env.local.example.json settings/env.local.json"
    assert hint in result.stderr
    assert sh("sh", "-c", hint, cwd=clone).returncode == 0
    result = sh(sys.executable, "-m", "app", "config", cwd=clone)
    assert result.returncode == 0, result.stderr
    assert "main_env = \"dev\"  # env file settings/env.local.json:2" in result.stdout


def test_without_an_example_the_error_says_how_to_create_the_file(app_dir: AppDir) -> None:
    app_dir.main(defaults=["settings/env.local.json"])
    app_dir.write("settings/config.yml", "main:\n  name: '[main_name]'\n")
    app_dir.write("settings/env.json", '{"main_name": "x"}')
    result = run(app_dir, "config")
    assert result.returncode == 2, result.stderr
    hint = "echo '{}' > settings/env.local.json"
    assert hint in result.stderr
    assert "or choose the env files with -f" in result.stderr
    assert sh("sh", "-c", hint, cwd=app_dir.root).returncode == 0
    assert run(app_dir, "config").returncode == 0
