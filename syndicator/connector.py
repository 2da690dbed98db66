"""The one small interface between the core and a marketplace.

The core knows no marketplace: it hands a connector the changes a plan asks for and gets one
:class:`ItemOutcome` per item back; it asks for orders and reviews since a watermark and gets
pages of normalised records; it reads listings back to find drift. Everything a marketplace
does differently (its payloads, its library, its quotas, its traps) stays inside its package
in ``connectors/``. docs/connectors.md explains how to write one.

Errors a connector raises are sorted by what the runner does with them, not by where they
come from:

=====================  =====================================================================
:class:`AuthError`     stop this channel, alert once (credentials refused, access revoked)
:class:`SetupError`    stop this channel, alert once (the config or the account is wrong)
:class:`Throttled`     wait as long as the channel says (``retry_after``), then go on
:class:`Transient`     retry with jittered backoff, a bounded number of times
:class:`ItemRejected`  record the channel's own message for that item and go on with the rest
=====================  =====================================================================

A rejected item is normally reported as a failed :class:`ItemOutcome`, not raised: a batch
never stops for one bad listing.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from syndicator.channels import Capability
from syndicator.money import Money
from syndicator.planner import Action, PlannedOp
from syndicator.projection import Projection

if TYPE_CHECKING:
    from syndicator.channels import ChannelType
    from syndicator.config import ChannelConfig
    from syndicator.store.quota import QuotaRule

__all__ = [
    "AuthError",
    "ChannelError",
    "Connector",
    "ConnectorContext",
    "ItemOutcome",
    "ItemRejected",
    "ListingChange",
    "Order",
    "OrderLine",
    "OrderPage",
    "OrderStatus",
    "Quota",
    "RemoteListing",
    "Review",
    "ReviewPage",
    "ReviewSource",
    "SetupError",
    "Throttled",
    "TokenStore",
    "Transient",
    "load_connector",
]


# --------------------------------------------------------------------------- errors
class ChannelError(Exception):
    """A failure at the channel, in the channel's own words.

    ``message`` is what the channel said (or, for a network failure, what happened);
    ``code`` the channel's own error code when it gives one; ``status`` the HTTP status.
    ``operation`` names the API operation (``putListingsItem``, ``createDraftListing``).
    Never put a credential in any of them.
    """

    stops_channel = False
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.operation = operation

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        what = " ".join(p for p in (str(self.status) if self.status else "", self.code or "") if p)
        return f"{where}{what + ': ' if what else ''}{self.message}"


class AuthError(ChannelError):
    """The channel refuses the credentials: stop this channel and alert, do not retry."""

    stops_channel = True


class SetupError(ChannelError):
    """The config or the account cannot work (unknown shop, missing permission, bad
    setting): stop this channel and alert, do not retry."""

    stops_channel = True


class Throttled(ChannelError):
    """Over the channel's quota: wait ``retry_after`` seconds (None: the channel did not
    say; back off), then try again."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class Transient(ChannelError):
    """A failure that may pass: a 5xx, a timeout, a dropped connection, an empty answer
    where one was due. Retried with jittered backoff, a bounded number of times."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ItemRejected(ChannelError):
    """The channel refuses this one item (a missing attribute, a title too long): record
    its message and go on with the others."""


# --------------------------------------------------------------------------- listings
@dataclass(frozen=True, slots=True)
class ListingChange:
    """One change a plan asks of a channel.

    ``projection`` is what the channel should show (None for a delist); ``remote_id`` the
    channel's own id for the listing when the store knows it (an Etsy listing id, an ANOU
    product id); ``attempt`` counts from 1 across passes, for the journal.
    """

    sku: str
    parent_sku: str | None
    action: Action
    projection: Projection | None = None
    remote_id: str | None = None
    attempt: int = 1

    @classmethod
    def from_op(
        cls, op: PlannedOp, remote_id: str | None = None, attempt: int = 1
    ) -> ListingChange:
        return cls(op.sku, op.parent_sku, op.action, op.projection, remote_id, attempt)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What the channel made of one change.

    ``ok``: the channel accepted it (for a feed: the processing report said so).
    ``message`` and ``code``: the channel's own words when it refused or warned.
    ``retryable``: a failure worth trying again in a later pass (a timeout, a 5xx) rather
    than one that needs the catalog or the config fixed.
    """

    sku: str
    ok: bool
    remote_id: str | None = None
    message: str | None = None
    code: str | None = None
    retryable: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemoteListing:
    """A listing as the channel shows it now (read-back, for drift)."""

    sku: str
    remote_id: str | None
    status: str  # active, inactive, draft, delisted
    title: str | None = None
    price: Money | None = None
    quantity: int | None = None
    parent_sku: str | None = None


# --------------------------------------------------------------------------- orders
class OrderStatus(StrEnum):
    PENDING = "pending"  # placed, not yet paid: stock is held all the same
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str  # the channel's own line id, unique within the order
    sku: str | None  # None when the channel does not know our SKU for that line
    quantity: int
    price: Money | None = None
    remote_listing_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    status: OrderStatus
    created_at: datetime  # UTC, aware
    updated_at: datetime  # UTC, aware
    lines: tuple[OrderLine, ...]
    total: Money | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    """Orders changed since the watermark asked for. ``watermark``: where the next pull may
    start (the latest change time seen); the runner stores it with the page's lines in one
    transaction. Pages overlap on purpose; the ledger counts each line once."""

    orders: tuple[Order, ...]
    watermark: datetime | None


# --------------------------------------------------------------------------- reviews
class ReviewSource(StrEnum):
    PRODUCT_REVIEW = "product_review"  # a buyer rates the item (Etsy, ANOU)
    SELLER_FEEDBACK = "seller_feedback"  # a buyer rates the seller (Amazon: 1 to 3 stars only)


@dataclass(frozen=True, slots=True)
class Review:
    review_id: str  # stable across pulls: a re-pull updates, never duplicates
    source: ReviewSource
    rating: int  # 1 to 5
    text: str | None
    language: str | None  # the channel's own field; None: not given
    created_at: datetime
    updated_at: datetime | None = None
    sku: str | None = None
    remote_listing_id: str | None = None
    order_ref: str | None = None
    buyer_ref: str | None = None  # an opaque id, never a name or an address
    complete_sample: bool = True  # False: the source holds only some ratings (Amazon feedback)


@dataclass(frozen=True, slots=True)
class ReviewPage:
    reviews: tuple[Review, ...]
    watermark: datetime | None


# --------------------------------------------------------------------------- context
class Quota(Protocol):
    """Token buckets per (account, operation), shared by every process on the store."""

    def acquire(self, operation: str, weight: int = 1) -> float:
        """Wait until ``operation`` may be called; return the seconds waited."""
        ...

    def penalize(self, operation: str, retry_after: float | None) -> None:
        """The channel said 429: empty that bucket for ``retry_after`` seconds."""
        ...


class TokenStore(Protocol):
    """Where a connector keeps credentials the channel rotates (Etsy's refresh token)."""

    def load(self, name: str) -> str | None: ...

    def save(self, values: Mapping[str, str]) -> None:
        """Store all ``values`` at once, or none of them."""
        ...

    def exclusive(self) -> AbstractContextManager[TokenStore]:
        """The same tokens under a lock no other worker holds: load, refresh, save."""
        ...


@dataclass(slots=True)
class ConnectorContext:
    """What a connector is built from. ``credentials`` holds resolved secret values: never
    log, journal or echo them. ``image_root`` is the catalog's folder (local image paths
    are relative to it)."""

    cooperative: str
    channel: ChannelConfig
    settings: object  # the channel type's settings model, validated
    credentials: Mapping[str, str]
    quota: Quota
    tokens: TokenStore
    image_root: Path
    timeout: float = 30.0
    options: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- connector
class Connector(abc.ABC):
    """One (cooperative, channel) account on one marketplace.

    A connector is built per pass from a :class:`ConnectorContext` and holds no state that
    must outlive the pass except through ``context.tokens`` and ``context.quota``: a pass
    may run in any process.
    """

    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    @classmethod
    @abc.abstractmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        """Who the marketplace counts calls against (``amazon:A2SANDBOXATLAS``, an Etsy
        keystring): every connector for that account shares these buckets. Never a
        secret."""

    @classmethod
    @abc.abstractmethod
    def quota_rules(cls, settings: Any) -> Mapping[str, Sequence[QuotaRule]]:
        """Operation -> the token buckets it draws from (``"*"``: any other operation)."""

    @abc.abstractmethod
    def check(self) -> str:
        """Check the credentials and the account; return a one-line description of the
        account (``shop 41000001 AtlasRugsCoop, USD``). Raises :class:`AuthError` or
        :class:`SetupError`."""

    @abc.abstractmethod
    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """Apply ``changes``; one outcome per change, in any order. A retried create must
        not create a second listing: look up the SKU first."""

    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        """Orders created or changed since ``since`` (None: from the start), page by page,
        starting a little before ``since`` so a late write is not missed."""
        raise NotImplementedError(f"{type(self).__name__} does not pull orders")

    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        raise NotImplementedError(f"{type(self).__name__} does not pull reviews")

    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        """The listings as the channel shows them (``skus`` None: every listing)."""
        raise NotImplementedError(f"{type(self).__name__} does not read listings back")

    def close(self) -> None:  # noqa: B027 - optional: most connectors hold nothing to close
        """Release connections. Idempotent."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_connector(channel_type: ChannelType) -> type[Connector]:
    """The connector class a channel type names (``module:Class``), imported on demand so
    that reading a config never imports a marketplace's client library."""
    if channel_type.connector is None:
        raise SetupError(f"channel type {channel_type.name} has no connector")
    module_name, _, attr = channel_type.connector.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise SetupError(f"{channel_type.connector} is not a Connector")
    return cls


def decimal_or_none(value: object) -> Decimal | None:
    """A channel's number as a Decimal (via str, so a float keeps its written digits)."""
    if value is None or value == "":
        return None
    return Decimal(str(value))
