"""The command line of an app: --help, commands, `config` origins, `plugins`, plugin hooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from kernel_support import AppDir, child_env
from suite_support import CHILD_ENV, EVENTS_SERVICES, events, fake_dist, run, serving, stop

COMMANDS = '''
from kaiju_tools import Command, CommandError, get_services


class Hello(Command):
    """Print a greeting (needs no app)."""

    name = "hello"
    needs_app = False

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--who", default="world")
        parser.add_argument("times", type=int, nargs="?", default=1)

    async def run(self, app, args):
        for _ in range(args.times):
            print(f"hello {args.who} from {self.runtime.settings.main.name}")


class Services(Command):
    """List the started services."""

    async def run(self, app, args):
        print(",".join(f"{s.service_name}:{s.state.value}" for s in get_services(app)))


class Exit3(Command):
    name = "exit3"
    needs_app = False

    async def run(self, app, args):
        return 3


class Refuse(Command):
    help = "Fail on purpose."
    name = "refuse"
    needs_app = False

    async def run(self, app, args):
        raise CommandError("refuse: the --force flag is required to drop the table")
'''


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", EVENTS_SERVICES)
    app_dir.write("tapp/commands.py", COMMANDS)
    app_dir.write("settings/config.yml", """
        main:
          name: "[main_name]"
          env: "[main_env:'dev']"
        run:
          port: "[run_port]"
        etc:
          flag: "[flag]"
          url: "http://h:[run_port]/x"
        services:
          - cls: Recorder
            name: cache
    """)
    app_dir.write("settings/env.json", '{\n  "main_name": "cli",\n  "run_port": 8080,\n  "flag": false\n}\n')
    return app_dir


def test_help_shows_the_options_and_the_commands(app: AppDir) -> None:
    result = run(app, "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("usage: python -m tapp")
    for option in ("-c FILE", "-f FILE", "-e KEY=VALUE", "--config", "--env-file", "--env"):
        assert option in out
    commands = {m.group(1): m.group(2) for m in re.finditer(r"^  (\w+) +(.*)$", out, re.M)}
    assert commands["hello"] == "Print a greeting (needs no app)."
    assert commands["refuse"] == "Fail on purpose."
    assert {"run", "config", "plugins", "services", "exit3"} <= set(commands)


def test_help_needs_no_settings_files(app: AppDir) -> None:
    (app.root / "settings/config.yml").unlink()
    result = run(app, "--help")
    assert result.returncode == 0, result.stderr
    assert "-e KEY=VALUE" in result.stdout


def test_a_commands_own_help(app: AppDir) -> None:
    result = run(app, "hello", "--help")
    assert result.returncode == 0, result.stderr
    assert "--who" in result.stdout
    assert "Print a greeting" in result.stdout


def test_a_custom_command_with_arguments(app: AppDir) -> None:
    result = run(app, "hello", "--who", "kaiju", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello kaiju from cli", "hello kaiju from cli"]


def test_options_go_before_the_command(app: AppDir) -> None:
    result = run(app, "-e", "main_name='other'", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello world from other"


def test_the_kaiju_command_shows_a_config_without_an_app(app: AppDir) -> None:
    app.write("settings/plain.yml", 'main:\n  name: "[main_name]"\n')  # no app: no app services
    result = subprocess.run([sys.executable, "-m", "kaiju_tools", "-c", "settings/plain.yml", "-f",
                             "settings/env.json", "config", "--json"], cwd=app.root, capture_output=True,
                            text=True, env=child_env(CHILD_ENV), timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["main"]["name"] == "cli"


def test_options_after_the_command(app: AppDir) -> None:
    result = run(app, "hello", "-e", "main_name='late'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello world from late"


def test_a_command_that_needs_the_app_runs_between_init_and_close(app: AppDir) -> None:
    result = run(app, "services")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cache:running"
    assert events(app.root / "events.txt") == ["build cache", "init cache", "close cache"]


def test_a_command_that_needs_no_app_starts_nothing(app: AppDir) -> None:
    result = run(app, "hello")
    assert result.returncode == 0, result.stderr
    assert events(app.root / "events.txt") == []


def test_a_commands_return_value_is_the_exit_code(app: AppDir) -> None:
    assert run(app, "exit3").returncode == 3


def test_an_app_command_can_replace_a_built_in_one(app: AppDir) -> None:
    app.write("tapp/commands.py", COMMANDS + '''

class MyPlugins(Command):
    """The app's own plugins listing."""

    name = "plugins"
    needs_app = False

    async def run(self, app, args):
        print("the app's plugins command")
''')
    result = run(app, "plugins")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the app's plugins command"


def test_a_command_error_is_one_clear_line(app: AppDir) -> None:
    result = run(app, "refuse")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "python -m tapp: error: refuse: the --force flag is required to drop the table")


def test_a_bad_command_argument_is_a_usage_error(app: AppDir) -> None:
    result = run(app, "hello", "notanumber")
    assert result.returncode == 2
    assert "invalid int value: 'notanumber'" in result.stderr


def test_config_shows_every_value_and_where_it_came_from(app: AppDir) -> None:
    app.write("settings/local.yml", "etc:\n  extra: 1\n  url: overridden\n")
    app.write("settings/more.env.json", '{"main_env": "prod"}\n')
    result = run(app, "-c", "settings/local.yml", "-f", "settings/more.env.json", "-e", "run_port=9000",
                 "config", env={"flag": "true"})
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines() if " = " in line}
    assert lines["main.name"] == (
        'main.name = "cli"  # settings/config.yml:2; [main_name] from env file settings/env.json:2')
    assert lines["main.env"].startswith('main.env = "prod"  # settings/config.yml:3; [main_env] from '
                                        "env file settings/more.env.json:1")
    assert lines["run.port"] == "run.port = 9000  # settings/config.yml:5; [run_port] from -e run_port=9000"
    assert lines["etc.flag"] == ("etc.flag = true  # settings/config.yml:7; "
                                 "[flag] from environment variable flag")
    assert lines["etc.url"] == 'etc.url = "overridden"  # settings/local.yml:3'  # the later file wins
    assert lines["etc.extra"] == "etc.extra = 1  # settings/local.yml:2"
    assert lines["services[0].name"] == 'services[0].name = "cache"  # settings/config.yml:11'
    # the env values and their own origins
    assert lines["main_name"] == 'main_name = "cli"  # env file settings/env.json:2'
    assert lines["flag"] == "flag = true  # environment variable flag"
    assert lines["run_port"] == "run_port = 9000  # -e run_port=9000"
    assert lines["main_env"] == 'main_env = "prod"  # env file settings/more.env.json:1'
    # the files read, in order
    tail = result.stdout.split("# files read")[1].split()
    assert tail == ["config:", "settings/config.yml", "config:", "settings/local.yml",
                    "env:", "settings/env.json", "env:", "settings/more.env.json"]


def test_config_shows_a_template_default_as_the_origin(app: AppDir) -> None:
    result = run(app, "config")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("main.env =")]
    assert line == 'main.env = "dev"  # settings/config.yml:3; [main_env] from its default'


def test_config_json_is_the_merged_settings(app: AppDir) -> None:
    result = run(app, "config", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["main"] == {"name": "cli", "env": "dev"}
    assert data["run"] == {"port": 8080}
    assert data["etc"] == {"flag": False, "url": "http://h:8080/x"}


def test_plugins_lists_installed_plugins_with_their_status(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-thirdparty", "2.0.1",
                     {"goodplug": "goodplug_mod", "badplug": "badplug_mod"},
                     {"goodplug_mod": "from kaiju_tools.hookspecs import hookimpl\n\n"
                                      "@hookimpl\ndef kaiju_config_defaults():\n    return None\n",
                      "badplug_mod": "raise RuntimeError('no license key')\n"})
    result = run(app, "plugins", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    blocks = {b.split()[0]: b for b in re.split(r"\n(?=\S)", result.stdout.strip())}
    assert blocks["config_yaml"].startswith("config_yaml  [active]")
    assert "kaiju-plugin-config-yaml" in blocks["config_yaml"]
    assert "hooks: kaiju_load_config_source" in blocks["config_yaml"]
    for name in ("rpc", "scheduler", "logging"):
        assert f"{name}  [active]" in blocks[name]
    assert "goodplug  [inactive (not listed in `packages:`)]" in blocks["goodplug"]
    assert "kaiju-thirdparty 2.0.1 (third-party)" in blocks["goodplug"]
    assert "hooks: kaiju_config_defaults" in blocks["goodplug"]
    assert "badplug  [failed (import failed: RuntimeError: no license key)]" in blocks["badplug"]


def test_a_plugin_listed_in_packages_is_active(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-thirdparty", "2.0.1", {"goodplug": "goodplug_mod"},
                     {"goodplug_mod": '''
from kaiju_tools import Service
from kaiju_tools.hookspecs import hookimpl


class ThirdPartyThing(Service):
    pass


@hookimpl
def kaiju_register_services():
    return [ThirdPartyThing]
'''})
    app.write("settings/config.yml", "packages: [kaiju-thirdparty]\nservices:\n  - cls: ThirdPartyThing\n")
    result = run(app, "plugins", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert "goodplug  [active]" in result.stdout
    assert "registered: ThirdPartyThing" in result.stdout
    result = run(app, "services", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ThirdPartyThing:running"


def test_a_disabled_plugin_listed_in_packages_is_skipped(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-thirdparty", "2.0.1", {"badplug": "badplug_mod"},
                     {"badplug_mod": "raise RuntimeError('no license key')\n"})
    app.write("settings/config.yml", "packages: [badplug]\n")
    env = {"PYTHONPATH": str(site),
           "KAIJU_DISABLE_PLUGINS": "badplug"}
    result = run(app, "hello", env=env)
    assert result.returncode == 0, result.stderr


def test_a_packages_module_registers_its_service_classes(app: AppDir) -> None:
    app.write("extra_pkg/__init__.py",
              "from kaiju_tools import Service\n\nclass TopLevel(Service):\n    pass\n")
    app.write("extra_pkg/services.py",
              "from kaiju_tools import Service\n\nclass InServices(Service):\n    pass\n")
    app.write("settings/config.yml",
              "packages: [extra_pkg]\nservices:\n  - cls: TopLevel\n  - cls: InServices\n")
    result = run(app, "services")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "TopLevel:running,InServices:running"


def test_trace_hooks_prints_every_hook_call(app: AppDir) -> None:
    result = run(app, "hello", env={"KAIJU_TRACE_HOOKS": "1"})
    assert result.returncode == 0, result.stderr
    traced = [line for line in result.stderr.splitlines() if line.startswith("kaiju-trace:")]
    assert any("hook=kaiju_load_config_source plugins=config_yaml duration_us=" in t for t in traced)
    assert run(app, "hello").stderr.count("kaiju-trace:") == 0


PLUGIN = '''
from kaiju_tools.hookspecs import hookimpl


def note(text):
    with open("events.txt", "a", encoding="utf-8") as f:
        f.write(text + "\\n")


@hookimpl
async def kaiju_app_created(app):
    note("hook app_created")


@hookimpl
def kaiju_service_started(app, service):
    note(f"hook service_started {service.service_name}")


@hookimpl
async def kaiju_app_started(app):
    note("hook app_started")


@hookimpl
async def kaiju_app_stopping(app):
    note("hook app_stopping")


@hookimpl
async def kaiju_service_stopped(app, service):
    note(f"hook service_stopped {service.service_name}")


@hookimpl
def kaiju_app_stopped(app):
    note("hook app_stopped")
'''


def test_lifecycle_hooks_fire_at_each_step(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-lifehooks", "0.3.0", {"lifehooks": "lifehooks_mod"},
                     {"lifehooks_mod": PLUGIN})
    app.write("settings/config.yml", "packages: [lifehooks]\nrun:\n  port: '[run_port]'\nservices:\n"
              "  - cls: Recorder\n    name: web\n    depends_on: [db]\n  - cls: Recorder\n    name: db\n")
    with serving(app, env={"PYTHONPATH": str(site)}) as (proc, _):
        code, _, err = stop(proc)
    assert code == 0, err
    assert events(app.root / "events.txt") == [
        "build db", "build web",
        "hook app_created",
        "init db", "hook service_started db",
        "init web", "hook service_started web",
        "hook app_started",
        "hook app_stopping",
        "close web", "hook service_stopped web",
        "close db", "hook service_stopped db",
        "hook app_stopped",
    ]


def test_a_plugin_not_listed_in_packages_is_never_imported(app: AppDir) -> None:
    site = fake_dist(app.root / "site", "kaiju-lifehooks", "0.3.0", {"lifehooks": "lifehooks_mod"},
                     {"lifehooks_mod": "open('imported.txt', 'w').close()\n" + PLUGIN})
    result = run(app, "services", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert not (app.root / "imported.txt").exists()
    assert not any(line.startswith("hook") for line in events(app.root / "events.txt"))
