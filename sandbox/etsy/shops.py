"""Shops: getShop (public) and getShopShippingProfiles (its owner's)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.etsy.api import Call, Part, Served
from sandbox.etsy.state import Shop

__all__ = ["Shops"]


class Shops(Part):
    served = (
        Served("getShop", "get_shop"),
        Served("getShopShippingProfiles", "get_shipping_profiles"),
    )

    def get_shop(self, call: Call) -> Response:
        return JSONResponse(self._shop_json(self.api.shop(call.path["shop_id"])))

    def _shop_json(self, shop: Shop) -> dict[str, Any]:
        listings = [x for x in self.state.listings.values() if x["shop_id"] == shop.shop_id]
        ratings = [r["rating"] for r in self.state.reviews if r["shop_id"] == shop.shop_id]
        sold = sum(
            t["quantity"]
            for r in self.state.receipts.values()
            if r["shop_id"] == shop.shop_id
            for t in r["receipt"]["transactions"]
        )
        return {
            "shop_id": shop.shop_id,
            "user_id": shop.user_id,
            "shop_name": shop.shop_name,
            "create_date": shop.created,
            "created_timestamp": shop.created,
            "title": shop.shop_name,
            "announcement": None,
            "currency_code": shop.currency,
            "is_vacation": False,
            "vacation_message": None,
            "update_date": shop.created,
            "updated_timestamp": shop.created,
            "listing_active_count": sum(x["state"] == "active" for x in listings),
            "digital_listing_count": sum(x["listing_type"] == "download" for x in listings),
            "login_name": shop.shop_name.lower(),
            "accepts_custom_requests": False,
            "url": f"https://www.etsy.com/shop/{shop.shop_name}",
            "num_favorers": 0,
            "languages": ["en"],
            "transaction_sold_count": sold,
            "shipping_from_country_iso": "MA",
            "shop_location_country_iso": "MA",
            "review_count": len(ratings),
            "review_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
        }

    def get_shipping_profiles(self, call: Call) -> Response:
        shop = self.api.my_shop(call)
        profile = {
            "shipping_profile_id": shop.shipping_profile_id,
            "title": "Standard",
            "user_id": shop.user_id,
            "origin_country_iso": "MA",
            "is_deleted": False,
            "shipping_profile_destinations": [],
            "shipping_profile_upgrades": [],
            "origin_postal_code": None,
            "profile_type": "manual",
            "domestic_handling_fee": 0,
            "international_handling_fee": 0,
        }
        return JSONResponse({"count": 1, "results": [profile]})
