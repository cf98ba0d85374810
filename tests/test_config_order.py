"""The guide's loading order, end to end: real files, ``python -m app`` in a subprocess.

Order: base ``.yml`` files, ``-c`` files, base ``env.json`` files, ``-f`` files (which
replace ``default_env_paths``), OS environment (keys present in env files only, by their
own name or in upper case), ``-e``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_support import EXAMPLES, AppDir, child_env, free_port
from suite_support import CHILD_ENV, EVENTS_SERVICES, config_json, run, stop, wait_port


@pytest.fixture
def layered(app_dir: AppDir) -> AppDir:
    """An app with two base yml files, a base env file and a default env file."""
    app_dir.main(configs=["settings/config.yml", "settings/services.yml"],
                 envs=["settings/env.json"], defaults=["settings/env.local.json"])
    app_dir.write("tapp/services.py", EVENTS_SERVICES)
    app_dir.write("settings/config.yml", """
        main:
          name: layered
        etc:
          a: config
          b: config
          c: config
          d: config
          nested:
            x: 1
          k_base: "[k_base]"
          k_default: "[k_default]"
          k_f: "[k_f]"
          k_f2: "[k_f2:'no f2']"
          local_only: "[local_only:'absent']"
          k_os: "[k_os]"
          k_e: "[k_e]"
          k_eq: "[k_eq]"
          k_int: "[k_int]"
          not_in_env: "[not_in_env:'dflt']"
        services:
          - cls: Recorder
            name: first
    """)
    app_dir.write("settings/services.yml", """
        etc:
          b: services
          c: services
          d: services
          nested:
            y: 2
        services:
          - cls: Recorder
            name: second
    """)
    app_dir.write("settings/dev.yml", """
        etc:
          c: dev
          d: dev
        services:
          - cls: Recorder
            name: third
    """)
    app_dir.write("settings/local.yml", "etc:\n  d: local\n")
    app_dir.write("settings/env.json", json.dumps({
        "k_base": "base", "k_default": "base", "k_f": "base", "k_os": "base", "k_e": "base",
        "k_eq": "base", "k_int": 1}))
    app_dir.write("settings/env.local.json", json.dumps(
        {"k_default": "local", "k_f": "local", "local_only": "local"}))
    app_dir.write("settings/f1.env.json", json.dumps({"k_f": "f1", "k_f2": "f1"}))
    app_dir.write("settings/f2.env.json", json.dumps({"k_f2": "f2"}))
    return app_dir


def test_yml_files_merge_in_the_guides_order(layered: AppDir) -> None:
    data = config_json(layered, "-c", "settings/dev.yml", "-c", "settings/local.yml")
    etc = data["etc"]
    assert (etc["a"], etc["b"], etc["c"], etc["d"]) == ("config", "services", "dev", "local")
    assert etc["nested"] == {"x": 1, "y": 2}
    assert [s["name"] for s in data["services"]] == ["first", "second", "third"]


def test_c_files_merge_in_command_line_order(layered: AppDir) -> None:
    etc = config_json(layered, "-c", "settings/local.yml", "-c", "settings/dev.yml")["etc"]
    assert (etc["c"], etc["d"]) == ("dev", "dev")


def test_default_env_paths_apply_without_f(layered: AppDir) -> None:
    etc = config_json(layered)["etc"]
    assert etc["k_base"] == "base"
    assert etc["k_default"] == "local"
    assert etc["k_f"] == "local"
    assert etc["local_only"] == "local"
    assert etc["k_f2"] == "no f2"


def test_f_replaces_default_env_paths_and_merges_in_order(layered: AppDir) -> None:
    etc = config_json(layered, "-f", "settings/f1.env.json", "-f", "settings/f2.env.json")["etc"]
    assert etc["k_default"] == "base"  # env.local.json was not read
    assert etc["local_only"] == "absent"
    assert etc["k_f"] == "f1"
    assert etc["k_f2"] == "f2"


def test_os_environment_overrides_env_files_for_known_keys(layered: AppDir) -> None:
    env = {"k_os": "from os", "k_f": "os beats -f", "k_int": "8080", "not_in_env": "ignored"}
    etc = config_json(layered, "-f", "settings/f1.env.json", env=env)["etc"]
    assert etc["k_os"] == "from os"
    assert etc["k_f"] == "os beats -f"
    assert etc["k_int"] == 8080  # parsed as a literal, whole-string template keeps the type
    assert etc["not_in_env"] == "dflt"  # not a key of any env file: the OS variable is ignored


def test_upper_case_environment_variables_set_lower_case_keys(layered: AppDir) -> None:
    env = {"K_OS": "upper", "K_INT": "9", "k_f": "exact", "K_F": "upper loses", "Not_In_Env": "x"}
    etc = config_json(layered, "-f", "settings/f1.env.json", env=env)["etc"]
    assert etc["k_os"] == "upper"
    assert etc["k_int"] == 9
    assert etc["k_f"] == "exact"  # the variable named as the key comes first
    shown = run(layered, "config", env=env).stdout
    assert "k_os = \"upper\"  # environment variable K_OS" in shown


def test_the_issue_run_port_in_upper_case_is_served_on() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=EXAMPLES, env=child_env({**CHILD_ENV,
                            "RUN_PORT": str(port)}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_port(port, proc)
        code, _, err = stop(proc)
        assert code == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_e_has_the_last_word(layered: AppDir) -> None:
    etc = config_json(layered, "-e", "k_e=cli", "-e", "k_os=cli", "-e", "k_int=[1, 2]",
                      env={"k_os": "from os", "k_e": "from os"})["etc"]
    assert etc["k_e"] == "cli"
    assert etc["k_os"] == "cli"
    assert etc["k_int"] == [1, 2]


def test_e_splits_at_the_first_equals_sign(layered: AppDir) -> None:
    etc = config_json(layered, "-e", "k_eq=a=b")["etc"]
    assert etc["k_eq"] == "a=b"


def test_last_e_wins_for_the_same_key(layered: AppDir) -> None:
    etc = config_json(layered, "-e", "k_e=one", "-e", "k_e=two")["etc"]
    assert etc["k_e"] == "two"


LITERALS = [
    ("true", True), ("null", None), ("42", 42), ("1.5", 1.5), ("'quoted'", "quoted"),
    ('"42"', "42"), ('{"a": [1]}', {"a": [1]}), ("localhost", "localhost"), ("a b", "a b"),
    ("__import__('os').getcwd()", "__import__('os').getcwd()"),
]


def test_e_and_environment_values_are_literals_never_evaluated(app_dir: AppDir) -> None:
    keys = [f"lit{i}" for i in range(len(LITERALS))]
    app_dir.write("settings/config.yml", "etc:\n" + "".join(f"  {k}: '[{k}]'\n  os_{k}: '[os_{k}]'\n"
                                                         for k in keys))
    app_dir.write("settings/env.json", json.dumps({**dict.fromkeys(keys, 0), **{f"os_{k}": 0 for k in keys}}))
    args = [arg for key, (text, _) in zip(keys, LITERALS, strict=True) for arg in ("-e", f"{key}={text}")]
    environ = {f"os_{key}": text for key, (text, _) in zip(keys, LITERALS, strict=True)}
    etc = config_json(app_dir, *args, env=environ)["etc"]
    for key, (text, expected) in zip(keys, LITERALS, strict=True):
        assert etc[key] == expected, text
        assert etc[f"os_{key}"] == expected, text


def test_e_for_a_key_no_env_file_defines_is_an_error(layered: AppDir) -> None:
    result = run(layered, "-e", "k_unknown=1", "config")
    assert result.returncode == 2
    assert "k_unknown" in result.stderr
    assert "settings/env.json" in result.stderr  # the env files it looked at
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ("-c", "settings/nope.yml"), ("-f", "settings/nope.env.json"),
])
def test_a_missing_cli_file_is_an_error(layered: AppDir, args: tuple[str, str]) -> None:
    result = run(layered, *args, "config")
    assert result.returncode == 2
    assert "settings/nope." in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_base_file_is_an_error(layered: AppDir) -> None:
    (layered.root / "settings/services.yml").unlink()
    (layered.root / "settings/env.local.json").unlink()
    result = run(layered, "config")
    assert result.returncode == 2
    assert "settings/services.yml" in result.stderr
    assert "settings/env.local.json" in result.stderr  # both reported in one run
    assert "does not exist" in result.stderr


def test_a_missing_default_env_file_does_not_matter_when_f_replaces_it(layered: AppDir) -> None:
    (layered.root / "settings/env.local.json").unlink()
    etc = config_json(layered, "-f", "settings/f1.env.json")["etc"]
    assert etc["k_f"] == "f1"


def test_a_config_without_run_serves_on_a_default_host_and_port(app_dir: AppDir) -> None:
    app_dir.write("settings/config.yml", "main:\n  name: bare\n")
    app_dir.write("settings/env.json", "{}")
    app_dir.write("tapp/commands.py", '''
        from kaiju_tools import Command, get_settings

        class Show(Command):
            name = "show"
            async def run(self, app, args):
                s = get_settings(app)
                print(s.run.host, s.run.port, s.main.name, s.main.env, s.services, s.packages, s.etc)
    ''')
    result = run(app_dir, "show")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["127.0.0.1", "8080", "bare", "dev", "[]", "[]", "{}"]


def test_an_empty_config_file_is_an_empty_mapping(app_dir: AppDir) -> None:
    app_dir.write("settings/config.yml", "")
    app_dir.write("settings/env.json", "{}")
    assert config_json(app_dir) == {}


def test_an_empty_services_section_in_a_later_file_drops_nothing(layered: AppDir) -> None:
    layered.write("settings/empty.yml", "services:\n#  - cls: Recorder\n#    name: commented_out\n")
    data = config_json(layered, "-c", "settings/empty.yml")
    assert [s["name"] for s in data["services"]] == ["first", "second"]


# ---- property: the merge and the origin of every value, with real YAML files ----------

_NESTED_KEYS = st.sampled_from(["a", "b", "c"])
_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.text("xyz ", max_size=4)
_TREES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=2)
                      | st.dictionaries(_NESTED_KEYS, inner, max_size=3), max_leaves=6)
_DOCS = st.lists(st.fixed_dictionaries({}, optional={
    "a": _TREES, "b": _TREES,
    "services": st.lists(st.dictionaries(_NESTED_KEYS, _TREES, max_size=2), max_size=2),
    "packages": st.lists(st.text("pq", min_size=1, max_size=2), max_size=2),
}), min_size=1, max_size=3)


class _From:
    """A reference leaf: the value and the index of the file it came from."""

    def __init__(self, value: object, index: int) -> None:
        self.value, self.index = value, index


def _tag(value: object, index: int) -> object:
    if isinstance(value, dict):
        return {k: _tag(v, index) for k, v in value.items()}
    return _From(value, index)


def _reference_merge(docs: list[dict]) -> dict:
    out: dict = {}

    def merge(base: dict, new: dict, top: bool) -> None:
        for key, value in new.items():
            if isinstance(base.get(key), dict) and isinstance(value, dict):
                merge(base[key], value, False)
            elif top and key in ("services", "packages") and isinstance(base.get(key), list):
                base[key].extend(value)
            else:
                base[key] = value

    for index, doc in enumerate(docs):
        tagged = {k: ([_tag(item, index) for item in v] if k in ("services", "packages") else _tag(v, index))
                  for k, v in doc.items()}
        merge(out, tagged, True)
    return out


def _expected_leaves(ref: object, path: tuple = ()) -> dict:
    """``{path: (value, file index)}`` for every scalar below ``ref`` (list items included)."""
    out: dict = {}
    if isinstance(ref, dict):
        for key, value in ref.items():
            out.update(_expected_leaves(value, (*path, key)))
    elif isinstance(ref, list):
        for i, item in enumerate(ref):
            out.update(_expected_leaves(item, (*path, i)))
    else:
        assert isinstance(ref, _From)
        out.update(_plain_leaves(ref.value, path, ref.index))
    return out


def _plain_leaves(value: object, path: tuple, index: int) -> dict:
    if isinstance(value, dict):
        return {p: v for key, item in value.items()
                for p, v in _plain_leaves(item, (*path, key), index).items()}
    if isinstance(value, list):
        return {p: v for i, item in enumerate(value)
                for p, v in _plain_leaves(item, (*path, i), index).items()}
    return {path: (value, index)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_DOCS)
def test_property_merge_and_origins_follow_the_files(tmp_path: Path, docs: list[dict]) -> None:
    import yaml
    from kaiju_plugins.config_yaml import plugin
    from kaiju_tools import ConfigLoader
    from kaiju_tools.plugins import make_plugin_manager

    pm = make_plugin_manager()
    pm.register(plugin, name="config_yaml")
    paths = []
    for index, doc in enumerate(docs):
        path = tmp_path / f"f{index}.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        paths.append(path)
    loaded = ConfigLoader(pm.hook, base_config_paths=paths, environ={}).load()
    expected = _expected_leaves(_reference_merge(docs))
    actual = dict(_walk_leaves(loaded.data))
    assert actual == {p: v for p, (v, _) in expected.items()}
    for path, (_, index) in expected.items():
        assert loaded.origin(path).startswith(f"{paths[index]}:"), (path, loaded.origin(path))


def _walk_leaves(value: object, path: tuple = ()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_leaves(item, (*path, i))
    else:
        yield path, value
