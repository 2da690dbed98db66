"""What every Amazon API family shares: the caller, Amazon's error shapes, the checks of
queries and bodies against the models, ids and the clock.

:class:`AmazonApi` is the emulator minus its routes; each family (:class:`Part`) serves its
operations on it. A part never keeps the state: a lost write or a reset replaces
``api.state``, so a part reads it there each time.
"""

from __future__ import annotations

import contextvars
import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from sandbox import spec_amazon as spec
from sandbox.amazon.state import MARKETPLACES, State, digest
from sandbox.base import ApiError, Emulator, Handler, json_body

__all__ = ["DENIED", "AmazonApi", "Part", "moment"]

MAX_BODY = 1024 * 1024  # an SP-API call's JSON body
# Keys python-amazon-sp-api adds to a PUT body; Amazon accepts them, the sandbox strips them.
LIBRARY_BODY_KEYS = ("marketplaceIds", "MarketplaceIds", "MarketplaceId", "marketplace_ids")
DENIED = "Access to requested resource is denied."

_OPERATION: contextvars.ContextVar[str] = contextvars.ContextVar("amazon_operation", default="")


class AmazonApi(Emulator):
    """The SP-API's common ground (see the package's docstring)."""

    name = "amazon"
    state: State
    default_page_size = 100  # Amazon's default maxResultsPerPage; tests may lower it

    def now(self) -> datetime:
        """The wall clock (``self.wall``): token expiry, order and feedback times, URL expiry."""
        return datetime.fromtimestamp(self.wall(), UTC)

    def reset_state(self) -> None:
        self.state = State.demo()

    # ---------------------------------------------------------------- ids and time
    def stamp(self) -> datetime:
        """Now, to the second: what Amazon stores and shows."""
        return self.now().astimezone(UTC).replace(microsecond=0)

    def next_seq(self) -> int:
        self.state.seq += 1
        return self.state.seq

    def new_id(self, kind: str, length: int = 32) -> str:
        """Deterministic ids: the same calls give the same ids (reproducible runs)."""
        return digest(kind, str(self.next_seq()), length=length)

    # ---------------------------------------------------------------- callers and errors
    def operation(self, name: str, handler: Handler, *, write: bool = False) -> Handler:
        """As the base, and remembers which operation runs, so that errors of the LWA
        endpoint take LWA's shape, not SP-API's."""
        inner = super().operation(name, handler, write=write)

        async def endpoint(request: Request) -> Response:
            token = _OPERATION.set(name)
            try:
                return await inner(request)
            finally:
                _OPERATION.reset(token)

        return endpoint

    def error(self, err: ApiError) -> Response:
        headers = {"x-amzn-RequestId": self._request_id(), **err.headers}
        if _OPERATION.get() == "lwaToken":
            code = err.code
            if not code.islower():  # a fault or a quota: say it in OAuth 2 words
                code = "server_error" if err.status == 500 else "temporarily_unavailable"
            body: dict[str, Any] = {"error": code, "error_description": err.message}
        else:
            error = {"code": err.code, "message": err.message, "details": err.details or ""}
            body = {"errors": [error]}
        return JSONResponse(body, status_code=err.status, headers=headers)

    def _request_id(self) -> str:
        return secrets.token_hex(16)

    def answer(self, content: Any, status: int = 200) -> JSONResponse:
        """A JSON answer with Amazon's request id."""
        return JSONResponse(
            content, status_code=status, headers={"x-amzn-RequestId": self._request_id()}
        )

    def account(self, request: Request, operation: str) -> str:
        """The seller of the access token (LWA itself: the caller's address)."""
        if operation == "lwaToken":
            return request.client.host if request.client else "lwa"
        token = request.headers.get("x-amz-access-token", "")
        grant = self.state.tokens.get(token)
        if grant is None:
            detail = "The access token you provided is revoked, malformed or invalid."
            raise ApiError(403, "Unauthorized", DENIED, details=detail if token else "")
        if grant.expires <= self.now():
            details = "The access token you provided has expired."
            raise ApiError(403, "Unauthorized", DENIED, details=details)
        seller = request.path_params.get("seller_id")
        if seller is not None and seller != grant.seller_id:
            raise ApiError(403, "Unauthorized", DENIED, details="")
        return grant.seller_id

    def seller(self, request: Request) -> str:
        """The seller of the call's access token (:meth:`account` has checked it)."""
        return self.state.tokens[request.headers["x-amz-access-token"]].seller_id

    # ---------------------------------------------------------------- what a call sends
    def check_query(self, request: Request, operation_id: str) -> None:
        """400 for a query the model refuses: a required parameter missing, a bad value."""
        op = spec.operation(operation_id, request.method, request.url.path)
        query = {k: request.query_params.getlist(k) for k in request.query_params}
        problems = spec.parameter_problems(op, query)
        if problems:
            raise ApiError(400, "InvalidInput", "Invalid input", details="; ".join(problems))

    def marketplaces(self, seller: str, values: list[str], *, default: bool = False) -> list[str]:
        """The store ids of a call (comma-separated or repeated), each one of the seller's."""
        ids = [v for raw in values for v in raw.split(",") if v]
        if not ids and default:
            return list(self.state.sellers.get(seller, []))
        for marketplace in ids:
            if marketplace not in MARKETPLACES:
                raise ApiError(400, "InvalidInput", f"Invalid marketplace id: {marketplace}.")
            if marketplace not in self.state.sellers.get(seller, []):
                raise ApiError(
                    400,
                    "InvalidInput",
                    f"Seller {seller} does not sell in marketplace {marketplace}.",
                )
        return ids

    async def body(self, request: Request, operation_id: str) -> Any:
        """The JSON body of a write, checked as Amazon checks it: size, type, model."""
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "The request body is too large.")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise ApiError(
                415, "UnsupportedMediaType", f"Content-Type {media!r}: send application/json."
            )
        body = await json_body(request)
        if isinstance(body, dict) and operation_id == "putListingsItem":
            body = {k: v for k, v in body.items() if k not in LIBRARY_BODY_KEYS}
        op = spec.operation(operation_id, request.method, request.url.path)
        problems = spec.request_problems(op, body)
        if problems:
            raise ApiError(400, "InvalidInput", "Invalid input", details="; ".join(problems))
        return body


def moment(raw: str, message: str) -> datetime:
    """An ISO 8601 date-time (UTC when it names no offset), or a 400 with ``message``."""
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "InvalidInput", message) from None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found


class Part:
    """One API family of the emulator: its operations, served on the emulator's state."""

    def __init__(self, api: AmazonApi) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.state

    def routes(self) -> list[BaseRoute]:
        """The family's operations (none: a part other parts use)."""
        return []
