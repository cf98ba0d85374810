"""The app's CLI commands: `python -m app hello --who you`."""

import argparse

from aiohttp import web
from kaiju_tools import Command, get_services


class Hello(Command):
    """Print a greeting made by the greeter service."""

    name = "hello"
    services = ("greeter",)  # start only the greeter (and what it needs); the default, None, starts all

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--who", default="world", help="whom to greet")

    async def run(self, app: web.Application | None, args: argparse.Namespace) -> int:
        greeter = get_services(app).discover("greeter")
        print(greeter.greet(args.who))
        return 0
