"""The Amazon connector: listings through the Listings Items API or a JSON listings feed,
orders through Orders 2026-01-01, seller feedback through its report, read-back through
getListingsItem. It speaks python-amazon-sp-api, within Syndicator's quotas and retries,
composed of its parts (docs/amazon.md for operators):

- :mod:`~connectors.amazon.auth`: Login with Amazon, held by this connector alone;
- :mod:`~connectors.amazon.client`: the raw calls (the library's clients on our login,
  transport and store), in the Caller, errors sorted, empty answers caught;
- :mod:`~connectors.amazon.listings`: one Listings Items call per change, and read-back;
- :mod:`~connectors.amazon.bulk`: batches of ``feed_threshold`` changes or more as feeds;
- :mod:`~connectors.amazon.orders` and :mod:`~connectors.amazon.feedback`: the pulls;
- :mod:`~connectors.amazon.payloads`, :mod:`~connectors.amazon.feeds` and
  :mod:`~connectors.amazon.records`: pure translation, Decimal and UTF-8 end to end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from connectors.amazon.bulk import Feeds
from connectors.amazon.client import AmazonApi
from connectors.amazon.feedback import pull_feedback
from connectors.amazon.listings import Listings
from connectors.amazon.orders import pull_orders
from connectors.amazon.payloads import MARKETPLACES, ListingBuilder, Marketplace
from connectors.amazon.settings import AmazonSettings
from connectors.limits import PublishedLimits
from syndicator.connector import (
    AuthError,
    Capability,
    Connector,
    ConnectorContext,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    OrderPage,
    RemoteListing,
    ReviewPage,
    SetupError,
    reclassify,
)

__all__ = ["AmazonConnector"]

CHECK_SKU = "syndicator-credentials-check"  # never listed: a 404 proves token and seller


class AmazonConnector(PublishedLimits, Connector):
    """One seller in one Amazon store (see the module's docstring)."""

    capabilities = frozenset(Capability)
    limits = "amazon"

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, AmazonSettings):
            raise SetupError("the amazon connector needs AmazonSettings")
        self.settings = settings = context.settings
        self.seller_id = settings.seller_id
        self.marketplace = MARKETPLACES.get(settings.marketplace_id) or Marketplace(
            settings.marketplace_id,
            "",
            context.channel.currency,
            settings.marketplace_id,
            settings.region,
            "en_US",
        )
        self.mid = settings.marketplace_id
        self.builder = ListingBuilder(settings, self.marketplace)
        self.api = AmazonApi(context, settings)
        self.caller = self.api.caller
        self.listings = Listings(self.api, self.builder)
        self.feeds = Feeds(self.api, self.builder, self.listings)

    @classmethod
    def quota_account(cls, settings: Any, credentials: Any) -> str:
        return f"amazon:{settings.seller_id}"

    def close(self) -> None:
        self.api.close()

    def check(self) -> str:
        s = self.settings
        known = MARKETPLACES.get(self.mid)
        if known is not None and not s.endpoint and known.region != s.region:
            raise SetupError(
                f"marketplace {self.mid} ({known.name}) is served in region {known.region}, "
                f"not {s.region}: set region: {known.region}"
            )
        if known is not None and known.currency != self.context.channel.currency:
            raise SetupError(
                f"{known.name} sells in {known.currency}; the channel's currency is "
                f"{self.context.channel.currency}"
            )
        try:
            self.listings.get(CHECK_SKU, ["summaries"], expect=None)
        except AuthError as exc:
            if exc.operation == "lwaToken":
                raise
            raise reclassify(
                exc,
                AuthError,
                f"Amazon refused seller {self.seller_id} with these credentials: {exc.message}. "
                "Is the refresh token the one this seller authorised for this app, and does "
                "the app have the Product Listing role?",
            ) from None
        except ItemRejected as exc:
            raise reclassify(
                exc, SetupError, f"seller {self.seller_id} in {self.mid}: {exc.message}"
            ) from None
        name = known.name if known else self.mid
        return f"seller {self.seller_id} on {name} ({self.mid}), {self.context.channel.currency}"

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        if not changes:
            return []
        if len(changes) >= self.settings.feed_threshold:
            return self.feeds.push(changes)
        return self.listings.push(changes)

    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        return self.listings.read_back(skus)

    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        return pull_orders(self.api, since)

    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        return pull_feedback(self.api, since, self.marketplace.region)
