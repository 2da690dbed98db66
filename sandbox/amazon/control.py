"""Amazon's side of the control API (``/_sandbox/``): what it holds, sellers registered,
buyers who order, cancel and leave seller feedback. Never called by a connector."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.amazon.api import Part
from sandbox.amazon.state import (
    MARKETPLACES,
    Feedback,
    Grant,
    Listing,
    Order,
    OrderItem,
    digest,
    iso,
)
from sandbox.base import ApiError, Control

__all__ = ["AmazonControl"]


def _order_json(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "seller_id": order.seller_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status,
        "created": iso(order.created),
        "updated": iso(order.updated),
        "currency": order.currency,
        "total": str(order.total()),
        "items": [
            {"sku": i.sku, "quantity": i.quantity, "unit_price": str(i.unit_price)}
            for i in order.items
        ],
    }


class AmazonControl(Part, Control):
    """What Amazon does for the control API."""

    def state_json(self) -> dict[str, Any]:
        listings = []
        for listing in self.state.listings.values():
            offer = listing.offer()
            listings.append(
                {
                    "seller_id": listing.seller_id,
                    "marketplace_id": listing.marketplace_id,
                    "sku": listing.sku,
                    "product_type": listing.product_type,
                    "title": listing.title(),
                    "price": str(offer[0]) if offer else None,
                    "currency": offer[1] if offer else None,
                    "quantity": listing.quantity(),
                    "status": listing.statuses()[0],
                }
            )
        return {
            "listings": listings,
            "orders": [_order_json(o) for o in self.state.orders.values()],
            "reviews": [
                {
                    "seller_id": f.seller_id,
                    "order_id": f.order_id,
                    "sku": f.sku,
                    "rating": f.rating,
                    "text": f.text,
                    "date": iso(f.date),
                }
                for f in self.state.feedback
            ],
        }

    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register an LWA application (or rotate its secret) and a seller's refresh token."""
        keys = ("client_id", "client_secret", "refresh_token", "seller_id", "marketplace_id")
        if not all(isinstance(data.get(k), str) and data[k] for k in keys):
            raise ApiError(400, "InvalidInput", f"send {', '.join(keys)}")
        if data["marketplace_id"] not in MARKETPLACES:
            raise ApiError(400, "InvalidInput", f"unknown marketplace {data['marketplace_id']}")
        grant = self.state.grants.get(data["refresh_token"])
        if grant is not None and grant.seller_id != data["seller_id"]:
            raise ApiError(409, "Conflict", "this refresh token belongs to another seller")
        self.state.clients[data["client_id"]] = data["client_secret"]
        self.state.grants[data["refresh_token"]] = Grant(data["client_id"], data["seller_id"])
        marketplaces = self.state.sellers.setdefault(data["seller_id"], [])
        if data["marketplace_id"] not in marketplaces:
            marketplaces.append(data["marketplace_id"])
        return {"seller_id": data["seller_id"], "marketplace_ids": list(marketplaces)}

    def _listing_for(self, data: dict[str, Any]) -> Listing:
        sku, seller = str(data.get("sku")), data.get("seller_id")
        found = [
            listing
            for (s, k), listing in self.state.listings.items()
            if k == sku and seller in (None, s)
        ]
        if len(found) != 1:
            raise ApiError(
                409 if found else 404,
                "NotFound" if not found else "Conflict",
                f"{len(found)} sellers list SKU {sku}; name the seller_id"
                if found
                else f"no seller lists SKU {sku}",
            )
        return found[0]

    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        listing = self._listing_for(data)
        quantity = data.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ApiError(400, "InvalidInput", "quantity is a whole number from 1")
        offer = listing.offer()
        if offer is None or quantity > listing.quantity():
            raise ApiError(
                409,
                "NotAvailable",
                f"{listing.sku} has {listing.quantity()} available"
                + ("" if offer else " and no price"),
            )
        listing.set_quantity(listing.quantity() - quantity)
        n = self.api.next_seq()
        order_id = f"{100 + n % 900:03d}-{n * 7919 % 10**7:07d}-{n * 104729 % 10**7:07d}"
        now = self.api.stamp()
        item = OrderItem(
            f"{n * 15485863 % 10**14:014d}",
            listing.sku,
            listing.asin,
            listing.title(),
            quantity,
            offer[0],
        )
        order = Order(
            order_id, listing.seller_id, listing.marketplace_id, offer[1], now, now, [item]
        )
        self.state.orders[order_id] = order
        return _order_json(order)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        order = self.state.orders.get(order_id)
        if order is None:
            raise ApiError(404, "NotFound", f"no order {order_id}")
        if order.status != "Canceled":
            for item in order.items:
                listing = self.state.listings.get((order.seller_id, item.sku))
                if listing is not None:
                    listing.set_quantity(listing.quantity() + item.quantity)
            order.status = "Canceled"
            # Always a later update time, so that a lastUpdatedAfter search sees it again.
            order.updated = max(self.api.stamp(), order.updated + timedelta(seconds=1))
        return _order_json(order)

    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        """Seller feedback on an order (one per order, as on Amazon): by order_id, or by sku
        (its latest order without feedback). Every rating is kept; the report shows 1-3."""
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ApiError(400, "InvalidInput", "rating is a whole number from 1 to 5")
        rated = {f.order_id for f in self.state.feedback}
        if data.get("order_id"):
            order = self.state.orders.get(str(data["order_id"]))
            if order is None:
                raise ApiError(404, "NotFound", f"no order {data['order_id']}")
        else:
            sku, seller = str(data.get("sku")), data.get("seller_id")
            orders = [
                o
                for o in self.state.orders.values()
                if any(i.sku == sku for i in o.items) and seller in (None, o.seller_id)
            ]
            if not orders:
                raise ApiError(404, "NotFound", f"no order of {sku} to leave feedback on")
            unrated = [o for o in orders if o.order_id not in rated]
            if not unrated:
                raise ApiError(409, "Conflict", f"every order of {sku} already has feedback")
            order = max(unrated, key=lambda o: (o.created, o.order_id))
        if order.order_id in rated:
            raise ApiError(409, "Conflict", f"order {order.order_id} already has feedback")
        feedback = Feedback(
            order.seller_id,
            order.marketplace_id,
            order.order_id,
            order.items[0].sku,
            rating,
            str(data.get("text", "")),
            self.api.stamp(),
            f"{digest('rater', order.order_id)}@marketplace.amazon.com",
        )
        self.state.feedback.append(feedback)
        return {
            "order_id": order.order_id,
            "sku": feedback.sku,
            "rating": rating,
            "date": iso(feedback.date),
        }
