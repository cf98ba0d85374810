"""``RedisService``: one connection pool per configured Redis server."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from kaiju_tools.services import ContextableService

import redis.asyncio as aioredis
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as _ConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as _TimeoutError

from ._errors import RedisUnavailableError
from ._settings import bad_setting, check_name, check_number, setting_key

__all__ = ["RedisService"]

_SCHEMES = ("redis", "rediss", "unix")


class RedisService(ContextableService):
    """A pool of connections to one Redis server (``redis.asyncio``).

    Configure it in the services block (after ``packages: [redis]``)::

        - cls: RedisService
          settings:
            url: redis://127.0.0.1:6379/0     # or host / port / db
            max_connections: 20

    The pool is opened and the server pinged in :meth:`init` (so a wrong address stops the
    app at start, or only this service with ``required: false``) and closed in :meth:`close`.
    Use :attr:`client` for commands; wrap them in :meth:`errors` to get a
    :class:`RedisUnavailableError` that names the address, the cause and what to check.

    :param url: ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS,
        ``unix:///path.sock``); when given, ``host`` / ``port`` / ``db`` are not used
    :param host: server host (without ``url``)
    :param port: server port
    :param db: database number
    :param username: ACL user name (or in the url)
    :param password: password (or in the url)
    :param socket_timeout: seconds a command may wait for its answer
    :param connect_timeout: seconds a connection attempt may take
    :param max_connections: pool size; a command waits up to ``pool_timeout`` for a free one
    :param pool_timeout: seconds to wait for a free connection when all are in use
    :param retries: times a command is retried after a connection error or timeout (with a
        short exponential back-off) before its error is raised
    :param health_check_interval: seconds after which an idle connection is pinged before use
    :param client_name: ``CLIENT SETNAME`` of each connection (default: app and service name)
    """

    service_name = "redis"

    def __init__(
        self,
        app: Any = None,
        logger: Any = None,
        url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        socket_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        max_connections: int = 20,
        pool_timeout: float = 5.0,
        retries: int = 1,
        health_check_interval: float = 30.0,
        client_name: str | None = None,
    ) -> None:
        ContextableService.__init__(self, app=app, logger=logger)
        check_name(self, "url", url, none_ok=True)
        check_name(self, "host", host)
        check_number(self, "port", port, minimum=1, integer=True)
        if port > 65535:
            raise bad_setting(self, "port", "a port number 1..65535", port)
        check_number(self, "db", db, minimum=0, integer=True)
        check_name(self, "username", username, none_ok=True)
        check_name(self, "password", password, none_ok=True)
        self.socket_timeout = float(check_number(self, "socket_timeout", socket_timeout, minimum=0,
                                                 above=True))
        self.connect_timeout = float(check_number(self, "connect_timeout", connect_timeout, minimum=0,
                                                  above=True))
        self.max_connections = check_number(self, "max_connections", max_connections, minimum=1, integer=True)
        self.pool_timeout = float(check_number(self, "pool_timeout", pool_timeout, minimum=0, above=True))
        self.retries = check_number(self, "retries", retries, minimum=0, integer=True)
        check_number(self, "health_check_interval", health_check_interval, minimum=0)
        check_name(self, "client_name", client_name, none_ok=True)
        kwargs: dict[str, Any] = {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.connect_timeout,
            "max_connections": self.max_connections,
            "timeout": self.pool_timeout,
            "health_check_interval": int(health_check_interval),
            "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), self.retries),
            "retry_on_error": [_ConnectionError, _TimeoutError, OSError],
        }
        if client_name:
            kwargs["client_name"] = client_name
        if username is not None:
            kwargs["username"] = username
        if password is not None:
            kwargs["password"] = password
        if url is not None:
            scheme = urlsplit(url).scheme
            if scheme not in _SCHEMES:
                raise bad_setting(self, "url", "a redis://, rediss:// or unix:// URL", url,
                                  "write it like redis://127.0.0.1:6379/0")
            try:
                parsed = parse_url(url)
            except (ValueError, TypeError) as exc:
                raise bad_setting(self, "url", "a valid Redis URL", url, f"the client says: {exc}") from None
            self._pool_args: tuple[str | None, dict[str, Any]] = (url, kwargs)
            self.address = _address(parsed, scheme)
        else:
            kwargs.update(host=host, port=port, db=db)
            self._pool_args = (None, kwargs)
            self.address = _address(kwargs)
        self._where = setting_key(self, "url" if url is not None else "host")
        self._client: aioredis.Redis | None = None

    # ---------------------------------------------------------------- lifecycle

    async def init(self) -> None:
        """Open the pool and ping the server; raise :class:`RedisUnavailableError` if it
        cannot be reached (the app's ``required: false`` lets it go on without Redis)."""
        url, kwargs = self._pool_args
        if url is not None:
            pool = aioredis.BlockingConnectionPool.from_url(url, **kwargs)
        else:
            pool = aioredis.BlockingConnectionPool(**kwargs)
        client = aioredis.Redis.from_pool(pool)
        try:
            with self.errors("connect (PING at start-up)"):
                await client.ping()
        except BaseException:
            await client.aclose()
            raise
        self._client = client
        self.logger.info("connected to Redis", address=self.address, max_connections=self.max_connections)

    async def close(self) -> None:
        """Close the pool (its connections are disconnected)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # ---------------------------------------------------------------- use

    @property
    def client(self) -> aioredis.Redis:
        """The ``redis.asyncio.Redis`` client over the pool (only between init and close)."""
        if self._client is None:
            raise RedisUnavailableError(
                f"Redis service {self.service_name!r} ({self.address}) is not connected: it has not "
                "started, it failed to start (see the start-up log), or it has stopped. Use it only "
                "from a service's init() onwards, and list the Redis service before its users")
        return self._client

    async def ping(self) -> bool:
        """``PING`` the server (the readiness check); raise :class:`RedisUnavailableError`."""
        with self.errors("PING"):
            return bool(await self.client.ping())

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        """Turn the client's errors into a :class:`RedisUnavailableError` naming the service,
        address, operation, cause and what to check::

            with redis.errors("GET user:1"):
                value = await redis.client.get("user:1")
        """
        try:
            yield
        except (RedisError, OSError) as exc:
            cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if isinstance(exc, (_ConnectionError, _TimeoutError, OSError)):
                check = (f"check that redis-server is running and reachable at {self.address} "
                         f"(`{self._where}`), and the timeouts (socket_timeout={self.socket_timeout:g} s, "
                         f"connect_timeout={self.connect_timeout:g} s)")
            else:
                check = f"check the server's answer and the credentials / db given at `{self._where}`"
            raise RedisUnavailableError(
                f"Redis service {self.service_name!r} at {self.address}: {operation} failed: {cause}; {check}"
            ) from exc


def _address(kwargs: Mapping[str, Any], scheme: str = "redis") -> str:
    """``redis://host:port/db`` (or the socket path), never the user name or password."""
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    return f"{scheme}://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
