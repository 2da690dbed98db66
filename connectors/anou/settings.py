"""The settings of an ANOU-style channel: a JSON-over-HTTP marketplace described by config.

Every setting defaults to the API of docs/anou-api.md, so that a channel on ANOU (or on the
sandbox) needs only ``base_url``. A cooperative marketplace with other endpoints or other
field names is described here, not coded: ``endpoints`` (``"METHOD /path"``, with ``{sku}``),
``fields`` (our field -> their JSON key, dotted for a nested one), the auth header, paging
and the order statuses. docs/anou.md has a worked example.

Imported when the config is read: nothing here imports an HTTP library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syndicator.connector import OrderStatus, Settings, did_you_mean

__all__ = [
    "ERROR_FIELDS",
    "IMAGE_FIELDS",
    "LINE_FIELDS",
    "LIST_FIELDS",
    "ORDER_FIELDS",
    "PRODUCT_FIELDS",
    "REVIEW_FIELDS",
    "AnouSettings",
    "Endpoints",
    "FieldMap",
    "FieldMaps",
    "parse_endpoint",
]

FieldMap = Mapping[str, str | None]  # one kind's map: our field -> their dotted JSON key

# Our field -> the marketplace's JSON key (dotted: nested). None: not sent.
# ``id`` is only read (the marketplace's own id); ``sku`` is in the path unless mapped.
PRODUCT_FIELDS: dict[str, str | None] = {
    "id": "id",
    "sku": None,
    "title": "title",
    "language": "language",
    "description": "description",
    "description_language": None,
    "category": "category",
    "price.amount": "price.amount",
    "price.currency": "price.currency",
    "quantity": "quantity",
    "images": "images",
    "materials": "materials",
    "tags": "tags",
    "options": "options",
    "parent_sku": "parent_sku",
    "active": "active",
    "attributes.who_made": "attributes.who_made",
    "attributes.when_made": "attributes.when_made",
    "attributes.made_to_order_days": "attributes.made_to_order_days",
    "attributes.weight_kg": "attributes.weight_kg",
    "attributes.length_cm": "attributes.dimensions_cm.length",
    "attributes.width_cm": "attributes.dimensions_cm.width",
    "attributes.height_cm": "attributes.dimensions_cm.height",
    "attributes.hs_code": "attributes.hs_code",
    "attributes.region": "attributes.region",
    "attributes.artisan": "attributes.artisan",
}
ORDER_FIELDS: dict[str, str | None] = {
    "id": "id",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "currency": "currency",
    "total": "total",
    "lines": "lines",
}
LINE_FIELDS: dict[str, str | None] = {
    "line_id": "line_id",
    "sku": "sku",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "listing_id": None,
}
REVIEW_FIELDS: dict[str, str | None] = {
    "id": "id",
    "sku": "sku",
    "rating": "rating",
    "text": "text",
    "language": "language",
    "order_id": "order_id",
    "buyer_ref": "buyer_ref",
    "listing_id": None,
    "created_at": "created_at",
    "updated_at": "updated_at",
}
# Where a page of orders or reviews keeps its items and the cursor of the next page.
LIST_FIELDS: dict[str, str | None] = {
    "orders": "orders",
    "reviews": "reviews",
    "next_cursor": "next_cursor",
}
IMAGE_FIELDS: dict[str, str | None] = {"url": "url"}
ERROR_FIELDS: dict[str, str | None] = {"message": "error.message", "code": "error.code"}

# Their order status -> ours. An order in a status not listed here holds its stock (paid).
ORDER_STATUSES: dict[str, OrderStatus] = {
    "pending": OrderStatus.PENDING,
    "paid": OrderStatus.PAID,
    "shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "canceled": OrderStatus.CANCELLED,
}

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
_BOOLEANS = {"true": True, "false": False}
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
_KEY = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_endpoint(value: str, *, needs_sku: bool) -> str:
    """``"put /products/{sku}"`` -> ``"PUT /products/{sku}"``, or a ValueError saying what
    is wrong. ``{sku}`` stands for our SKU (URL-encoded); a query may follow the path."""
    method, _, path = value.strip().partition(" ")
    method, path = method.upper(), path.strip()
    if method not in METHODS or not path.startswith("/"):
        raise ValueError(f'write "METHOD /path" with a method among {", ".join(METHODS)}')
    names = _PLACEHOLDER.findall(path)
    if any(n != "sku" for n in names):
        raise ValueError("the only placeholder a path takes is {sku}")
    if needs_sku and not names:
        raise ValueError("this path names a product: it needs {sku}")
    if not needs_sku and names:
        raise ValueError("this path names no product: it takes no {sku}")
    return f"{method} {path}"


_PRODUCT_ENDPOINTS = ("upsert", "get", "offer", "deactivate", "delete")


class Endpoints(_Model):
    """What each operation calls, as ``"METHOD /path"`` under ``base_url``. ``offer``
    None: price and stock changes send the whole product (``upsert``). ``upload_image``
    None: the marketplace takes only image URLs. ``delete`` None (anou-api.md has none): a
    delete takes the product off sale (``deactivate``), with a warning."""

    upsert: str = "PUT /products/{sku}"
    get: str = "GET /products/{sku}"
    offer: str | None = "PATCH /products/{sku}/offer"
    deactivate: str = "POST /products/{sku}/deactivate"
    delete: str | None = None
    upload_image: str | None = "POST /images"
    orders: str = "GET /orders"
    reviews: str = "GET /reviews"
    check: str = "GET /orders?limit=1"

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            return parse_endpoint(value, needs_sku=info.field_name in _PRODUCT_ENDPOINTS)
        return value


def _check_map(
    value: Mapping[str, str | None],
    defaults: Mapping[str, str | None],
    what: str,
    *,
    required: tuple[str, ...] = (),
    written: bool = False,
) -> dict[str, str | None]:
    for ours, theirs in value.items():
        if ours not in defaults:
            known = ", ".join(defaults)
            raise ValueError(
                f'"{ours}" is not a {what} field{did_you_mean(ours, defaults)} (known: {known})'
            )
        if theirs is not None and not _KEY.match(theirs):
            raise ValueError(f'{what}.{ours}: "{theirs}" is not a JSON key (dotted when nested)')
        if theirs is None and ours in required:
            raise ValueError(f"{what}.{ours} is needed: it cannot be null")
    if written:
        paths = [p for p in {**defaults, **value}.values() if p is not None]
        for path in sorted(paths):
            parts = path.split(".")
            prefixes = (".".join(parts[:n]) for n in range(1, len(parts)))
            clash = next((p for p in prefixes if p in paths), None)
            if clash is not None or paths.count(path) > 1:
                raise ValueError(f'{what}: two fields would be written at "{clash or path}"')
    return dict(value)


# Each kind of record: its default map, the fields that cannot be null, and whether we write
# it to the marketplace (then no two fields may land on one key).
_MAPS: dict[str, tuple[dict[str, str | None], tuple[str, ...], bool]] = {
    "product": (PRODUCT_FIELDS, ("title", "price.amount", "quantity"), True),
    "order": (ORDER_FIELDS, ("id", "updated_at", "lines"), False),
    "line": (LINE_FIELDS, ("quantity",), False),
    "review": (REVIEW_FIELDS, ("id", "rating", "created_at"), False),
    "lists": (LIST_FIELDS, ("orders", "reviews"), False),
    "image": (IMAGE_FIELDS, ("url",), False),
    "error": (ERROR_FIELDS, (), False),
}


class FieldMaps(_Model):
    """Our field -> the marketplace's JSON key, for each kind of record. Only the fields
    that differ from docs/anou-api.md need be given; null leaves one of ours unsent."""

    product: dict[str, str | None] = {}
    order: dict[str, str | None] = {}
    line: dict[str, str | None] = {}
    review: dict[str, str | None] = {}
    lists: dict[str, str | None] = {}
    image: dict[str, str | None] = {}
    error: dict[str, str | None] = {}

    @field_validator("*")
    @classmethod
    def _check(cls, v: dict[str, str | None], info: ValidationInfo) -> dict[str, str | None]:
        assert info.field_name is not None
        defaults, required, written = _MAPS[info.field_name]
        return _check_map(v, defaults, info.field_name, required=required, written=written)

    def merged(self, kind: str) -> dict[str, str | None]:
        """The full map of ``kind`` (``product``, ``order`` ...): defaults, then ours."""
        given: dict[str, str | None] = getattr(self, kind)
        return {**_MAPS[kind][0], **given}


Scalar = bool | int | str


class AnouSettings(Settings):
    """An ANOU-style channel. Only ``base_url`` is needed for the API of docs/anou-api.md."""

    base_url: HttpUrl
    # The header that carries the API key, and a scheme word before it ("Bearer").
    auth_header: str = Field(default="X-Api-Key", min_length=1, pattern=r"^[A-Za-z0-9-]+$")
    auth_scheme: str = Field(default="", pattern=r"^[A-Za-z0-9-]*$")
    endpoints: Endpoints = Endpoints()
    fields: FieldMaps = FieldMaps()
    # What ``active`` is sent and read as: on sale, taken down.
    active_values: tuple[Scalar, Scalar] = (True, False)
    order_statuses: dict[str, OrderStatus] = Field(default_factory=lambda: dict(ORDER_STATUSES))
    # Orders and reviews: "cursor" sends back the cursor of the last page in ``since_param``;
    # "time" sends the time of the last change seen (less ``order_overlap``) and pages on
    # with ``cursor_param``.
    since: Literal["cursor", "time"] = "cursor"
    since_param: str = Field(default="since", min_length=1)
    cursor_param: str = Field(default="cursor", min_length=1)
    limit_param: str = Field(default="limit", min_length=1)
    page_size: int = Field(default=100, ge=1, le=1000)
    order_overlap: timedelta = Field(default=timedelta(minutes=15), ge=timedelta(0))

    @field_validator("active_values", mode="before")
    @classmethod
    def _booleans(cls, v: Any) -> Any:
        # The config's YAML keeps every scalar as written: `true` arrives as "true".
        if isinstance(v, (list, tuple)):
            return [_BOOLEANS.get(x.lower(), x) if isinstance(x, str) else x for x in v]
        return v

    @field_validator("order_overlap", mode="before")
    @classmethod
    def _overlap(cls, v: Any) -> Any:
        if isinstance(v, str):
            match = _DURATION.fullmatch(v.strip().lower())
            if match:
                return timedelta(seconds=int(match[1]) * _UNITS[match[2] or "s"])
        return v

    @field_validator("active_values")
    @classmethod
    def _distinct(cls, v: tuple[Scalar, Scalar]) -> tuple[Scalar, Scalar]:
        if v[0] == v[1]:
            raise ValueError("the two values (on sale, taken down) must differ")
        return v

    @field_validator("order_statuses")
    @classmethod
    def _statuses(cls, v: dict[str, OrderStatus]) -> dict[str, OrderStatus]:
        return {**ORDER_STATUSES, **{k.lower(): s for k, s in v.items()}}

    @model_validator(mode="after")
    def _pages_by_cursor(self) -> AnouSettings:
        if self.since == "cursor" and self.fields.merged("lists")["next_cursor"] is None:
            raise ValueError("since: cursor needs fields.lists.next_cursor (or since: time)")
        return self

    @property
    def api_url(self) -> str:
        return str(self.base_url).rstrip("/")
