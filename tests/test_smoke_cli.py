"""Smoke: a throw-away app starts, runs a command and prints its config."""

from kernel_support import AppDir


def test_app_runs_custom_command(app_dir: AppDir) -> None:
    app_dir.write("tapp/commands.py", '''
        from kaiju_tools import Command

        class Ping(Command):
            """Print pong."""
            name = "ping"
            async def run(self, app, args):
                print("pong")
    ''')
    app_dir.write("settings/config.yml", "main:\n  name: t\n")
    app_dir.write("settings/env.json", "{}")
    result = app_dir.run("ping")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pong"
