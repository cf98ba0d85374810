"""CLI commands of the rpc plugin: ``openrpc`` (write the app's document) and ``gen-client``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from kaiju_tools import Command, get_services
from kaiju_tools.exceptions import CommandError

__all__ = ["GenClientCommand", "OpenRPCCommand", "read_document"]


class OpenRPCCommand(Command):
    """Write the app's OpenRPC document (what rpc.discover answers a system caller) to a file."""

    name = "openrpc"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", default="-", help="the file to write (default: stdout)")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        from ._server import JSONRPCServer

        servers = [s for s in get_services(app) if isinstance(s, JSONRPCServer)] if app is not None else []
        if not servers:
            raise CommandError("the app has no JSONRPCServer service: "
                               "add `- cls: JSONRPCServer` to `services:`")
        server = servers[0]
        server.prepare()
        text = json.dumps(server.openrpc().for_scope(0 if server.enable_permissions else None),
                          indent=2) + "\n"
        if args.out == "-":
            print(text, end="")
        else:
            Path(args.out).write_text(text, encoding="utf-8")  # noqa: ASYNC240 -- a CLI command
            print(f"wrote {args.out}")
        return 0


def read_document(source: str, timeout: float = 30) -> dict[str, Any]:
    """The OpenRPC document at ``source``: a JSON-RPC endpoint URL (``rpc.discover`` is called) or a file.

    :raises CommandError: unreachable, unreadable, or not an OpenRPC document (says which)
    """
    import urllib.error
    import urllib.request

    if source.startswith(("http://", "https://")):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}).encode()
        request = urllib.request.Request(source, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(f"{source}: could not call rpc.discover: {exc}; is the app running, and is "
                               "this its JSON-RPC endpoint (e.g. http://host:8080/public/rpc)?") from None
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise CommandError(f"{source}: cannot read the file: {exc.strerror}; give a file written by "
                               "`python -m app openrpc --out FILE` or the app's JSON-RPC URL") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"{source}: not JSON ({exc})") from None
    if isinstance(data, dict) and "jsonrpc" in data:  # an rpc.discover response
        if "error" in data:
            raise CommandError(f"{source}: rpc.discover answered an error: {data['error']}")
        data = data.get("result")
    if not isinstance(data, dict) or not isinstance(data.get("openrpc"), str) or not isinstance(
            data.get("methods"), list):
        raise CommandError(f"{source}: expected an OpenRPC document "
                           f"(an object with `openrpc` and `methods`), got {type(data).__name__}")
    return data


class GenClientCommand(Command):
    """Write a typed Python client module from an app's OpenRPC document (URL or file)."""

    name = "gen-client"
    needs_app = False
    standalone = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("source", metavar="URL_OR_FILE",
                            help="the app's JSON-RPC endpoint (http://host:8080/public/rpc) "
                                 "or an OpenRPC file")
        parser.add_argument("--out", required=True, help="the module to write, e.g. client.py")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        doc = read_document(args.source)
        from ._codegen import generate  # only for this command

        text = generate(doc, source=f"at {args.source}")
        Path(args.out).write_text(text, encoding="utf-8")  # noqa: ASYNC240 -- a CLI command
        print(f"wrote {args.out}: {len(doc['methods'])} methods")
        return 0
