"""The shop's receipts as orders, pulled since a watermark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from etsy_python.v3.enums.ShopReceipt import SortOn, SortOrder
from etsy_python.v3.resources import EtsyClient, ReceiptResource

from connectors.etsy.client import EtsyApi
from connectors.etsy.payloads import since_filter
from connectors.etsy.records import order_from
from syndicator.connector import OrderPage

__all__ = ["Orders"]


class Orders:
    """The orders of one shop."""

    def __init__(self, api: EtsyApi) -> None:
        self.api = api

    def pull(self, since: datetime | None) -> Iterator[OrderPage]:
        """Receipts changed since ``since`` minus ``order_overlap``, newest created first
        (a receipt changed while paging keeps its place: none is skipped). Only the last
        page carries the new watermark, the latest change seen."""
        settings = self.api.settings
        start = since_filter(since, settings.order_overlap)

        def call(c: EtsyClient, offset: int) -> Any:
            return ReceiptResource(c).get_shop_receipts(
                self.api.shop_id,
                min_last_modified=start,
                limit=settings.page_size,
                offset=offset,
                sort_on=SortOn.CREATED,
                sort_order=SortOrder.DESC,
            )

        for orders, watermark in self.api.pull(
            "getShopReceipts",
            call,
            since=since,
            parse=order_from,
            changed=lambda order: order.updated_at,
        ):
            yield OrderPage(orders, watermark)
