"""``JSONRPCServer``: JSON-RPC 2.0 requests in, responses out (no HTTP here; see ``_view``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from kaiju_tools import ConfigError, ConfigProblem, ContextableService, context, get_services

from ._codec import get_codec
from ._errorlog import ErrorLog
from ._interface import PermissionKeys, PublicInterface
from ._limiter import CallLimiter
from ._outcomelog import make_emitter, parse_level
from ._requests import RequestEngine
from ._routes import Route, build_routes, routes_key

if TYPE_CHECKING:
    from ._openrpc import Documents

__all__ = ["SERVER_KEY", "UNKNOWN_METHOD", "JSONRPCServer"]

UNKNOWN_METHOD = "unknown"
"""The one name every unregistered method is counted / logged under by :meth:`JSONRPCServer.ascribe`."""

_GUEST = int(PermissionKeys.GUEST)
_CID_REPORT_EVERY = 10.0  # seconds: one unsafe Correlation-Id WARNING per window at most

class JSONRPCServer(RequestEngine, ContextableService, PublicInterface):
    """Serves the routes of every :class:`PublicInterface` service of the app over JSON-RPC 2.0.

    Mount :class:`kaiju_tools.http.JSONRPCView` on a route to expose it over HTTP.

    :param default_request_time: seconds a request may take when it sends no ``Timeout`` /
        ``Deadline`` header
    :param max_request_time: upper bound (seconds) of what a request may ask for
    :param enable_permissions: check each route's scope against the caller's
        (``kaiju_tools.context.scope``, set by a request hook; guests when unset)
    :param request_logs: log every call accepted (INFO, ``rpc accepted``)
    :param response_logs: log every response (INFO, ``rpc response``)
    :param outcome_log: log one line per finished request (``rpc done``: method, outcome,
        duration, correlation id, scope, batch size) at this level: ``DEBUG`` (default),
        ``INFO``, ``WARNING`` or ``off``; records also go to every ``kaiju_outcome_sink``
    :param slow_call_time: seconds; a request slower than this is logged at WARNING
        (``rpc slow``) while the outcome log is on
    :param max_parallel: calls in flight at most; more calls wait in the queue
    :param max_queue: calls waiting at most; more are answered ``Server busy`` at once
    :param max_body_size: largest request body, bytes (also bounded by the aiohttp app's
        ``client_max_size``, 1 MiB by default: set ``app: {client_max_size: N}`` to go above)
    :param max_batch_size: most calls in one batch
    :param codec: JSON codec: ``ujson`` (default), ``orjson`` (if installed) or ``json``
    :param require_json_content_type: serve only bodies sent as ``Content-Type: application/json``
        (others: HTTP 415), so a web page cannot post calls cross-origin without a CORS
        preflight; ``False`` for legacy clients that send another type
    :param notification_status: the HTTP status of an answer without content (notifications):
        200 (an empty body; what every common client accepts) or 204
    :param cancel_on_disconnect: cancel the calls of a caller that disconnects (queued ones
        are dropped, running ones cancelled, except started :func:`must_finish` methods)
    :param docs_path: serve the HTML docs page of the methods here (``/public/rpc/docs``);
        ``None`` or ``""`` (the default): no page
    """

    service_name = "rpc"
    rpc_namespace = None

    def __init__(
        self, app: web.Application | None = None, logger: Any = None, *,
        default_request_time: float = 90, max_request_time: float = 600, enable_permissions: bool = True,
        request_logs: bool = False, response_logs: bool = False, max_parallel: int = 256,
        max_queue: int = 1024, max_body_size: int = 1024 * 1024, max_batch_size: int = 100,
        codec: str = "ujson", require_json_content_type: bool = True, notification_status: int = 200,
        cancel_on_disconnect: bool = True, docs_path: str | None = None,
        outcome_log: str | None = "DEBUG", slow_call_time: float = 1.0,
    ) -> None:
        super().__init__(app=app, logger=logger)
        problems = []
        for key, value in (("default_request_time", default_request_time),
                           ("max_request_time", max_request_time)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                problems.append(ConfigProblem(f"{self.service_name}.settings.{key}",
                                              f"expected a positive number of seconds, got {value!r}"))
        for key, value in (("max_parallel", max_parallel), ("max_body_size", max_body_size),
                           ("max_batch_size", max_batch_size), ("max_queue", max_queue)):
            least = 0 if key == "max_queue" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                problems.append(ConfigProblem(f"{self.service_name}.settings.{key}",
                                              f"expected a positive integer, got {value!r}"))
        for key, value in (("require_json_content_type", require_json_content_type),
                           ("cancel_on_disconnect", cancel_on_disconnect)):
            if not isinstance(value, bool):
                problems.append(ConfigProblem(f"{self.service_name}.settings.{key}",
                                              f"expected true or false, got {value!r}"))
        if notification_status not in (200, 204) or isinstance(notification_status, bool):
            problems.append(ConfigProblem(f"{self.service_name}.settings.notification_status",
                                          f"expected 200 or 204, got {notification_status!r}"))
        try:
            self.loads, self.dumps = get_codec(codec)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{self.service_name}.settings.codec", str(exc)))
        if docs_path and (not isinstance(docs_path, str) or not docs_path.startswith("/")):
            problems.append(ConfigProblem(f"{self.service_name}.settings.docs_path",
                                          "expected a URL path starting with '/' (or null: no page), "
                                          f"got {docs_path!r}"))
        try:
            self.outcome_level = parse_level(outcome_log)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{self.service_name}.settings.outcome_log", str(exc)))
        slow = slow_call_time
        if isinstance(slow, bool) or not isinstance(slow, (int, float)) or slow < 0:
            problems.append(ConfigProblem(f"{self.service_name}.settings.slow_call_time",
                                          f"expected a number of seconds, got {slow_call_time!r}"))
        if problems:
            raise ConfigError(problems)
        self.slow_call_time = float(slow_call_time)
        self.outcomes: Any = None  # the per-request outcome function (``_outcomelog``), set by init
        self.docs_path = docs_path or None
        self.default_request_time = float(default_request_time)
        self.max_request_time = float(max_request_time)
        if self.default_request_time > self.max_request_time:
            self.default_request_time = self.max_request_time
        self.enable_permissions = bool(enable_permissions)
        self.request_logs = bool(request_logs)
        self.response_logs = bool(response_logs)
        self.max_body_size = max_body_size
        self.max_batch_size = max_batch_size
        self.codec = codec
        self.require_json_content_type = require_json_content_type
        self.notification_status = notification_status
        self.cancel_on_disconnect = cancel_on_disconnect
        self.error_log = ErrorLog(self.logger)
        # [time of the last unsafe-id WARNING, replaced since]
        self._cid_reports: list[float] = [float("-inf"), 0]
        self._not_found_cache: dict[tuple[str, int], dict[str, Any]] = {}
        self._init_flights()
        self.limiter = CallLimiter(max_parallel, max_queue)
        self.routes_table: dict[str, Route] = {}
        self._chain: Any = None
        self._documents: tuple[dict[str, Route], Documents] | None = None
        self._routes_key: list[tuple[Any, ...]] | None = None
        if app is not None and not app.frozen and SERVER_KEY not in app:
            app[SERVER_KEY] = self

    # ---- PublicInterface ------------------------------------------------------------

    @property
    def routes(self) -> dict[str, Any]:
        """The server's own methods: ``<name>.api`` and ``<name>.discover`` (OpenRPC)."""
        return {"api": self.api, "discover": self.discover}

    @property
    def permissions(self) -> dict[str, int]:
        """Everyone may list what they may call."""
        return {"api": PermissionKeys.GUEST, "discover": PermissionKeys.GUEST}

    async def api(self) -> list[dict[str, Any]]:
        """List the methods the caller may call, with their parameters and types."""
        scope = context.scope.get()
        scope = _GUEST if scope is None else scope
        return [route.describe() for method, route in sorted(self.routes_table.items())
                if not self.enable_permissions or scope <= route.scope]

    def warn_unsafe_cid(self, original: str, replaced_by: str) -> None:
        """A transport replaced an unsafe ``Correlation-Id`` by ``replaced_by``: log it, rate-limited.

        The original is reported (its ``ascii()`` repr, cut to 200 characters) in one WARNING per
        10 s at most; the next WARNING says how many were replaced without one (``suppressed``).
        """
        reports = self._cid_reports
        now = time.monotonic()
        if now - reports[0] < _CID_REPORT_EVERY:
            reports[1] += 1
            return
        extra = {"suppressed": reports[1]} if reports[1] else {}
        reports[:] = [now, 0]
        token = context.correlation_id.set(replaced_by)
        try:
            self.logger.warning("rpc: unsafe Correlation-Id replaced", original=ascii(original[:200]),
                                replaced_by=replaced_by,
                                hint="a Correlation-Id is 1-128 characters of "
                                     "A-Z a-z 0-9 . _ : / + = @ ; ~ -",
                                **extra)
        finally:
            context.correlation_id.reset(token)
    async def discover(self) -> dict[str, Any]:
        """The OpenRPC document of the methods the caller may call (built by the first ask, then kept)."""
        scope = context.scope.get() if self.enable_permissions else None
        return self.openrpc().for_scope(_GUEST if scope is None and self.enable_permissions else scope)

    def openrpc(self) -> Documents:
        """The :class:`~._openrpc.Documents` of the current method table (built once per table)."""
        if self._documents is None or self._documents[0] is not self.routes_table:
            from ._discover import documents_of

            self._documents = (self.routes_table, documents_of(self))
        return self._documents[1]

    def ascribe(self, method: str) -> str:
        """``method`` when it is a registered route, else :data:`UNKNOWN_METHOD` (a bounded label set)."""
        return method if method in self.routes_table else UNKNOWN_METHOD

    def load_stats(self) -> dict[str, int]:
        """The concurrency bound's figures: ``in_flight``, ``queued``, ``limit``, ``queue`` and
        ``rejected`` (calls answered ``Server busy`` since start)."""
        limiter = self.limiter
        return {"in_flight": limiter.active, "queued": limiter.waiting, "limit": limiter.limit,
                "queue": limiter.queue, "rejected": limiter.rejected}

    # ---- lifecycle ------------------------------------------------------------------

    async def init(self) -> None:
        """Prepare the method table and the call-hook chain (once; nothing per request)."""
        self.prepare()
        wrappers: list[Any] = []
        if self.app is not None:
            from kaiju_tools.hookspecs import compose
            from kaiju_tools.plugins import collect

            try:
                wrappers = collect(self.app, "kaiju_wrap_call")
            except KeyError:  # an app not built by init_app: no plugins
                wrappers = []
            self._chain = compose(wrappers, self._call_inner) if wrappers else None
            try:
                sinks = collect(self.app, "kaiju_outcome_sink")
            except KeyError:
                sinks = []
        else:
            sinks = []
        self.outcomes = make_emitter(self.logger, self.outcome_level, self.slow_call_time, sinks,
                                     self.ascribe)
        self.logger.debug("rpc server ready", methods=len(self.routes_table), call_hooks=len(wrappers))

    async def close(self) -> None:
        """Stop the shutdown timer; log the calls aiohttp cut at the end of the grace period, if any."""
        if self._cut_timer is not None:
            self._cut_timer.cancel()
        self._log_cut()

    def prepare(self, services: Any = None) -> None:
        """(Re)build the method table from ``services`` (default: the app's services).

        Called by :meth:`init`, and again when the app has started (optional services that
        failed to start are no longer discoverable, so their methods go).
        """
        if services is None:
            services = list(get_services(self.app)) if self.app is not None else [self]
        key = routes_key(services)
        if key is not None and _same(key, self._routes_key):
            return  # the same services, routes and permissions: the table and documents stay
        self.routes_table = build_routes(services)
        self._routes_key = key
        self._not_found_cache = {}
        self._api_method = next((name for name, route in self.routes_table.items() if route.func == self.api),
                                f"{self.service_name}.api")
        self._documents = None  # the OpenRPC documents: built by the first openrpc() (rpc.discover...)


def _same(key: list[tuple[Any, ...]], previous: list[tuple[Any, ...]] | None) -> bool:
    try:
        return bool(key == previous)
    except Exception:  # noqa: BLE001 -- a route object's own __eq__: rebuild
        return False


SERVER_KEY = web.AppKey("kaiju_plugins.rpc.server", JSONRPCServer)
"""App key of the app's (first) :class:`JSONRPCServer`, set when it is built."""
