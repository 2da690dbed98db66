"""Receipts: getShopReceipts (created or changed in a window, filtered, sorted and paged),
and the receipt a buyer's order makes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.etsy.api import Call, EtsyApi, Part, Served
from sandbox.etsy.rules import descending, money, page

__all__ = ["Receipts", "new_receipt"]

# The window filters: query parameter, receipt field, and which side of it they keep.
_WINDOWS = (
    ("min_created", "create_timestamp", 1),
    ("max_created", "create_timestamp", -1),
    ("min_last_modified", "update_timestamp", 1),
    ("max_last_modified", "update_timestamp", -1),
)
_FLAGS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "was_paid": lambda r: bool(r["is_paid"]),
    "was_shipped": lambda r: bool(r["is_shipped"]),
    "was_delivered": lambda r: False,
    "was_canceled": lambda r: r["status"] == "canceled",
}


class Receipts(Part):
    served = (Served("getShopReceipts", "get_many"),)

    def get_many(self, call: Call) -> Response:
        """Receipts changed in a window (``min_last_modified``), paged with limit/offset."""
        shop = self.api.my_shop(call)
        q = call.query
        found = [
            r["receipt"]
            for r in self.state.receipts.values()
            if r["shop_id"] == shop.shop_id
            and all(
                (r["receipt"][key] - q[name]) * sign >= 0
                for name, key, sign in _WINDOWS
                if name in q
            )
            and all(
                test(r["receipt"]) == q[name]
                for name, test in _FLAGS.items()
                if q.get(name) is not None
            )
        ]
        sort_key = {"updated": "update_timestamp", "receipt_id": "receipt_id"}.get(
            q.get("sort_on", "created"), "create_timestamp"
        )
        found.sort(key=lambda r: (r[sort_key], r["receipt_id"]), reverse=descending(q))
        return JSONResponse(page(found, q))


def new_receipt(
    api: EtsyApi, listing: dict[str, Any], product: dict[str, Any], quantity: int, now: int
) -> dict[str, Any]:
    """The receipt of a buyer who paid for ``quantity`` of ``product`` (a transaction)."""
    offer = product["offering"]
    currency = listing["currency"]
    receipt_id, buyer = api.new_id(), api.new_id()
    total = offer["price"] * quantity
    zero = money(Decimal(0), currency)
    return {
        "receipt_id": receipt_id,
        "receipt_type": 0,
        "seller_user_id": listing["user_id"],
        "seller_email": None,
        "buyer_user_id": buyer,
        "buyer_email": None,
        "name": "Sandbox Buyer",
        "first_line": "1 Rue de la Kasbah",
        "second_line": None,
        "city": "Marrakech",
        "state": None,
        "zip": "40000",
        "status": "paid",
        "formatted_address": "Sandbox Buyer\n1 Rue de la Kasbah\n40000 Marrakech\nMorocco",
        "country_iso": "MA",
        "payment_method": "cc",
        "payment_email": None,
        "message_from_seller": None,
        "message_from_buyer": None,
        "message_from_payment": None,
        "is_paid": True,
        "is_shipped": False,
        "create_timestamp": now,
        "created_timestamp": now,
        "update_timestamp": now,
        "updated_timestamp": now,
        "is_gift": False,
        "gift_message": "",
        "gift_sender": "",
        "grandtotal": money(total, currency),
        "subtotal": money(total, currency),
        "total_price": money(total, currency),
        "total_shipping_cost": zero,
        "total_tax_cost": zero,
        "total_vat_cost": zero,
        "discount_amt": zero,
        "gift_wrap_price": zero,
        "shipments": [],
        "transactions": [
            {
                "transaction_id": api.new_id(),
                "title": listing["title"],
                "description": listing["description"],
                "seller_user_id": listing["user_id"],
                "buyer_user_id": buyer,
                "create_timestamp": now,
                "created_timestamp": now,
                "paid_timestamp": now,
                "shipped_timestamp": None,
                "quantity": quantity,
                "listing_image_id": (
                    listing["images"][0]["listing_image_id"] if listing["images"] else None
                ),
                "receipt_id": receipt_id,
                "is_digital": listing["listing_type"] == "download",
                "file_data": "",
                "listing_id": listing["listing_id"],
                "transaction_type": "listing",
                "product_id": product["product_id"],
                "sku": product["sku"],
                "price": money(offer["price"], currency),
                "shipping_cost": zero,
                "variations": [
                    {
                        "property_id": v["property_id"],
                        "value_id": v["value_ids"][0],
                        "formatted_name": v["property_name"],
                        "formatted_value": v["values"][0],
                    }
                    for v in product["property_values"]
                ],
                "product_data": product["property_values"],
                "shipping_profile_id": listing["shipping_profile_id"],
                "min_processing_days": listing["processing_min"],
                "max_processing_days": listing["processing_max"],
                "shipping_method": None,
                "shipping_upgrade": None,
                "expected_ship_date": None,
                "buyer_coupon": 0,
                "shop_coupon": 0,
            }
        ],
        "refunds": [],
    }
