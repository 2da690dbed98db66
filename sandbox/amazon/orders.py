"""The Orders APIs: 2026-01-01 (``searchOrders``, ``getOrder``) and v0 (``getOrders``,
``getOrder``, ``getOrderItems``). Both versions search by the same rules under other names;
a search's pages are snapshots behind page tokens that expire after 24 hours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.amazon.api import Part, moment
from sandbox.amazon.state import MARKETPLACES, Order, Page, digest, iso
from sandbox.base import ApiError

__all__ = ["SEARCH_2026", "SEARCH_V0", "Orders"]

PAGE_TOKEN_LIFETIME = timedelta(hours=24)

Found = tuple[list[Order], list[str], dict[str, Any]]  # orders, data sets, what the answer adds


def fulfillment_status(order: Order) -> str:
    """Orders 2026-01-01's word for an order's status (v0 says Canceled, Unshipped)."""
    return "CANCELLED" if order.status == "Canceled" else order.status.upper()


@dataclass(frozen=True, slots=True)
class _Search:
    """The query parameters of an order search: Orders 2026-01-01 and v0 name them apart."""

    api: str
    created_after: str
    created_before: str
    updated_after: str
    updated_before: str
    marketplaces: str
    page_size: str
    statuses: str
    token: str

    def status(self, order: Order) -> str:
        """The order's status in this version's words."""
        return order.status if self.api == "v0" else fulfillment_status(order)


SEARCH_2026 = _Search("2026-01-01", "createdAfter", "createdBefore", "lastUpdatedAfter",
                      "lastUpdatedBefore", "marketplaceIds", "maxResultsPerPage",
                      "fulfillmentStatuses", "paginationToken")  # fmt: skip
SEARCH_V0 = _Search("v0", "CreatedAfter", "CreatedBefore", "LastUpdatedAfter",
                    "LastUpdatedBefore", "MarketplaceIds", "MaxResultsPerPage",
                    "OrderStatuses", "NextToken")  # fmt: skip


def _values(request: Request, name: str) -> list[str]:
    """A list parameter, sent comma-separated or repeated."""
    return [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]


def _when(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    return moment(raw, f"{name} {raw!r} is not an ISO 8601 date-time.")


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currencyCode": currency}


def _relay_email(order_id: str) -> str:
    """Amazon hides buyers behind relay addresses; never a real person's."""
    return f"{digest('buyer', order_id)}@marketplace.amazon.com"


def order_2026(order: Order, included: list[str]) -> dict[str, Any]:
    """An order as Orders 2026-01-01 shows it: items inside, data sets on request."""
    cancelled = order.status == "Canceled"
    items = []
    for item in order.items:
        entry: dict[str, Any] = {
            "orderItemId": item.order_item_id,
            "quantityOrdered": item.quantity,
            "product": {
                "asin": item.asin,
                "title": item.title,
                "sellerSku": item.sku,
                "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                "price": {"unitPrice": _money(item.unit_price, order.currency)},
            },
        }
        if "PROCEEDS" in included:
            subtotal = _money(item.unit_price * item.quantity, order.currency)
            entry["proceeds"] = {
                "proceedsTotal": subtotal,
                "breakdowns": [{"type": "ITEM", "subtotal": subtotal}],
            }
        if "FULFILLMENT" in included:
            entry["fulfillment"] = {
                "quantityFulfilled": 0,
                "quantityUnfulfilled": 0 if cancelled else item.quantity,
            }
        if "CANCELLATION" in included and cancelled:
            entry["cancellation"] = {
                "cancellationExecution": {
                    "cancelledBy": "BUYER",
                    "cancelReason": "Buyer canceled",
                }
            }
        items.append(entry)
    out: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created),
        "lastUpdatedTime": iso(order.updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace_id,
            "marketplaceName": MARKETPLACES[order.marketplace_id].name,
        },
        "orderItems": items,
    }
    if "BUYER" in included:
        out["buyer"] = {"buyerEmail": _relay_email(order.order_id)}
    if "PROCEEDS" in included:
        total = _money(order.total(), order.currency)
        out["proceeds"] = {
            "grandTotal": total,
            "breakdowns": [{"type": "ITEM", "subtotal": total}],
        }
    if "FULFILLMENT" in included:
        out["fulfillment"] = {
            "fulfillmentStatus": fulfillment_status(order),
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "STANDARD",
        }
    return out


def order_v0(order: Order) -> dict[str, Any]:
    """An order as Orders v0 shows it: no items (getOrderItems has them)."""
    cancelled = order.status == "Canceled"
    quantity = sum(i.quantity for i in order.items)
    out: dict[str, Any] = {
        "AmazonOrderId": order.order_id,
        "PurchaseDate": iso(order.created),
        "LastUpdateDate": iso(order.updated),
        "OrderStatus": order.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": MARKETPLACES[order.marketplace_id].name,
        "ShipServiceLevel": "Std Dom",
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 0 if cancelled else quantity,
        "PaymentMethod": "Other",
        "MarketplaceId": order.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(order.created + timedelta(days=1)),
        "LatestShipDate": iso(order.created + timedelta(days=3)),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
    }
    if not cancelled:  # Amazon drops the total of a cancelled order
        out["OrderTotal"] = {"CurrencyCode": order.currency, "Amount": str(order.total())}
    return out


class Orders(Part):
    """A seller's orders, read in either version."""

    def routes(self) -> list[BaseRoute]:
        route = self.api.route
        v0 = "/orders/v0/orders"
        return [
            route("GET", "/orders/2026-01-01/orders", "searchOrders", self.search_orders),
            route("GET", "/orders/2026-01-01/orders/{order_id}", "getOrder", self.get_order),
            route("GET", v0, "getOrders", self.get_orders_v0),
            route("GET", f"{v0}/{{order_id}}", "getOrder", self.get_order_v0),
            route("GET", f"{v0}/{{order_id}}/orderItems", "getOrderItems", self.get_items_v0),
        ]

    async def search_orders(self, request: Request) -> Response:
        self.api.check_query(request, "searchOrders")
        with self.api.lock:
            orders, included, extra = self._search(request, SEARCH_2026)
            body: dict[str, Any] = {"orders": [order_2026(o, included) for o in orders]}
        if "nextToken" in extra:
            body["pagination"] = {"nextToken": extra.pop("nextToken")}
        return self.api.answer({**body, **extra})

    async def get_orders_v0(self, request: Request) -> Response:
        if not request.query_params.get("NextToken"):  # with a token, the filters are its own
            self.api.check_query(request, "getOrders")
        with self.api.lock:
            orders, _, extra = self._search(request, SEARCH_V0)
            payload: dict[str, Any] = {"Orders": [order_v0(o) for o in orders]}
        if "nextToken" in extra:
            payload["NextToken"] = extra.pop("nextToken")
        return self.api.answer({"payload": {**payload, **extra}})

    async def get_order(self, request: Request) -> Response:
        self.api.check_query(request, "getOrder")
        with self.api.lock:
            order = order_2026(self._find(request), _values(request, "includedData"))
        return self.api.answer({"order": order})

    async def get_order_v0(self, request: Request) -> Response:
        with self.api.lock:
            return self.api.answer({"payload": order_v0(self._find(request))})

    async def get_items_v0(self, request: Request) -> Response:
        with self.api.lock:
            order = self._find(request)
            items = [
                {
                    "ASIN": item.asin,
                    "SellerSKU": item.sku,
                    "OrderItemId": item.order_item_id,
                    "Title": item.title,
                    "QuantityOrdered": item.quantity,
                    "QuantityShipped": 0,
                    "ItemPrice": {  # v0: the price of the whole line
                        "CurrencyCode": order.currency,
                        "Amount": str(item.unit_price * item.quantity),
                    },
                    "ItemTax": {"CurrencyCode": order.currency, "Amount": "0.00"},
                    "PromotionDiscount": {"CurrencyCode": order.currency, "Amount": "0.00"},
                    "IsGift": "false",
                    "ConditionId": "New",
                    "ConditionSubtypeId": "New",
                    "IsTransparency": False,
                }
                for item in order.items
            ]
            return self.api.answer(
                {"payload": {"AmazonOrderId": order.order_id, "OrderItems": items}}
            )

    def _find(self, request: Request) -> Order:
        order = self.state.orders.get(request.path_params["order_id"])
        if order is None or order.seller_id != self.api.seller(request):
            message = f"Order {request.path_params['order_id']} was not found."
            raise ApiError(404, "NotFound", message)
        return order

    def _search(self, request: Request, names: _Search) -> Found:
        """One page of an order search (both versions share the rules, not the names): its
        orders, the data sets asked for, and what the answer adds (the next page's token,
        the cut-off time)."""
        seller = self.api.seller(request)
        token = request.query_params.get(names.token)
        if token:
            page = self.state.pages.pop(token, None)
            if (
                page is None
                or page.seller_id != seller
                or page.api != names.api
                or page.expires < self.api.now()
            ):
                raise ApiError(400, "InvalidInput", f"Invalid or expired {names.token}.")
            return self._paginate(page, {})
        created_after = _when(request, names.created_after)
        created_before = _when(request, names.created_before)
        updated_after = _when(request, names.updated_after)
        updated_before = _when(request, names.updated_before)
        if (created_after is None) == (updated_after is None):
            message = f"Exactly one of {names.created_after} and {names.updated_after} is needed."
            raise ApiError(400, "InvalidInput", message)
        if (created_after and updated_before) or (updated_after and created_before):
            message = "Created and last-updated times cannot be mixed in one search."
            raise ApiError(400, "InvalidInput", message)
        after = created_after or updated_after
        assert after is not None
        before = created_before or updated_before
        if before is not None and not after <= before <= self.api.now() - timedelta(minutes=2):
            message = (
                f"{names.created_before if created_before else names.updated_before} must be "
                "after the start and at least two minutes before the time of the request."
            )
            raise ApiError(400, "InvalidInput", message)
        marketplaces = self.api.marketplaces(
            seller, request.query_params.getlist(names.marketplaces), default=True
        )
        try:
            size = int(request.query_params.get(names.page_size) or self.api.default_page_size)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", f"{names.page_size} must be between 1 and 100.")
        statuses = _values(request, names.statuses)
        by_created = created_after is not None
        selected = sorted(
            (
                o
                for o in self.state.orders.values()
                if o.seller_id == seller
                and o.marketplace_id in marketplaces
                and after <= (o.created if by_created else o.updated)
                and (before is None or (o.created if by_created else o.updated) <= before)
                and (not statuses or names.status(o) in statuses)
            ),
            key=lambda o: (o.created if by_created else o.updated, o.order_id),
        )
        page = Page(
            seller,
            names.api,
            [o.order_id for o in selected],
            size,
            _values(request, "includedData"),
            self.api.now() + PAGE_TOKEN_LIFETIME,
        )
        cutoff = names.created_before if by_created else names.updated_before
        return self._paginate(page, {cutoff: iso(before or self.api.stamp())})

    def _paginate(self, page: Page, extra: dict[str, Any]) -> Found:
        """This page's orders; the token of the next page (if any) joins ``extra``."""
        now, rest = page.order_ids[: page.size], page.order_ids[page.size :]
        if rest:
            token = secrets.token_urlsafe(24)
            self.state.pages[token] = replace(page, order_ids=rest)
            extra = {**extra, "nextToken": token}
        orders = [self.state.orders[i] for i in now if i in self.state.orders]
        return orders, page.included, extra
