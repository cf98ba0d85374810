"""The plugin through the kernel: entry point, hook, and the kernel's ``ConfigLoader``."""

from __future__ import annotations

import json
from pathlib import Path

import importlib_metadata
import pytest
from kaiju_plugins.config_yaml import plugin
from kaiju_tools import ConfigError, ConfigLoader
from kaiju_tools.config import ConfigLimits
from kaiju_tools.plugins import ENTRY_POINT_GROUP, make_plugin_manager


@pytest.fixture
def hook():
    pm = make_plugin_manager()
    pm.register(plugin, name="config_yaml")
    return pm.hook


def test_the_entry_point_names_the_plugin_module() -> None:
    [ep] = [ep for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == "config_yaml"]
    assert ep.value == "kaiju_plugins.config_yaml.plugin"
    assert ep.dist is not None and ep.dist.name == "kaiju-plugin-config-yaml"
    assert ep.load() is plugin


@pytest.mark.parametrize("name", ["a.yml", "a.yaml", "A.YML", "a.json"])
def test_the_hook_reads_yaml_and_json(hook, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text('{"k": 1}', encoding="utf-8")  # valid YAML and JSON alike
    source = hook.kaiju_load_config_source(path=path, kind="config", limits=ConfigLimits())
    assert source.data == {"k": 1}


def test_the_hook_leaves_other_files_to_other_plugins(hook, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("k = 1\n", encoding="utf-8")
    assert hook.kaiju_load_config_source(path=path, kind="config", limits=ConfigLimits()) is None


def test_the_kernel_loader_with_this_plugin(hook, tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text('main:\n  name: "[main_name]"\nrun:\n  port: "[run_port]"\n',
                                         encoding="utf-8")
    (tmp_path / "env.json").write_text(json.dumps({"main_name": "x", "run_port": 1}), encoding="utf-8")
    loaded = ConfigLoader(hook, base_config_paths=[tmp_path / "config.yml"],
                          base_env_paths=[tmp_path / "env.json"], env_values=["run_port=2"],
                          environ={"main_name": "'from os'"}).load()
    assert loaded.data == {"main": {"name": "from os"}, "run": {"port": 2}}
    assert loaded.origin(("main", "name")).startswith(f"{tmp_path / 'config.yml'}:2; [main_name] from "
                                                      "environment variable main_name")
    assert loaded.env_origins["run_port"] == "-e run_port=2"


def test_the_kernel_loader_reports_errors_of_every_file_at_once(hook, tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("a: [1\n", encoding="utf-8")
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    (tmp_path / "x.toml").write_text("", encoding="utf-8")
    loader = ConfigLoader(hook, base_config_paths=[tmp_path / "bad.yml", tmp_path / "x.toml",
                                                   tmp_path / "missing.yml"],
                          base_env_paths=[tmp_path / "bad.json"], environ={})
    with pytest.raises(ConfigError) as exc:
        loader.load()
    text = str(exc.value)
    assert "(4 problems)" in text
    assert "bad.yml:" in text and "malformed YAML" in text
    assert "no installed plugin reads config files named like 'x.toml'" in text
    assert "missing.yml: config file does not exist" in text
    assert "bad.json: expected a JSON object" in text
