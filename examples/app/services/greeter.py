"""The greeter service: the RPC methods `greeter.greet` and `greeter.add`."""

from kaiju_tools import PublicInterface, Service


class Greeter(Service, PublicInterface):
    """Greets people; the greeting comes from the settings."""

    def __init__(self, app, greeting: str = "Hello", logger=None):
        Service.__init__(self, app=app, logger=logger)
        self.greeting = greeting

    @property
    def routes(self) -> dict:
        return {"greet": self.greet, "add": self.add}

    @property
    def permissions(self) -> dict:
        return {"*": self.PermissionKeys.GUEST}  # anyone may call these routes

    def greet(self, name: str = "world") -> str:
        self.logger.info("Greeting.", name=name)
        return f"{self.greeting}, {name}!"

    async def add(self, a: int, b: int) -> int:
        return a + b
