from kaiju_tools import Service


class Greeter(Service):
    """Says hello; exposes RPC routes when the rpc plugin is installed."""

    def __init__(self, app, greeting: str = 'Hello', logger=None):
        Service.__init__(self, app=app, logger=logger)
        self.greeting = greeting

    @property
    def routes(self) -> dict:
        return {'greet': self.greet, 'add': self.add}

    @property
    def permissions(self) -> dict:
        return {'*': 1000}  #: PermissionKeys.GUEST: anyone may call these routes

    def greet(self, name: str = 'world') -> str:
        self.logger.info('Greeting.', name=name)
        return f'{self.greeting}, {name}!'

    async def add(self, a: int, b: int) -> int:
        return a + b
