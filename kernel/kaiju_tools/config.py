"""Configuration: the loading order, the merge and the template resolution.

Sources are read by plugins through the ``kaiju_load_config_source`` hook (the
``config_yaml`` plugin reads ``.yml`` and ``.env.json`` files); the kernel decides the
order and the merge, exactly as the guide writes it:

1. ``.yml`` files of ``base_config_paths``, then those given with ``-c``;
2. ``.env.json`` files of ``base_env_paths``, then those given with ``-f`` -- or, when no
   ``-f`` is given, those of ``default_env_paths``;
3. OS environment variables, for keys present in the env files: the variable named as the key,
   else the key in upper case (``RUN_PORT`` sets ``run_port``);
4. ``-e key=value`` values (``-e k=a=b`` is key ``k``, value ``a=b``).

Environment and ``-e`` values are parsed as literals (:func:`parse_literal`), never
evaluated. Every file is read under :class:`ConfigLimits` (size, nesting, values after
alias expansion; ``KAIJU_CONFIG_MAX_*`` environment variables change them). Every problem
found is collected and raised together in one
:class:`~kaiju_tools.ConfigError`. :attr:`LoadedConfig.origins` tells, for every value,
where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

from ._limits import ConfigLimits
from ._merge import Origins, format_key, merge_into
from .caches import dataclass
from .exceptions import ConfigError, ConfigProblem
from .registry import close_matches
from .templates import MISSING, parse_literal, render

__all__ = ["ConfigLimits", "ConfigLoader", "ConfigSource", "LoadedConfig", "format_key", "parse_env_arg"]


@dataclass
class ConfigSource:
    """What a loader plugin returns for one file.

    :param data: the file's content (a mapping)
    :param origins: ``{path tuple: "file:line"}`` for the values it knows the line of
    :param path: the file read
    """

    data: Mapping[str, Any]
    origins: Origins = field(default_factory=dict)
    path: Path | None = None


@dataclass
class LoadedConfig:
    """Merged, template-resolved settings and where each value came from."""

    data: dict[str, Any]
    origins: Origins
    env: dict[str, Any]
    env_origins: dict[str, str]
    config_paths: list[Path]
    env_paths: list[Path]
    problems: list[ConfigProblem] = field(default_factory=list)

    def origin(self, path: tuple[Any, ...]) -> str:
        """Where the value at ``path`` came from (or the closest enclosing key's origin)."""
        while path:
            if path in self.origins:
                return self.origins[path]
            path = path[:-1]
        return "default"


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def parse_env_arg(arg: str) -> tuple[str, Any]:
    """Split a ``-e key=value`` argument; the value is parsed as a literal.

    :raises ValueError: with a message for a person, when ``arg`` has no ``=`` or no key
    """
    key, sep, value = arg.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(
            f"bad -e argument {arg!r}: expected KEY=VALUE (for example -e run_port=8080)"
        )
    return key, parse_literal(value)


class ConfigLoader:
    """Loads settings in the guide's order with the loader hooks of a plugin manager."""

    def __init__(
        self,
        hook: Any,
        *,
        base_config_paths: Sequence[str | os.PathLike[str]] = (),
        config_paths: Sequence[str | os.PathLike[str]] = (),
        base_env_paths: Sequence[str | os.PathLike[str]] = (),
        env_paths: Sequence[str | os.PathLike[str]] = (),
        default_env_paths: Sequence[str | os.PathLike[str]] = (),
        env_values: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        limits: ConfigLimits | None = None,
    ) -> None:
        self._hook = hook
        self.config_paths = [Path(p) for p in (*base_config_paths, *config_paths)]
        chosen = env_paths if env_paths else default_env_paths
        self.env_paths = [Path(p) for p in (*base_env_paths, *chosen)]
        self._env_values = list(env_values)
        self._environ = os.environ if environ is None else environ
        self._limits = limits

    def load(self, strict: bool = True) -> LoadedConfig:
        """Read, merge and resolve everything; raise one ConfigError listing every problem.

        With ``strict=False``, problems with templates and ``-e`` values are returned in
        :attr:`LoadedConfig.problems` (unresolved values removed) so that validation can
        report them together with its own; unreadable files still raise at once.
        """
        problems: list[ConfigProblem] = []
        deferred: list[ConfigProblem] = []
        data: dict[str, Any] = {}
        origins: Origins = {}
        self.limits = self._limits or ConfigLimits.from_environ(self._environ)
        for path in self.config_paths:
            source = self._read(path, "config", problems)
            if source is not None:
                merge_into(data, origins, source.data, source.origins)
        env: dict[str, Any] = {}
        env_origins: dict[str, str] = {}
        for path in self.env_paths:
            source = self._read(path, "env", problems)
            if source is None:
                continue
            for key, value in source.data.items():
                env[key] = value
                env_origins[key] = source.origins.get((key,), f"env file {path}")
        for key in list(env):
            name = self._variable(key)
            if name is not None:
                value = parse_literal(self._environ[name])
                if not self._bounded(value, f"environment variable {name}", deferred):
                    continue
                env[key] = value
                env_origins[key] = f"environment variable {name}"
        for arg in self._env_values:
            try:
                key, value = parse_env_arg(arg)
            except ValueError as exc:
                deferred.append(ConfigProblem("-e", str(exc)))
                continue
            if key not in env:
                hint = close_matches(key, env) or "add the key to an env file first"
                looked = ", ".join(map(str, self.env_paths)) or "no env files"
                deferred.append(
                    ConfigProblem(
                        f"-e {arg}",
                        f"unknown env key {key!r}: -e sets only keys defined in the env files "
                        f"({looked})",
                        hint,
                    )
                )
                continue
            if not self._bounded(value, f"-e {key}=...", deferred):
                continue
            env[key] = value
            env_origins[key] = f"-e {arg}"
        self._missing: list[tuple[Any, ...]] = []
        self._resolve(data, origins, env, env_origins, deferred)
        if problems or (deferred and strict):
            # a missing or malformed file makes everything after it guesswork: stop here
            raise ConfigError([*problems, *deferred])
        loaded = LoadedConfig(data, origins, env, env_origins, self.config_paths, self.env_paths)
        loaded.problems = deferred
        for key_path in self._missing:  # drop unresolved values so validation reports only real problems
            parent = _get(data, key_path[:-1])
            if isinstance(parent, dict):
                parent.pop(key_path[-1], None)
        return loaded

    def _variable(self, key: str) -> str | None:
        """The environment variable that sets env key ``key``: its own name, else its upper case."""
        if key in self._environ:
            return key
        upper = key.upper()
        return upper if upper in self._environ else None

    def _bounded(self, value: Any, where: str, problems: list[ConfigProblem]) -> bool:
        too_deep = self.limits.check_value(value, where)
        if too_deep is not None:
            problems.append(too_deep)
        return too_deep is None

    def _read(self, path: Path, kind: str, problems: list[ConfigProblem]) -> ConfigSource | None:
        what = "config file" if kind == "config" else "env file"
        if not path.is_file():
            hint = "check the path, or run from the directory the paths are relative to"
            if kind == "env":
                hint = _create_env_hint(path)
            problems.append(ConfigProblem(str(path), f"{what} does not exist (looked in {Path.cwd()})", hint))
            return None
        try:
            self.limits.check_size(path)
            source: ConfigSource | None = self._hook.kaiju_load_config_source(
                path=path, kind=kind, limits=self.limits)
        except ConfigError as exc:
            problems.extend(exc.problems)
            return None
        if source is None:
            problems.append(
                ConfigProblem(
                    str(path),
                    f"no installed plugin reads {kind} files named like {path.name!r}",
                    "install kaiju-plugin-config-yaml (it reads .yml and .json files)",
                )
            )
            return None
        if not isinstance(source.data, Mapping):
            problems.append(
                ConfigProblem(
                    str(path),
                    f"expected a mapping at the top of the {what}, got {type(source.data).__name__}",
                )
            )
            return None
        return source

    def _resolve(
        self, data: Any, origins: Origins, env: dict[str, Any], env_origins: dict[str, str],
        problems: list[ConfigProblem], path: tuple[Any, ...] = (),
    ) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                data[key] = self._resolve(value, origins, env, env_origins, problems, (*path, key))
            return data
        if isinstance(data, list):
            for index, value in enumerate(data):
                data[index] = self._resolve(value, origins, env, env_origins, problems, (*path, index))
            return data
        if not isinstance(data, str) or "[" not in data:
            return data
        used: list[str] = []

        def lookup(key: str) -> Any:
            if key in env:
                used.append(f"[{key}] from {env_origins[key]}")
                return env[key]
            used.append(f"[{key}] from its default")
            return MISSING

        value, missing = render(data, lookup)
        where = origins.get(path, "")
        if missing:
            self._missing.append(path)
        for key in missing:
            looked = ", ".join(map(str, self.env_paths)) or "no env files were given"
            hint = close_matches(key, env) or (
                f"define {key!r} in an env file, or give a default: \"[{key}:value]\""
            )
            problems.append(
                ConfigProblem(
                    f"{format_key(path)} ({where})" if where else format_key(path),
                    f"template key {key!r} is not defined in any env file and has no default "
                    f"(env files looked at: {looked})",
                    hint,
                )
            )
        if used and not missing:
            origins[path] = f"{where}; {', '.join(used)}" if where else ", ".join(used)
        return value


def _create_env_hint(path: Path) -> str:
    """How to create a missing env file: copy its committed example, if there is one."""
    for example in (path.with_name(f"{path.stem}.example{path.suffix}"),
                    path.with_name(f"{path.name}.example")):
        if example.is_file():
            return (f"it is a local file (not committed): create it from the example, "
                    f"`cp {example} {path}`, and edit it; or choose the env files with -f")
    return (f"create it, e.g. `echo '{{}}' > {path}` (a JSON object of env values; {{}} overrides "
            f"nothing), or choose the env files with -f; check the path if it should exist")
