"""Orders through Orders 2026-01-01 (``searchOrders``), by last update since a watermark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from connectors.amazon.client import AmazonApi
from connectors.amazon.records import iso, next_token, order_from
from syndicator.connector import OrderPage, cursor_pages, latest

__all__ = ["pull_orders"]


def pull_orders(api: AmazonApi, since: datetime | None) -> Iterator[OrderPage]:
    """searchOrders by last update, from ``since`` minus the overlap (the first time, the
    lookback), page by page; the watermark is the latest update seen."""
    s = api.settings
    now = datetime.now(UTC)
    start = since - s.order_overlap if since else now - timedelta(days=s.order_lookback_days)
    orders = api.client("orders")
    query: dict[str, Any] = {
        "lastUpdatedAfter": iso(min(start, now)),  # a string: the library sends as is
        "marketplaceIds": [api.mid],
        "includedData": ["FULFILLMENT", "PROCEEDS"],
        "maxResultsPerPage": s.order_page_size,
    }
    watermark = since

    def fetch(token: str | None) -> tuple[OrderPage, str | None]:
        nonlocal watermark
        kw = dict(query, paginationToken=token) if token else dict(query)
        answer = api.call("searchOrders", partial(orders.search_orders, **kw), expect="orders")
        page = [o for o in map(order_from, answer.payload.get("orders") or []) if o]
        watermark = latest((order.updated_at for order in page), watermark)
        return OrderPage(tuple(page), watermark), next_token(answer)

    yield from cursor_pages(fetch, None)
