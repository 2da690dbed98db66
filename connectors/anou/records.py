"""An ANOU-style marketplace's answers as Syndicator's records (products read back, orders,
reviews), through the field maps of the channel's settings. Pure: no I/O, no clock.

Money comes back through ``str``, so a float a marketplace sends keeps its written digits;
times are UTC-aware. A record that cannot be read as the maps say raises
:class:`MappingError`: an answer that is not what is due, which may pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.anou.settings import FieldMap
from syndicator.connector import (
    Money,
    Order,
    OrderLine,
    OrderStatus,
    RemoteListing,
    Retry,
    Review,
    ReviewSource,
    aware,
    decimal_or_none,
)

__all__ = [
    "MappingError",
    "get_path",
    "order_from",
    "parse_time",
    "remote_listing",
    "review_from",
]


class MappingError(Retry, ValueError):
    """A record from the marketplace that cannot be read as the field maps say: an answer
    that is not what is due (the connector tells it as Transient: it may pass)."""


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


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _decimal(value: Any, what: str) -> Decimal | None:
    if isinstance(value, bool):
        raise MappingError(f"{what} is not a number: {value!r}")
    try:
        return decimal_or_none(value)
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
    return aware(when)


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
