"""The generic ANOU-style connector: a cooperative marketplace's JSON API, driven by the
channel's settings (:mod:`connectors.anou.settings`), speaking docs/anou-api.md by default,
composed of its parts (docs/anou.md for operators):

- :mod:`~connectors.anou.auth`: the API key, in the header the settings name;
- :mod:`~connectors.anou.client`: the raw calls (httpx), in the Caller, errors sorted;
- :mod:`~connectors.anou.listings`: what each change does (by SKU: a retried create never
  lists twice), and read-back, with :mod:`~connectors.anou.images`;
- :mod:`~connectors.anou.pulls`: orders and reviews since a watermark, with the cursor
  :mod:`~connectors.anou.cursors`;
- :mod:`~connectors.anou.payloads` and :mod:`~connectors.anou.records`: pure translation
  through the field maps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from connectors.anou import CHANNEL_TYPE
from connectors.anou.auth import ApiKey
from connectors.anou.client import AnouClient
from connectors.anou.images import Images
from connectors.anou.listings import Listings
from connectors.anou.pulls import Pulls
from connectors.anou.records import order_from, review_from
from connectors.anou.settings import AnouSettings
from connectors.limits import PublishedLimits
from syndicator.connector import (
    Connector,
    ConnectorContext,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    Order,
    OrderPage,
    RemoteListing,
    ReviewPage,
    SetupError,
    Transient,
    credentials_redactor,
    reclassify,
)

__all__ = ["AnouConnector"]


class AnouConnector(PublishedLimits, Connector):
    """One shop (one API key) on an ANOU-style marketplace."""

    capabilities = CHANNEL_TYPE.capabilities
    limits = "anou"

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, AnouSettings):
            raise SetupError("the channel's settings are not ANOU-style settings")
        key = ApiKey(context.credentials, context.channel.id)
        self.settings = settings = context.settings
        self.account = self.quota_account(settings, context.credentials)
        self.fields = {
            kind: settings.fields.merged(kind)
            for kind in ("product", "order", "line", "review", "lists", "image", "error")
        }
        self.client = AnouClient(
            settings.api_url,
            key.headers(settings),
            error_fields=self.fields["error"],
            account=self.account,
            quota=context.quota,
            timeout=context.timeout,
            policy=context.retry,
            redactor=credentials_redactor(context.credentials),
        )
        self.caller = self.client.caller  # every call of this account goes through it
        images = Images(self.client, settings, self.fields["image"], context.image_root)
        self.listings = Listings(
            self.client, settings, self.fields["product"], images, context.channel.currency
        )
        self.pulls = Pulls(self.client, settings, self.fields["lists"], context.tokens)

    @classmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        """``anou:`` and a short hash of the API key: the key itself is never shown."""
        return ApiKey.account(credentials)

    def check(self) -> str:
        where = urlsplit(self.settings.api_url)
        place = f"{where.netloc}{where.path}"
        check = self.settings.endpoints.check
        try:
            self.client.call("check", check)
        except ItemRejected as exc:  # 404 and the like: the address is wrong, not an item
            raise reclassify(
                exc,
                SetupError,
                f"{place} answers {exc.status} to {check}: {exc.message}; check base_url and "
                "endpoints.check",
            ) from None
        except Transient as exc:
            if exc.status is None or exc.status >= 400:
                raise
            raise reclassify(
                exc, SetupError, f"{place} answers {exc.message}: is base_url the API's address?"
            ) from None
        return f"ANOU-style shop at {place}, key {self.account}, {self.context.channel.currency}"

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        return self.listings.push(changes)

    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        return self.listings.read_back(skus)

    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        fields, lines = self.fields["order"], self.fields["line"]
        statuses, currency = self.settings.order_statuses, self.context.channel.currency

        def parse(raw: Any) -> Order:
            return order_from(raw, fields, lines, statuses, currency)

        for orders, watermark in self.pulls.pull(
            "orders", since, parse, lambda o: o.updated_at, self.settings.endpoints.orders
        ):
            yield OrderPage(orders, watermark)

    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        fields = self.fields["review"]
        for reviews, watermark in self.pulls.pull(
            "reviews",
            since,
            lambda raw: review_from(raw, fields),
            lambda r: r.updated_at or r.created_at,
            self.settings.endpoints.reviews,
        ):
            yield ReviewPage(reviews, watermark)

    def close(self) -> None:
        self.client.close()
