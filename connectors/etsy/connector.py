"""The Etsy connector: one Etsy shop, through etsy-python (Open API v3), composed of its
parts (docs/etsy.md for operators):

- :mod:`~connectors.etsy.auth`: the API key and the access tokens (a refresh token that
  works once, rotated under the token store's lock);
- :mod:`~connectors.etsy.client`: the raw calls, in the Caller, errors sorted;
- :mod:`~connectors.etsy.shop`: the shop's listings, read once (Etsy has no SKU search),
  and its shipping profiles;
- :mod:`~connectors.etsy.listings`: creates (never twice), updates, delists, deletes, with
  :mod:`~connectors.etsy.inventory` (an inventory is merged, never wiped) and
  :mod:`~connectors.etsy.images`;
- :mod:`~connectors.etsy.orders` and :mod:`~connectors.etsy.reviews`: pulled since a
  watermark;
- :mod:`~connectors.etsy.payloads` and :mod:`~connectors.etsy.records`: pure translation,
  Decimal end to end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from etsy_python.v3.resources import ShopResource

from connectors.etsy import CHANNEL_TYPE, EtsySettings
from connectors.etsy.client import EtsyApi
from connectors.etsy.images import Images
from connectors.etsy.listings import Listings
from connectors.etsy.orders import Orders
from connectors.etsy.records import remote_listings
from connectors.etsy.reviews import Reviews
from connectors.etsy.shop import Shop
from connectors.limits import PublishedLimits
from syndicator.connector import (
    Connector,
    ConnectorContext,
    ItemOutcome,
    ListingChange,
    OrderPage,
    RemoteListing,
    ReviewPage,
    SetupError,
    digest,
)

__all__ = ["EtsyConnector"]


class EtsyConnector(PublishedLimits, Connector):
    """One Etsy shop (``settings.shop_id``) of one cooperative. Etsy counts calls per API
    key: one bucket ``*`` per key, per second and per day."""

    capabilities = CHANNEL_TYPE.capabilities
    limits = "etsy"

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, EtsySettings):
            raise SetupError("the Etsy connector needs EtsySettings")
        self.settings: EtsySettings = context.settings
        self.shop_id = self.settings.shop_id
        self.api = EtsyApi(context, self.settings)
        self.caller = self.api.caller  # every call of this shop goes through it
        self.shop = Shop(self.api)
        self.images = Images(self.api, context.image_root, context.timeout)
        self.listings = Listings(self.api, self.shop, self.images)
        self.orders = Orders(self.api)
        self.reviews = Reviews(self.api, self.shop)

    @classmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        """Etsy counts calls per API key: a short hash of the keystring, never the key."""
        key = (credentials.get("keystring") or "").strip()
        return f"etsy:key:{digest(key)[:16]}"

    def check(self) -> str:
        shop = self.api.call("getShop", lambda c: ShopResource(c).get_shop(self.shop_id))
        name, currency = shop.get("shop_name"), shop.get("currency_code")
        channel = self.context.channel
        if currency and currency != channel.currency:
            raise SetupError(
                f"Etsy shop {self.shop_id} sells in {currency}, but channel {channel.id} is set "
                f"to {channel.currency}"
            )
        profile = self.shop.shipping_profile()  # needs the owner's token: proves the grant
        return f"shop {self.shop_id} {name}, {currency}, shipping profile {profile}"

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        return self.listings.push(changes)

    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        wanted = None if skus is None else set(skus)
        listings = sorted(self.shop.listings(fresh=True).values(), key=lambda x: x.listing_id)
        return [remote for x in listings for remote in remote_listings(x, wanted)]

    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        return self.orders.pull(since)

    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        return self.reviews.pull(since)

    def close(self) -> None:
        self.api.close()
        self.images.close()
