"""Custom CLI commands: `python -m app hello --who you`."""

from kaiju_tools import Command


class Hello(Command):
    """Print a greeting made by the Greeter service."""

    name = 'hello'

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument('--who', default='world')

    async def run(self, app, args):
        greeter = app and __import__('kaiju_tools').get_services(app).get('greeter')
        print(greeter.greet(args.who))
        return 0
