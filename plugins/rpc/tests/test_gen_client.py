"""``kaiju gen-client``: a typed client module that passes ``mypy --strict`` and works against the server."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from asyncio import run
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # typed_service.py (pytest imports tests with importlib)
import typed_service  # noqa: F401 -- registers the Typed service

TYPED = [{"cls": "Typed", "name": "typed"}, {"cls": "RpcCalc", "name": "calc"}]
REPO = Path(__file__).resolve().parents[3]
USE = '''\
"""Uses the generated client as an app would (type-checked with it)."""

from __future__ import annotations

import datetime
import decimal

from kaiju_plugins.rpc import JSONRPCClient

from client import Client, Color, Level, Point, Tag


async def use(url: str) -> tuple[Point, int, list[Tag], str]:
    async with JSONRPCClient(url=url) as rpc:
        client = Client(rpc)
        centre: Point = await client.typed.centroid([Point(x=2, y=4), Point(x=4)])
        total: int = await client.calc.add(1, 2)
        tags: list[Tag] = await client.typed.tags({"a": [1, 2]}, {"name": "t", "weight": 0.5})
        painted = await client.typed.paint(Color.GREEN, Level.HIGH, "slow")
        shifted = await client.typed.shift(datetime.datetime(2024, 2, 28, tzinfo=datetime.timezone.utc), 2,
                                           amount=decimal.Decimal("1.25"))
        await rpc.close()
        return centre, total + client.typed.named.__code__.co_argcount, tags, f"{painted}{shifted}"
'''


def _mypy_env() -> dict[str, str]:
    """mypy cannot follow editable installs' import hooks: point it at the source trees then."""
    import kaiju_plugins.rpc
    import kaiju_tools

    roots = [Path(kaiju_plugins.rpc.__file__).parents[2], Path(kaiju_tools.__file__).parents[1]]
    source = [str(r) for r in roots if "site-packages" not in r.parts and "dist-packages" not in r.parts]
    return {**os.environ, "MYPYPATH": os.pathsep.join(source)} if source else dict(os.environ)


def _kaiju(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kaiju_tools", *args], cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=180)


def _generate_from_live_server(serve_app: Any, tmp_path: Path) -> tuple[Path, str]:
    async def go() -> str:
        async with serve_app(services=TYPED) as served:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kaiju_tools", "gen-client", served.url, "--out",
                str(tmp_path / "client.py"), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 180)
            assert proc.returncode == 0, err.decode()
            return out.decode()

    return tmp_path / "client.py", run(go())


def test_gen_client_writes_a_module_that_passes_mypy_strict(serve_app: Any, tmp_path: Path) -> None:
    client, printed = _generate_from_live_server(serve_app, tmp_path)
    assert "wrote" in printed and "methods" in printed
    (tmp_path / "use_client.py").write_text(USE, encoding="utf-8")
    # the generated module and its use are checked; the libraries' own code is not (ignore_errors)
    (tmp_path / "mypy.ini").write_text("[mypy]\n[mypy-kaiju_plugins.*]\nignore_errors = True\n"
                                       "[mypy-kaiju_tools.*]\nignore_errors = True\n", encoding="utf-8")
    checked = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file",
                              "mypy.ini", "--cache-dir", str(tmp_path / ".mypy"), "client.py",
                              "use_client.py"],
                             cwd=tmp_path, check=False,
                             capture_output=True, text=True, timeout=600, env=_mypy_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = client.read_text(encoding="utf-8")
    assert "class TypedService:" in text and "async def centroid(self, points: list[Point]) -> Point:" in text
    assert '"""The centroid of points (integer division).' in text  # the route's docs
    assert "@dataclasses.dataclass\nclass Point:" in text and "class Tag(TypedDict):" in text
    assert "class Color(enum.StrEnum):" in text and "class Level(enum.IntEnum):" in text


def test_the_generated_client_calls_the_live_server_with_typed_values(serve_app: Any, tmp_path: Path) -> None:
    client_file, _ = _generate_from_live_server(serve_app, tmp_path)
    spec = importlib.util.spec_from_file_location("client", client_file)
    assert spec is not None and spec.loader is not None
    client = importlib.util.module_from_spec(spec)
    sys.modules["client"] = client
    try:
        spec.loader.exec_module(client)
        (tmp_path / "use_client.py").write_text(USE, encoding="utf-8")
        sys.path.insert(0, str(tmp_path))
        from kaiju_plugins.rpc import InvalidParams, JSONRPCClient
        from kaiju_tools import context

        async def go() -> None:
            async with serve_app(services=TYPED) as served:
                import use_client

                centre, _, tags, painted = await use_client.use(served.url)
                assert centre == client.Point(x=3, y=2) and dataclasses.is_dataclass(centre)
                assert tags == [{"name": "t", "weight": 0.5}, {"name": "3"}]
                assert "green" in painted
                async with JSONRPCClient(url=served.url) as rpc:
                    typed = client.Client(rpc)
                    shifted = await typed.typed.shift(__import__("datetime").datetime(2024, 1, 1), 1)
                    assert shifted["when"] == "2024-01-02T00:00:00"
                    tree = client.Tree(label="a", children=[{"label": "b"}]) if dataclasses.is_dataclass(
                        client.Tree) else {"label": "a", "children": [{"label": "b", "children": []}]}
                    assert await typed.typed.tree(tree) == 2
                    with pytest.raises(InvalidParams) as caught:
                        await typed.typed.bounded(11)
                    assert caught.value.data["path"] == "params.n"
                    token = context.correlation_id.set("cid-gen-1")  # forwarded as for any call
                    try:
                        assert (await typed.calc.context())["cid"] == "cid-gen-1"
                    finally:
                        context.correlation_id.reset(token)
                    await rpc.close()

        run(go())
    finally:
        sys.modules.pop("client", None)
        sys.modules.pop("use_client", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))


def test_gen_client_reads_a_document_file_and_refuses_what_is_not_one(serve_app: Any, tmp_path: Path) -> None:
    async def go() -> Any:
        async with serve_app(services=TYPED) as served:
            return (await served.call("rpc.discover"))["result"]

    (tmp_path / "doc.json").write_text(json.dumps(run(go())), encoding="utf-8")
    done = _kaiju("gen-client", "doc.json", "--out", "from_file.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "class TypedService:" in (tmp_path / "from_file.py").read_text(encoding="utf-8")
    (tmp_path / "bad.json").write_text('{"hello": 1}', encoding="utf-8")
    bad = _kaiju("gen-client", "bad.json", "--out", "x.py", cwd=tmp_path)
    assert bad.returncode != 0 and "expected an OpenRPC document" in bad.stderr
    missing = _kaiju("gen-client", "nope.json", "--out", "x.py", cwd=tmp_path)
    assert missing.returncode != 0 and "nope.json: cannot read the file" in missing.stderr
    down = _kaiju("gen-client", "http://127.0.0.1:9/public/rpc", "--out", "x.py", cwd=tmp_path)
    assert down.returncode != 0 and "could not call rpc.discover" in down.stderr
    assert not (tmp_path / "x.py").exists()
    assert "gen-client" in _kaiju("--help", cwd=tmp_path).stdout


EXAMPLE_NEEDS = ("kaiju_plugins.logging", "kaiju_plugins.scheduler", "kaiju_plugins.config_yaml")


@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in EXAMPLE_NEEDS),
                    reason="the example app needs every first-party plugin (runs in the `all` env)")
def test_the_apps_openrpc_command_writes_the_document_gen_client_reads(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "examples")}
    written = subprocess.run([sys.executable, "-m", "app", "openrpc", "--out", str(tmp_path / "doc.json")],
                             cwd=REPO / "examples", env=env, check=False, capture_output=True, text=True,
                             timeout=180)
    assert written.returncode == 0, written.stderr
    doc = json.loads((tmp_path / "doc.json").read_text(encoding="utf-8"))
    assert doc["info"]["title"] == "example" and "greeter.add" in {m["name"] for m in doc["methods"]}
    done = _kaiju("gen-client", str(tmp_path / "doc.json"), "--out", "example_client.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "class GreeterService:" in (tmp_path / "example_client.py").read_text(encoding="utf-8")
