"""Amazon's answers as Syndicator's records: submissions as outcomes, Orders 2026-01-01
orders, getListingsItem items, the seller feedback report. Pure: no I/O, no clock.

Money goes from Amazon's strings to :class:`~decimal.Decimal` through ``str`` (never a
float); times are UTC-aware.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from syndicator.connector import (
    ItemOutcome,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    RemoteListing,
    Review,
    ReviewSource,
)

__all__ = [
    "ORDER_STATUSES",
    "as_dict",
    "feedback_from",
    "iso",
    "money",
    "next_token",
    "order_from",
    "outcome_from",
    "remote_from",
    "when",
]

log = logging.getLogger("syndicator.connectors.amazon")

# Orders 2026-01-01 fulfillment statuses -> ours (anything unknown holds stock: PENDING).
ORDER_STATUSES = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.PAID,
    "PARTIALLY_SHIPPED": OrderStatus.PAID,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
    "UNFULFILLABLE": OrderStatus.PENDING,
}

Scrub = Callable[[str], str]


def iso(moment: datetime) -> str:
    """An ISO 8601 UTC time as the SP-API takes it (the library wants strings)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def next_token(answer: Any) -> str | None:
    """The next page's token: the library moves ``pagination`` out of the payload."""
    pagination = getattr(answer, "pagination", None) or answer.payload.get("pagination")
    token = pagination.get("nextToken") if isinstance(pagination, dict) else None
    return str(token) if token else None


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def money(value: object) -> Money | None:
    """``{"amount": "12.50", "currencyCode": "USD"}`` as Money (via str, never float)."""
    value = as_dict(value)
    amount, currency = value.get("amount"), value.get("currencyCode")
    if amount is None or not isinstance(currency, str):
        return None
    try:
        return Money(Decimal(str(amount)), currency)
    except InvalidOperation:
        return None


# ---------------------------------------------------------------------- listings
def _issue_text(issue: dict[str, Any], scrub: Scrub) -> str:
    return scrub(str(issue.get("message") or issue.get("code") or "issue"))


def outcome_from(
    sku: str,
    accepted: bool,
    issues: Iterable[Any],
    scrub: Scrub,
    warnings: Sequence[str] = (),
    refused: str = "Amazon refused the listing",
) -> ItemOutcome:
    """Amazon's issues about one listing (a put, a patch, a feed message) as its outcome:
    refused with Amazon's own message and code when any issue is an ERROR."""
    found = [i for i in issues if isinstance(i, dict)]
    errors = [i for i in found if i.get("severity") == "ERROR"]
    notes = (*warnings, *(_issue_text(i, scrub) for i in found if i.get("severity") != "ERROR"))
    if accepted and not errors:
        return ItemOutcome(sku, True, remote_id=sku, warnings=notes)
    return ItemOutcome(
        sku,
        False,
        message="; ".join(_issue_text(i, scrub) for i in errors) or refused,
        code=str(errors[0]["code"]) if errors and errors[0].get("code") else None,
        warnings=notes,
    )


def remote_from(item: dict[str, Any], marketplace_id: str) -> RemoteListing:
    """A getListingsItem / searchListingsItems item as the listing Amazon shows."""

    def mine(entries: Any, *keys: tuple[str, Any]) -> dict[str, Any] | None:
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if entry.get("marketplaceId", marketplace_id) != marketplace_id:
                continue
            if all(entry.get(k, v) == v for k, v in keys):
                return entry
        return None

    sku = str(item.get("sku"))
    summary = mine(item.get("summaries")) or {}
    offer = next(
        (
            o
            for o in item.get("offers") or []
            if isinstance(o, dict)
            and o.get("marketplaceId", marketplace_id) == marketplace_id
            and as_dict(o.get("audience")).get("value", "ALL") == "ALL"
        ),
        None,
    )
    stock = mine(item.get("fulfillmentAvailability"), ("fulfillmentChannelCode", "DEFAULT"))
    parent = None
    for group in item.get("relationships") or []:
        for relation in as_dict(group).get("relationships") or []:
            parents = as_dict(relation).get("parentSkus")
            if parents:
                parent = str(parents[0])
    statuses = summary.get("status") or []
    return RemoteListing(
        sku=sku,
        remote_id=sku,
        status="active" if "BUYABLE" in statuses else "inactive",
        title=summary.get("itemName"),
        price=money(offer.get("price")) if offer else None,
        quantity=int(stock.get("quantity") or 0) if stock else None,
        parent_sku=parent,
    )


# ---------------------------------------------------------------------- orders
def order_from(raw: Any) -> Order | None:
    """An Orders 2026-01-01 order (with FULFILLMENT and PROCEEDS); None when it lacks its
    id or times. Line ids are Amazon's order item ids: the same on every pull."""
    raw = as_dict(raw)
    if not raw.get("orderId"):
        log.warning("amazon: an order without an id: skipped")
        return None
    created = when(raw.get("createdTime"))
    updated = when(raw.get("lastUpdatedTime")) or created
    if created is None or updated is None:
        log.warning("amazon: order %s without its times: skipped", raw["orderId"])
        return None
    said = str(as_dict(raw.get("fulfillment")).get("fulfillmentStatus") or "")
    lines = []
    for item in raw.get("orderItems") or []:
        item = as_dict(item)
        if not item.get("orderItemId"):
            continue
        product = as_dict(item.get("product"))
        lines.append(
            OrderLine(
                line_id=str(item["orderItemId"]),
                sku=product.get("sellerSku") or None,
                quantity=int(item.get("quantityOrdered") or 0),
                price=money(as_dict(product.get("price")).get("unitPrice")),  # one unit's
                remote_listing_id=product.get("asin") or None,
            )
        )
    return Order(
        order_id=str(raw["orderId"]),
        status=ORDER_STATUSES.get(said, OrderStatus.PENDING),
        created_at=created,
        updated_at=updated,
        lines=tuple(lines),
        total=money(as_dict(raw.get("proceeds")).get("grandTotal")),
    )


# ---------------------------------------------------------------------- seller feedback
def _day_order(days: Iterable[str], default: str) -> str:
    """Month or day first? A first number above 12 settles it for the whole report, so does
    a second one; otherwise the store's usual order."""
    for text in days:
        parts = text.replace(".", "/").replace("-", "/").split("/")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            if len(parts[0]) == 4:
                return "YMD"
            if int(parts[0]) > 12:
                return "DMY"
            if int(parts[1]) > 12:
                return "MDY"
    return default


def _day(text: str, order: str) -> date | None:
    text = text.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    parts = text.replace(".", "/").replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    values = dict(zip(order, (int(p) for p in parts), strict=True))
    year = values["Y"] + (2000 if values["Y"] < 100 else 0)
    try:
        return date(year, values["M"], values["D"])
    except ValueError:
        return None


def buyer_ref(email: str, seller_id: str) -> str:
    """An opaque, stable reference to a rater; the address itself is never kept."""
    key = f"syndicator-amazon-rater:{seller_id}".encode()
    digest = hashlib.blake2b(email.strip().lower().encode(), key=key, digest_size=12)
    return "rater:" + digest.hexdigest()


def feedback_from(
    text: str, *, seller_id: str, date_order: str | None, default_order: str
) -> list[Review]:
    """The GET_SELLER_FEEDBACK_DATA report (tab-separated: Date, Rating, Comments, Your
    Response, Order ID, Rater Email) as reviews of the seller. Amazon puts only 1 to 3
    stars in it, so none is a complete sample; one feedback per order, so the order id
    makes a review id that a re-pull finds again."""
    rows = list(
        csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t", quoting=csv.QUOTE_NONE)
    )
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    at = {
        name: header.index(name) if name in header else None
        for name in ("date", "rating", "comments", "order id", "rater email")
    }
    if at["order id"] is None or at["rating"] is None or at["date"] is None:
        raise ValueError("the seller feedback report has no Date, Rating or Order ID column")

    def cell(row: list[str], name: str) -> str:
        i = at[name]
        return row[i].strip() if i is not None and i < len(row) else ""

    body = [row for row in rows[1:] if any(c.strip() for c in row)]
    order = date_order or _day_order((cell(r, "date") for r in body), default_order)
    found: dict[str, Review] = {}
    for row in body:
        order_id = cell(row, "order id")
        day = _day(cell(row, "date"), order)
        try:
            rating = int(Decimal(cell(row, "rating")))
        except (InvalidOperation, ValueError):
            rating = 0
        if not order_id or day is None or not 1 <= rating <= 5:
            log.warning("amazon %s: a feedback row without order, date or rating", seller_id)
            continue
        email = cell(row, "rater email")
        found[order_id] = Review(
            review_id=f"seller-feedback:{order_id}",
            source=ReviewSource.SELLER_FEEDBACK,
            rating=rating,
            text=cell(row, "comments") or None,
            language=None,  # the report does not say
            created_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
            order_ref=order_id,
            buyer_ref=buyer_ref(email, seller_id) if email else None,
            complete_sample=False,  # only 1 to 3 stars: never a satisfaction rate
        )
    return list(found.values())
