"""What every emulated marketplace shares: operations with quotas and faults, a control API.

An :class:`Emulator` keeps all its mutable state in ``self.state`` (so that a "write accepted
but not applied" fault can put it back) and declares its endpoints with :meth:`route` (or
:meth:`operation`), which, for every call: identifies the caller (the marketplace's own auth
rules), takes a token from the operation's quota bucket (429 in the marketplace's own shape
when empty), draws a fault, then runs the handler. Handlers raise :class:`ApiError` for the
answers a real marketplace gives to a bad request.

The control API under ``/_sandbox/`` is for tests, benchmarks and the demo, never for a
connector: the state, buyer orders and cancellations, reviews and accounts (what each
marketplace's :class:`Control` does), fault plans, quota factor, call counters, reset.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.convertors import Convertor, StringConvertor
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.faults import Fault, FaultPlan, Faults
from sandbox.quotas import Buckets, TakeResult
from syndicator.errors import FixInput

__all__ = [
    "ApiError",
    "Control",
    "DroppedResponse",
    "Emulator",
    "Exchange",
    "Handler",
    "json_body",
]

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One call as served, kept when ``Emulator.record`` is on, for conformance tests."""

    operation: str
    method: str
    path: str
    query: dict[str, list[str]]
    request_type: str
    request_body: bytes
    status: int
    response_type: str
    response_body: bytes

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


class ApiError(FixInput):
    """An answer the marketplace gives instead of a result: status, code, message.

    A :class:`~syndicator.errors.FixInput`: handlers raise it for a request the marketplace
    refuses as sent (a bad value, a missing field, an unknown id, a conflict), and the
    message says what to send instead. The emulator answers it in the marketplace's shape;
    a caller of the control methods (``buyer_order`` ...) gets it as is. A quota or a fault
    builds one too, only to be answered in the same shape, never raised.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


class DroppedResponse(Response):
    """Starts an answer and drops the connection in the middle of it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})
        raise ConnectionAbortedError("sandbox fault: connection dropped")


async def json_body(request: Request) -> Any:
    """The request's JSON body, or a 400 in the marketplace's shape."""
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise ApiError(400, "InvalidInput", "The request body is not valid JSON.") from None


class Control(ABC):
    """What a marketplace does for its control API (``/_sandbox/``): what it holds, buyers
    who order, cancel and review, accounts registered. Called under the emulator's lock by
    tests, benchmarks and the demo's buyers, never by a connector; raises :class:`ApiError`
    for what it refuses."""

    @abstractmethod
    def state_json(self) -> dict[str, Any]:
        """Listings, orders and reviews, for the control API."""

    @abstractmethod
    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer orders ``quantity`` of ``sku``: the marketplace lowers its own stock."""

    @abstractmethod
    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """The order is cancelled: its stock goes back."""

    @abstractmethod
    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer leaves a review."""

    @abstractmethod
    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register credentials the marketplace will accept (a seller, a shop, a key)."""


class Emulator(ABC):
    """One emulated marketplace: its state, its API, its quotas and faults."""

    name: ClassVar[str]
    # The attributes that hold what the marketplace knows (accounts, listings, orders):
    # what a snapshot keeps when a sandbox is stopped and started again (the demo's).
    persistent: ClassVar[tuple[str, ...]] = ("state",)

    def __init__(
        self,
        *,
        quota_factor: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        faults: FaultPlan | None = None,
    ) -> None:
        self.buckets = Buckets(self.name, factor=quota_factor, clock=clock)
        self.wall: Callable[[], float] = time.time  # unix seconds, for timestamps and tokens
        self.faults = Faults(faults)
        self.lock = threading.RLock()
        self.base_url = ""  # where it is served, set by the server
        self.record = False  # keep every exchange in self.exchanges (conformance tests)
        self.exchanges: list[Exchange] = []
        self.control = self.new_control()
        self.state: Any = None
        self.reset_state()

    # ---------------------------------------------------------------- what each defines
    @abstractmethod
    def reset_state(self) -> None:
        """Start from an empty marketplace (plus whatever accounts it always has)."""

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The marketplace's own API."""

    @abstractmethod
    def error(self, err: ApiError) -> Response:
        """An error in the marketplace's own shape."""

    @abstractmethod
    def account(self, request: Request, operation: str) -> str:
        """Who calls (for quotas); raise ApiError when the marketplace would refuse them."""

    @abstractmethod
    def new_control(self) -> Control:
        """What the marketplace does for its control API (made once, before the state)."""

    def state_json(self) -> dict[str, Any]:
        """Listings, orders and reviews, as ``GET /_sandbox/state`` shows them."""
        return self.control.state_json()

    def rate_headers(self, take: TakeResult) -> dict[str, str]:
        """Headers that tell the caller its remaining quota (Etsy's x-limit-* ...)."""
        return {}

    def throttled(self, take: TakeResult) -> Response:
        retry = max(1, round(take.retry_after + 0.4999))
        err = ApiError(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            headers={"Retry-After": str(retry)},
        )
        response = self.error(err)
        response.headers.update(self.rate_headers(take))
        return response

    # ---------------------------------------------------------------- operations
    def route(
        self, method: str, path: str, name: str, handler: Handler, *, write: bool = False
    ) -> Route:
        """The operation ``name`` of the marketplace's API, served at ``method path``."""
        return Route(path, self.operation(name, handler, write=write), methods=[method])

    def operation(self, name: str, handler: Handler, *, write: bool = False) -> Handler:
        """Wrap a handler with auth, quota, faults and the marketplace's error shape."""

        async def endpoint(request: Request) -> Response:
            response = await self._serve(name, handler, write, request)
            if self.record and not isinstance(response, DroppedResponse):
                self.exchanges.append(
                    Exchange(
                        name,
                        request.method,
                        request.url.path,
                        {k: request.query_params.getlist(k) for k in request.query_params},
                        request.headers.get("content-type", ""),
                        await request.body(),
                        response.status_code,
                        response.headers.get("content-type", ""),
                        bytes(response.body),
                    )
                )
            return response

        return endpoint

    async def _serve(self, name: str, handler: Handler, write: bool, request: Request) -> Response:
        try:
            account = self.account(request, name)
        except ApiError as err:
            return self.error(err)
        take = self.buckets.take(account, name)
        if not take.ok:
            return self.throttled(take)
        fault = self.faults.draw(name, write=write)
        plan = self.faults.plan
        if fault is Fault.THROTTLE:
            limits = (take.remaining_day, take.limit_second, take.limit_day)
            return self.throttled(TakeResult(False, plan.retry_after, 0, *limits))
        if fault is Fault.ERROR_500:
            message = "We encountered an internal error. Please try again."
            return self.error(ApiError(500, "InternalFailure", message))
        if fault is Fault.ERROR_503:
            message = "Service temporarily unavailable. Please try again."
            return self.error(
                ApiError(503, "ServiceUnavailable", message, headers={"Retry-After": "1"})
            )
        if fault is Fault.DROP:
            return DroppedResponse()
        if fault is Fault.SLOW:
            await asyncio.sleep(plan.slow_seconds)
        snapshot = copy.deepcopy(self.state) if fault is Fault.LOST_WRITE else None
        try:
            response = await handler(request)
        except ApiError as err:
            response = self.error(err)
        if snapshot is not None:
            with self.lock:
                self.state = snapshot
        response.headers.update(self.rate_headers(take))
        return response

    # ---------------------------------------------------------------- control API
    def control_routes(self) -> list[BaseRoute]:
        async def state(request: Request) -> Response:
            with self.lock:
                return JSONResponse(self.state_json())

        async def reset(request: Request) -> Response:
            with self.lock:
                self.reset_state()
            self.buckets.reset()
            self.faults.set(FaultPlan())
            return JSONResponse({"reset": True})

        async def faults(request: Request) -> Response:
            if request.method == "PUT":
                try:
                    self.faults.set(FaultPlan.from_json(await request.json()))
                except (ValueError, TypeError) as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(self.faults.plan.to_json())

        async def quota(request: Request) -> Response:
            if request.method == "PUT":
                data = await request.json()
                factor = data.get("factor") if isinstance(data, dict) else None
                if not isinstance(factor, (int, float)) or factor <= 0:
                    return JSONResponse(
                        {"error": "factor must be a number above 0"}, status_code=400
                    )
                self.buckets.factor = float(factor)
                self.buckets.reset()
            return JSONResponse({"factor": self.buckets.factor})

        async def calls(request: Request) -> Response:
            return JSONResponse(
                {"operations": self.buckets.counters(), "faults": dict(self.faults.injected)}
            )

        def control(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
            async def run(request: Request) -> Response:
                data = await request.json() if await request.body() else {}
                data = {**data, **request.path_params}
                try:
                    with self.lock:
                        return JSONResponse(fn(data), status_code=201)
                except ApiError as err:
                    return JSONResponse(
                        {"error": err.message, "code": err.code}, status_code=err.status
                    )

            return run

        return [
            Route("/_sandbox/state", state, methods=["GET"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/faults", faults, methods=["GET", "PUT"]),
            Route("/_sandbox/quota", quota, methods=["GET", "PUT"]),
            Route("/_sandbox/calls", calls, methods=["GET"]),
            Route("/_sandbox/orders", control(self.control.buyer_order), methods=["POST"]),
            Route(
                "/_sandbox/orders/{order_id}/cancel",
                control(lambda d: self.control.cancel_order(str(d["order_id"]))),
                methods=["POST"],
            ),
            Route("/_sandbox/reviews", control(self.control.add_review), methods=["POST"]),
            Route("/_sandbox/accounts", control(self.control.add_account), methods=["POST"]),
        ]

    def app(self) -> Starlette:
        async def api_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, ApiError)
            return self.error(exc)

        app = Starlette(
            routes=[*self.control_routes(), *self.routes()],
            exception_handlers={ApiError: api_error},
            middleware=[Middleware(_PathAsSent)],
        )
        for route in app.routes:
            if isinstance(route, Route):
                for name, convertor in route.param_convertors.items():
                    if isinstance(convertor, StringConvertor):
                        route.param_convertors[name] = _SEGMENT
        return app


class _Segment(Convertor[str]):
    """One path segment as sent, percent-decoded once matched: ``RUG%2F01`` is the one
    SKU ``RUG/01``."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


_SEGMENT = _Segment()


class _PathAsSent:
    """Route on the path as the client sent it, split on ``/`` before any decoding, as the
    real marketplaces do (Amazon documents that a SKU in a path is URL-encoded, so
    ``RUG/01`` arrives as ``RUG%2F01``). The server's decoded path would cut that SKU in two
    and answer 404 or 405; :class:`_Segment` decodes each parameter once matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and isinstance(raw, bytes):
            sent = raw.decode("latin-1")
            if sent.startswith(scope.get("root_path", "")):
                scope = {**scope, "path": sent}
        await self.app(scope, receive, send)
