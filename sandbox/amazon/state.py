"""What the emulated Amazon knows: stores, LWA grants and tokens, listings, documents, jobs,
orders and seller feedback.

All of it lives in one :class:`State` (``AmazonSandbox.state``), which a "write accepted but
not applied" fault puts back whole and the demo's snapshot pickles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "CENT",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SELLERS",
    "MARKETPLACES",
    "Document",
    "Feedback",
    "Grant",
    "Job",
    "Listing",
    "Marketplace",
    "Order",
    "OrderItem",
    "Page",
    "State",
    "Token",
    "default_channel",
    "digest",
    "iso",
    "our_offer",
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

CENT = Decimal("0.01")  # every store the sandbox knows prices in cents


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def our_offer(offers: Any, marketplace_id: str) -> dict[str, Any] | None:
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


def default_channel(entries: Any) -> dict[str, Any] | None:
    """The seller-fulfilled stock entry (channel DEFAULT) of fulfillment_availability."""
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("fulfillment_channel_code") == "DEFAULT":
            return entry
    return None


@dataclass
class Grant:
    """A seller's authorisation of an LWA application: its refresh token."""

    client_id: str
    seller_id: str
    revoked: bool = False


@dataclass
class Token:
    seller_id: str
    expires: datetime


@dataclass
class Listing:
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
        entry = our_offer(self.attributes.get("purchasable_offer"), self.marketplace_id)
        if entry is None:
            return None
        value = entry["our_price"][0]["schedule"][0]["value_with_tax"]
        return Decimal(str(value)).quantize(CENT), str(entry["currency"])

    def quantity(self) -> int:
        entry = default_channel(self.attributes.get("fulfillment_availability"))
        return int(entry.get("quantity", 0)) if entry else 0

    def set_quantity(self, quantity: int) -> None:
        entry = default_channel(self.attributes.get("fulfillment_availability"))
        if entry is None:
            entry = {"fulfillment_channel_code": "DEFAULT"}
            self.attributes.setdefault("fulfillment_availability", []).append(entry)
        entry["quantity"] = quantity

    def buyable(self) -> bool:
        return self.offer() is not None and self.quantity() > 0

    def statuses(self) -> list[str]:
        return ["BUYABLE", "DISCOVERABLE"] if self.buyable() else ["DISCOVERABLE"]


@dataclass
class Document:
    """A document behind a presigned URL: an uploaded feed, a processing report, a report."""

    document_id: str
    seller_id: str
    kind: str  # "feed", "feed-result", "report"
    content_type: str
    data: bytes | None = None


@dataclass
class Job:
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
class OrderItem:
    order_item_id: str
    sku: str
    asin: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass
class Order:
    order_id: str
    seller_id: str
    marketplace_id: str
    currency: str
    created: datetime
    updated: datetime
    items: list[OrderItem]
    status: str = "Unshipped"  # Orders v0's words; Orders 2026-01-01 says UNSHIPPED

    def total(self) -> Decimal:
        return sum((i.unit_price * i.quantity for i in self.items), Decimal("0"))


@dataclass
class Feedback:
    seller_id: str
    marketplace_id: str
    order_id: str
    sku: str
    rating: int
    text: str
    date: datetime
    rater_email: str


@dataclass
class Page:
    """What is left of a search, behind a page token."""

    seller_id: str
    api: str
    order_ids: list[str]
    size: int
    included: list[str]
    expires: datetime


@dataclass
class State:
    clients: dict[str, str] = field(default_factory=dict)  # LWA client id -> secret
    grants: dict[str, Grant] = field(default_factory=dict)  # refresh token -> grant
    sellers: dict[str, list[str]] = field(default_factory=dict)  # seller -> marketplaces
    tokens: dict[str, Token] = field(default_factory=dict)
    listings: dict[tuple[str, str], Listing] = field(default_factory=dict)  # (seller, sku)
    documents: dict[str, Document] = field(default_factory=dict)
    feeds: dict[str, Job] = field(default_factory=dict)
    reports: dict[str, Job] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    feedback: list[Feedback] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)
    seq: int = 0

    @classmethod
    def demo(cls) -> State:
        """An empty Amazon but for the demo's LWA application and its two sellers."""
        state = cls(clients={DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
        for seller, (refresh_token, marketplace) in DEMO_SELLERS.items():
            state.grants[refresh_token] = Grant(DEMO_CLIENT_ID, seller)
            state.sellers[seller] = [marketplace]
        return state
