"""The one small interface between the core and a marketplace.

The core knows no marketplace: it hands a connector the changes a plan asks for and gets one
:class:`ItemOutcome` per item back; it asks for orders and reviews since a watermark and gets
pages of normalised records; it reads listings back to find drift. Everything a marketplace
does differently (its payloads, its library, its quotas, its traps) stays inside its package
in ``connectors/``, which sees the core through :mod:`syndicator.connector` alone.
docs/connectors.md explains how to write one.

Errors a connector raises are sorted by what the runner does with them
(:mod:`syndicator.errors`): stop and alert, wait, retry, record and go on. A rejected item
is normally reported as a failed :class:`ItemOutcome`, not raised: a batch never stops for
one bad listing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from syndicator.domain.money import Money
from syndicator.domain.orders import Order
from syndicator.domain.reviews import Review
from syndicator.errors import ChannelError, ItemRejected, SetupError
from syndicator.planning.operations import Action, PlannedOp
from syndicator.planning.projection import Projection
from syndicator.plugins import Capability, load_hook

if TYPE_CHECKING:
    from syndicator.config import ChannelConfig
    from syndicator.domain.quotas import QuotaRule
    from syndicator.plugins import ChannelType

__all__ = [
    "Connector",
    "ConnectorContext",
    "ItemOutcome",
    "ListingChange",
    "OrderPage",
    "Quota",
    "RemoteListing",
    "RetryPolicy",
    "ReviewPage",
    "TokenStore",
    "decimal_or_none",
    "load_connector",
    "or_missing",
    "reclassify",
]

E = TypeVar("E", bound=ChannelError)
T = TypeVar("T")


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


# --------------------------------------------------------------------------- pages
@dataclass(frozen=True, slots=True)
class OrderPage:
    """Orders changed since the watermark asked for. ``watermark``: where the next pull may
    start (the latest change time seen); the runner stores it with the page's lines in one
    transaction. Pages overlap on purpose; the ledger counts each line once."""

    orders: tuple[Order, ...]
    watermark: datetime | None


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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a connector's :class:`~syndicator.channels.calls.Caller` tries a failed call
    again (a channel's ``retry:`` in the config)."""

    attempts: int = 5  # tries in all, the first included
    base: float = 0.5  # seconds; the n-th retry waits up to base * 2**n (full jitter)
    cap: float = 30.0  # no single backoff longer than this (a Retry-After may be)
    max_retry_after: float = 120.0  # a Retry-After longer than this is not waited for
    total: float = 300.0  # give up when the next wait would pass this since the first try


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
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # the channel's ``retry:``


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
    cls = load_hook(channel_type.connector)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise SetupError(f"{channel_type.connector} is not a Connector")
    return cls


def decimal_or_none(value: object) -> Decimal | None:
    """A channel's number as a Decimal (via str, so a float keeps its written digits)."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def reclassify(exc: ChannelError, kind: type[E], message: str) -> E:
    """``exc`` as another kind of failure, in other words (a 404 at a credentials check
    is a setup problem, not an item's), keeping the channel's code, status and operation."""
    return kind(message, code=exc.code, status=exc.status, operation=exc.operation)


def or_missing(call: Callable[[], T]) -> T | ItemRejected:
    """``call()``, or the 404 the channel answered instead: it has no such thing (a delete
    of what is gone is done already, a read-back leaves it out)."""
    try:
        return call()
    except ItemRejected as exc:
        if exc.status != 404:
            raise
        return exc
