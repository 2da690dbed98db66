"""What a product looks like to an ANOU-style marketplace: our records as its JSON, through
the field maps of the channel's settings. Pure: no I/O.

Every field has a name of ours (``price.amount``, ``attributes.length_cm``) and the
marketplace's JSON key for it (``price.amount``, ``attributes.dimensions_cm.length``), dotted
when nested. Money goes out as a decimal string with the currency's own decimals, never a
float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.anou.settings import FieldMap
from syndicator.connector import CURRENCY_EXPONENTS, Money, Projection, minor_unit

__all__ = [
    "amount_text",
    "offer_payload",
    "product_payload",
    "product_values",
    "set_path",
    "to_payload",
]

# Attributes whose value the API takes as a whole number (docs/anou-api.md).
_INTEGER_ATTRIBUTES = frozenset({"made_to_order_days"})


def set_path(body: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at dotted ``path`` in ``body``, making the objects on the way."""
    *parents, last = path.split(".")
    node = body
    for key in parents:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"{path}: {key} is already a value, not an object")
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
