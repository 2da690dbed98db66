"""Etsy's answers as Syndicator's records: listings (with their inventories) as the shop's
index and as read-back, receipts as orders, reviews. Pure: no I/O, no clock.

Money is Decimal end to end: Etsy's ``{amount, divisor}`` as an exact amount; times are
UTC-aware (Etsy writes epoch seconds).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from syndicator.connector import (
    Money,
    Order,
    OrderLine,
    OrderStatus,
    RemoteListing,
    Review,
    ReviewSource,
    digest,
    is_currency,
    minor_unit,
)

__all__ = [
    "Listing",
    "money",
    "order_from",
    "purchases",
    "remote_listings",
    "review_from",
    "review_keys",
    "time_of",
]


def money(value: Mapping[str, Any]) -> Money:
    """Etsy's Money ``{amount, divisor, currency_code}`` as an exact Decimal amount."""
    amount = Decimal(int(value["amount"])) / Decimal(int(value["divisor"]))
    currency = str(value["currency_code"])
    if is_currency(currency):
        exact = amount.quantize(minor_unit(currency))
        if exact == amount:
            amount = exact
    return Money(amount, currency)


def time_of(value: Any) -> datetime | None:
    """Etsy's epoch seconds as an aware UTC time (None when not given)."""
    return None if value in (None, "") else datetime.fromtimestamp(int(value), UTC)


def _created(r: Mapping[str, Any]) -> datetime | None:
    return time_of(r.get("create_timestamp") or r.get("created_timestamp"))


def _updated(r: Mapping[str, Any]) -> datetime | None:
    return time_of(r.get("update_timestamp") or r.get("updated_timestamp"))


# ---------------------------------------------------------------------- listings
@dataclass(slots=True)
class Listing:
    """What the connector knows of one Etsy listing (from getListingsByShop with its
    inventory, or from its own writes)."""

    listing_id: int
    state: str
    title: str
    products: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Listing:
        inventory = data.get("inventory") or {}
        return cls(
            int(data["listing_id"]),
            str(data.get("state") or ""),
            str(data.get("title") or ""),
            [p for p in inventory.get("products") or [] if not p.get("is_deleted")],
        )

    @property
    def skus(self) -> set[str]:
        return {str(p["sku"]) for p in self.products if p.get("sku")}


def remote_listings(listing: Listing, wanted: set[str] | None) -> Iterator[RemoteListing]:
    """The products of ``listing`` (those of the ``wanted`` SKUs; None: every one) as the
    channel shows them: a variant's offering disabled in a listing on sale is delisted."""
    for product in listing.products:
        sku = product.get("sku")
        if not sku or (wanted is not None and sku not in wanted):
            continue
        offers = [o for o in product.get("offerings") or [] if not o.get("is_deleted")]
        offer = offers[0] if offers else None
        status = {
            "active": "active",
            "sold_out": "active",
            "draft": "draft",
        }.get(listing.state, "inactive")
        if offer is not None and not offer.get("is_enabled") and status == "active":
            status = "delisted"
        yield RemoteListing(
            sku=str(sku),
            remote_id=str(listing.listing_id),
            status=status,
            title=listing.title,
            price=money(offer["price"]) if offer and offer.get("price") else None,
            quantity=int(offer["quantity"]) if offer is not None else None,
        )


# ---------------------------------------------------------------------- receipts
def order_from(r: Mapping[str, Any]) -> Order:
    """A receipt (with its transactions) as an order; a line's id is its transaction's."""
    status_text = str(r.get("status") or "").lower()
    if status_text in ("canceled", "cancelled", "fully refunded"):
        status = OrderStatus.CANCELLED
    elif r.get("is_shipped") or status_text == "completed":
        status = OrderStatus.SHIPPED
    elif r.get("is_paid") or status_text == "paid":
        status = OrderStatus.PAID
    else:
        status = OrderStatus.PENDING
    created = _created(r)
    assert created is not None, "a receipt without a creation time"
    updated = _updated(r) or created
    lines = tuple(
        OrderLine(
            line_id=str(t["transaction_id"]),
            sku=str(t["sku"]) if t.get("sku") else None,
            quantity=int(t["quantity"]),
            price=money(t["price"]) if t.get("price") else None,
            remote_listing_id=str(t["listing_id"]) if t.get("listing_id") else None,
        )
        for t in r.get("transactions") or []
    )
    total = money(r["grandtotal"]) if r.get("grandtotal") else None
    return Order(str(r["receipt_id"]), status, created, updated, lines, total)


def purchases(receipt: Mapping[str, Any]) -> dict[int, tuple[str | None, str]]:
    """Transaction id -> (its SKU, its receipt id), for every purchase of ``receipt``."""
    return {
        int(t["transaction_id"]): (
            str(t["sku"]) if t.get("sku") else None,
            str(receipt["receipt_id"]),
        )
        for t in receipt.get("transactions") or []
    }


# ---------------------------------------------------------------------- reviews
def review_keys(r: Mapping[str, Any]) -> tuple[datetime, int | None, int | None]:
    """A review's creation time, listing id and transaction id."""
    created = _created(r)
    assert created is not None, "a review without a creation time"
    listing_id = int(r["listing_id"]) if r.get("listing_id") else None
    transaction = int(r["transaction_id"]) if r.get("transaction_id") else None
    return created, listing_id, transaction


def review_from(
    r: Mapping[str, Any], *, shop_id: int, sku: str | None, order_ref: str | None
) -> Review:
    """A review of a purchase. Its id is its transaction's (one review per purchase):
    stable; the buyer is a digest, never Etsy's user id."""
    created, listing_id, transaction = review_keys(r)
    buyer = r.get("buyer_user_id")
    if transaction is not None:
        review_id = str(transaction)
    else:
        review_id = "x" + digest(f"{listing_id}:{buyer}:{int(created.timestamp())}")[:20]
    return Review(
        review_id=review_id,
        source=ReviewSource.PRODUCT_REVIEW,
        rating=int(r["rating"]),
        text=r.get("review") or None,
        language=r.get("language") or None,
        created_at=created,
        updated_at=_updated(r),
        sku=sku,
        remote_listing_id=None if listing_id is None else str(listing_id),
        order_ref=order_ref,
        buyer_ref=None if buyer is None else digest(f"etsy:{shop_id}:{buyer}")[:16],
    )
