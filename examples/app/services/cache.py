"""The local cache: the guide's scheduler snippet, a cache reloaded by a periodic task."""

from kaiju_tools import ContextableService, Scheduler

from app.services.greeter import Greeter


class LocalCache(ContextableService):
    """Reloads a local cache every `interval` seconds (a task of the scheduler)."""

    def __init__(self, app, greeter: Greeter | None = None, interval: float = 60, logger=None):
        ContextableService.__init__(self, app=app, logger=logger)
        self._greeter = greeter
        self.interval = interval
        self.reloads = 0
        self._task = None

    async def init(self):
        self._greeter = self.discover_service(self._greeter, cls=Greeter)
        scheduler = self.discover_service(None, cls=Scheduler)
        self._task = scheduler.schedule_task(
            self._reload_local_cache, interval=self.interval, name=f"{self.service_name}._reload_local_cache",
            policy=scheduler.ExecPolicy.WAIT)

    async def close(self):
        self._task.enabled = False  # stop scheduling the task

    async def _reload_local_cache(self) -> None:
        self.reloads += 1
        self.logger.info("Local cache reloaded.", reloads=self.reloads)
