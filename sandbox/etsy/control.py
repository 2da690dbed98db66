"""Etsy's side of the control API (``/_sandbox/``): apps and shops registered, what Etsy
holds, buyers who pay, cancel and review. Never called by a connector."""

from __future__ import annotations

from typing import Any

from sandbox.base import ApiError, Control
from sandbox.etsy import rules
from sandbox.etsy.api import Part
from sandbox.etsy.inventory import restate
from sandbox.etsy.oauth import REFRESH_TOKEN_SECONDS
from sandbox.etsy.receipts import new_receipt
from sandbox.etsy.reviews import new_review
from sandbox.etsy.state import Grant, Shop

__all__ = ["EtsyControl"]


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class EtsyControl(Part, Control):
    """What Etsy does for the control API."""

    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        """An app and a shop owner's refresh token (POST /_sandbox/accounts)."""
        auth = self.api.auth
        keystring, secret, refresh = (
            data.get(k) for k in ("keystring", "shared_secret", "refresh_token")
        )
        shop_id, user_id = data.get("shop_id"), data.get("user_id")
        if not all(isinstance(v, str) and v and ":" not in v for v in (keystring, secret, refresh)):
            raise ApiError(400, "invalid", "keystring, shared_secret and refresh_token are text")
        if not all(_positive(v) for v in (shop_id, user_id)):
            raise ApiError(400, "invalid", "shop_id and user_id are positive whole numbers")
        assert isinstance(keystring, str) and isinstance(secret, str) and isinstance(refresh, str)
        assert isinstance(shop_id, int) and isinstance(user_id, int)
        if not refresh.startswith(f"{user_id}."):
            raise ApiError(400, "invalid", f"Etsy tokens start with the user id: {user_id}.…")
        currency = data.get("currency") or "USD"
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            raise ApiError(400, "invalid", "currency is an ISO 4217 code, like USD")
        if auth.apps.get(keystring, secret) != secret:
            raise ApiError(409, "conflict", "This keystring has another shared secret.")
        shop = auth.shops.get(shop_id)
        if shop is not None and shop.user_id != user_id:
            raise ApiError(409, "conflict", f"Shop {shop_id} belongs to another user.")
        if refresh in auth.refresh:
            raise ApiError(409, "conflict", "This refresh token is already registered.")
        if shop is None:
            shop = auth.shops[shop_id] = Shop(
                shop_id,
                user_id,
                str(data.get("shop_name") or f"Shop{shop_id}"),
                currency,
                int(data.get("shipping_profile_id") or shop_id * 10 + 1),
                self.api.stamp(),
            )
        auth.apps[keystring] = secret
        auth.refresh[refresh] = Grant(keystring, user_id, self.api.wall() + REFRESH_TOKEN_SECONDS)
        return {
            "keystring": keystring,
            "user_id": user_id,
            "shop_id": shop_id,
            "shop_name": shop.shop_name,
            "currency": shop.currency,
            "shipping_profile_id": shop.shipping_profile_id,
        }

    def state_json(self) -> dict[str, Any]:
        return {
            "shops": [
                {
                    "shop_id": s.shop_id,
                    "user_id": s.user_id,
                    "shop_name": s.shop_name,
                    "currency": s.currency,
                    "shipping_profile_id": s.shipping_profile_id,
                }
                for s in self.api.auth.shops.values()
            ],
            "listings": [  # one row per product: a SKU lives on a product
                {
                    "shop_id": x["shop_id"],
                    "listing_id": x["listing_id"],
                    "product_id": p["product_id"],
                    "sku": p["sku"],
                    "title": x["title"],
                    "price": str(p["offering"]["price"]),
                    "currency": x["currency"],
                    "quantity": p["offering"]["quantity"],
                    "is_enabled": p["offering"]["is_enabled"],
                    "status": x["state"],
                    "properties": {
                        v["property_name"]: v["values"][0] for v in p["property_values"]
                    },
                    "images": len(x["images"]),
                }
                for x in self.state.listings.values()
                for p in x["products"]
            ],
            "receipts": [
                {"shop_id": r["shop_id"], **r["receipt"]} for r in self.state.receipts.values()
            ],
            "reviews": list(self.state.reviews),
        }

    def _by_sku(self, sku: Any, shop_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not isinstance(sku, str) or not sku:
            raise ApiError(400, "invalid", "send the sku")
        found = [
            (x, p)
            for x in self.state.listings.values()
            if shop_id in (None, x["shop_id"])
            for p in x["products"]
            if p["sku"] == sku
        ]
        if not found:
            raise ApiError(404, "not_found", f"No listing has SKU {sku}.")
        if len(found) > 1:
            raise ApiError(409, "ambiguous", f"{len(found)} products have SKU {sku}; name shop_id")
        return found[0]

    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer pays for ``quantity`` of ``sku``: Etsy lowers that offering's stock."""
        listing, product = self._by_sku(data.get("sku"), data.get("shop_id"))
        quantity = data.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ApiError(400, "invalid", "quantity is a whole number from 1")
        offer = product["offering"]
        available = offer["quantity"] if listing["state"] == "active" and offer["is_enabled"] else 0
        if quantity > available:
            raise ApiError(409, "not_available", f"{product['sku']}: {available} available")
        offer["quantity"] -= quantity
        restate(self.api, listing)
        now = self.api.stamp()
        listing["updated"] = now
        receipt = new_receipt(self.api, listing, product, quantity, now)
        self.state.receipts[receipt["receipt_id"]] = {
            "shop_id": listing["shop_id"],
            "receipt": receipt,
        }
        return receipt

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """The receipt is canceled and modified now; its pieces go back to their offerings."""
        entry = self.state.receipts.get(int(order_id)) if order_id.isdigit() else None
        if entry is None:
            raise ApiError(404, "not_found", f"No receipt {order_id}.")
        receipt: dict[str, Any] = entry["receipt"]
        if receipt["status"] != "canceled":
            for line in receipt["transactions"]:
                self._restock(line)
            now = self.api.stamp()
            receipt.update(status="canceled", update_timestamp=now, updated_timestamp=now)
        return receipt

    def _restock(self, line: dict[str, Any]) -> None:
        """Pieces of a canceled transaction go back to the product with its SKU and values
        (product ids change with every inventory update)."""
        listing = self.state.listings.get(line["listing_id"])
        if listing is None:
            return
        wanted = rules.signature(line["sku"] or "", line["product_data"])
        for product in listing["products"]:
            if rules.signature(product["sku"], product["property_values"]) == wanted:
                offer = product["offering"]
                offer["quantity"] = min(rules.MAX_QUANTITY, offer["quantity"] + line["quantity"])
                restate(self.api, listing)
                listing["updated"] = self.api.stamp()
                return

    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        """A buyer reviews a listing (by ``listing_id`` or ``sku``), 1 to 5 stars."""
        if data.get("listing_id") is not None:
            listing_id = data["listing_id"]
            listing = self.state.listings.get(listing_id) if isinstance(listing_id, int) else None
            if listing is None:
                raise ApiError(404, "not_found", f"No listing {listing_id}.")
        else:
            listing = self._by_sku(data.get("sku"), data.get("shop_id"))[0]
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ApiError(400, "invalid", "rating is a whole number from 1 to 5")
        text = data.get("review", data.get("text", ""))
        if not isinstance(text, str):
            raise ApiError(400, "invalid", "review is text")
        language = str(data.get("language") or "en")
        review = new_review(self.api, listing, rating, text, language)
        self.state.reviews.append(review)
        return review
