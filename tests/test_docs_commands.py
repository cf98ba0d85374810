"""docs/tutorial.md and docs/plugins.md run as written: files written, shell blocks run, in order.

A fenced block whose first line is ``# <path>`` (python, yaml) is written to that path in
the current directory of the page's shell; a ``sh`` block runs in bash (``set -e``) with
this interpreter's ``bin`` directory first on ``PATH`` (``python``, ``kaiju``); a ``text``
block right after a ``sh`` block lists lines its output must contain. The app's port
(8080 in the text) is swapped for a free one, set through the ``run_port`` variable the
way the guide describes environment overrides. The plugin guide runs in a fresh venv
(``pip install`` goes there), which sees this environment through a ``.pth`` file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_support import REPO, child_env, free_port
from scaffold_support import Block, blocks, make_venv

TUTORIAL = REPO / "docs" / "tutorial.md"
GUIDE = REPO / "docs" / "plugins.md"
_PATH_LINE = re.compile(r"# ([\w./-]+\.(?:py|yml|yaml|json))\n")


def run_sh(page: Path, block: Block, cwd: Path, env: dict[str, str], port: int) -> tuple[Path, str]:
    """Run a sh block in ``cwd``; return the directory it ended in and its output."""
    marker = Path(env["DOC_STATE"])
    # a background server (`python -m app &`) never outlives its block, even when the block fails
    body = block.text.replace("8080", str(port))
    script = (f"set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\ncd {str(cwd)!r}\n"
              f"{body}\npwd > {str(marker)!r}\n")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=240)
    output = result.stdout + result.stderr
    where = f"docs/{page.name}:{block.line}"
    assert result.returncode == 0, f"{where}: exit {result.returncode}\n{block.text}\n{output}"
    return Path(marker.read_text().strip()), result.stdout


def run_page(page: Path, work: Path, bin_dirs: list[Path]) -> int:
    """Run a page's blocks in ``work``; return how many sh blocks ran."""
    port = free_port()
    env = child_env({"run_port": str(port), "DOC_STATE": str(work.parent / f".{page.stem}-state"),
                     "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env["PATH"] = os.pathsep.join([*map(str, bin_dirs), env.get("PATH", "")])
    cwd, last_output, ran = work, None, 0
    for block in blocks(page):
        first = _PATH_LINE.match(block.text)
        if block.lang == "sh":
            cwd, last_output = run_sh(page, block, cwd, env, port)
            ran += 1
        elif block.lang == "text" and last_output is not None:
            if "  [active]\n" in block.text:  # a `plugins` listing is shown whole: verbatim
                assert block.text.rstrip() in last_output, (
                    f"docs/{page.name}:{block.line}: the listing is not verbatim in the output:\n"
                    f"{last_output}")
            for line in filter(None, (x.strip() for x in block.text.splitlines())):
                assert line in last_output, (f"docs/{page.name}:{block.line}: {line!r} is not in the output "
                                             f"of the command before it:\n{last_output}")
            last_output = None
        elif first and block.lang in ("python", "yaml"):
            target = cwd / first.group(1)
            assert target.parent.is_dir(), f"docs/{page.name}:{block.line}: {target.parent} does not exist"
            target.write_text(block.text, encoding="utf-8")
            last_output = None
        else:
            last_output = None
    return ran


@pytest.mark.parametrize("page", [TUTORIAL, GUIDE], ids=lambda p: p.name)
def test_the_page_has_commands_files_and_expected_output(page: Path) -> None:
    found = blocks(page)
    langs = [b.lang for b in found]
    assert langs.count("sh") >= 4 and "python" in langs and "text" in langs
    assert any(re.match(r"kaiju new-(app|plugin) ", b.text) for b in found if b.lang == "sh")


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    ran = run_page(TUTORIAL, work, [Path(sys.executable).parent])
    assert ran == sum(1 for b in blocks(TUTORIAL) if b.lang == "sh")


def test_the_plugin_guide_runs_as_written(tmp_path: Path) -> None:
    venv_bin = make_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    ran = run_page(GUIDE, work, [venv_bin, Path(sys.executable).parent])
    assert ran == sum(1 for b in blocks(GUIDE) if b.lang == "sh")
    installed = subprocess.run([str(venv_bin / "python"), "-m", "pip", "show", "kaiju-audit-plugin"],
                               capture_output=True, text=True, env=child_env())
    assert "Version: 0.1.0" in installed.stdout  # `pip install .` went to the venv, not here


def test_the_readme_links_the_tutorial() -> None:
    assert "(docs/tutorial.md)" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_tutorial_installs_what_its_tests_need() -> None:
    shell = [b.text for b in blocks(TUTORIAL) if b.lang == "sh"]
    first_pytest = next(i for i, text in enumerate(shell) if "python -m pytest" in text)
    assert any("pip install -q -r requirements.txt" in text for text in shell[:first_pytest])
    template = REPO / "kernel" / "kaiju_tools" / "_templates" / "app" / "requirements.txt.tmpl"
    assert "pytest" in template.read_text(encoding="utf-8").split()
