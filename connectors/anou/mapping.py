"""Pure mapping between our records and an ANOU-style marketplace's JSON, through the field
maps of the channel's settings. No I/O here: the connector calls, these functions translate.

Every field has a name of ours (``price.amount``, ``attributes.length_cm``) and the
marketplace's JSON key for it (``price.amount``, ``attributes.dimensions_cm.length``), dotted
when nested. Money goes out as a decimal string with the currency's own decimals, never a
float; it comes back through ``str`` so a float a marketplace sends keeps its written digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syndicator.connector import (
    CURRENCY_EXPONENTS,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Projection,
    RemoteListing,
    Review,
    ReviewSource,
    minor_unit,
)

__all__ = [
    "FieldMap",
    "MappingError",
    "amount_text",
    "get_path",
    "offer_payload",
    "order_from",
    "parse_time",
    "product_payload",
    "remote_listing",
    "review_from",
    "set_path",
    "to_payload",
]

FieldMap = Mapping[str, str | None]

# Attributes whose value the API takes as a whole number (docs/anou-api.md).
_INTEGER_ATTRIBUTES = frozenset({"made_to_order_days"})


class MappingError(ValueError):
    """A record from the marketplace that cannot be read as the field maps say."""


# --------------------------------------------------------------------------- JSON paths
def get_path(data: Any, path: str | None) -> Any:
    """The value at dotted ``path`` in ``data`` (None when absent or ``path`` is None); a
    number picks from a list (``errors.0.detail``)."""
    if path is None:
        return None
    for key in path.split("."):
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at dotted ``path`` in ``body``, making the objects on the way."""
    *parents, last = path.split(".")
    node = body
    for key in parents:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise MappingError(f"{path}: {key} is already a value, not an object")
        node = child
    node[last] = value


def to_payload(values: Mapping[str, Any], fields: FieldMap) -> dict[str, Any]:
    """Our ``values`` (by our field names) as the marketplace's JSON object; a field the map
    leaves unsent (None) is left out."""
    body: dict[str, Any] = {}
    for ours, value in values.items():
        theirs = fields.get(ours)
        if theirs is not None:
            set_path(body, theirs, value)
    return body


# --------------------------------------------------------------------------- out
def amount_text(money: Money) -> str:
    """``Money(Decimal("5000"), "MAD")`` -> ``"5000.00"``: the currency's decimals, no
    exponent, never a float."""
    amount = money.amount
    if money.currency in CURRENCY_EXPONENTS:
        amount = amount.quantize(minor_unit(money.currency))
    return format(amount, "f")


def _attribute(key: str, value: str) -> Any:
    if key in _INTEGER_ATTRIBUTES and value.isdigit():
        return int(value)
    return value


def product_values(projection: Projection, images: Sequence[str], active: Any) -> dict[str, Any]:
    """What we send for a product, by our field names."""
    p = projection
    values: dict[str, Any] = {
        "sku": p.sku,
        "title": p.title,
        "language": p.language,
        "description": p.description,
        "description_language": p.description_language,
        "category": p.category,
        "price.amount": amount_text(p.price),
        "price.currency": p.price.currency,
        "quantity": p.quantity,
        "images": list(images),
        "materials": list(p.materials),
        "tags": list(p.tags),
        "options": dict(p.options),
        "parent_sku": p.parent_sku,
        "active": active,
    }
    for key, value in p.attributes:
        values[f"attributes.{key}"] = _attribute(key, value)
    return values


def product_payload(
    projection: Projection, images: Sequence[str], fields: FieldMap, active: Any
) -> dict[str, Any]:
    """The body that creates or replaces the product: everything the channel shows."""
    return to_payload(product_values(projection, images, active), fields)


def offer_payload(projection: Projection, fields: FieldMap) -> dict[str, Any]:
    """The body that changes the price and the stock, and nothing else."""
    p = projection
    values = {
        "price.amount": amount_text(p.price),
        "price.currency": p.price.currency,
        "quantity": p.quantity,
    }
    return to_payload(values, fields)


# --------------------------------------------------------------------------- in
def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _decimal(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MappingError(f"{what} is not a number: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{what} is not a number: {value!r}") from None


def _int(value: Any, what: str) -> int:
    amount = _decimal(value, what)
    if amount is None or amount != amount.to_integral_value():
        raise MappingError(f"{what} is not a whole number: {value!r}")
    return int(amount)


def _money(amount: Any, currency: str | None, what: str) -> Money | None:
    value = _decimal(amount, what)
    return None if value is None or not currency else Money(value, currency)


def parse_time(value: Any, what: str = "time") -> datetime:
    """An ISO 8601 time (``2026-11-25T10:00:00Z``) as an aware UTC datetime; a time with no
    zone is taken as UTC."""
    if not isinstance(value, str) or not value:
        raise MappingError(f"{what} is not an ISO 8601 time: {value!r}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(f"{what} is not an ISO 8601 time: {value!r}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def remote_listing(
    sku: str, data: Any, fields: FieldMap, active_values: tuple[Any, Any], currency: str
) -> RemoteListing:
    """A product as the marketplace shows it. ``currency``: the channel's, when the
    marketplace's record does not say."""
    active = get_path(data, fields.get("active"))
    status = "inactive" if active == active_values[1] else "active"
    quantity = get_path(data, fields.get("quantity"))
    return RemoteListing(
        sku=sku,
        remote_id=_text(get_path(data, fields.get("id"))),
        status=status,
        title=_text(get_path(data, fields.get("title"))),
        price=_money(
            get_path(data, fields.get("price.amount")),
            _text(get_path(data, fields.get("price.currency"))) or currency,
            "price",
        ),
        quantity=None if quantity is None else _int(quantity, "quantity"),
        parent_sku=_text(get_path(data, fields.get("parent_sku"))),
    )


def order_from(
    data: Any,
    fields: FieldMap,
    line_fields: FieldMap,
    statuses: Mapping[str, OrderStatus],
    currency: str,
) -> Order:
    """An order record as an :class:`Order`. A line's price is its unit price. A status the
    settings do not know counts as paid: the stock stays held."""
    order_id = _text(get_path(data, fields.get("id")))
    if order_id is None:
        raise MappingError(f"an order has no {fields.get('id')}")
    updated = parse_time(get_path(data, fields.get("updated_at")), f"order {order_id} updated_at")
    created_raw = get_path(data, fields.get("created_at"))
    created = (
        parse_time(created_raw, f"order {order_id} created_at")
        if created_raw is not None
        else updated
    )
    status_raw = str(get_path(data, fields.get("status")) or "").lower()
    status = statuses.get(status_raw, OrderStatus.PAID)
    cur = _text(get_path(data, fields.get("currency"))) or currency
    raw_lines = get_path(data, fields.get("lines")) or []
    if not isinstance(raw_lines, list):
        raise MappingError(f"order {order_id}: {fields.get('lines')} is not a list")
    lines = []
    for n, raw in enumerate(raw_lines, 1):
        line_id = _text(get_path(raw, line_fields.get("line_id"))) or f"{order_id}-{n}"
        lines.append(
            OrderLine(
                line_id=line_id,
                sku=_text(get_path(raw, line_fields.get("sku"))),
                quantity=_int(get_path(raw, line_fields.get("quantity")), f"line {line_id}"),
                price=_money(get_path(raw, line_fields.get("unit_price")), cur, "unit price"),
                remote_listing_id=_text(get_path(raw, line_fields.get("listing_id"))),
            )
        )
    return Order(
        order_id=order_id,
        status=status,
        created_at=created,
        updated_at=updated,
        lines=tuple(lines),
        total=_money(get_path(data, fields.get("total")), cur, "total"),
    )


def review_from(data: Any, fields: FieldMap) -> Review:
    """A review record as a :class:`Review` (a product review, in the language given)."""
    review_id = _text(get_path(data, fields.get("id")))
    if review_id is None:
        raise MappingError(f"a review has no {fields.get('id')}")
    rating = _int(get_path(data, fields.get("rating")), f"review {review_id} rating")
    if not 1 <= rating <= 5:
        raise MappingError(f"review {review_id}: rating {rating} is not from 1 to 5")
    created = parse_time(get_path(data, fields.get("created_at")), f"review {review_id}")
    updated_raw = get_path(data, fields.get("updated_at"))
    text = get_path(data, fields.get("text"))
    return Review(
        review_id=review_id,
        source=ReviewSource.PRODUCT_REVIEW,
        rating=rating,
        text=None if text is None else str(text),
        language=_text(get_path(data, fields.get("language"))),
        created_at=created,
        updated_at=None if updated_raw is None else parse_time(updated_raw, "updated_at"),
        sku=_text(get_path(data, fields.get("sku"))),
        remote_listing_id=_text(get_path(data, fields.get("listing_id"))),
        order_ref=_text(get_path(data, fields.get("order_id"))),
        buyer_ref=_text(get_path(data, fields.get("buyer_ref"))),
    )
