"""What every Etsy API family shares: the API key and bearer token, Etsy's error shape and
rate headers, requests decoded and checked against Etsy's model, ids, the clock, and who
may see which shop and listing.

:class:`EtsyApi` is the emulator minus its routes; each family (:class:`Part`) names the
model's operations it serves (``served``) and handles them as :class:`Call` s. A part never
keeps the state: a lost write or a reset replaces ``api.state``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.base import ApiError, Emulator, Handler
from sandbox.etsy.state import Auth, Shop, State
from sandbox.quotas import TakeResult
from sandbox.spec_etsy import FORM, MULTIPART, Operation, SpecError, coerce, decode_body, problem

__all__ = ["Call", "EtsyApi", "Part", "Served"]


@dataclass(frozen=True, slots=True)
class Call:
    """A request decoded and checked against the model, with the bearer's user."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    user_id: int | None


class EtsyApi(Emulator):
    """Etsy Open API v3's common ground (see the package's docstring)."""

    name = "etsy"
    persistent = ("state", "auth")  # tokens live beside the state: a lost write keeps them
    state: State
    auth: Auth

    def stamp(self) -> int:
        """Now, in whole unix seconds: Etsy's timestamps."""
        return int(self.wall())

    def new_id(self) -> int:
        self.state.next_id += 1
        return self.state.next_id

    # ---------------------------------------------------------------- auth, quota, errors
    def error(self, err: ApiError) -> Response:
        return JSONResponse({"error": err.message}, status_code=err.status, headers=err.headers)

    def account(self, request: Request, operation: str) -> str:
        """The API key is the quota account; it must carry the app's shared secret."""
        header = request.headers.get("x-api-key", "")
        keystring, _, secret = header.partition(":")
        if operation == "oauthToken":  # OAuth clients name themselves in the body
            return keystring or (request.client.host if request.client else "oauth")
        if not header:
            raise ApiError(403, "forbidden", "Missing x-api-key header (keystring:shared_secret).")
        known = self.auth.apps.get(keystring)
        if known is None:
            raise ApiError(403, "forbidden", "Invalid API key.")
        if not secret:
            raise ApiError(
                403,
                "forbidden",
                "The x-api-key header must be keystring:shared_secret; "
                "the shared secret is missing.",
            )
        if not hmac.compare_digest(secret, known):
            raise ApiError(403, "forbidden", "Invalid shared secret for this API key.")
        return keystring

    def rate_headers(self, take: TakeResult) -> dict[str, str]:
        headers = {
            "x-limit-per-second": str(take.limit_second),
            "x-remaining-this-second": str(take.remaining_second),
        }
        if take.limit_day is not None:
            headers["x-limit-per-day"] = str(take.limit_day)
            headers["x-remaining-today"] = str(take.remaining_day or 0)
        return headers

    def _bearer(self, request: Request, *, required: bool) -> int | None:
        """The user of a valid, unexpired bearer token (optional on public operations)."""
        header = request.headers.get("authorization")
        if header is None and not required:
            return None
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401, "unauthorized", "Missing access token: Authorization: Bearer {access_token}"
            )
        grant = self.auth.access.get(token.strip())
        keystring = request.headers.get("x-api-key", "").partition(":")[0]
        if grant is None or grant.keystring != keystring:
            raise ApiError(401, "unauthorized", "Invalid access token.")
        if self.wall() >= grant.expires:
            raise ApiError(401, "unauthorized", "The access token has expired; refresh it.")
        return grant.user_id

    # ---------------------------------------------------------------- the model's calls
    async def _decode(self, op: Operation, request: Request, user_id: int | None) -> Call:
        """Path, query and body as the model types them, or a 400 naming what it refuses."""
        try:
            path = _params(op, "path", {k: [v] for k, v in request.path_params.items()})
            query = _params(
                op, "query", {k: request.query_params.getlist(k) for k in request.query_params}
            )
            content_type = request.headers.get("content-type", "")
            declared = op.body_schema(content_type)
            body: Any = {}
            if declared is not None:
                media, schema = declared
                decoded = decode_body(content_type, await request.body())
                if isinstance(decoded, dict) and media in (FORM, MULTIPART):
                    props = schema.get("properties", {})
                    body = {k: coerce(v, props.get(k, {})) for k, v in decoded.items()}
                else:
                    body = {} if decoded is None else decoded
                if not isinstance(body, dict):
                    raise SpecError("The request body must be an object.")
                found = problem(body, schema, "")
                if found:
                    raise SpecError(found)
        except SpecError as err:
            raise ApiError(400, "invalid", str(err)) from None
        return Call(path, query, body, user_id)

    def endpoint(self, op: Operation, handler: Callable[[Call], Response]) -> Handler:
        """A model operation's handler, given the call decoded, under the lock."""

        async def run(request: Request) -> Response:
            user_id = self._bearer(request, required=op.needs_oauth)
            call = await self._decode(op, request, user_id)
            with self.lock:
                return handler(call)

        return run

    # ---------------------------------------------------------------- who sees what
    def shop(self, shop_id: int) -> Shop:
        shop = self.auth.shops.get(shop_id)
        if shop is None:
            raise ApiError(404, "not_found", f"Shop {shop_id} not found.")
        return shop

    def my_shop(self, call: Call) -> Shop:
        shop = self.shop(call.path["shop_id"])
        if call.user_id != shop.user_id:
            raise ApiError(403, "forbidden", f"The token's user does not own shop {shop.shop_id}.")
        return shop

    def listing(self, listing_id: int) -> dict[str, Any]:
        listing = self.state.listings.get(listing_id)
        if listing is None:
            raise ApiError(404, "not_found", f"Listing {listing_id} not found.")
        return listing

    def my_listing(self, call: Call) -> dict[str, Any]:
        listing = self.listing(call.path["listing_id"])
        if listing["user_id"] != call.user_id:
            raise ApiError(403, "forbidden", "The token's user does not own this listing.")
        return listing

    def shop_listing(self, call: Call) -> tuple[Shop, dict[str, Any]]:
        shop = self.my_shop(call)
        listing = self.listing(call.path["listing_id"])
        if listing["shop_id"] != shop.shop_id:
            raise ApiError(
                404, "not_found", f"Listing {listing['listing_id']} is not in this shop."
            )
        return shop, listing

    def visible(self, call: Call) -> dict[str, Any]:
        """Active and sold-out listings are public; the others only their owner sees."""
        listing = self.listing(call.path["listing_id"])
        if listing["state"] not in ("active", "sold_out") and call.user_id != listing["user_id"]:
            raise ApiError(404, "not_found", f"Listing {listing['listing_id']} not found.")
        return listing


def _params(op: Operation, where: str, given: dict[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, param in op.parameters(where).items():
        if name not in given:
            if param.get("required"):
                raise SpecError(f"{name} is required")
            continue
        values[name] = coerce(given[name], param["schema"])
        found = problem(values[name], param["schema"], name)
        if found:
            raise SpecError(found)
    return values


class Served(NamedTuple):
    """An operation of Etsy's model that a part serves: its id, the name of the part's
    handler (which takes a :class:`Call`), and whether it writes (for the lost-write fault)."""

    operation: str
    handler: str
    write: bool = False


class Part:
    """One API family of the emulator: the model's operations it serves (``served``)."""

    served: ClassVar[tuple[Served, ...]] = ()

    def __init__(self, api: EtsyApi) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.state

    def handlers(self) -> dict[str, tuple[Callable[[Call], Response], bool]]:
        """Each operation served: its handler, and whether it writes."""
        return {s.operation: (getattr(self, s.handler), s.write) for s in self.served}
