"""Scaffolds: ``kaiju new-app NAME`` and ``kaiju new-plugin NAME`` (commands that need no app).

``new-app`` writes the guide's "Basic application" layout (``app/`` with its services,
application, commands, views and ``__main__``; ``settings/``; ``tests/`` using
:mod:`kaiju_tools.testing`). ``new-plugin`` writes a plugin distribution (``pyproject.toml``
with the ``kaiju.plugins`` entry point, a plugin module with hook implementations, a
service class, tests). Templates live in ``kaiju_tools/_templates`` (``*.tmpl`` files with
``{{name}}``-style placeholders; ``dot_x.tmpl`` is written as ``.x``). A target that exists
is refused; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .commands import Command
from .exceptions import CommandError

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["NewAppCommand", "NewPluginCommand", "render_tree", "suggest_name", "validate_name"]

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_RESERVED_PLUGINS = frozenset({"rpc", "scheduler", "logging", "config_yaml", "redis", "otel", "builtin"})


def validate_name(name: str, what: str) -> str:
    """Return ``name`` if it can name an app or plugin; else raise :class:`CommandError` saying why."""
    if not _NAME.match(name) or len(name) > 40:
        raise CommandError(
            f"invalid {what} name {name!r}: expected a lower-case identifier of at most 40 characters "
            f"(letters, digits and '_', starting with a letter), e.g. {suggest_name(name)!r}")
    if keyword.iskeyword(name):
        raise CommandError(f"invalid {what} name {name!r}: it is a Python keyword; choose another, "
                           f"e.g. {suggest_name(name)!r}")
    return name


def suggest_name(name: str) -> str:
    """A valid name close to ``name`` (for error messages)."""
    fixed = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    if not fixed or not fixed[0].isalpha() or not fixed.isascii():
        fixed = f"my_{fixed}".rstrip("_")
    fixed = fixed[:40].rstrip("_")
    return f"{fixed}_1" if keyword.iskeyword(fixed) else fixed


def render_tree(kind: str, target: Path, values: dict[str, str]) -> list[Path]:
    """Write the ``kind`` templates below ``target`` (which must not exist); return the files."""
    if target.exists() or target.is_symlink():
        raise CommandError(f"{target} exists already; nothing was written. Choose another name or "
                           "--dir, or remove it first")
    from importlib import resources  # only the scaffold commands need it (start-up time)

    root = resources.files("kaiju_tools") / "_templates" / kind
    files: list[tuple[Path, str]] = []
    _collect(root, Path(), values, files)
    if not files:
        raise CommandError(f"the {kind} templates are missing from the installed kaiju-kernel "
                           f"(looked in {root}); reinstall kaiju-kernel")
    written = []
    target.mkdir(parents=True)
    for rel, text in files:
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _collect(node: object, rel: Path, values: dict[str, str], out: list[tuple[Path, str]]) -> None:
    for child in sorted(node.iterdir(), key=lambda c: c.name):  # type: ignore[attr-defined]
        name = child.name
        if child.is_dir():
            if name != "__pycache__":
                _collect(child, rel / _fill(name, values, dirs=True), values, out)
        elif name.endswith(".tmpl"):
            text = _fill(child.read_text(encoding="utf-8"), values)
            name = name[: -len(".tmpl")]
            out.append((rel / (f".{name[4:]}" if name.startswith("dot_") else name), text))  # dot_gitignore


def _fill(text: str, values: dict[str, str], dirs: bool = False) -> str:
    if dirs and text == "package":
        return values["package"]
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def _report(target: Path, written: list[Path], steps: list[str]) -> None:
    print(f"created {target} ({len(written)} files):")
    for path in written:
        print(f"  {path.relative_to(target)}")
    print("next:")
    for step in steps:
        print(f"  {step}")


class NewAppCommand(Command):
    """Create a new application (the guide's "Basic application" layout) in DIR/NAME."""

    name = "new-app"
    needs_app = False
    standalone = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app_name", metavar="NAME", help="the app's name (main.name; the project folder)")
        parser.add_argument("--dir", default=".", help="where to create the project folder (default: .)")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Write the project; print what was written and what to do next."""
        name = validate_name(args.app_name, "app")
        target = Path(args.dir) / name
        written = render_tree("app", target, {"name": name})
        _report(target, written, [f"cd {target}",
                                  "python -m pip install -r requirements.txt   # pytest, for the tests",
                                  "python -m pytest       # the app's tests",
                                  "python -m app          # serve it on 127.0.0.1:8080 (--port to change)"])
        return 0


class NewPluginCommand(Command):
    """Create a new plugin distribution (entry point, hooks, a service, tests) in DIR/kaiju-NAME-plugin."""

    name = "new-plugin"
    needs_app = False
    standalone = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("plugin_name", metavar="NAME",
                            help="the plugin's name: its entry-point name, listed in `packages:`")
        parser.add_argument("--dir", default=".", help="where to create the distribution folder (default: .)")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int | None:
        """Write the distribution; print what was written and what to do next."""
        name = validate_name(args.plugin_name, "plugin")
        if name in _RESERVED_PLUGINS:
            raise CommandError(f"invalid plugin name {name!r}: a first-party plugin has this name; "
                               f"choose another, e.g. 'my_{name}'")
        installed = self.runtime.plugins.infos.get(name)
        if installed is not None:
            raise CommandError(f"invalid plugin name {name!r}: the installed distribution {installed.dist} "
                               "provides a plugin of this name; choose another")
        dist = f"kaiju-{name.replace('_', '-')}-plugin"
        values = {"name": name, "dist": dist, "package": f"kaiju_{name}_plugin",
                  "class": f"{_camel(name)}Service"}
        target = Path(args.dir) / dist
        written = render_tree("plugin", target, values)
        _report(target, written, [f"cd {target}", "python -m pytest      # the plugin's tests",
                                  "pip install .          # then list it in an app's `packages:`"])
        return 0
