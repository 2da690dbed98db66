"""The shop's reviews, pulled since a watermark, each with the SKU it is about.

Etsy names the listing a review is about, not the SKU: a listing with one SKU says it; for a
listing with variations, the purchase the review is of (its transaction) is found in the
receipts of the year before the review.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from etsy_python.v3.resources import (
    EtsyClient,
    ListingInventoryResource,
    ReceiptResource,
    ReviewResource,
)

from connectors.etsy.client import EtsyApi
from connectors.etsy.payloads import EARLIEST, since_filter
from connectors.etsy.records import purchases, review_from, review_keys
from connectors.etsy.shop import Shop
from syndicator.connector import ItemRejected, Review, ReviewPage

__all__ = ["Reviews"]

Purchases = dict[int, tuple[str | None, str]]  # transaction -> (SKU, receipt id)


class Reviews:
    """The reviews of one shop."""

    def __init__(self, api: EtsyApi, shop: Shop) -> None:
        self.api = api
        self.shop = shop

    def pull(self, since: datetime | None) -> Iterator[ReviewPage]:
        """Reviews created since ``since`` minus ``review_overlap`` (Etsy filters on creation
        only). A review's id is its transaction's (one review per purchase): stable."""
        settings = self.api.settings
        start = since_filter(since, settings.review_overlap)
        skus: dict[int, set[str]] = {}
        lines: Purchases = {}

        def call(c: EtsyClient, offset: int) -> Any:
            return ReviewResource(c).get_reviews_by_shop(
                self.api.shop_id, limit=settings.page_size, offset=offset, min_created=start
            )

        for reviews, watermark in self.api.pull(
            "getReviewsByShop",
            call,
            since=since,
            parse=lambda r: self._review(r, skus, lines),
            changed=lambda review: review.created_at,
        ):
            yield ReviewPage(reviews, watermark)

    def _review(self, r: Mapping[str, Any], skus: dict[int, set[str]], lines: Purchases) -> Review:
        created, listing_id, transaction = review_keys(r)
        sku, order_ref = None, None
        if listing_id is not None:
            listed = self._listing_skus(listing_id, skus)
            if len(listed) == 1:
                (sku,) = listed
            elif transaction is not None:
                found = self._purchase(transaction, created, lines)
                if found is not None:
                    sku, order_ref = found
        return review_from(r, shop_id=self.api.shop_id, sku=sku, order_ref=order_ref)

    def _listing_skus(self, listing_id: int, cache: dict[int, set[str]]) -> set[str]:
        if listing_id not in cache:
            known = self.shop.known(listing_id)
            if known is not None and known.products:
                cache[listing_id] = known.skus
            else:
                try:
                    answer = self.api.call(
                        "getListingInventory",
                        lambda c: ListingInventoryResource(c).get_listing_inventory(listing_id),
                    )
                    cache[listing_id] = {
                        str(p["sku"]) for p in answer.get("products") or [] if p.get("sku")
                    }
                except ItemRejected:  # deleted since, or not ours any more
                    cache[listing_id] = set()
        return cache[listing_id]

    def _purchase(
        self, transaction: int, before: datetime, lines: Purchases
    ) -> tuple[str | None, str] | None:
        """The SKU and receipt of a purchase, from the receipts of the year before its
        review (for listings with variations, where the listing alone does not say)."""
        if transaction not in lines:
            start = max(EARLIEST, int((before - timedelta(days=365)).timestamp()))

            def call(c: EtsyClient, offset: int) -> Any:
                return ReceiptResource(c).get_shop_receipts(
                    self.api.shop_id,
                    min_created=start,
                    max_created=max(EARLIEST, int(before.timestamp())),
                    limit=self.api.settings.page_size,
                    offset=offset,
                )

            for page in self.api.pages("getShopReceipts", call):
                for receipt in page.items:
                    lines.update(purchases(receipt))
                if transaction in lines:
                    break
        return lines.get(transaction)
