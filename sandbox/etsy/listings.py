"""Listings: createDraftListing, getListingsByShop, getListing, updateListing and
deleteListing. Price and quantity live in the inventory; activation needs an image and
stock."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.base import ApiError
from sandbox.etsy import rules
from sandbox.etsy.api import Call, Part, Served
from sandbox.etsy.inventory import new_product
from sandbox.etsy.state import Shop
from sandbox.etsy.views import listing_json

__all__ = ["Listings"]

# What updateListing changes as sent (the texts are checked first, the type renamed).
_AS_SENT = (
    "who_made",
    "when_made",
    "taxonomy_id",
    "is_supply",
    "is_taxable",
    "should_auto_renew",
    "shipping_profile_id",
    "return_policy_id",
    "shop_section_id",
)


def _shipping(shop: Shop, listing_type: str, profile_id: int | None) -> None:
    if profile_id is None and listing_type != "download":
        raise ApiError(400, "invalid", "shipping_profile_id is required for physical listings")
    if profile_id is not None and profile_id != shop.shipping_profile_id:
        raise ApiError(
            400,
            "invalid",
            f"shipping_profile_id {profile_id} is not a shipping profile of shop {shop.shop_id}",
        )


class Listings(Part):
    served = (
        Served("createDraftListing", "create", write=True),
        Served("getListingsByShop", "get_many"),
        Served("getListing", "get"),
        Served("updateListing", "update", write=True),
        Served("deleteListing", "delete", write=True),
    )

    def create(self, call: Call) -> Response:
        shop = self.api.my_shop(call)
        body = call.body
        title, description = rules.title(body["title"]), rules.description(body["description"])
        if not 1 <= body["quantity"] <= rules.MAX_QUANTITY:
            raise ApiError(400, "invalid", f"quantity must be between 1 and {rules.MAX_QUANTITY}")
        price = rules.price(body["price"], "price")
        listing_type = body.get("type") or "physical"
        _shipping(shop, listing_type, body.get("shipping_profile_id"))
        tags = rules.tags(body.get("tags"))
        materials = rules.materials(body.get("materials"))
        now, listing_id = self.api.stamp(), self.api.new_id()
        listing: dict[str, Any] = {
            "listing_id": listing_id,
            "shop_id": shop.shop_id,
            "user_id": shop.user_id,
            "currency": shop.currency,
            "title": title,
            "description": description,
            "state": "draft",
            "created": now,
            "updated": now,
            "state_ts": now,
            "tags": tags,
            "materials": materials,
            "who_made": body["who_made"],
            "when_made": body["when_made"],
            "taxonomy_id": body["taxonomy_id"],
            "listing_type": listing_type,
            "shipping_profile_id": body.get("shipping_profile_id"),
            "return_policy_id": body.get("return_policy_id"),
            "shop_section_id": body.get("shop_section_id"),
            "processing_min": body.get("processing_min"),
            "processing_max": body.get("processing_max"),
            "is_supply": body.get("is_supply"),
            "is_taxable": body.get("is_taxable", True),
            "should_auto_renew": body.get("should_auto_renew", False),
            "products": [
                new_product(
                    self.api,
                    {
                        "sku": "",
                        "property_values": [],
                        "offering": {
                            "price": price,
                            "quantity": body["quantity"],
                            "is_enabled": True,
                            "readiness_state_id": body.get("readiness_state_id"),
                        },
                    },
                )
            ],
            **{key: [] for key in rules.ON_PROPERTY},
            "deleted_products": [],
            "images": [],
        }
        self.state.listings[listing_id] = listing
        return JSONResponse(listing_json(listing), status_code=201)

    def update(self, call: Call) -> Response:
        """Etsy's updateListing takes no price or quantity (the inventory holds them)."""
        shop, listing = self.api.shop_listing(call)
        body = call.body
        changes: dict[str, Any] = {}
        if "title" in body:
            changes["title"] = rules.title(body["title"])
        if "description" in body:
            changes["description"] = rules.description(body["description"])
        if "tags" in body:
            changes["tags"] = rules.tags(body["tags"])
        if "materials" in body:
            changes["materials"] = rules.materials(body["materials"])
        changes.update((name, body[name]) for name in _AS_SENT if name in body)
        if body.get("type") is not None:
            changes["listing_type"] = body["type"]
        merged = {**listing, **changes}
        if "shipping_profile_id" in body or "type" in body:
            _shipping(shop, merged["listing_type"], merged["shipping_profile_id"])
        now = self.api.stamp()
        state = body.get("state")
        if state == "active":
            if not merged["images"]:
                raise ApiError(400, "invalid", "A listing needs at least one image to be active.")
            if rules.quantity(merged) == 0:
                raise ApiError(400, "invalid", "A listing needs a quantity above 0 to be active.")
        if state is not None and state != listing["state"]:
            changes.update(state=state, state_ts=now)
        listing.update(changes, updated=now)
        return JSONResponse(listing_json(listing))

    def delete(self, call: Call) -> Response:
        listing = self.api.my_listing(call)
        del self.state.listings[listing["listing_id"]]
        return Response(status_code=204)

    def get(self, call: Call) -> Response:
        listing = self.api.visible(call)
        return JSONResponse(listing_json(listing, call.query.get("includes") or []))

    def get_many(self, call: Call) -> Response:
        shop = self.api.my_shop(call)
        query = call.query
        state = query.get("state", "active")
        found = [
            x
            for x in self.state.listings.values()
            if x["shop_id"] == shop.shop_id and x["state"] == state
        ]
        sort_on = query.get("sort_on", "created")

        def key(listing: dict[str, Any]) -> tuple[Any, int]:
            if sort_on == "price":
                return rules.listing_price(listing), listing["listing_id"]
            return listing["updated" if sort_on == "updated" else "created"], listing["listing_id"]

        found.sort(key=key, reverse=rules.descending(query))
        includes = query.get("includes") or []
        return JSONResponse(rules.page([listing_json(x, includes) for x in found], query))
