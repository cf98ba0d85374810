"""Bad input: one clear message naming the culprit and the fix, a non-zero exit code.

Every case of the issue's "Bad input" list, with real files and ``python -m app`` in a
subprocess. Settings problems are collected and reported together.
"""

from __future__ import annotations

import pytest
from kernel_support import AppDir
from suite_support import EVENTS_SERVICES, events, fake_dist, run

SERVICES = EVENTS_SERVICES + '''

class MyService(Service):
    """A plain service with one setting."""

    def __init__(self, app=None, logger=None, value=1):
        super().__init__(app=app, logger=logger)
        self.value = value
'''


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", SERVICES)
    app_dir.write("settings/env.json", '{"main_name": "bad"}')
    return app_dir


def fails(app: AppDir, config: str | None, *args: str, code: int = 2,
          env: dict[str, str] | None = None) -> str:
    """Run with ``config`` as settings/config.yml; assert the exit code; return stderr."""
    if config is not None:
        app.write("settings/config.yml", config)
    result = run(app, *args, env=env)
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_malformed_yaml_names_file_and_line(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\nservices:\n  - cls: MyService\n   name: oops\n", "config")
    assert "settings/config.yml:5" in err
    assert "malformed YAML" in err
    assert "hint:" in err


def test_malformed_yaml_names_the_line_where_the_construct_started(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\n  bad: [1\nservices: []\n", "config")
    assert "settings/config.yml:3" in err


def test_duplicate_yaml_keys_are_an_error(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\n  name: y\n", "config")
    assert "settings/config.yml:3" in err
    assert "duplicate key 'name'" in err
    assert "line 2" in err


def test_a_non_mapping_yaml_file_is_an_error(app: AppDir) -> None:
    err = fails(app, "- a\n- b\n", "config")
    assert "settings/config.yml" in err
    assert "expected a mapping" in err
    assert "got list" in err


def test_a_non_mapping_env_json_is_an_error(app: AppDir) -> None:
    app.write("settings/env.json", "[1, 2]")
    err = fails(app, "main:\n  name: x\n", "config")
    assert "settings/env.json" in err
    assert "expected a JSON object" in err
    assert "got list" in err
    assert '{"key": value' in err  # how to fix it


def test_malformed_env_json_names_file_and_line(app: AppDir) -> None:
    app.write("settings/env.json", '{\n  "a": 1,\n  "b": \n}\n')
    err = fails(app, "main:\n  name: x\n", "config")
    assert "settings/env.json:4" in err
    assert "malformed JSON" in err


def test_an_unknown_service_class_lists_close_matches(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: MyServise\n", "config")
    assert "unknown service class 'MyServise'" in err
    assert "services[0].cls" in err
    assert "settings/config.yml:2" in err
    assert "did you mean: MyService?" in err


def test_an_unknown_service_class_without_close_match_says_how_to_register(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: Zzzz\n", "config")
    assert "unknown service class 'Zzzz'" in err
    assert "SERVICE_CLASS_REGISTRY.register()" in err


def test_unknown_service_settings_name_the_config_key(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: MyService\n    name: svc\n    settings:\n      valeu: 1\n",
                "config")
    assert "services[0].settings.valeu" in err
    assert "settings/config.yml:5" in err
    assert "unknown setting 'valeu' for service class MyService" in err
    assert "did you mean: value?" in err


def test_unknown_service_settings_name_the_service(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: MyService\n    name: svc\n    settings:\n      valeu: 1\n",
                "config")
    assert "'svc'" in err


def test_a_template_key_no_env_file_defines(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\n  env: '[zzz_flag]'\n", "config")
    assert "template key 'zzz_flag'" in err
    assert "main.env" in err
    assert "settings/config.yml:3" in err  # the file with the template
    assert "settings/env.json" in err  # the env files looked at
    assert "[zzz_flag:value]" in err  # how to fix it


def test_a_template_key_with_a_close_match_suggests_it(app: AppDir) -> None:
    err = fails(app, "main:\n  name: '[main_nme]'\n", "config")
    assert "did you mean: main_name?" in err


@pytest.mark.parametrize("arg", ["novalue", "=1"])
def test_a_bad_e_argument(app: AppDir, arg: str) -> None:
    err = fails(app, "main:\n  name: x\n", "-e", arg, "config")
    assert f"bad -e argument {arg!r}" in err
    assert "KEY=VALUE" in err


def test_an_unknown_packages_name_lists_installed_plugins(app: AppDir) -> None:
    err = fails(app, "packages:\n  - kaiju_dbb\n", "config")
    assert "packages[0]" in err
    assert "unknown package 'kaiju_dbb'" in err
    assert "config_yaml (kaiju-plugin-config-yaml)" in err  # what is installed


def test_a_plugin_whose_import_raises(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-badplug", "1.2.3", {"badplug": "badplug_mod"},
                     {"badplug_mod": "raise RuntimeError('badplug needs REDIS_URL')\n"})
    err = fails(app, "packages:\n  - badplug\n", "config", env={"PYTHONPATH": str(site)})
    assert "plugin 'badplug'" in err
    assert "kaiju-badplug 1.2.3" in err
    assert "RuntimeError: badplug needs REDIS_URL" in err
    assert "KAIJU_DISABLE_PLUGINS=badplug" in err  # a way out


def test_a_packages_module_whose_import_raises(app: AppDir) -> None:
    app.write("brokenpkg.py", "raise ImportError('brokenpkg wants numpy')\n")
    err = fails(app, "packages:\n  - brokenpkg\n", "config")
    assert "brokenpkg" in err
    assert "brokenpkg wants numpy" in err


def test_two_services_with_the_same_name(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: MyService\n    name: a\n  - cls: Recorder\n    name: a\n",
                "config")
    assert "two services are named 'a'" in err
    assert "services[0] (settings/config.yml:2)" in err
    assert "services[1] (settings/config.yml:4)" in err
    assert "name:" in err


def test_two_services_of_one_class_without_names(app: AppDir) -> None:
    err = fails(app, "services:\n  - cls: MyService\n  - cls: MyService\n", "config")
    assert "two services are named 'MyService'" in err


def test_a_required_service_whose_init_raises(app: AppDir) -> None:
    app.write("settings/config.yml", """
        services:
          - cls: Recorder
            name: cache
          - cls: Recorder
            name: db
            settings: {fail: true}
    """)
    result = run(app, "-e", "main_name='x'", "run")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "service 'db' failed to start" in last
    assert "RuntimeError: db cannot connect to db:5432" in last
    assert events(app.root / "events.txt") == [
        "build cache", "build db", "init cache", "init db", "close cache"]


def test_a_required_dependency_that_is_not_configured(app: AppDir) -> None:
    app.write("tapp/services.py", SERVICES + '''

class NeedsCache(Service):
    def __init__(self, cache: Recorder, app=None, logger=None):
        super().__init__(app=app, logger=logger)
''')
    app.write("tapp/commands.py", "from kaiju_tools import Command\n\nclass Go(Command):\n"
              "    name = 'go'\n    async def run(self, app, args):\n        pass\n")
    err = fails(app, "services:\n  - cls: NeedsCache\n", "go")
    assert "TypeError" not in err
    assert "NeedsCache" in err and "'cache'" in err and "Recorder" in err


def test_a_required_discovery_in_init_that_finds_nothing(app: AppDir) -> None:
    app.write("tapp/commands.py", "from kaiju_tools import Command\n\nclass Go(Command):\n"
              "    name = 'go'\n    async def run(self, app, args):\n        pass\n")
    err = fails(app, "services:\n  - cls: Recorder\n    name: a\n    settings: {discover: cache}\n",
                "go", code=1)
    assert "a: no service named 'cache'" in err
    assert "Configured services: a (Recorder)" in err
    assert "Add it to `services:`" in err


def test_no_plugin_reads_the_settings_files(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\n", "config",
                env={"KAIJU_DISABLE_PLUGINS": "rpc,scheduler,logging,config_yaml"})
    assert "no installed plugin reads config files named like 'config.yml'" in err
    assert "no installed plugin reads env files named like 'env.json'" in err
    assert "kaiju-plugin-config-yaml" in err


def test_unknown_command(app: AppDir) -> None:
    err = fails(app, "main:\n  name: x\n", "rnu")
    assert "unknown command 'rnu'" in err
    assert "did you mean: run?" in err


def test_a_wrong_type_names_the_key_and_what_was_expected(app: AppDir) -> None:
    err = fails(app, "run:\n  port: '80'\nmain:\n  start_timeout: -1\n", "config")
    assert "run.port (settings/config.yml:2): expected a port number (int), got str: '80'" in err
    assert "main.start_timeout" in err


def test_a_bad_value_names_the_env_source_it_came_from(app: AppDir) -> None:
    app.write("settings/env.json", '{"run_port": 8080, "main_name": "x"}')
    err = fails(app, "run:\n  port: '[run_port]'\n", "config", env={"run_port": "abc"})
    assert "run.port" in err and "settings/config.yml:2" in err
    assert "environment variable run_port" in err
    err = fails(app, None, "-e", "run_port=99999", "config")
    assert "-e run_port=99999" in err


def test_problems_are_collected_and_reported_together(app: AppDir) -> None:
    err = fails(app, """
        servics: []
        packages: kaiju_db
        app:
          debg: true
        main:
          nme: x
          loglevel: LOUD
        run:
          prot: 1
        services:
          - cls: MyService
            settings: {valeu: 1, other: 2}
          - cls: Nope
          - cls: MyService
    """, "config")
    assert "invalid configuration (10 problems)" in err
    for culprit in ("unknown key 'servics'", "did you mean: services?", "unknown key 'nme'",
                    "unknown key 'debg'", "did you mean: debug?", "packages (settings/config.yml:2)",
                    "'LOUD'", "unknown key 'prot'", "unknown setting 'valeu'", "unknown setting 'other'",
                    "unknown service class 'Nope'", "two services are named 'MyService'"):
        assert culprit in err


def test_every_missing_template_key_is_reported_in_one_run(app: AppDir) -> None:
    err = fails(app, "main:\n  env: '[nope_one]'\netc:\n  url: 'http://[nope_two]:[nope_three]'\n",
                "-e", "nope_four=1", "config")
    assert "(4 problems)" in err
    for key in ("nope_one", "nope_two", "nope_three", "nope_four"):
        assert f"'{key}'" in err


def test_missing_template_keys_and_unknown_keys_come_in_one_run(app: AppDir) -> None:
    err = fails(app, "main:\n  nme: x\n  env: '[nope]'\n", "-e", "also_nope=1", "config")
    assert "(3 problems)" in err
    assert "unknown key 'nme'" in err
    assert "'nope'" in err
    assert "also_nope" in err


def test_errors_are_on_stderr_and_stdout_is_empty(app: AppDir) -> None:
    app.write("settings/config.yml", "services:\n  - cls: Nope\n")
    result = run(app, "config")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("python -m tapp: error: invalid configuration")


def test_a_broken_app_package_is_reported_by_python(app: AppDir) -> None:
    app.write("tapp/services.py", "import not_a_module_anywhere\n")
    app.write("settings/config.yml", "main:\n  name: x\n")
    result = run(app, "config")
    assert result.returncode != 0
    assert "not_a_module_anywhere" in result.stderr


def test_the_port_in_use_is_a_clear_error(app: AppDir) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        app.write("settings/config.yml", f"run:\n  port: {port}\n")
        result = run(app, "run")
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
