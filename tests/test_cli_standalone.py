"""The ``kaiju`` script (``python -m kaiju_tools``): its own commands and help, and output into a pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from kernel_support import AppDir, child_env
from suite_support import CHILD_ENV, run


def kaiju(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m kaiju_tools *args`` in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "kaiju_tools", *args], cwd=cwd, check=False,
                          capture_output=True, text=True, timeout=60, env=child_env(CHILD_ENV))


# gen-client: the rpc plugin
STANDALONE = {"new-app", "new-plugin", "version", "plugins", "config", "gen-client"}


def listed_commands(help_text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^  ([\w-]+) {2,}\S", help_text.split("commands:")[1],
                                            re.MULTILINE)}


def test_kaiju_alone_shows_its_own_commands(tmp_path: Path) -> None:
    result = kaiju(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: kaiju")
    assert "without an app" in result.stdout and "python -m <your app>" in result.stdout
    assert listed_commands(result.stdout) == STANDALONE
    assert "needs an application" not in result.stdout + result.stderr


def test_kaiju_help_is_its_own_not_an_apps(tmp_path: Path) -> None:
    result = kaiju("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Run the application" not in result.stdout
    assert "--port" not in result.stdout  # nothing to serve
    assert listed_commands(result.stdout) == STANDALONE


def test_kaiju_version(tmp_path: Path) -> None:
    result = kaiju("version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"kaiju-kernel \d+\.\d+\.\d+", lines[0])
    assert lines[1].startswith("python 3.")
    assert any(re.match(r"kaiju-plugin-rpc \S+ \(plugin rpc, first-party\)", line) for line in lines)


def test_an_apps_command_under_kaiju_says_where_it_runs(tmp_path: Path) -> None:
    result = kaiju("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown command 'run'" in result.stderr
    assert "python -m <your app> run" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_app_has_a_version_command_too(app_dir: AppDir) -> None:
    app_dir.write("settings/config.yml", "main:\n  name: shop\n  version: '1.2'\n")
    app_dir.write("settings/env.json", "{}")
    result = run(app_dir, "version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "shop 1.2 (main.name, main.version)"


def _closed_pipe_run(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run with a stdout pipe whose reader is gone before anything is written (``| head -0``)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(args, check=False, cwd=cwd, stdout=write, stderr=subprocess.PIPE, text=True,
                              timeout=60, env=child_env(CHILD_ENV))
    finally:
        os.close(write)
    return proc.returncode, proc.stderr


def test_new_app_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    code, err = _closed_pipe_run([sys.executable, "-m", "kaiju_tools", "new-app", "shop"], tmp_path)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert err == ""
    assert code == 141  # 128 + SIGPIPE, as a shell reports for `yes | head -1`
    assert (tmp_path / "shop" / "app" / "__main__.py").is_file()  # the work was done


def test_a_pipe_into_head_shows_the_first_line_only(tmp_path: Path) -> None:
    result = subprocess.run(["bash", "-c", f"{sys.executable} -m kaiju_tools new-app shop | head -1"],
                            check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env=child_env(CHILD_ENV))
    assert result.stdout.startswith("created shop (")
    assert result.stderr == ""
