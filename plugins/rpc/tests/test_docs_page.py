"""The docs page (``docs_path``): a self-contained HTML page, rendered by a real headless Chromium."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from asyncio import run
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # typed_service.py (pytest imports tests with importlib)
import typed_service  # noqa: F401 -- registers the Typed service
from kaiju_tools import ConfigError

TYPED = [{"cls": "Typed", "name": "typed"}, {"cls": "RpcCalc", "name": "calc"}]
DOCS = "/public/rpc/docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("KAIJU_TEST_SCREENSHOTS") or tempfile.gettempdir())


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


async def _browse(url: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = await asyncio.create_subprocess_exec(
            _chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 180)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        return out.decode()


def test_the_page_lists_methods_params_types_errors_and_examples_in_a_real_browser(
        serve_app: Any, tmp_path: Path) -> None:
    shot = SHOTS / "kaiju-rpc-docs-page.png"

    async def go() -> tuple[int, str, str, str]:
        async with serve_app(rpc_settings={"docs_path": DOCS}, services=TYPED) as served:
            base = served.url.rsplit("/public/rpc", 1)[0]
            async with served.session.get(base + DOCS) as resp:
                status, ctype, raw = resp.status, resp.headers["Content-Type"], await resp.text()
            dom = await _browse(base + DOCS, "--dump-dom")
            await _browse(base + DOCS, f"--screenshot={shot}", "--window-size=1200,1600")
            return status, ctype, raw, dom

    status, ctype, raw, dom = run(go())
    assert status == 200 and ctype.startswith("text/html")
    # self-contained: no scripts, stylesheets, images or fonts from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(|src=", raw, re.IGNORECASE)
    assert "http://" not in raw and "https://" not in raw
    for name in ("typed.centroid", "typed.shift", "calc.add", "rpc.discover"):
        assert f'id="method-{name}"' in dom, name  # rendered by the browser
    assert "typed.secret" not in dom  # guests do not see system methods
    assert 'id="type-Point"' in dom and "A point on the plane." in dom
    assert "-32602" in dom and "Invalid params" in dom  # typed.shift's declared error
    assert "Example request" in dom and '"method": "typed.centroid"' in dom
    assert "string (date-time)" in dom and "array of <a href=\"#type-Point\">Point</a>" in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_page_unless_docs_path_is_set(serve_app: Any) -> None:
    async def go() -> int:
        async with serve_app(services=TYPED) as served:
            resp = await served.session.get(served.url + "/docs")
            resp.release()
            return resp.status

    assert run(go()) == 404


def test_a_malformed_docs_path_is_a_config_error_naming_the_setting(serve_app: Any) -> None:
    async def go() -> None:
        async with serve_app(rpc_settings={"docs_path": "docs"}, services=TYPED):
            pass

    with pytest.raises(ConfigError, match=r"rpc\.settings\.docs_path: expected a URL path starting with '/'"):
        run(go())
