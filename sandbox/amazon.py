"""Amazon Selling Partner API, emulated: LWA, Listings Items, JSON listings feeds, Orders, Reports.

What the real SP-API refuses, this refuses too, in Amazon's own shapes: an LWA token is needed
(``x-amz-access-token``, one hour), each seller sees only its own listings, orders and reports,
request bodies and query parameters are checked against the official models
(:mod:`sandbox.spec_amazon`), and listings are checked against a small rule set of
product types (required attributes, valid price, currency and quantity). A listing that breaks
a rule is answered ``200 INVALID`` with issues and is not stored, as Amazon does.

Asynchronous work advances one step per poll, so tests and demos are deterministic: a feed or a
report is ``IN_QUEUE`` at the first ``getFeed``/``getReport``, ``IN_PROGRESS`` at the second,
and finished (``DONE``, ``FATAL``, or for a report without data ``CANCELLED``) from the third
on; a feed's messages are applied when it finishes. Documents (feeds, processing reports,
reports) are exchanged through loopback URLs on this emulator that act like S3 presigned URLs:
no token, the upload's Content-Type must be the one declared, and they expire after 5 minutes.

Times come from ``self.now()`` (the base wall clock, which tests can replace); quotas from
the bucket clock.
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox import spec_amazon as spec
from sandbox.base import ApiError, Emulator, Handler, json_body

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SELLERS",
    "MARKETPLACES",
    "PRODUCT_TYPES",
    "AmazonSandbox",
    "Marketplace",
]


@dataclass(frozen=True, slots=True)
class Marketplace:
    country: str
    currency: str
    name: str


# The stores a seller can sell in: id -> country, currency, store name.
MARKETPLACES: dict[str, Marketplace] = {
    "ATVPDKIKX0DER": Marketplace("US", "USD", "Amazon.com"),
    "A2EUQ1WTGCTBG2": Marketplace("CA", "CAD", "Amazon.ca"),
    "A1AM78C64UM0Y8": Marketplace("MX", "MXN", "Amazon.com.mx"),
    "A1F83G8C2ARO7P": Marketplace("GB", "GBP", "Amazon.co.uk"),
    "A1PA6795UKMFR9": Marketplace("DE", "EUR", "Amazon.de"),
    "A13V1IB3VIYZZH": Marketplace("FR", "EUR", "Amazon.fr"),
    "APJ6JRA9NG5V4": Marketplace("IT", "EUR", "Amazon.it"),
    "A1RKKUPIHCS9HS": Marketplace("ES", "EUR", "Amazon.es"),
    "A1805IZSGTT6HS": Marketplace("NL", "EUR", "Amazon.nl"),
    "AMEN7PMS3EDWL": Marketplace("BE", "EUR", "Amazon.com.be"),
    "A2NODRKZP88ZB9": Marketplace("SE", "SEK", "Amazon.se"),
    "A1C3SOZRARQ6R3": Marketplace("PL", "PLN", "Amazon.pl"),
    "A33AVAJ2PDY3EV": Marketplace("TR", "TRY", "Amazon.com.tr"),
    "A2VIGQ35RCS4UG": Marketplace("AE", "AED", "Amazon.ae"),
    "A17E79C6D8DWNP": Marketplace("SA", "SAR", "Amazon.sa"),
    "ARBP9OOSHTCHU": Marketplace("EG", "EGP", "Amazon.eg"),
}

# One LWA application authorised by the demo config's two sellers (one refresh token each).
DEMO_CLIENT_ID = "amzn1.application-oa2-client.syndicator-sandbox"
DEMO_CLIENT_SECRET = "amzn1.oa2-cs.v1.syndicator-sandbox-secret"
DEMO_SELLERS: dict[str, tuple[str, str]] = {  # seller id -> (refresh token, marketplace id)
    "A2SANDBOXATLAS": ("Atzr|sandbox-atlas-rugs", "ATVPDKIKX0DER"),
    "A2SANDBOXFES": ("Atzr|sandbox-zellige-fes", "A13V1IB3VIYZZH"),
}

# Required attributes. Product facts are needed for LISTING and LISTING_PRODUCT_ONLY, the
# offer's for LISTING and LISTING_OFFER_ONLY; each product type adds its own facts.
PRODUCT_FACTS = ("item_name", "brand", "product_description")
OFFER_TERMS = ("condition_type",)
PRODUCT_TYPES: dict[str, tuple[str, ...]] = {
    "RUG": ("material",),
    "HOME": ("material",),
    "KITCHEN": ("material",),
    "LIGHT_FIXTURE": ("material",),
    "BEAUTY": ("item_form",),
}
# The conditions a listing can have, as the Listings Items model lists them.
_SUMMARY = spec.definition("listingsItems", "ItemSummaryByMarketplace")
CONDITIONS: tuple[str, ...] = tuple(_SUMMARY["properties"]["conditionType"]["enum"])
CENT = Decimal("0.01")  # every store the sandbox knows prices in cents
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
# Issue codes: 90220, 4000001 and 4000003 are Amazon's; the others are the sandbox's own.
MISSING, BAD_PRODUCT_TYPE, BAD_VALUE, NOT_LISTED, BAD_MESSAGE, FATAL = (
    "90220", "4000003", "4000001", "8541", "100001", "999999")  # fmt: skip

TOKEN_LIFETIME = timedelta(hours=1)
URL_LIFETIME = timedelta(minutes=5)
PAGE_TOKEN_LIFETIME = timedelta(hours=24)
MAX_BODY = 1024 * 1024  # an SP-API call's JSON body
MAX_FEED = 10 * 1024 * 1024  # a feed document
FEED_TYPES = ("JSON_LISTINGS_FEED",)
REPORT_TYPES = ("GET_SELLER_FEEDBACK_DATA",)
FEEDBACK_HEADER = ("Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email")
# Keys python-amazon-sp-api adds to a PUT body; Amazon accepts them, the sandbox strips them.
LIBRARY_BODY_KEYS = ("marketplaceIds", "MarketplaceIds", "MarketplaceId", "marketplace_ids")
DENIED = "Access to requested resource is denied."

_OPERATION: contextvars.ContextVar[str] = contextvars.ContextVar("amazon_operation", default="")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _issue(
    code: str, message: str, names: Iterable[str] = (), category: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "attributeNames": list(names),
        "categories": [category] if category else [],
    }


# ---------------------------------------------------------------- state
@dataclass
class _Grant:
    """A seller's authorisation of an LWA application: its refresh token."""

    client_id: str
    seller_id: str
    revoked: bool = False


@dataclass
class _Token:
    seller_id: str
    expires: datetime


@dataclass
class _Listing:
    seller_id: str
    sku: str
    marketplace_id: str
    product_type: str
    requirements: str
    attributes: dict[str, Any]
    asin: str
    created: datetime
    updated: datetime

    def title(self) -> str:
        names = self.attributes.get("item_name") or [{}]
        mine = [n for n in names if n.get("marketplace_id") in (None, self.marketplace_id)]
        return str((mine or names)[0].get("value", ""))

    def offer(self) -> tuple[Decimal, str] | None:
        """Price and currency of the offer to all buyers in this store, if any."""
        entry = _our_offer(self.attributes.get("purchasable_offer"), self.marketplace_id)
        if entry is None:
            return None
        value = entry["our_price"][0]["schedule"][0]["value_with_tax"]
        return Decimal(str(value)).quantize(CENT), str(entry["currency"])

    def quantity(self) -> int:
        entry = _default_channel(self.attributes.get("fulfillment_availability"))
        return int(entry.get("quantity", 0)) if entry else 0

    def set_quantity(self, quantity: int) -> None:
        entry = _default_channel(self.attributes.get("fulfillment_availability"))
        if entry is None:
            entry = {"fulfillment_channel_code": "DEFAULT"}
            self.attributes.setdefault("fulfillment_availability", []).append(entry)
        entry["quantity"] = quantity

    def buyable(self) -> bool:
        return self.offer() is not None and self.quantity() > 0

    def statuses(self) -> list[str]:
        return ["BUYABLE", "DISCOVERABLE"] if self.buyable() else ["DISCOVERABLE"]


@dataclass
class _Document:
    """A document behind a presigned URL: an uploaded feed, a processing report, a report."""

    document_id: str
    seller_id: str
    kind: str  # "feed", "feed-result", "report"
    content_type: str
    data: bytes | None = None


@dataclass
class _Job:
    """A feed or a report: processed one step per poll."""

    job_id: str
    seller_id: str
    job_type: str
    marketplace_ids: list[str]
    created: datetime
    input_document: str | None = None
    status: str = "IN_QUEUE"
    polls: int = 0
    started: datetime | None = None
    ended: datetime | None = None
    result_document: str | None = None
    data_start: datetime | None = None
    data_end: datetime | None = None


@dataclass
class _OrderItem:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass
class _Order:
    order_id: str
    seller_id: str
    marketplace_id: str
    currency: str
    created: datetime
    updated: datetime
    items: list[_OrderItem]
    status: str = "Unshipped"  # Orders v0's words; Orders 2026-01-01 says UNSHIPPED

    def total(self) -> Decimal:
        return sum((i.unit_price * i.quantity for i in self.items), Decimal("0"))


@dataclass
class _Feedback:
    seller_id: str
    marketplace_id: str
    order_id: str
    sku: str
    rating: int
    text: str
    date: datetime
    rater_email: str


@dataclass
class _Page:
    """What is left of a search, behind a page token."""

    seller_id: str
    api: str
    order_ids: list[str]
    size: int
    included: list[str]
    expires: datetime


@dataclass(frozen=True, slots=True)
class _Search:
    """The query parameters of an order search: Orders 2026-01-01 and v0 name them apart."""

    api: str
    created_after: str
    created_before: str
    updated_after: str
    updated_before: str
    marketplaces: str
    page_size: str
    statuses: str
    token: str

    def status(self, order: _Order) -> str:
        """The order's status in this version's words."""
        return order.status if self.api == "v0" else _fulfillment_status(order)


SEARCH_2026 = _Search("2026-01-01", "createdAfter", "createdBefore", "lastUpdatedAfter",
                      "lastUpdatedBefore", "marketplaceIds", "maxResultsPerPage",
                      "fulfillmentStatuses", "paginationToken")  # fmt: skip
SEARCH_V0 = _Search("v0", "CreatedAfter", "CreatedBefore", "LastUpdatedAfter",
                    "LastUpdatedBefore", "MarketplaceIds", "MaxResultsPerPage",
                    "OrderStatuses", "NextToken")  # fmt: skip


@dataclass
class _State:
    clients: dict[str, str] = field(default_factory=dict)  # LWA client id -> secret
    grants: dict[str, _Grant] = field(default_factory=dict)  # refresh token -> grant
    sellers: dict[str, list[str]] = field(default_factory=dict)  # seller -> marketplaces
    tokens: dict[str, _Token] = field(default_factory=dict)
    listings: dict[tuple[str, str], _Listing] = field(default_factory=dict)  # (seller, sku)
    documents: dict[str, _Document] = field(default_factory=dict)
    feeds: dict[str, _Job] = field(default_factory=dict)
    reports: dict[str, _Job] = field(default_factory=dict)
    orders: dict[str, _Order] = field(default_factory=dict)
    feedback: list[_Feedback] = field(default_factory=list)
    pages: dict[str, _Page] = field(default_factory=dict)
    seq: int = 0


# ---------------------------------------------------------------- attribute helpers
def _our_offer(offers: Any, marketplace_id: str) -> dict[str, Any] | None:
    """The purchasable offer to all buyers (audience ALL) of a store, as the seller sent it."""
    if not isinstance(offers, list):
        return None
    for entry in offers:
        if (
            isinstance(entry, dict)
            and entry.get("marketplace_id") in (None, marketplace_id)
            and entry.get("audience", "ALL") == "ALL"
        ):
            return entry
    return None


def _default_channel(entries: Any) -> dict[str, Any] | None:
    """The seller-fulfilled stock entry (channel DEFAULT) of fulfillment_availability."""
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("fulfillment_channel_code") == "DEFAULT":
            return entry
    return None


def _price_problem(entry: dict[str, Any], currency: str) -> str | None:
    if entry.get("currency") != currency:
        return f"the currency must be {currency}, the store's, not {entry.get('currency')!r}"
    try:
        value = entry["our_price"][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return "our_price[0].schedule[0].value_with_tax is required"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "value_with_tax must be a number"
    amount = Decimal(str(value))
    exponent = amount.as_tuple().exponent
    if amount <= 0 or not isinstance(exponent, int) or exponent < -2:
        return "value_with_tax must be above 0 with at most 2 decimals"
    return None


def _fulfillment_status(order: _Order) -> str:
    """Orders 2026-01-01's word for an order's status (v0 says Canceled, Unshipped)."""
    return "CANCELLED" if order.status == "Canceled" else order.status.upper()


def _values(request: Request, name: str) -> list[str]:
    """A list parameter, sent comma-separated or repeated."""
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


def _same_entry(existing: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Does a patch value address this attribute entry? By the identifying keys it names."""
    keys = ("marketplace_id", "language_tag", "fulfillment_channel_code", "audience", "currency")
    return all(existing.get(k) == patch[k] for k in keys if k in patch)


class AmazonSandbox(Emulator):
    """The Amazon SP-API emulator (see the module's docstring)."""

    name = "amazon"
    state: _State
    default_page_size = 100  # Amazon's default maxResultsPerPage; tests may lower it

    def now(self) -> datetime:
        """The wall clock (``self.wall``): token expiry, order and feedback times, URL expiry."""
        return datetime.fromtimestamp(self.wall(), UTC)

    def reset_state(self) -> None:
        state = _State(clients={DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
        for seller, (refresh_token, marketplace) in DEMO_SELLERS.items():
            state.grants[refresh_token] = _Grant(DEMO_CLIENT_ID, seller)
            state.sellers[seller] = [marketplace]
        self.state = state

    # ---------------------------------------------------------------- plumbing
    def _now(self) -> datetime:
        return self.now().astimezone(UTC).replace(microsecond=0)

    def _next(self) -> int:
        self.state.seq += 1
        return self.state.seq

    def _id(self, kind: str, length: int = 32) -> str:
        """Deterministic ids: the same calls give the same ids (reproducible runs)."""
        return _digest(kind, str(self._next()), length=length)

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

    def _json(self, content: Any, status: int = 200) -> JSONResponse:
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

    def _seller(self, request: Request) -> str:
        return self.state.tokens[request.headers["x-amz-access-token"]].seller_id

    def _check_query(self, request: Request, operation_id: str) -> None:
        """400 for a query the model refuses: a required parameter missing, a bad value."""
        op = spec.operation(operation_id, request.method, request.url.path)
        query = {k: request.query_params.getlist(k) for k in request.query_params}
        problems = spec.parameter_problems(op, query)
        if problems:
            raise ApiError(400, "InvalidInput", "Invalid input", details="; ".join(problems))

    def _marketplaces(self, seller: str, values: list[str], *, default: bool = False) -> list[str]:
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

    async def _body(self, request: Request, operation_id: str) -> Any:
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

    # ---------------------------------------------------------------- routes
    def routes(self) -> list[BaseRoute]:
        op = self.operation
        items = "/listings/2021-08-01/items/{seller_id}/{sku}"
        feeds, reports = "/feeds/2021-06-30", "/reports/2021-06-30"
        return [
            Route("/auth/o2/token", op("lwaToken", self._lwa_token), methods=["POST"]),
            Route(items, op("putListingsItem", self._put_item, write=True), methods=["PUT"]),
            Route(items, op("patchListingsItem", self._patch_item, write=True), methods=["PATCH"]),
            Route(items, op("getListingsItem", self._get_item), methods=["GET"]),
            Route(
                items, op("deleteListingsItem", self._delete_item, write=True), methods=["DELETE"]
            ),
            Route(
                f"{feeds}/documents",
                op("createFeedDocument", self._create_feed_document, write=True),
                methods=["POST"],
            ),
            Route(
                f"{feeds}/documents/{{document_id}}",
                op("getFeedDocument", self._get_feed_document),
                methods=["GET"],
            ),
            Route(
                f"{feeds}/feeds", op("createFeed", self._create_feed, write=True), methods=["POST"]
            ),
            Route(f"{feeds}/feeds/{{feed_id}}", op("getFeed", self._get_feed), methods=["GET"]),
            Route("/orders/2026-01-01/orders", op("searchOrders", self._search_orders)),
            Route("/orders/2026-01-01/orders/{order_id}", op("getOrder", self._get_order)),
            Route("/orders/v0/orders", op("getOrders", self._get_orders_v0)),
            Route("/orders/v0/orders/{order_id}", op("getOrder", self._get_order_v0)),
            Route(
                "/orders/v0/orders/{order_id}/orderItems",
                op("getOrderItems", self._get_order_items_v0),
            ),
            Route(
                f"{reports}/reports",
                op("createReport", self._create_report, write=True),
                methods=["POST"],
            ),
            Route(f"{reports}/reports/{{report_id}}", op("getReport", self._get_report)),
            Route(
                f"{reports}/documents/{{document_id}}",
                op("getReportDocument", self._get_report_document),
            ),
            Route("/_documents/{document_id}", self._document, methods=["GET", "PUT"]),
            Route("/{path:path}", self._unknown),
        ]

    async def _unknown(self, request: Request) -> Response:
        return self.error(ApiError(404, "NotFound", "The requested resource was not found."))

    # ---------------------------------------------------------------- LWA
    async def _lwa_token(self, request: Request) -> Response:
        """Login with Amazon: a refresh token for a one-hour access token."""
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        if form.get("grant_type") != "refresh_token":
            raise ApiError(
                400,
                "unsupported_grant_type",
                f"The authorization grant type {form.get('grant_type')!r} is not supported.",
            )
        missing = [k for k in ("refresh_token", "client_id", "client_secret") if not form.get(k)]
        if missing:
            raise ApiError(400, "invalid_request", f"Missing parameter: {missing[0]}")
        with self.lock:
            secret = self.state.clients.get(form["client_id"])
            sent = form["client_secret"].encode()
            if secret is None or not secrets.compare_digest(secret.encode(), sent):
                raise ApiError(401, "invalid_client", "Client authentication failed")
            grant = self.state.grants.get(form["refresh_token"])
            if grant is None or grant.revoked or grant.client_id != form["client_id"]:
                raise ApiError(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            access = "Atza|" + secrets.token_urlsafe(48)
            self.state.tokens[access] = _Token(grant.seller_id, self.now() + TOKEN_LIFETIME)
        return self._json(
            {
                "access_token": access,
                "refresh_token": form["refresh_token"],
                "token_type": "bearer",
                "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            }
        )

    def revoke(self, refresh_token: str) -> None:
        """The seller withdraws the application's authorisation: LWA refuses the token."""
        with self.lock:
            self.state.grants[refresh_token].revoked = True

    # ---------------------------------------------------------------- listings rules
    def _check_listing(
        self,
        product_type: str,
        requirements: str,
        attributes: dict[str, Any],
        marketplace_id: str,
    ) -> list[dict[str, Any]]:
        """The issues Amazon would raise for these attributes (none: the listing is valid)."""
        if product_type not in PRODUCT_TYPES:
            return [
                _issue(
                    BAD_PRODUCT_TYPE,
                    "The Amazon product type specified is invalid or not supported.",
                )
            ]
        issues = []
        required: list[str] = []
        if requirements != "LISTING_OFFER_ONLY":
            required += [*PRODUCT_FACTS, *PRODUCT_TYPES[product_type]]
        if requirements != "LISTING_PRODUCT_ONLY":
            required += OFFER_TERMS
        for name in required:
            if not attributes.get(name):
                message = f"'{name}' is required but not supplied."
                issues.append(_issue(MISSING, message, [name], "MISSING_ATTRIBUTE"))
        for name, value in attributes.items():
            problem = self._value_problem(name, value, marketplace_id)
            if problem:
                message = f"The provided value for '{name}' is invalid: {problem}."
                issues.append(_issue(BAD_VALUE, message, [name], "INVALID_ATTRIBUTE"))
        return issues

    def _value_problem(self, name: str, value: Any, marketplace_id: str) -> str | None:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return "an attribute is a list of objects"
        for entry in value:
            if entry.get("marketplace_id") not in (None, marketplace_id):
                return f"marketplace_id {entry['marketplace_id']!r} is not this request's"
        if name in ("item_name", "brand", "product_description", "material", "item_form"):
            limit = {"item_name": MAX_TITLE, "product_description": MAX_DESCRIPTION}.get(name)
            for entry in value:
                text = entry.get("value")
                if not isinstance(text, str) or not text.strip():
                    return "each value must be a non-empty text"
                if limit and len(text) > limit:
                    return f"at most {limit} characters, not {len(text)}"
        if name == "condition_type" and any(e.get("value") not in CONDITIONS for e in value):
            return f"the condition must be one of {', '.join(CONDITIONS)}"
        if name == "purchasable_offer":
            entry = _our_offer(value, marketplace_id)
            if entry is None:
                return "no offer to all buyers (audience ALL) in this store"
            return _price_problem(entry, MARKETPLACES[marketplace_id].currency)
        if name == "fulfillment_availability":
            for entry in value:
                quantity = entry.get("quantity", 0)
                if not isinstance(entry.get("fulfillment_channel_code"), str):
                    return "fulfillment_channel_code is required"
                if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                    return "quantity must be a whole number from 0"
        return None

    def _asin(self, seller: str, sku: str) -> str:
        return "B0" + _digest("asin", seller, sku, length=8).upper()

    def _put(
        self,
        seller: str,
        sku: str,
        marketplace: str,
        product_type: str,
        requirements: str,
        attributes: dict[str, Any],
        *,
        preview: bool = False,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Create or fully replace a listing (putListingsItem, a feed's UPDATE)."""
        issues = self._check_listing(product_type, requirements, attributes, marketplace)
        if issues:
            return "INVALID", issues
        if preview:
            return "VALID", []
        existing = self.state.listings.get((seller, sku))
        now = self._now()
        self.state.listings[(seller, sku)] = _Listing(
            seller,
            sku,
            marketplace,
            product_type,
            requirements,
            copy.deepcopy(attributes),
            self._asin(seller, sku),
            existing.created if existing else now,
            now,
        )
        return "ACCEPTED", []

    def _patch(
        self,
        seller: str,
        sku: str,
        marketplace: str,
        product_type: str,
        patches: list[dict[str, Any]],
        *,
        preview: bool = False,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Apply JSON patches to a listing's top-level attributes (patchListingsItem, a
        feed's PATCH and PARTIAL_UPDATE); nothing changes unless the result is valid."""
        listing = self.state.listings.get((seller, sku))
        if listing is None or listing.marketplace_id != marketplace:
            message = f"SKU '{sku}' is not listed in marketplace {marketplace}: put it first."
            return "INVALID", [_issue(NOT_LISTED, message)]
        attributes = copy.deepcopy(listing.attributes)
        for patch in patches:
            found = re.fullmatch(r"/attributes/([A-Za-z0-9_]+)", patch["path"])
            if found is None:
                message = f"Only top-level attributes can be patched, not {patch['path']!r}."
                return "INVALID", [_issue(BAD_VALUE, message)]
            name, value = found.group(1), patch.get("value")
            if patch["op"] != "delete" and value is None:
                message = f"The {patch['op']} of '{name}' needs a value."
                return "INVALID", [_issue(BAD_VALUE, message, [name])]
            if patch["op"] in ("add", "replace"):
                attributes[name] = copy.deepcopy(value)
            elif patch["op"] == "merge":
                entries = attributes.setdefault(name, [])
                for new in value or []:
                    match = next((e for e in entries if _same_entry(e, new)), None)
                    if match is None:
                        entries.append(copy.deepcopy(new))
                    else:
                        match.update(copy.deepcopy(new))
            elif value is None:
                attributes.pop(name, None)
            else:
                kept = [
                    e for e in attributes.get(name, []) if not any(_same_entry(e, v) for v in value)
                ]
                if kept:
                    attributes[name] = kept
                else:
                    attributes.pop(name, None)
        status, issues = self._put(
            seller,
            sku,
            marketplace,
            product_type,
            listing.requirements,
            attributes,
            preview=True,
        )
        if status != "VALID" or preview:
            return status, issues
        listing.attributes = attributes
        listing.product_type = product_type
        listing.updated = self._now()
        return "ACCEPTED", []

    def _delete(self, seller: str, sku: str, marketplace: str) -> tuple[str, list[dict[str, Any]]]:
        """Delete a listing. Amazon accepts the deletion of a SKU it does not have."""
        listing = self.state.listings.get((seller, sku))
        if listing is not None and listing.marketplace_id == marketplace:
            del self.state.listings[(seller, sku)]
        return "ACCEPTED", []

    # ---------------------------------------------------------------- Listings Items API
    def _submission(
        self, sku: str, status: str, issues: list[dict[str, Any]], request: Request
    ) -> Response:
        included = ",".join(request.query_params.getlist("includedData")) or "issues"
        body: dict[str, Any] = {"sku": sku, "status": status, "submissionId": self._id("sub")}
        if "issues" in included.split(","):
            body["issues"] = issues
        if "identifiers" in included.split(",") and request.query_params.get("mode"):
            seller = request.path_params["seller_id"]
            marketplace = request.query_params.getlist("marketplaceIds")[0].split(",")[0]
            body["identifiers"] = (
                [{"marketplaceId": marketplace, "asin": self._asin(seller, sku)}]
                if status == "VALID"
                else []
            )
        return self._json(body)

    async def _put_item(self, request: Request) -> Response:
        self._check_query(request, "putListingsItem")
        body = await self._body(request, "putListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        with self.lock:
            (marketplace,) = self._marketplaces(
                seller, request.query_params.getlist("marketplaceIds")
            )
            status, issues = self._put(
                seller,
                sku,
                marketplace,
                body["productType"],
                body.get("requirements", "LISTING"),
                body["attributes"],
                preview=preview,
            )
        return self._submission(sku, status, issues, request)

    async def _patch_item(self, request: Request) -> Response:
        self._check_query(request, "patchListingsItem")
        body = await self._body(request, "patchListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        with self.lock:
            marketplaces = self._marketplaces(
                seller, request.query_params.getlist("marketplaceIds")
            )
            status, issues = self._patch(
                seller, sku, marketplaces[0], body["productType"], body["patches"], preview=preview
            )
        return self._submission(sku, status, issues, request)

    async def _delete_item(self, request: Request) -> Response:
        self._check_query(request, "deleteListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        with self.lock:
            (marketplace,) = self._marketplaces(
                seller, request.query_params.getlist("marketplaceIds")
            )
            status, issues = self._delete(seller, sku, marketplace)
        return self._submission(sku, status, issues, request)

    async def _get_item(self, request: Request) -> Response:
        self._check_query(request, "getListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        included = [
            v for raw in request.query_params.getlist("includedData") for v in raw.split(",")
        ] or ["summaries"]
        with self.lock:
            marketplaces = self._marketplaces(
                seller, request.query_params.getlist("marketplaceIds")
            )
            listing = self.state.listings.get((seller, sku))
            if listing is None or listing.marketplace_id not in marketplaces:
                where = ",".join(marketplaces)
                raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {where}")
            return self._json(self._item(listing, included))

    def _item(self, listing: _Listing, included: list[str]) -> dict[str, Any]:
        """A listing as getListingsItem shows it, with the data sets asked for."""
        item: dict[str, Any] = {"sku": listing.sku}
        if "summaries" in included:
            summary = {
                "marketplaceId": listing.marketplace_id,
                "asin": listing.asin,
                "productType": listing.product_type,
                "status": listing.statuses(),
                "itemName": listing.title(),
                "createdDate": _iso(listing.created),
                "lastUpdatedDate": _iso(listing.updated),
            }
            condition = (listing.attributes.get("condition_type") or [{}])[0].get("value")
            if condition in CONDITIONS:
                summary["conditionType"] = condition
            item["summaries"] = [summary]
        if "attributes" in included:
            item["attributes"] = copy.deepcopy(listing.attributes)
        if "issues" in included:
            item["issues"] = []
        if "offers" in included:
            offer = listing.offer()
            item["offers"] = (
                [
                    {
                        "marketplaceId": listing.marketplace_id,
                        "offerType": "B2C",
                        "price": {"currencyCode": offer[1], "amount": str(offer[0])},
                        "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
                    }
                ]
                if offer
                else []
            )
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [
                {
                    "fulfillmentChannelCode": e["fulfillment_channel_code"],
                    "quantity": e.get("quantity", 0),
                }
                for e in listing.attributes.get("fulfillment_availability", [])
            ]
        if "productTypes" in included:
            item["productTypes"] = [
                {"marketplaceId": listing.marketplace_id, "productType": listing.product_type}
            ]
        if "relationships" in included:
            item["relationships"] = [{"marketplaceId": listing.marketplace_id, "relationships": []}]
        if "procurement" in included:
            item["procurement"] = []
        return item

    # ---------------------------------------------------------------- documents (S3-like)
    def _new_document(
        self, seller: str, kind: str, content_type: str, data: bytes | None
    ) -> _Document:
        prefix = "amzn1.spdoc.1.4.na." if kind == "report" else "amzn1.tortuga.4.na."
        document = _Document(prefix + self._id(kind), seller, kind, content_type, data)
        self.state.documents[document.document_id] = document
        return document

    def _url(self, document: _Document) -> str:
        stamp = self._now().strftime("%Y%m%dT%H%M%SZ")
        expires = int(URL_LIFETIME.total_seconds())
        return (
            f"{self.base_url}/_documents/{document.document_id}"
            f"?X-Amz-Date={stamp}&X-Amz-Expires={expires}"
        )

    def _s3_error(self, status: int, code: str, message: str) -> Response:
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        return Response(xml, status_code=status, media_type="application/xml")

    async def _document(self, request: Request) -> Response:
        """A presigned URL: no token, but it expires, and an upload must keep the declared
        Content-Type (it is part of the signature)."""
        try:
            signed = datetime.strptime(request.query_params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            lifetime = timedelta(seconds=int(request.query_params["X-Amz-Expires"]))
        except (KeyError, ValueError):
            return self._s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the X-Amz-Date and X-Amz-Expires parameters",
            )
        if self.now() > signed.replace(tzinfo=UTC) + lifetime:
            return self._s3_error(403, "AccessDenied", "Request has expired")
        data = await request.body()
        with self.lock:
            document = self.state.documents.get(request.path_params["document_id"])
            if document is None:
                return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
            if request.method == "GET":
                if document.data is None:
                    return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
                return Response(document.data, media_type=document.content_type)
            if document.kind != "feed":
                return self._s3_error(403, "AccessDenied", "Access Denied")
            sent = request.headers.get("content-type", "")
            if sent.replace(" ", "").lower() != document.content_type.replace(" ", "").lower():
                return self._s3_error(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you "
                    f"provided (Content-Type {sent!r}, signed for {document.content_type!r}).",
                )
            document.data = data
        return Response(
            b"", status_code=200, headers={"ETag": f'"{_digest(document.document_id)}"'}
        )

    # ---------------------------------------------------------------- Feeds API
    async def _create_feed_document(self, request: Request) -> Response:
        body = await self._body(request, "createFeedDocument")
        with self.lock:
            document = self._new_document(self._seller(request), "feed", body["contentType"], None)
            url = self._url(document)
        return self._json({"feedDocumentId": document.document_id, "url": url}, 201)

    async def _create_feed(self, request: Request) -> Response:
        body = await self._body(request, "createFeed")
        seller = self._seller(request)
        if body["feedType"] not in FEED_TYPES:
            raise ApiError(
                400,
                "InvalidInput",
                f"Feed type {body['feedType']} is not supported by the sandbox "
                f"(it serves {', '.join(FEED_TYPES)}).",
            )
        with self.lock:
            marketplaces = self._marketplaces(seller, body["marketplaceIds"])
            document = self.state.documents.get(body["inputFeedDocumentId"])
            if document is None or document.seller_id != seller or document.kind != "feed":
                raise ApiError(400, "InvalidInput", "Invalid inputFeedDocumentId.")
            job = _Job(
                str(50_000_000_000 + self._next()),
                seller,
                body["feedType"],
                marketplaces,
                self._now(),
                input_document=document.document_id,
            )
            self.state.feeds[job.job_id] = job
        return self._json({"feedId": job.job_id}, 202)

    def _poll(self, job: _Job, finish: Callable[[_Job], None]) -> None:
        """One step per poll: IN_QUEUE, then IN_PROGRESS, then finished."""
        if job.status == "IN_QUEUE" and job.polls >= 1:
            job.status, job.started = "IN_PROGRESS", self._now()
        elif job.status == "IN_PROGRESS":
            finish(job)
            job.ended = self._now()
        job.polls += 1

    def _job_json(self, job: _Job, id_key: str, type_key: str, document_key: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            id_key: job.job_id,
            type_key: job.job_type,
            "marketplaceIds": job.marketplace_ids,
            "createdTime": _iso(job.created),
            "processingStatus": job.status,
        }
        if job.data_start:
            out["dataStartTime"] = _iso(job.data_start)
        if job.data_end:
            out["dataEndTime"] = _iso(job.data_end)
        if job.started:
            out["processingStartTime"] = _iso(job.started)
        if job.ended:
            out["processingEndTime"] = _iso(job.ended)
        if job.result_document:
            out[document_key] = job.result_document
        return out

    async def _get_feed(self, request: Request) -> Response:
        with self.lock:
            job = self.state.feeds.get(request.path_params["feed_id"])
            if job is None or job.seller_id != self._seller(request):
                raise ApiError(404, "NotFound", "The feed was not found.")
            self._poll(job, self._finish_feed)
            return self._json(self._job_json(job, "feedId", "feedType", "resultFeedDocumentId"))

    async def _get_feed_document(self, request: Request) -> Response:
        with self.lock:
            document = self.state.documents.get(request.path_params["document_id"])
            if (
                document is None
                or document.seller_id != self._seller(request)
                or document.kind == "report"
            ):
                raise ApiError(404, "NotFound", "The feed document was not found.")
            return self._json({"feedDocumentId": document.document_id, "url": self._url(document)})

    def _finish_feed(self, job: _Job) -> None:
        report, fatal = self._process_feed(job)
        job.status = "FATAL" if fatal else "DONE"
        data = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8")
        document = self._new_document(
            job.seller_id, "feed-result", "application/json; charset=UTF-8", data
        )
        job.result_document = document.document_id

    def _process_feed(self, job: _Job) -> tuple[dict[str, Any], bool]:
        """Apply a JSON listings feed message by message; the processing report, and whether
        the whole feed was refused (FATAL)."""
        header: dict[str, Any] = {"sellerId": job.seller_id, "version": "2.0", "feedId": job.job_id}
        counts = ("warnings", "messagesProcessed", "messagesAccepted", "messagesInvalid")
        empty = {"errors": 1, **dict.fromkeys(counts, 0)}

        def fatal(message: str) -> tuple[dict[str, Any], bool]:
            issue = {"code": FATAL, "severity": "ERROR", "message": message}
            return {"header": header, "issues": [issue], "summary": empty}, True

        document = self.state.documents.get(job.input_document or "")
        if document is None or document.data is None:
            return fatal("The feed document was never uploaded.")
        if len(document.data) > MAX_FEED:
            return fatal(f"The feed document is larger than {MAX_FEED} bytes.")
        try:
            text = document.data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as err:
            return fatal(
                f"The feed document is not UTF-8 (byte 0x{document.data[err.start]:02x} at "
                f"position {err.start}): encode it as UTF-8."
            )
        try:
            feed = json.loads(text)
        except ValueError as err:
            return fatal(f"The feed document is not JSON: {err}.")
        problems = spec.feed_envelope_problems(feed)
        if problems:
            return fatal(
                "The feed does not follow the JSON listings feed schema: " + "; ".join(problems)
            )
        if feed["header"]["sellerId"] != job.seller_id:
            return fatal(
                f"The feed header's sellerId {feed['header']['sellerId']} is not the seller "
                "who submitted the feed."
            )
        included = feed["header"].get("report", {}).get("includedData")
        if included:
            header["report"] = feed["header"]["report"]
        issues: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        accepted = invalid = 0
        seen: set[int] = set()
        marketplace = job.marketplace_ids[0]
        for message in feed["messages"]:
            status, found = self._apply_message(job.seller_id, marketplace, message, seen)
            where = {k: message[k] for k in ("messageId", "sku") if _report_key(message, k)}
            for issue in found:
                entry = {**where, **{k: issue[k] for k in ("code", "severity", "message")}}
                if issue.get("attributeNames"):
                    entry["attributeName"] = issue["attributeNames"][0]
                issues.append(entry)
            if status == "ACCEPTED":
                accepted += 1
                listing = self.state.listings.get((job.seller_id, message["sku"]))
                if included and listing is not None:
                    items.append(self._item(listing, included))
            else:
                invalid += 1
        report: dict[str, Any] = {
            "header": header,
            "issues": issues,
            "summary": {
                "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
                "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                "messagesProcessed": accepted + invalid,
                "messagesAccepted": accepted,
                "messagesInvalid": invalid,
            },
        }
        if included:
            report["summary"]["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
            report["items"] = items
        return report, False

    def _apply_message(
        self, seller: str, marketplace: str, message: dict[str, Any], seen: set[int]
    ) -> tuple[str, list[dict[str, Any]]]:
        """One feed message, applied as the Listings Items API would apply it."""
        problems = spec.message_problems(message)
        if problems:
            return "INVALID", [
                _issue(BAD_MESSAGE, f"The message is invalid: {p}") for p in problems
            ]
        if message["messageId"] in seen:
            return "INVALID", [_issue(BAD_MESSAGE, "The messageId is used by another message.")]
        seen.add(message["messageId"])
        sku, operation = message["sku"], message["operationType"]
        if operation == "UPDATE":
            return self._put(
                seller,
                sku,
                marketplace,
                message["productType"],
                message.get("requirements", "LISTING"),
                message["attributes"],
            )
        if operation == "DELETE":
            return self._delete(seller, sku, marketplace)
        patches = message.get("patches") or [
            {"op": "replace", "path": f"/attributes/{name}", "value": value}
            for name, value in message["attributes"].items()
        ]
        return self._patch(seller, sku, marketplace, message["productType"], patches)

    # ---------------------------------------------------------------- Orders
    def _order_2026(self, order: _Order, included: list[str]) -> dict[str, Any]:
        """An order as Orders 2026-01-01 shows it: items inside, data sets on request."""
        cancelled = order.status == "Canceled"
        items = []
        for item in order.items:
            entry: dict[str, Any] = {
                "orderItemId": item.order_item_id,
                "quantityOrdered": item.quantity,
                "product": {
                    "asin": item.asin,
                    "title": item.title,
                    "sellerSku": item.sku,
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": self._money(item.unit_price, order.currency)},
                },
            }
            if "PROCEEDS" in included:
                subtotal = self._money(item.unit_price * item.quantity, order.currency)
                entry["proceeds"] = {
                    "proceedsTotal": subtotal,
                    "breakdowns": [{"type": "ITEM", "subtotal": subtotal}],
                }
            if "FULFILLMENT" in included:
                entry["fulfillment"] = {
                    "quantityFulfilled": 0,
                    "quantityUnfulfilled": 0 if cancelled else item.quantity,
                }
            if "CANCELLATION" in included and cancelled:
                entry["cancellation"] = {
                    "cancellationExecution": {
                        "cancelledBy": "BUYER",
                        "cancelReason": "Buyer canceled",
                    }
                }
            items.append(entry)
        out: dict[str, Any] = {
            "orderId": order.order_id,
            "createdTime": _iso(order.created),
            "lastUpdatedTime": _iso(order.updated),
            "salesChannel": {
                "channelName": "AMAZON",
                "marketplaceId": order.marketplace_id,
                "marketplaceName": MARKETPLACES[order.marketplace_id].name,
            },
            "orderItems": items,
        }
        if "BUYER" in included:
            out["buyer"] = {"buyerEmail": self._relay_email(order.order_id)}
        if "PROCEEDS" in included:
            total = self._money(order.total(), order.currency)
            out["proceeds"] = {
                "grandTotal": total,
                "breakdowns": [{"type": "ITEM", "subtotal": total}],
            }
        if "FULFILLMENT" in included:
            out["fulfillment"] = {
                "fulfillmentStatus": _fulfillment_status(order),
                "fulfilledBy": "MERCHANT",
                "fulfillmentServiceLevel": "STANDARD",
            }
        return out

    def _money(self, amount: Decimal, currency: str) -> dict[str, str]:
        return {"amount": str(amount), "currencyCode": currency}

    def _relay_email(self, order_id: str) -> str:
        """Amazon hides buyers behind relay addresses; never a real person's."""
        return f"{_digest('buyer', order_id)}@marketplace.amazon.com"

    def _order_v0(self, order: _Order) -> dict[str, Any]:
        cancelled = order.status == "Canceled"
        quantity = sum(i.quantity for i in order.items)
        out: dict[str, Any] = {
            "AmazonOrderId": order.order_id,
            "PurchaseDate": _iso(order.created),
            "LastUpdateDate": _iso(order.updated),
            "OrderStatus": order.status,
            "FulfillmentChannel": "MFN",
            "SalesChannel": MARKETPLACES[order.marketplace_id].name,
            "ShipServiceLevel": "Std Dom",
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": 0 if cancelled else quantity,
            "PaymentMethod": "Other",
            "MarketplaceId": order.marketplace_id,
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": _iso(order.created + timedelta(days=1)),
            "LatestShipDate": _iso(order.created + timedelta(days=3)),
            "IsBusinessOrder": False,
            "IsPrime": False,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
        }
        if not cancelled:  # Amazon drops the total of a cancelled order
            out["OrderTotal"] = {"CurrencyCode": order.currency, "Amount": str(order.total())}
        return out

    def _when(self, request: Request, name: str) -> datetime | None:
        raw = request.query_params.get(name)
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            message = f"{name} {raw!r} is not an ISO 8601 date-time."
            raise ApiError(400, "InvalidInput", message) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    def _search(
        self, request: Request, names: _Search
    ) -> tuple[list[_Order], list[str], dict[str, Any]]:
        """One page of an order search (both versions share the rules, not the names): its
        orders, the data sets asked for, and what the answer adds (the next page's token,
        the cut-off time)."""
        seller = self._seller(request)
        token = request.query_params.get(names.token)
        if token:
            page = self.state.pages.pop(token, None)
            if (
                page is None
                or page.seller_id != seller
                or page.api != names.api
                or page.expires < self.now()
            ):
                raise ApiError(400, "InvalidInput", f"Invalid or expired {names.token}.")
            return self._paginate(page, {})
        created_after = self._when(request, names.created_after)
        created_before = self._when(request, names.created_before)
        updated_after = self._when(request, names.updated_after)
        updated_before = self._when(request, names.updated_before)
        if (created_after is None) == (updated_after is None):
            message = f"Exactly one of {names.created_after} and {names.updated_after} is needed."
            raise ApiError(400, "InvalidInput", message)
        if (created_after and updated_before) or (updated_after and created_before):
            message = "Created and last-updated times cannot be mixed in one search."
            raise ApiError(400, "InvalidInput", message)
        after = created_after or updated_after
        assert after is not None
        before = created_before or updated_before
        if before is not None and not after <= before <= self.now() - timedelta(minutes=2):
            message = (
                f"{names.created_before if created_before else names.updated_before} must be "
                "after the start and at least two minutes before the time of the request."
            )
            raise ApiError(400, "InvalidInput", message)
        marketplaces = self._marketplaces(
            seller, request.query_params.getlist(names.marketplaces), default=True
        )
        try:
            size = int(request.query_params.get(names.page_size) or self.default_page_size)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", f"{names.page_size} must be between 1 and 100.")
        statuses = _values(request, names.statuses)
        by_created = created_after is not None
        selected = sorted(
            (
                o
                for o in self.state.orders.values()
                if o.seller_id == seller
                and o.marketplace_id in marketplaces
                and after <= (o.created if by_created else o.updated)
                and (before is None or (o.created if by_created else o.updated) <= before)
                and (not statuses or names.status(o) in statuses)
            ),
            key=lambda o: (o.created if by_created else o.updated, o.order_id),
        )
        page = _Page(
            seller,
            names.api,
            [o.order_id for o in selected],
            size,
            _values(request, "includedData"),
            self.now() + PAGE_TOKEN_LIFETIME,
        )
        cutoff = names.created_before if by_created else names.updated_before
        return self._paginate(page, {cutoff: _iso(before or self._now())})

    def _paginate(
        self, page: _Page, extra: dict[str, Any]
    ) -> tuple[list[_Order], list[str], dict[str, Any]]:
        """This page's orders; the token of the next page (if any) joins ``extra``."""
        now, rest = page.order_ids[: page.size], page.order_ids[page.size :]
        if rest:
            token = secrets.token_urlsafe(24)
            self.state.pages[token] = replace(page, order_ids=rest)
            extra = {**extra, "nextToken": token}
        orders = [self.state.orders[i] for i in now if i in self.state.orders]
        return orders, page.included, extra

    async def _search_orders(self, request: Request) -> Response:
        self._check_query(request, "searchOrders")
        with self.lock:
            orders, included, extra = self._search(request, SEARCH_2026)
            body: dict[str, Any] = {"orders": [self._order_2026(o, included) for o in orders]}
        if "nextToken" in extra:
            body["pagination"] = {"nextToken": extra.pop("nextToken")}
        return self._json({**body, **extra})

    async def _get_orders_v0(self, request: Request) -> Response:
        if not request.query_params.get("NextToken"):  # with a token, the filters are its own
            self._check_query(request, "getOrders")
        with self.lock:
            orders, _, extra = self._search(request, SEARCH_V0)
            payload: dict[str, Any] = {"Orders": [self._order_v0(o) for o in orders]}
        if "nextToken" in extra:
            payload["NextToken"] = extra.pop("nextToken")
        return self._json({"payload": {**payload, **extra}})

    def _find_order(self, request: Request) -> _Order:
        order = self.state.orders.get(request.path_params["order_id"])
        if order is None or order.seller_id != self._seller(request):
            message = f"Order {request.path_params['order_id']} was not found."
            raise ApiError(404, "NotFound", message)
        return order

    async def _get_order(self, request: Request) -> Response:
        self._check_query(request, "getOrder")
        with self.lock:
            order = self._order_2026(self._find_order(request), _values(request, "includedData"))
        return self._json({"order": order})

    async def _get_order_v0(self, request: Request) -> Response:
        with self.lock:
            return self._json({"payload": self._order_v0(self._find_order(request))})

    async def _get_order_items_v0(self, request: Request) -> Response:
        with self.lock:
            order = self._find_order(request)
            items = [
                {
                    "ASIN": item.asin,
                    "SellerSKU": item.sku,
                    "OrderItemId": item.order_item_id,
                    "Title": item.title,
                    "QuantityOrdered": item.quantity,
                    "QuantityShipped": 0,
                    "ItemPrice": {  # v0: the price of the whole line
                        "CurrencyCode": order.currency,
                        "Amount": str(item.unit_price * item.quantity),
                    },
                    "ItemTax": {"CurrencyCode": order.currency, "Amount": "0.00"},
                    "PromotionDiscount": {"CurrencyCode": order.currency, "Amount": "0.00"},
                    "IsGift": "false",
                    "ConditionId": "New",
                    "ConditionSubtypeId": "New",
                    "IsTransparency": False,
                }
                for item in order.items
            ]
            return self._json({"payload": {"AmazonOrderId": order.order_id, "OrderItems": items}})

    # ---------------------------------------------------------------- Reports
    async def _create_report(self, request: Request) -> Response:
        body = await self._body(request, "createReport")
        seller = self._seller(request)
        if body["reportType"] not in REPORT_TYPES:
            raise ApiError(
                400,
                "InvalidInput",
                f"Report type {body['reportType']} is not supported by the sandbox "
                f"(it serves {', '.join(REPORT_TYPES)}).",
            )
        start, end = (self._body_time(body, k) for k in ("dataStartTime", "dataEndTime"))
        if start and end and end < start:
            raise ApiError(400, "InvalidInput", "dataEndTime is before dataStartTime.")
        with self.lock:
            marketplaces = self._marketplaces(seller, body["marketplaceIds"])
            job = _Job(
                str(60_000_000_000 + self._next()),
                seller,
                body["reportType"],
                marketplaces,
                self._now(),
                data_start=start,
                data_end=end,
            )
            self.state.reports[job.job_id] = job
        return self._json({"reportId": job.job_id}, 202)

    def _body_time(self, body: dict[str, Any], name: str) -> datetime | None:
        raw = body.get(name)
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(str(raw))
        except ValueError:
            raise ApiError(400, "InvalidInput", f"{name} is not an ISO 8601 date-time.") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    async def _get_report(self, request: Request) -> Response:
        with self.lock:
            job = self.state.reports.get(request.path_params["report_id"])
            if job is None or job.seller_id != self._seller(request):
                raise ApiError(404, "NotFound", "The report was not found.")
            self._poll(job, self._finish_report)
            return self._json(self._job_json(job, "reportId", "reportType", "reportDocumentId"))

    def _finish_report(self, job: _Job) -> None:
        """Only 1 to 3 star feedback, as Amazon's report; no rows: CANCELLED, as Amazon."""
        rows = [
            f
            for f in self.state.feedback
            if f.seller_id == job.seller_id
            and f.marketplace_id in job.marketplace_ids
            and f.rating <= 3
            and (job.data_start is None or f.date >= job.data_start)
            and (job.data_end is None or f.date <= job.data_end)
        ]
        if not rows:
            job.status = "CANCELLED"
            return
        lines = ["\t".join(FEEDBACK_HEADER)]
        for f in sorted(rows, key=lambda f: f.date):
            comment = " ".join(f.text.split())  # a flat file: no tabs nor line breaks inside
            day = f"{f.date.month}/{f.date.day}/{f.date:%y}"
            lines.append("\t".join((day, str(f.rating), comment, "", f.order_id, f.rater_email)))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        document = self._new_document(
            job.seller_id, "report", "text/tab-separated-values; charset=UTF-8", data
        )
        job.status, job.result_document = "DONE", document.document_id

    async def _get_report_document(self, request: Request) -> Response:
        with self.lock:
            document = self.state.documents.get(request.path_params["document_id"])
            if (
                document is None
                or document.seller_id != self._seller(request)
                or document.kind != "report"
            ):
                raise ApiError(404, "NotFound", "The report document was not found.")
            return self._json(
                {"reportDocumentId": document.document_id, "url": self._url(document)}
            )

    # ---------------------------------------------------------------- control
    def state_json(self) -> dict[str, Any]:
        listings = []
        for listing in self.state.listings.values():
            offer = listing.offer()
            listings.append(
                {
                    "seller_id": listing.seller_id,
                    "marketplace_id": listing.marketplace_id,
                    "sku": listing.sku,
                    "product_type": listing.product_type,
                    "title": listing.title(),
                    "price": str(offer[0]) if offer else None,
                    "currency": offer[1] if offer else None,
                    "quantity": listing.quantity(),
                    "status": listing.statuses()[0],
                }
            )
        return {
            "listings": listings,
            "orders": [self._order_json(o) for o in self.state.orders.values()],
            "reviews": [
                {
                    "seller_id": f.seller_id,
                    "order_id": f.order_id,
                    "sku": f.sku,
                    "rating": f.rating,
                    "text": f.text,
                    "date": _iso(f.date),
                }
                for f in self.state.feedback
            ],
        }

    def _order_json(self, order: _Order) -> dict[str, Any]:
        return {
            "order_id": order.order_id,
            "seller_id": order.seller_id,
            "marketplace_id": order.marketplace_id,
            "status": order.status,
            "created": _iso(order.created),
            "updated": _iso(order.updated),
            "currency": order.currency,
            "total": str(order.total()),
            "items": [
                {"sku": i.sku, "quantity": i.quantity, "unit_price": str(i.unit_price)}
                for i in order.items
            ],
        }

    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register an LWA application (or rotate its secret) and a seller's refresh token."""
        keys = ("client_id", "client_secret", "refresh_token", "seller_id", "marketplace_id")
        if not all(isinstance(data.get(k), str) and data[k] for k in keys):
            raise ApiError(400, "InvalidInput", f"send {', '.join(keys)}")
        if data["marketplace_id"] not in MARKETPLACES:
            raise ApiError(400, "InvalidInput", f"unknown marketplace {data['marketplace_id']}")
        grant = self.state.grants.get(data["refresh_token"])
        if grant is not None and grant.seller_id != data["seller_id"]:
            raise ApiError(409, "Conflict", "this refresh token belongs to another seller")
        self.state.clients[data["client_id"]] = data["client_secret"]
        self.state.grants[data["refresh_token"]] = _Grant(data["client_id"], data["seller_id"])
        marketplaces = self.state.sellers.setdefault(data["seller_id"], [])
        if data["marketplace_id"] not in marketplaces:
            marketplaces.append(data["marketplace_id"])
        return {"seller_id": data["seller_id"], "marketplace_ids": list(marketplaces)}

    def _listing_for(self, data: dict[str, Any]) -> _Listing:
        sku, seller = str(data.get("sku")), data.get("seller_id")
        found = [
            listing
            for (s, k), listing in self.state.listings.items()
            if k == sku and seller in (None, s)
        ]
        if len(found) != 1:
            raise ApiError(
                409 if found else 404,
                "NotFound" if not found else "Conflict",
                f"{len(found)} sellers list SKU {sku}; name the seller_id"
                if found
                else f"no seller lists SKU {sku}",
            )
        return found[0]

    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        listing = self._listing_for(data)
        quantity = data.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ApiError(400, "InvalidInput", "quantity is a whole number from 1")
        offer = listing.offer()
        if offer is None or quantity > listing.quantity():
            raise ApiError(
                409,
                "NotAvailable",
                f"{listing.sku} has {listing.quantity()} available"
                + ("" if offer else " and no price"),
            )
        listing.set_quantity(listing.quantity() - quantity)
        n = self._next()
        order_id = f"{100 + n % 900:03d}-{n * 7919 % 10**7:07d}-{n * 104729 % 10**7:07d}"
        now = self._now()
        item = _OrderItem(
            f"{n * 15485863 % 10**14:014d}",
            listing.sku,
            listing.asin,
            listing.title(),
            quantity,
            offer[0],
        )
        order = _Order(
            order_id, listing.seller_id, listing.marketplace_id, offer[1], now, now, [item]
        )
        self.state.orders[order_id] = order
        return self._order_json(order)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        order = self.state.orders.get(order_id)
        if order is None:
            raise ApiError(404, "NotFound", f"no order {order_id}")
        if order.status != "Canceled":
            for item in order.items:
                listing = self.state.listings.get((order.seller_id, item.sku))
                if listing is not None:
                    listing.set_quantity(listing.quantity() + item.quantity)
            order.status = "Canceled"
            # Always a later update time, so that a lastUpdatedAfter search sees it again.
            order.updated = max(self._now(), order.updated + timedelta(seconds=1))
        return self._order_json(order)

    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        """Seller feedback on an order (one per order, as on Amazon): by order_id, or by sku
        (its latest order without feedback). Every rating is kept; the report shows 1-3."""
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ApiError(400, "InvalidInput", "rating is a whole number from 1 to 5")
        rated = {f.order_id for f in self.state.feedback}
        if data.get("order_id"):
            order = self.state.orders.get(str(data["order_id"]))
            if order is None:
                raise ApiError(404, "NotFound", f"no order {data['order_id']}")
        else:
            sku, seller = str(data.get("sku")), data.get("seller_id")
            orders = [
                o
                for o in self.state.orders.values()
                if any(i.sku == sku for i in o.items) and seller in (None, o.seller_id)
            ]
            if not orders:
                raise ApiError(404, "NotFound", f"no order of {sku} to leave feedback on")
            unrated = [o for o in orders if o.order_id not in rated]
            if not unrated:
                raise ApiError(409, "Conflict", f"every order of {sku} already has feedback")
            order = max(unrated, key=lambda o: (o.created, o.order_id))
        if order.order_id in rated:
            raise ApiError(409, "Conflict", f"order {order.order_id} already has feedback")
        feedback = _Feedback(
            order.seller_id,
            order.marketplace_id,
            order.order_id,
            order.items[0].sku,
            rating,
            str(data.get("text", "")),
            self._now(),
            f"{_digest('rater', order.order_id)}@marketplace.amazon.com",
        )
        self.state.feedback.append(feedback)
        return {
            "order_id": order.order_id,
            "sku": feedback.sku,
            "rating": rating,
            "date": _iso(feedback.date),
        }


def _report_key(message: Any, key: str) -> bool:
    """Whether a message's messageId or sku can go into its issue (the schema's types)."""
    value = message.get(key) if isinstance(message, dict) else None
    if key == "messageId":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return isinstance(value, str) and value != ""
