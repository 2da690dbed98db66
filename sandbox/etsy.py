"""Etsy Open API v3, emulated: OAuth with rotating refresh tokens, listings, their inventory and
images, receipts and reviews, on the model's own paths (``/v3/application/...``).

Kept are the Etsy rules that catch connectors: x-api-key is ``keystring:shared_secret`` (403
with the keystring alone, which is what etsy-python sends), an access token lasts an hour and
a refresh token works once, the inventory is replaced whole by every update (a product left
out is gone, and products get new ids) and refuses the ids its own GET answers with, a listing
holds at most 999 pieces, activation needs an image and stock. Every request is first decoded
and checked against Etsy's model (:mod:`sandbox.spec_etsy`), then against Etsy's
own rules.

Credentials (apps, shops, tokens) live in ``self.auth``, apart from the marketplace data in
``self.state``: a "lost write" fault puts back the data, never revives a used refresh token.
Times come from ``self.wall`` (unix seconds, injectable); money is Decimal, never float.
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.base import ApiError, Emulator, Handler
from sandbox.quotas import TakeResult
from sandbox.spec_etsy import (
    FORM,
    MULTIPART,
    TOKEN_PATH,
    Operation,
    SpecError,
    coerce,
    decode_body,
    operation,
    problem,
)

__all__ = ["ACCESS_TOKEN_SECONDS", "DEMO_ACCOUNTS", "OPERATIONS", "DemoAccount", "EtsySandbox"]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """An app (keystring and shared secret) with the refresh token of a shop's owner."""

    keystring: str
    shared_secret: str
    user_id: int
    shop_id: int
    shop_name: str
    currency: str
    shipping_profile_id: int
    refresh_token: str


# The demo config's two cooperatives (config/demo.yaml). Each refresh token works once per
# sandbox start or reset: a connector must keep the one every refresh gives back.
DEMO_ACCOUNTS = (
    DemoAccount(
        keystring="sandboxatlasrugs00000001",
        shared_secret="atlassecret",
        user_id=51000001,
        shop_id=41000001,
        shop_name="AtlasRugsCoop",
        currency="USD",
        shipping_profile_id=2100001,
        refresh_token="51000001.sandbox-refresh-atlas-rugs",
    ),
    DemoAccount(
        keystring="sandboxzelligefes0000002",
        shared_secret="fessecret2",
        user_id=51000002,
        shop_id=41000002,
        shop_name="ZelligeFesCoop",
        currency="EUR",
        shipping_profile_id=2100002,
        refresh_token="51000002.sandbox-refresh-zellige-fes",
    ),
)

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 90 * 86_400
LISTING_SECONDS = 120 * 86_400  # a listing runs four months before it renews or expires
MAX_TITLE = 140
MAX_TAGS = 13
MAX_TAG = 20
MAX_MATERIALS = 13
MAX_MATERIAL = 45
MAX_QUANTITY = 999  # per offering and per listing
MAX_SKU = 32
MAX_IMAGES = 20
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_PRICE = Decimal("0.20")
MAX_PRICE = Decimal("50000.00")
CENT = Decimal("0.01")
ON_PROPERTY = (
    "price_on_property",
    "quantity_on_property",
    "sku_on_property",
    "readiness_state_on_property",
)


# Each operation of Etsy's model the sandbox serves: its handler, and whether it writes
# (so that the lost-write fault can hit it). Paths and methods come from the model.
SERVED: dict[str, tuple[str, bool]] = {
    "getShop": ("_get_shop", False),
    "getShopShippingProfiles": ("_get_shipping_profiles", False),
    "createDraftListing": ("_create_listing", True),
    "getListingsByShop": ("_get_listings", False),
    "getListing": ("_get_listing", False),
    "updateListing": ("_update_listing", True),
    "deleteListing": ("_delete_listing", True),
    "getListingInventory": ("_get_inventory", False),
    "updateListingInventory": ("_update_inventory", True),
    "uploadListingImage": ("_upload_image", True),
    "getListingImages": ("_get_images", False),
    "getShopReceipts": ("_get_receipts", False),
    "getReviewsByShop": ("_get_reviews", False),
}
OPERATIONS: tuple[str, ...] = ("oauthToken", *SERVED)  # the token endpoint is not in the model


@dataclass(slots=True)
class _Shop:
    shop_id: int
    user_id: int
    shop_name: str
    currency: str
    shipping_profile_id: int
    created: int


@dataclass(slots=True)
class _Grant:
    keystring: str
    user_id: int
    expires: float
    used: bool = False


@dataclass
class _Auth:
    apps: dict[str, str] = field(default_factory=dict)  # keystring -> shared secret
    shops: dict[int, _Shop] = field(default_factory=dict)
    refresh: dict[str, _Grant] = field(default_factory=dict)
    access: dict[str, _Grant] = field(default_factory=dict)


@dataclass
class _State:
    listings: dict[int, dict[str, Any]] = field(default_factory=dict)
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)  # {shop_id, receipt}
    reviews: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1_000_000_000


@dataclass(frozen=True, slots=True)
class _Call:
    """A request decoded and checked against the model, with the bearer's user."""

    path: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    user_id: int | None


# ---------------------------------------------------------------- Etsy's field rules
def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": int(amount * 100), "divisor": 100, "currency_code": currency}


def _price(value: Any, where: str) -> Decimal:
    price = Decimal(value)  # an int or an exact Decimal: the model check let no other type in
    if price != price.quantize(CENT):
        raise ApiError(400, "invalid", f"{where} has more than 2 decimals: {value}")
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise ApiError(400, "invalid", f"{where} must be between {MIN_PRICE} and {MAX_PRICE}")
    return price.quantize(CENT)


def _allowed(text: str, categories: tuple[str, ...], extra: str) -> str:
    """The characters of ``text`` outside the Unicode categories (and extras) Etsy takes."""
    return "".join(
        sorted({c for c in text if not unicodedata.category(c).startswith(categories)} - set(extra))
    )


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise ApiError(400, "invalid", "title cannot be empty")
    if len(title) > MAX_TITLE:
        raise ApiError(400, "invalid", f"title has {len(title)} characters; at most {MAX_TITLE}")
    bad = _allowed(title, ("L", "Nd", "P", "Sm", "Zs"), "™©®")
    if bad:
        raise ApiError(400, "invalid", f"title cannot contain {bad!r}")
    for once in "%:&+":
        if title.count(once) > 1:
            raise ApiError(400, "invalid", f"title can use {once} only once")
    return title


def _description(value: str) -> str:
    if not value.strip():
        raise ApiError(400, "invalid", "description cannot be empty")
    return value


def _words(values: list[str] | None, name: str, most: int, longest: int, extra: str) -> list[str]:
    """Tags and materials: how many, how long, which characters."""
    words = [v.strip() for v in values or [] if v.strip()]
    if len(words) > most:
        raise ApiError(400, "invalid", f"{name} has {len(words)} entries; at most {most}")
    for word in words:
        if len(word) > longest:
            raise ApiError(400, "invalid", f"{name} entry {word!r} is over {longest} characters")
        bad = _allowed(word, ("L", "Nd", "Zs"), extra)
        if bad:
            raise ApiError(400, "invalid", f"{name} entry {word!r} cannot contain {bad!r}")
    return words


def _image_kind(data: bytes) -> str | None:
    for magic, kind in ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif")):
        if data.startswith(magic):
            return kind
    return None


def _value_id(property_id: int, value: str) -> int:
    """Etsy numbers a custom property value itself; the same text gets the same id."""
    return zlib.crc32(f"{property_id}:{value.casefold()}".encode()) or 1


def _signature(sku: str, values: Iterable[dict[str, Any]]) -> tuple[Any, ...]:
    return (sku, *sorted((v["property_id"], v["values"][0].casefold()) for v in values))


def _quantity(listing: dict[str, Any]) -> int:
    return sum(
        p["offering"]["quantity"] for p in listing["products"] if p["offering"]["is_enabled"]
    )


def _listing_price(listing: dict[str, Any]) -> Decimal:
    offers = [p["offering"] for p in listing["products"]]
    prices: list[Decimal] = [o["price"] for o in offers if o["is_enabled"]]
    prices = prices or [o["price"] for o in offers]
    return min(prices)


def _page(items: list[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any]:
    offset, limit = query.get("offset", 0), query.get("limit", 25)
    return {"count": len(items), "results": items[offset : offset + limit]}


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _descending(query: dict[str, Any]) -> bool:
    return query.get("sort_order", "desc") in ("desc", "descending", "down")


class EtsySandbox(Emulator):
    """The Etsy Open API v3 of the demo shops (and any added with ``add_account``)."""

    name = "etsy"
    persistent = ("state", "auth")  # tokens live beside the state: a lost write keeps them
    state: _State

    def __init__(self, **kwargs: Any) -> None:
        self.wall: Callable[[], float] = time.time  # unix seconds: tokens, timestamps
        self.auth = _Auth()
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        self.state = _State()
        self.auth = _Auth()
        for demo in DEMO_ACCOUNTS:
            self.add_account(asdict(demo))

    def _now(self) -> int:
        return int(self.wall())

    def _id(self) -> int:
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

    async def _decode(self, op: Operation, request: Request, user_id: int | None) -> _Call:
        """Path, query and body as the model types them, or a 400 naming what it refuses."""
        try:
            path = self._params(op, "path", {k: [v] for k, v in request.path_params.items()})
            query = self._params(
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
        return _Call(path, query, body, user_id)

    @staticmethod
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

    def _endpoint(self, op: Operation, handler: Callable[[_Call], Response]) -> Handler:
        async def run(request: Request) -> Response:
            user_id = self._bearer(request, required=op.needs_oauth)
            call = await self._decode(op, request, user_id)
            with self.lock:
                return handler(call)

        return run

    # ---------------------------------------------------------------- the API
    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route(TOKEN_PATH, self.operation("oauthToken", self._token), methods=["POST"])
        ]
        for op_id, (method, write) in SERVED.items():
            op = operation(op_id)
            handler: Callable[[_Call], Response] = getattr(self, method)
            endpoint = self.operation(op_id, self._endpoint(op, handler), write=write)
            routes.append(Route(op.path, endpoint, methods=[op.method]))
        return routes

    # -- OAuth
    async def _token(self, request: Request) -> Response:
        """Refresh: a refresh token works once and comes back rotated with the access token."""
        content_type = request.headers.get("content-type", "")
        try:
            decoded = decode_body(content_type, await request.body())
        except SpecError as err:
            return self._oauth_error(400, "invalid_request", str(err))
        if isinstance(decoded, dict) and content_type.startswith(FORM):
            decoded = {k: v[-1] for k, v in decoded.items()}
        data: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
        grant_type = data.get("grant_type")
        if grant_type != "refresh_token":
            return self._oauth_error(
                400,
                "unsupported_grant_type",
                "The sandbox has no consent screen: register a refresh token with "
                "POST /_sandbox/accounts and use grant_type=refresh_token."
                if grant_type == "authorization_code"
                else "grant_type must be refresh_token or authorization_code.",
            )
        client_id, token = data.get("client_id"), data.get("refresh_token")
        if not isinstance(client_id, str) or client_id not in self.auth.apps:
            return self._oauth_error(401, "invalid_client", "Unknown client_id (keystring).")
        if not isinstance(token, str) or not token:
            return self._oauth_error(400, "invalid_request", "refresh_token is required.")
        with self.lock:
            grant = self.auth.refresh.get(token)
            now = self.wall()
            if grant is None or grant.keystring != client_id:
                return self._oauth_error(400, "invalid_grant", "Invalid refresh token.")
            if grant.used:
                return self._oauth_error(
                    400, "invalid_grant", "This refresh token was already used: keep the new one."
                )
            if now >= grant.expires:
                return self._oauth_error(400, "invalid_grant", "The refresh token has expired.")
            grant.used = True
            access = f"{grant.user_id}.{secrets.token_urlsafe(32)}"
            refresh = f"{grant.user_id}.{secrets.token_urlsafe(32)}"
            self.auth.access[access] = _Grant(
                grant.keystring, grant.user_id, now + ACCESS_TOKEN_SECONDS
            )
            self.auth.refresh[refresh] = _Grant(
                grant.keystring, grant.user_id, now + REFRESH_TOKEN_SECONDS
            )
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "refresh_token": refresh,
            }
        )

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return JSONResponse({"error": error, "error_description": description}, status)

    # -- shops
    def _shop(self, shop_id: int) -> _Shop:
        shop = self.auth.shops.get(shop_id)
        if shop is None:
            raise ApiError(404, "not_found", f"Shop {shop_id} not found.")
        return shop

    def _my_shop(self, call: _Call) -> _Shop:
        shop = self._shop(call.path["shop_id"])
        if call.user_id != shop.user_id:
            raise ApiError(403, "forbidden", f"The token's user does not own shop {shop.shop_id}.")
        return shop

    def _get_shop(self, call: _Call) -> Response:
        return JSONResponse(self._shop_json(self._shop(call.path["shop_id"])))

    def _shop_json(self, shop: _Shop) -> dict[str, Any]:
        listings = [x for x in self.state.listings.values() if x["shop_id"] == shop.shop_id]
        ratings = [r["rating"] for r in self.state.reviews if r["shop_id"] == shop.shop_id]
        sold = sum(
            t["quantity"]
            for r in self.state.receipts.values()
            if r["shop_id"] == shop.shop_id
            for t in r["receipt"]["transactions"]
        )
        return {
            "shop_id": shop.shop_id,
            "user_id": shop.user_id,
            "shop_name": shop.shop_name,
            "create_date": shop.created,
            "created_timestamp": shop.created,
            "title": shop.shop_name,
            "announcement": None,
            "currency_code": shop.currency,
            "is_vacation": False,
            "vacation_message": None,
            "update_date": shop.created,
            "updated_timestamp": shop.created,
            "listing_active_count": sum(x["state"] == "active" for x in listings),
            "digital_listing_count": sum(x["listing_type"] == "download" for x in listings),
            "login_name": shop.shop_name.lower(),
            "accepts_custom_requests": False,
            "url": f"https://www.etsy.com/shop/{shop.shop_name}",
            "num_favorers": 0,
            "languages": ["en"],
            "transaction_sold_count": sold,
            "shipping_from_country_iso": "MA",
            "shop_location_country_iso": "MA",
            "review_count": len(ratings),
            "review_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
        }

    def _get_shipping_profiles(self, call: _Call) -> Response:
        shop = self._my_shop(call)
        profile = {
            "shipping_profile_id": shop.shipping_profile_id,
            "title": "Standard",
            "user_id": shop.user_id,
            "origin_country_iso": "MA",
            "is_deleted": False,
            "shipping_profile_destinations": [],
            "shipping_profile_upgrades": [],
            "origin_postal_code": None,
            "profile_type": "manual",
            "domestic_handling_fee": 0,
            "international_handling_fee": 0,
        }
        return JSONResponse({"count": 1, "results": [profile]})

    # -- listings
    def _listing(self, listing_id: int) -> dict[str, Any]:
        listing = self.state.listings.get(listing_id)
        if listing is None:
            raise ApiError(404, "not_found", f"Listing {listing_id} not found.")
        return listing

    def _my_listing(self, call: _Call) -> dict[str, Any]:
        listing = self._listing(call.path["listing_id"])
        if listing["user_id"] != call.user_id:
            raise ApiError(403, "forbidden", "The token's user does not own this listing.")
        return listing

    def _shop_listing(self, call: _Call) -> tuple[_Shop, dict[str, Any]]:
        shop = self._my_shop(call)
        listing = self._listing(call.path["listing_id"])
        if listing["shop_id"] != shop.shop_id:
            raise ApiError(
                404, "not_found", f"Listing {listing['listing_id']} is not in this shop."
            )
        return shop, listing

    def _visible(self, call: _Call) -> dict[str, Any]:
        """Active and sold-out listings are public; the others only their owner sees."""
        listing = self._listing(call.path["listing_id"])
        if listing["state"] not in ("active", "sold_out") and call.user_id != listing["user_id"]:
            raise ApiError(404, "not_found", f"Listing {listing['listing_id']} not found.")
        return listing

    @staticmethod
    def _shipping(shop: _Shop, listing_type: str, profile_id: int | None) -> None:
        if profile_id is None and listing_type != "download":
            raise ApiError(400, "invalid", "shipping_profile_id is required for physical listings")
        if profile_id is not None and profile_id != shop.shipping_profile_id:
            raise ApiError(
                400,
                "invalid",
                f"shipping_profile_id {profile_id} is not a shipping profile of shop "
                f"{shop.shop_id}",
            )

    def _create_listing(self, call: _Call) -> Response:
        shop = self._my_shop(call)
        body = call.body
        title, description = _title(body["title"]), _description(body["description"])
        if not 1 <= body["quantity"] <= MAX_QUANTITY:
            raise ApiError(400, "invalid", f"quantity must be between 1 and {MAX_QUANTITY}")
        price = _price(body["price"], "price")
        listing_type = body.get("type") or "physical"
        self._shipping(shop, listing_type, body.get("shipping_profile_id"))
        tags = _words(body.get("tags"), "tags", MAX_TAGS, MAX_TAG, "-'™©®")
        materials = _words(body.get("materials"), "materials", MAX_MATERIALS, MAX_MATERIAL, "")
        now, listing_id = self._now(), self._id()
        listing: dict[str, Any] = {
            "listing_id": listing_id,
            "shop_id": shop.shop_id,
            "user_id": shop.user_id,
            "currency": shop.currency,
            "title": title,
            "description": description,
            "state": "draft",
            "created": now,
            "updated": now,
            "state_ts": now,
            "tags": tags,
            "materials": materials,
            "who_made": body["who_made"],
            "when_made": body["when_made"],
            "taxonomy_id": body["taxonomy_id"],
            "listing_type": listing_type,
            "shipping_profile_id": body.get("shipping_profile_id"),
            "return_policy_id": body.get("return_policy_id"),
            "shop_section_id": body.get("shop_section_id"),
            "processing_min": body.get("processing_min"),
            "processing_max": body.get("processing_max"),
            "is_supply": body.get("is_supply"),
            "is_taxable": body.get("is_taxable", True),
            "should_auto_renew": body.get("should_auto_renew", False),
            "products": [
                self._new_product(
                    {
                        "sku": "",
                        "property_values": [],
                        "offering": {
                            "price": price,
                            "quantity": body["quantity"],
                            "is_enabled": True,
                            "readiness_state_id": body.get("readiness_state_id"),
                        },
                    }
                )
            ],
            **{key: [] for key in ON_PROPERTY},
            "deleted_products": [],
            "images": [],
        }
        self.state.listings[listing_id] = listing
        return JSONResponse(self._listing_json(listing), status_code=201)

    def _update_listing(self, call: _Call) -> Response:
        """Etsy's updateListing takes no price or quantity (the inventory holds them)."""
        shop, listing = self._shop_listing(call)
        body = call.body
        changes: dict[str, Any] = {}
        if "title" in body:
            changes["title"] = _title(body["title"])
        if "description" in body:
            changes["description"] = _description(body["description"])
        if "tags" in body:
            changes["tags"] = _words(body["tags"], "tags", MAX_TAGS, MAX_TAG, "-'™©®")
        if "materials" in body:
            changes["materials"] = _words(
                body["materials"], "materials", MAX_MATERIALS, MAX_MATERIAL, ""
            )
        for name in (
            "who_made",
            "when_made",
            "taxonomy_id",
            "is_supply",
            "is_taxable",
            "should_auto_renew",
            "shipping_profile_id",
            "return_policy_id",
            "shop_section_id",
        ):
            if name in body:
                changes[name] = body[name]
        if body.get("type") is not None:
            changes["listing_type"] = body["type"]
        merged = {**listing, **changes}
        if "shipping_profile_id" in body or "type" in body:
            self._shipping(shop, merged["listing_type"], merged["shipping_profile_id"])
        now = self._now()
        state = body.get("state")
        if state == "active":
            if not merged["images"]:
                raise ApiError(400, "invalid", "A listing needs at least one image to be active.")
            if _quantity(merged) == 0:
                raise ApiError(400, "invalid", "A listing needs a quantity above 0 to be active.")
        if state is not None and state != listing["state"]:
            changes.update(state=state, state_ts=now)
        listing.update(changes, updated=now)
        return JSONResponse(self._listing_json(listing))

    def _delete_listing(self, call: _Call) -> Response:
        listing = self._my_listing(call)
        del self.state.listings[listing["listing_id"]]
        return Response(status_code=204)

    def _get_listing(self, call: _Call) -> Response:
        listing = self._visible(call)
        return JSONResponse(self._listing_json(listing, call.query.get("includes") or []))

    def _get_listings(self, call: _Call) -> Response:
        shop = self._my_shop(call)
        query = call.query
        state = query.get("state", "active")
        found = [
            x
            for x in self.state.listings.values()
            if x["shop_id"] == shop.shop_id and x["state"] == state
        ]
        sort_on = query.get("sort_on", "created")

        def key(listing: dict[str, Any]) -> tuple[Any, int]:
            if sort_on == "price":
                return _listing_price(listing), listing["listing_id"]
            return listing["updated" if sort_on == "updated" else "created"], listing["listing_id"]

        found.sort(key=key, reverse=_descending(query))
        includes = query.get("includes") or []
        return JSONResponse(_page([self._listing_json(x, includes) for x in found], query))

    def _listing_json(
        self, listing: dict[str, Any], includes: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """ShopListing; with ``includes``, ShopListingWithAssociations."""
        out = {
            "listing_id": listing["listing_id"],
            "user_id": listing["user_id"],
            "shop_id": listing["shop_id"],
            "title": listing["title"],
            "description": listing["description"],
            "state": listing["state"],
            "creation_timestamp": listing["created"],
            "created_timestamp": listing["created"],
            "ending_timestamp": listing["state_ts"] + LISTING_SECONDS,
            "original_creation_timestamp": listing["created"],
            "last_modified_timestamp": listing["updated"],
            "updated_timestamp": listing["updated"],
            "state_timestamp": listing["state_ts"],
            "quantity": _quantity(listing),
            "shop_section_id": listing["shop_section_id"],
            "featured_rank": -1,
            "url": f"https://www.etsy.com/listing/{listing['listing_id']}",
            "num_favorers": 0,
            "non_taxable": not listing["is_taxable"],
            "is_taxable": listing["is_taxable"],
            "is_customizable": False,
            "is_personalizable": False,
            "listing_type": listing["listing_type"],
            "tags": listing["tags"],
            "materials": listing["materials"],
            "shipping_profile_id": listing["shipping_profile_id"],
            "return_policy_id": listing["return_policy_id"],
            "processing_min": listing["processing_min"],
            "processing_max": listing["processing_max"],
            "who_made": listing["who_made"],
            "when_made": listing["when_made"],
            "is_supply": listing["is_supply"],
            "is_private": False,
            "style": [],
            "has_variations": any(p["property_values"] for p in listing["products"]),
            "should_auto_renew": listing["should_auto_renew"],
            "language": "en",
            "price": _money(_listing_price(listing), listing["currency"]),
            "taxonomy_id": listing["taxonomy_id"],
            "readiness_state_id": None,
        }
        if includes is not None:
            out["skus"] = [p["sku"] for p in listing["products"] if p["sku"]]
            if "Images" in includes:
                out["images"] = [self._image_json(listing, i) for i in listing["images"]]
            if "Inventory" in includes:
                out["inventory"] = self._inventory_json(listing)
        return out

    # -- inventory
    def _new_product(self, product: dict[str, Any]) -> dict[str, Any]:
        product["product_id"] = self._id()
        product["offering"]["offering_id"] = self._id()
        return product

    def _get_inventory(self, call: _Call) -> Response:
        listing = self._my_listing(call)
        out = self._inventory_json(listing, deleted=bool(call.query.get("show_deleted")))
        if call.query.get("includes") == "Listing":
            out["listing"] = self._listing_json(listing)
        return JSONResponse(out)

    def _inventory_json(self, listing: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
        currency = listing["currency"]
        products = [(p, False) for p in listing["products"]]
        products += [(p, True) for p in listing["deleted_products"]] if deleted else []
        return {
            "products": [
                {
                    "product_id": p["product_id"],
                    "sku": p["sku"],
                    "is_deleted": gone,
                    "offerings": [
                        {
                            "offering_id": p["offering"]["offering_id"],
                            "quantity": p["offering"]["quantity"],
                            "is_enabled": p["offering"]["is_enabled"],
                            "is_deleted": gone,
                            "price": _money(p["offering"]["price"], currency),
                            "readiness_state_id": p["offering"]["readiness_state_id"],
                        }
                    ],
                    "property_values": p["property_values"],
                }
                for p, gone in products
            ],
            **{key: listing[key] for key in ON_PROPERTY},
        }

    def _update_inventory(self, call: _Call) -> Response:
        """The whole inventory, every time: products left out of the request are deleted."""
        listing = self._my_listing(call)
        body = call.body
        products = [self._product_in(i, raw) for i, raw in enumerate(body["products"])]
        if not products:
            raise ApiError(400, "invalid", "products cannot be empty")
        properties = {
            tuple(sorted(v["property_id"] for v in p["property_values"])) for p in products
        }
        if len(properties) > 1:
            raise ApiError(400, "invalid", "Every product must have the same properties.")
        used = set(next(iter(properties)))
        most = 3 if call.query.get("max_variations_supported") == "3" else 2
        if len(used) > most:
            raise ApiError(400, "invalid", f"A listing can vary on at most {most} properties.")
        signatures = [_signature("", p["property_values"]) for p in products]
        if len(set(signatures)) < len(signatures):
            raise ApiError(400, "invalid", "Two products have the same property values.")
        on: dict[str, list[int]] = {key: list(body.get(key) or []) for key in ON_PROPERTY}
        for key, ids in on.items():
            if set(ids) - used:
                raise ApiError(400, "invalid", f"{key} names a property no product has: {ids}")
        for key, varying in (
            ("price_on_property", {p["offering"]["price"] for p in products}),
            ("quantity_on_property", {p["offering"]["quantity"] for p in products}),
            ("sku_on_property", {p["sku"] for p in products}),
        ):
            if not on[key] and len(varying) > 1:
                raise ApiError(
                    400, "invalid", f"Products differ in {key.split('_')[0]} but {key} is empty."
                )
        total = sum(p["offering"]["quantity"] for p in products)
        if total > MAX_QUANTITY:
            raise ApiError(
                400,
                "invalid",
                f"The listing's total quantity would be {total}; at most {MAX_QUANTITY}.",
            )
        if not any(p["offering"]["is_enabled"] for p in products):
            raise ApiError(400, "invalid", "At least one offering must be enabled.")
        listing["deleted_products"] = (listing["deleted_products"] + listing["products"])[-50:]
        listing["products"] = [self._new_product(p) for p in products]
        listing.update(on)
        self._restate(listing)
        listing["updated"] = self._now()
        return JSONResponse(self._inventory_json(listing))

    @staticmethod
    def _product_in(i: int, raw: dict[str, Any]) -> dict[str, Any]:
        where = f"products[{i}]"
        for key in ("product_id", "is_deleted"):
            if key in raw:
                raise ApiError(
                    400,
                    "invalid",
                    f"{where}.{key} is not accepted: send products without product_id, "
                    "offering_id and is_deleted",
                )
        offerings = raw["offerings"]
        if len(offerings) != 1:
            raise ApiError(400, "invalid", f"{where} must have exactly one offering")
        offer = offerings[0]
        for key in ("offering_id", "is_deleted"):
            if key in offer:
                raise ApiError(
                    400, "invalid", f"{where}.offerings[0].{key} is not accepted in an update"
                )
        if not 0 <= offer["quantity"] <= MAX_QUANTITY:
            raise ApiError(
                400, "invalid", f"{where}.offerings[0].quantity must be 0 to {MAX_QUANTITY}"
            )
        sku = (raw.get("sku") or "").strip()
        if len(sku) > MAX_SKU:
            raise ApiError(400, "invalid", f"{where}.sku is over {MAX_SKU} characters")
        values: list[dict[str, Any]] = []
        for j, given in enumerate(raw.get("property_values") or []):
            at = f"{where}.property_values[{j}]"
            texts, ids = given["values"], given["value_ids"]
            if len(texts) != 1 or (ids and len(ids) != 1):
                raise ApiError(400, "invalid", f"{at} must have exactly one value")
            text = texts[0].strip()
            if not text or "(" in text or ")" in text:
                raise ApiError(400, "invalid", f"{at} value {text!r} is empty or has parentheses")
            pid = given["property_id"]
            values.append(
                {
                    "property_id": pid,
                    "property_name": given.get("property_name") or f"Property {pid}",
                    "scale_id": given.get("scale_id"),
                    "scale_name": None,
                    "value_ids": ids or [_value_id(pid, text)],
                    "values": [text],
                }
            )
        if len({v["property_id"] for v in values}) < len(values):
            raise ApiError(400, "invalid", f"{where} names a property twice")
        return {
            "sku": sku,
            "property_values": values,
            "offering": {
                "price": _price(offer["price"], f"{where}.offerings[0].price"),
                "quantity": offer["quantity"],
                "is_enabled": offer["is_enabled"],
                "readiness_state_id": offer.get("readiness_state_id"),
            },
        }

    def _restate(self, listing: dict[str, Any]) -> None:
        """An active listing with no stock left is sold out; stock back makes it active."""
        quantity = _quantity(listing)
        if listing["state"] == "active" and quantity == 0:
            listing.update(state="sold_out", state_ts=self._now())
        elif listing["state"] == "sold_out" and quantity > 0:
            listing.update(state="active", state_ts=self._now())

    # -- images
    def _upload_image(self, call: _Call) -> Response:
        shop, listing = self._shop_listing(call)
        body = call.body
        data, reuse = body.get("image"), body.get("listing_image_id")
        if data is None and reuse is None:
            raise ApiError(400, "invalid", "Send an image file or a listing_image_id.")
        if data is not None:
            if not isinstance(data, bytes):
                raise ApiError(400, "invalid", "image must be a file part.")
            if _image_kind(data) is None:
                raise ApiError(400, "invalid", "The image must be a JPEG, PNG or GIF file.")
            if len(data) > MAX_IMAGE_BYTES:
                raise ApiError(400, "invalid", "The image is over 20 MB.")
            size = len(data)
        else:
            mine = [
                i
                for x in self.state.listings.values()
                if x["shop_id"] == shop.shop_id
                for i in x["images"]
                if i["listing_image_id"] == reuse
            ]
            if not mine:
                raise ApiError(404, "not_found", f"Image {reuse} not found in this shop.")
            size = mine[0]["size"]
        images: list[dict[str, Any]] = listing["images"]
        rank = min(max(body.get("rank", 1), 1), len(images) + 1)
        image = {
            "listing_image_id": reuse if data is None else self._id(),
            "created": self._now(),
            "alt_text": body.get("alt_text") or None,
            "size": size,
        }
        if body.get("overwrite") and rank <= len(images):
            images[rank - 1] = image
        elif len(images) >= MAX_IMAGES:
            raise ApiError(400, "invalid", f"A listing has at most {MAX_IMAGES} images.")
        else:
            images.insert(rank - 1, image)
        listing["updated"] = self._now()
        return JSONResponse(self._image_json(listing, image), status_code=201)

    def _image_json(self, listing: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
        image_id = image["listing_image_id"]
        url = f"https://i.etsystatic.com/sandbox/{listing['listing_id']}/il_{{}}.{image_id}.jpg"
        return {
            "listing_id": listing["listing_id"],
            "listing_image_id": image_id,
            "hex_code": None,
            "red": None,
            "green": None,
            "blue": None,
            "hue": None,
            "saturation": None,
            "brightness": None,
            "is_black_and_white": None,
            "creation_tsz": image["created"],
            "created_timestamp": image["created"],
            "rank": listing["images"].index(image) + 1,
            "url_75x75": url.format("75x75"),
            "url_170x135": url.format("170x135"),
            "url_570xN": url.format("570xN"),
            "url_fullxfull": url.format("fullxfull"),
            "full_height": None,
            "full_width": None,
            "alt_text": image["alt_text"],
        }

    def _get_images(self, call: _Call) -> Response:
        listing = self._visible(call)
        images = [self._image_json(listing, i) for i in listing["images"]]
        return JSONResponse({"count": len(images), "results": images})

    # -- receipts and reviews
    def _get_receipts(self, call: _Call) -> Response:
        """Receipts changed in a window (``min_last_modified``), paged with limit/offset."""
        shop = self._my_shop(call)
        q = call.query
        windows = (
            ("min_created", "create_timestamp", 1),
            ("max_created", "create_timestamp", -1),
            ("min_last_modified", "update_timestamp", 1),
            ("max_last_modified", "update_timestamp", -1),
        )
        flags: dict[str, Callable[[dict[str, Any]], bool]] = {
            "was_paid": lambda r: bool(r["is_paid"]),
            "was_shipped": lambda r: bool(r["is_shipped"]),
            "was_delivered": lambda r: False,
            "was_canceled": lambda r: r["status"] == "canceled",
        }
        found = [
            r["receipt"]
            for r in self.state.receipts.values()
            if r["shop_id"] == shop.shop_id
            and all(
                (r["receipt"][key] - q[name]) * sign >= 0
                for name, key, sign in windows
                if name in q
            )
            and all(
                test(r["receipt"]) == q[name]
                for name, test in flags.items()
                if q.get(name) is not None
            )
        ]
        sort_key = {"updated": "update_timestamp", "receipt_id": "receipt_id"}.get(
            q.get("sort_on", "created"), "create_timestamp"
        )
        found.sort(key=lambda r: (r[sort_key], r["receipt_id"]), reverse=_descending(q))
        return JSONResponse(_page(found, q))

    def _get_reviews(self, call: _Call) -> Response:
        shop = self._shop(call.path["shop_id"])
        q = call.query
        found = [
            r
            for r in self.state.reviews
            if r["shop_id"] == shop.shop_id
            and (q.get("min_created") is None or r["create_timestamp"] >= q["min_created"])
            and (q.get("max_created") is None or r["create_timestamp"] <= q["max_created"])
        ]
        found.reverse()  # newest first
        found.sort(key=lambda r: r["create_timestamp"], reverse=True)
        return JSONResponse(_page(found, q))

    # ---------------------------------------------------------------- control API
    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        """An app and a shop owner's refresh token (POST /_sandbox/accounts)."""
        keystring, secret, refresh = (
            data.get(k) for k in ("keystring", "shared_secret", "refresh_token")
        )
        shop_id, user_id = data.get("shop_id"), data.get("user_id")
        if not all(isinstance(v, str) and v and ":" not in v for v in (keystring, secret, refresh)):
            raise ApiError(400, "invalid", "keystring, shared_secret and refresh_token are text")
        if not all(_positive(v) for v in (shop_id, user_id)):
            raise ApiError(400, "invalid", "shop_id and user_id are positive whole numbers")
        assert isinstance(keystring, str) and isinstance(secret, str) and isinstance(refresh, str)
        assert isinstance(shop_id, int) and isinstance(user_id, int)
        if not refresh.startswith(f"{user_id}."):
            raise ApiError(400, "invalid", f"Etsy tokens start with the user id: {user_id}.…")
        currency = data.get("currency") or "USD"
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            raise ApiError(400, "invalid", "currency is an ISO 4217 code, like USD")
        if self.auth.apps.get(keystring, secret) != secret:
            raise ApiError(409, "conflict", "This keystring has another shared secret.")
        shop = self.auth.shops.get(shop_id)
        if shop is not None and shop.user_id != user_id:
            raise ApiError(409, "conflict", f"Shop {shop_id} belongs to another user.")
        if refresh in self.auth.refresh:
            raise ApiError(409, "conflict", "This refresh token is already registered.")
        if shop is None:
            shop = self.auth.shops[shop_id] = _Shop(
                shop_id,
                user_id,
                str(data.get("shop_name") or f"Shop{shop_id}"),
                currency,
                int(data.get("shipping_profile_id") or shop_id * 10 + 1),
                self._now(),
            )
        self.auth.apps[keystring] = secret
        self.auth.refresh[refresh] = _Grant(keystring, user_id, self.wall() + REFRESH_TOKEN_SECONDS)
        return {
            "keystring": keystring,
            "user_id": user_id,
            "shop_id": shop_id,
            "shop_name": shop.shop_name,
            "currency": shop.currency,
            "shipping_profile_id": shop.shipping_profile_id,
        }

    def state_json(self) -> dict[str, Any]:
        return {
            "shops": [
                {
                    "shop_id": s.shop_id,
                    "user_id": s.user_id,
                    "shop_name": s.shop_name,
                    "currency": s.currency,
                    "shipping_profile_id": s.shipping_profile_id,
                }
                for s in self.auth.shops.values()
            ],
            "listings": [  # one row per product: a SKU lives on a product
                {
                    "shop_id": x["shop_id"],
                    "listing_id": x["listing_id"],
                    "product_id": p["product_id"],
                    "sku": p["sku"],
                    "title": x["title"],
                    "price": str(p["offering"]["price"]),
                    "currency": x["currency"],
                    "quantity": p["offering"]["quantity"],
                    "is_enabled": p["offering"]["is_enabled"],
                    "status": x["state"],
                    "properties": {
                        v["property_name"]: v["values"][0] for v in p["property_values"]
                    },
                    "images": len(x["images"]),
                }
                for x in self.state.listings.values()
                for p in x["products"]
            ],
            "receipts": [
                {"shop_id": r["shop_id"], **r["receipt"]} for r in self.state.receipts.values()
            ],
            "reviews": list(self.state.reviews),
        }

    def _by_sku(self, sku: Any, shop_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not isinstance(sku, str) or not sku:
            raise ApiError(400, "invalid", "send the sku")
        found = [
            (x, p)
            for x in self.state.listings.values()
            if shop_id in (None, x["shop_id"])
            for p in x["products"]
            if p["sku"] == sku
        ]
        if not found:
            raise ApiError(404, "not_found", f"No listing has SKU {sku}.")
        if len(found) > 1:
            raise ApiError(409, "ambiguous", f"{len(found)} products have SKU {sku}; name shop_id")
        return found[0]

    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer pays for ``quantity`` of ``sku``: Etsy lowers that offering's stock."""
        listing, product = self._by_sku(data.get("sku"), data.get("shop_id"))
        quantity = data.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ApiError(400, "invalid", "quantity is a whole number from 1")
        offer = product["offering"]
        available = offer["quantity"] if listing["state"] == "active" and offer["is_enabled"] else 0
        if quantity > available:
            raise ApiError(409, "not_available", f"{product['sku']}: {available} available")
        offer["quantity"] -= quantity
        self._restate(listing)
        now = self._now()
        listing["updated"] = now
        currency = listing["currency"]
        receipt_id, buyer = self._id(), self._id()
        total = offer["price"] * quantity
        zero = _money(Decimal(0), currency)
        receipt = {
            "receipt_id": receipt_id,
            "receipt_type": 0,
            "seller_user_id": listing["user_id"],
            "seller_email": None,
            "buyer_user_id": buyer,
            "buyer_email": None,
            "name": "Sandbox Buyer",
            "first_line": "1 Rue de la Kasbah",
            "second_line": None,
            "city": "Marrakech",
            "state": None,
            "zip": "40000",
            "status": "paid",
            "formatted_address": "Sandbox Buyer\n1 Rue de la Kasbah\n40000 Marrakech\nMorocco",
            "country_iso": "MA",
            "payment_method": "cc",
            "payment_email": None,
            "message_from_seller": None,
            "message_from_buyer": None,
            "message_from_payment": None,
            "is_paid": True,
            "is_shipped": False,
            "create_timestamp": now,
            "created_timestamp": now,
            "update_timestamp": now,
            "updated_timestamp": now,
            "is_gift": False,
            "gift_message": "",
            "gift_sender": "",
            "grandtotal": _money(total, currency),
            "subtotal": _money(total, currency),
            "total_price": _money(total, currency),
            "total_shipping_cost": zero,
            "total_tax_cost": zero,
            "total_vat_cost": zero,
            "discount_amt": zero,
            "gift_wrap_price": zero,
            "shipments": [],
            "transactions": [
                {
                    "transaction_id": self._id(),
                    "title": listing["title"],
                    "description": listing["description"],
                    "seller_user_id": listing["user_id"],
                    "buyer_user_id": buyer,
                    "create_timestamp": now,
                    "created_timestamp": now,
                    "paid_timestamp": now,
                    "shipped_timestamp": None,
                    "quantity": quantity,
                    "listing_image_id": (
                        listing["images"][0]["listing_image_id"] if listing["images"] else None
                    ),
                    "receipt_id": receipt_id,
                    "is_digital": listing["listing_type"] == "download",
                    "file_data": "",
                    "listing_id": listing["listing_id"],
                    "transaction_type": "listing",
                    "product_id": product["product_id"],
                    "sku": product["sku"],
                    "price": _money(offer["price"], currency),
                    "shipping_cost": zero,
                    "variations": [
                        {
                            "property_id": v["property_id"],
                            "value_id": v["value_ids"][0],
                            "formatted_name": v["property_name"],
                            "formatted_value": v["values"][0],
                        }
                        for v in product["property_values"]
                    ],
                    "product_data": product["property_values"],
                    "shipping_profile_id": listing["shipping_profile_id"],
                    "min_processing_days": listing["processing_min"],
                    "max_processing_days": listing["processing_max"],
                    "shipping_method": None,
                    "shipping_upgrade": None,
                    "expected_ship_date": None,
                    "buyer_coupon": 0,
                    "shop_coupon": 0,
                }
            ],
            "refunds": [],
        }
        self.state.receipts[receipt_id] = {"shop_id": listing["shop_id"], "receipt": receipt}
        return receipt

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """The receipt is canceled and modified now; its pieces go back to their offerings."""
        entry = self.state.receipts.get(int(order_id)) if order_id.isdigit() else None
        if entry is None:
            raise ApiError(404, "not_found", f"No receipt {order_id}.")
        receipt: dict[str, Any] = entry["receipt"]
        if receipt["status"] != "canceled":
            for line in receipt["transactions"]:
                self._restock(line)
            now = self._now()
            receipt.update(status="canceled", update_timestamp=now, updated_timestamp=now)
        return receipt

    def _restock(self, line: dict[str, Any]) -> None:
        """Pieces of a canceled transaction go back to the product with its SKU and values
        (product ids change with every inventory update)."""
        listing = self.state.listings.get(line["listing_id"])
        if listing is None:
            return
        wanted = _signature(line["sku"] or "", line["product_data"])
        for product in listing["products"]:
            if _signature(product["sku"], product["property_values"]) == wanted:
                offer = product["offering"]
                offer["quantity"] = min(MAX_QUANTITY, offer["quantity"] + line["quantity"])
                self._restate(listing)
                listing["updated"] = self._now()
                return

    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer reviews a listing (by ``listing_id`` or ``sku``), 1 to 5 stars."""
        if data.get("listing_id") is not None:
            listing_id = data["listing_id"]
            listing = self.state.listings.get(listing_id) if isinstance(listing_id, int) else None
            if listing is None:
                raise ApiError(404, "not_found", f"No listing {listing_id}.")
        else:
            listing = self._by_sku(data.get("sku"), data.get("shop_id"))[0]
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ApiError(400, "invalid", "rating is a whole number from 1 to 5")
        text = data.get("review", data.get("text", ""))
        if not isinstance(text, str):
            raise ApiError(400, "invalid", "review is text")
        bought = [
            t
            for r in self.state.receipts.values()
            for t in r["receipt"]["transactions"]
            if t["listing_id"] == listing["listing_id"]
        ]
        now = self._now()
        review = {
            "shop_id": listing["shop_id"],
            "listing_id": listing["listing_id"],
            "transaction_id": bought[-1]["transaction_id"] if bought else self._id(),
            "buyer_user_id": bought[-1]["buyer_user_id"] if bought else None,
            "rating": rating,
            "review": text,
            "language": str(data.get("language") or "en"),
            "image_url_fullxfull": None,
            "create_timestamp": now,
            "created_timestamp": now,
            "update_timestamp": now,
            "updated_timestamp": now,
        }
        self.state.reviews.append(review)
        return review
