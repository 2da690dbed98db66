"""Inventories: getListingInventory and updateListingInventory. An update replaces the whole
inventory (a product left out is gone, products get new ids) and refuses the ids its own
GET answers with; a listing holds at most 999 pieces."""

from __future__ import annotations

import zlib
from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.base import ApiError
from sandbox.etsy import rules
from sandbox.etsy.api import Call, EtsyApi, Part, Served
from sandbox.etsy.views import inventory_json, listing_json

__all__ = ["Inventory", "new_product", "restate"]

MAX_SKU = 32


def new_product(api: EtsyApi, product: dict[str, Any]) -> dict[str, Any]:
    """The product with new ids, as Etsy gives at every inventory update."""
    product["product_id"] = api.new_id()
    product["offering"]["offering_id"] = api.new_id()
    return product


def restate(api: EtsyApi, listing: dict[str, Any]) -> None:
    """An active listing with no stock left is sold out; stock back makes it active."""
    quantity = rules.quantity(listing)
    if listing["state"] == "active" and quantity == 0:
        listing.update(state="sold_out", state_ts=api.stamp())
    elif listing["state"] == "sold_out" and quantity > 0:
        listing.update(state="active", state_ts=api.stamp())


def _value_id(property_id: int, value: str) -> int:
    """Etsy numbers a custom property value itself; the same text gets the same id."""
    return zlib.crc32(f"{property_id}:{value.casefold()}".encode()) or 1


class Inventory(Part):
    served = (
        Served("getListingInventory", "get"),
        Served("updateListingInventory", "update", write=True),
    )

    def get(self, call: Call) -> Response:
        listing = self.api.my_listing(call)
        out = inventory_json(listing, deleted=bool(call.query.get("show_deleted")))
        if call.query.get("includes") == "Listing":
            out["listing"] = listing_json(listing)
        return JSONResponse(out)

    def update(self, call: Call) -> Response:
        """The whole inventory, every time: products left out of the request are deleted."""
        listing = self.api.my_listing(call)
        body = call.body
        products = [_product_in(i, raw) for i, raw in enumerate(body["products"])]
        if not products:
            raise ApiError(400, "invalid", "products cannot be empty")
        properties = {
            tuple(sorted(v["property_id"] for v in p["property_values"])) for p in products
        }
        if len(properties) > 1:
            raise ApiError(400, "invalid", "Every product must have the same properties.")
        used = set(next(iter(properties)))
        most = 3 if call.query.get("max_variations_supported") == "3" else 2
        if len(used) > most:
            raise ApiError(400, "invalid", f"A listing can vary on at most {most} properties.")
        signatures = [rules.signature("", p["property_values"]) for p in products]
        if len(set(signatures)) < len(signatures):
            raise ApiError(400, "invalid", "Two products have the same property values.")
        on: dict[str, list[int]] = {key: list(body.get(key) or []) for key in rules.ON_PROPERTY}
        for key, ids in on.items():
            if set(ids) - used:
                raise ApiError(400, "invalid", f"{key} names a property no product has: {ids}")
        for key, varying in (
            ("price_on_property", {p["offering"]["price"] for p in products}),
            ("quantity_on_property", {p["offering"]["quantity"] for p in products}),
            ("sku_on_property", {p["sku"] for p in products}),
        ):
            if not on[key] and len(varying) > 1:
                raise ApiError(
                    400, "invalid", f"Products differ in {key.split('_')[0]} but {key} is empty."
                )
        total = sum(p["offering"]["quantity"] for p in products)
        if total > rules.MAX_QUANTITY:
            raise ApiError(
                400,
                "invalid",
                f"The listing's total quantity would be {total}; at most {rules.MAX_QUANTITY}.",
            )
        if not any(p["offering"]["is_enabled"] for p in products):
            raise ApiError(400, "invalid", "At least one offering must be enabled.")
        listing["deleted_products"] = (listing["deleted_products"] + listing["products"])[-50:]
        listing["products"] = [new_product(self.api, p) for p in products]
        listing.update(on)
        restate(self.api, listing)
        listing["updated"] = self.api.stamp()
        return JSONResponse(inventory_json(listing))


def _product_in(i: int, raw: dict[str, Any]) -> dict[str, Any]:
    """One product of an update, checked and put in the stored shape (without ids)."""
    where = f"products[{i}]"
    for key in ("product_id", "is_deleted"):
        if key in raw:
            raise ApiError(
                400,
                "invalid",
                f"{where}.{key} is not accepted: send products without product_id, "
                "offering_id and is_deleted",
            )
    offerings = raw["offerings"]
    if len(offerings) != 1:
        raise ApiError(400, "invalid", f"{where} must have exactly one offering")
    offer = offerings[0]
    for key in ("offering_id", "is_deleted"):
        if key in offer:
            raise ApiError(
                400, "invalid", f"{where}.offerings[0].{key} is not accepted in an update"
            )
    if not 0 <= offer["quantity"] <= rules.MAX_QUANTITY:
        raise ApiError(
            400, "invalid", f"{where}.offerings[0].quantity must be 0 to {rules.MAX_QUANTITY}"
        )
    sku = (raw.get("sku") or "").strip()
    if len(sku) > MAX_SKU:
        raise ApiError(400, "invalid", f"{where}.sku is over {MAX_SKU} characters")
    values: list[dict[str, Any]] = []
    for j, given in enumerate(raw.get("property_values") or []):
        at = f"{where}.property_values[{j}]"
        texts, ids = given["values"], given["value_ids"]
        if len(texts) != 1 or (ids and len(ids) != 1):
            raise ApiError(400, "invalid", f"{at} must have exactly one value")
        text = texts[0].strip()
        if not text or "(" in text or ")" in text:
            raise ApiError(400, "invalid", f"{at} value {text!r} is empty or has parentheses")
        pid = given["property_id"]
        values.append(
            {
                "property_id": pid,
                "property_name": given.get("property_name") or f"Property {pid}",
                "scale_id": given.get("scale_id"),
                "scale_name": None,
                "value_ids": ids or [_value_id(pid, text)],
                "values": [text],
            }
        )
    if len({v["property_id"] for v in values}) < len(values):
        raise ApiError(400, "invalid", f"{where} names a property twice")
    return {
        "sku": sku,
        "property_values": values,
        "offering": {
            "price": rules.price(offer["price"], f"{where}.offerings[0].price"),
            "quantity": offer["quantity"],
            "is_enabled": offer["is_enabled"],
            "readiness_state_id": offer.get("readiness_state_id"),
        },
    }
