"""Etsy's own rules for a listing's fields (after the model's types and bounds), and the
small computations on a listing every family shares: its quantity, its price, a page."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sandbox.base import ApiError

__all__ = [
    "MAX_QUANTITY",
    "ON_PROPERTY",
    "descending",
    "description",
    "listing_price",
    "materials",
    "money",
    "page",
    "price",
    "quantity",
    "signature",
    "tags",
    "title",
]

MAX_TITLE = 140
MAX_TAGS = 13
MAX_TAG = 20
MAX_MATERIALS = 13
MAX_MATERIAL = 45
MAX_QUANTITY = 999  # per offering and per listing
MIN_PRICE = Decimal("0.20")
MAX_PRICE = Decimal("50000.00")
CENT = Decimal("0.01")
ON_PROPERTY = (
    "price_on_property",
    "quantity_on_property",
    "sku_on_property",
    "readiness_state_on_property",
)


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": int(amount * 100), "divisor": 100, "currency_code": currency}


def price(value: Any, where: str) -> Decimal:
    found = Decimal(value)  # an int or an exact Decimal: the model check let no other type in
    if found != found.quantize(CENT):
        raise ApiError(400, "invalid", f"{where} has more than 2 decimals: {value}")
    if not MIN_PRICE <= found <= MAX_PRICE:
        raise ApiError(400, "invalid", f"{where} must be between {MIN_PRICE} and {MAX_PRICE}")
    return found.quantize(CENT)


def _allowed(text: str, categories: tuple[str, ...], extra: str) -> str:
    """The characters of ``text`` outside the Unicode categories (and extras) Etsy takes."""
    return "".join(
        sorted({c for c in text if not unicodedata.category(c).startswith(categories)} - set(extra))
    )


def title(value: str) -> str:
    found = value.strip()
    if not found:
        raise ApiError(400, "invalid", "title cannot be empty")
    if len(found) > MAX_TITLE:
        raise ApiError(400, "invalid", f"title has {len(found)} characters; at most {MAX_TITLE}")
    bad = _allowed(found, ("L", "Nd", "P", "Sm", "Zs"), "™©®")
    if bad:
        raise ApiError(400, "invalid", f"title cannot contain {bad!r}")
    for once in "%:&+":
        if found.count(once) > 1:
            raise ApiError(400, "invalid", f"title can use {once} only once")
    return found


def description(value: str) -> str:
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


def tags(values: list[str] | None) -> list[str]:
    return _words(values, "tags", MAX_TAGS, MAX_TAG, "-'™©®")


def materials(values: list[str] | None) -> list[str]:
    return _words(values, "materials", MAX_MATERIALS, MAX_MATERIAL, "")


def signature(sku: str, values: Iterable[dict[str, Any]]) -> tuple[Any, ...]:
    """What tells a product apart: its SKU and property values (its id changes)."""
    return (sku, *sorted((v["property_id"], v["values"][0].casefold()) for v in values))


def quantity(listing: dict[str, Any]) -> int:
    return sum(
        p["offering"]["quantity"] for p in listing["products"] if p["offering"]["is_enabled"]
    )


def listing_price(listing: dict[str, Any]) -> Decimal:
    offers = [p["offering"] for p in listing["products"]]
    prices: list[Decimal] = [o["price"] for o in offers if o["is_enabled"]]
    prices = prices or [o["price"] for o in offers]
    return min(prices)


def page(items: list[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any]:
    offset, limit = query.get("offset", 0), query.get("limit", 25)
    return {"count": len(items), "results": items[offset : offset + limit]}


def descending(query: dict[str, Any]) -> bool:
    return query.get("sort_order", "desc") in ("desc", "descending", "down")
