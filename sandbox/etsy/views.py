"""Listings, inventories and images as Etsy's model shapes them in its answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.etsy.rules import ON_PROPERTY, listing_price, money, quantity

__all__ = ["image_json", "inventory_json", "listing_json"]

LISTING_SECONDS = 120 * 86_400  # a listing runs four months before it renews or expires


def listing_json(listing: dict[str, Any], includes: Iterable[str] | None = None) -> dict[str, Any]:
    """ShopListing; with ``includes``, ShopListingWithAssociations."""
    out = {
        "listing_id": listing["listing_id"],
        "user_id": listing["user_id"],
        "shop_id": listing["shop_id"],
        "title": listing["title"],
        "description": listing["description"],
        "state": listing["state"],
        "creation_timestamp": listing["created"],
        "created_timestamp": listing["created"],
        "ending_timestamp": listing["state_ts"] + LISTING_SECONDS,
        "original_creation_timestamp": listing["created"],
        "last_modified_timestamp": listing["updated"],
        "updated_timestamp": listing["updated"],
        "state_timestamp": listing["state_ts"],
        "quantity": quantity(listing),
        "shop_section_id": listing["shop_section_id"],
        "featured_rank": -1,
        "url": f"https://www.etsy.com/listing/{listing['listing_id']}",
        "num_favorers": 0,
        "non_taxable": not listing["is_taxable"],
        "is_taxable": listing["is_taxable"],
        "is_customizable": False,
        "is_personalizable": False,
        "listing_type": listing["listing_type"],
        "tags": listing["tags"],
        "materials": listing["materials"],
        "shipping_profile_id": listing["shipping_profile_id"],
        "return_policy_id": listing["return_policy_id"],
        "processing_min": listing["processing_min"],
        "processing_max": listing["processing_max"],
        "who_made": listing["who_made"],
        "when_made": listing["when_made"],
        "is_supply": listing["is_supply"],
        "is_private": False,
        "style": [],
        "has_variations": any(p["property_values"] for p in listing["products"]),
        "should_auto_renew": listing["should_auto_renew"],
        "language": "en",
        "price": money(listing_price(listing), listing["currency"]),
        "taxonomy_id": listing["taxonomy_id"],
        "readiness_state_id": None,
    }
    if includes is not None:
        out["skus"] = [p["sku"] for p in listing["products"] if p["sku"]]
        if "Images" in includes:
            out["images"] = [image_json(listing, i) for i in listing["images"]]
        if "Inventory" in includes:
            out["inventory"] = inventory_json(listing)
    return out


def inventory_json(listing: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
    currency = listing["currency"]
    products = [(p, False) for p in listing["products"]]
    products += [(p, True) for p in listing["deleted_products"]] if deleted else []
    return {
        "products": [
            {
                "product_id": p["product_id"],
                "sku": p["sku"],
                "is_deleted": gone,
                "offerings": [
                    {
                        "offering_id": p["offering"]["offering_id"],
                        "quantity": p["offering"]["quantity"],
                        "is_enabled": p["offering"]["is_enabled"],
                        "is_deleted": gone,
                        "price": money(p["offering"]["price"], currency),
                        "readiness_state_id": p["offering"]["readiness_state_id"],
                    }
                ],
                "property_values": p["property_values"],
            }
            for p, gone in products
        ],
        **{key: listing[key] for key in ON_PROPERTY},
    }


def image_json(listing: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    image_id = image["listing_image_id"]
    url = f"https://i.etsystatic.com/sandbox/{listing['listing_id']}/il_{{}}.{image_id}.jpg"
    return {
        "listing_id": listing["listing_id"],
        "listing_image_id": image_id,
        "hex_code": None,
        "red": None,
        "green": None,
        "blue": None,
        "hue": None,
        "saturation": None,
        "brightness": None,
        "is_black_and_white": None,
        "creation_tsz": image["created"],
        "created_timestamp": image["created"],
        "rank": listing["images"].index(image) + 1,
        "url_75x75": url.format("75x75"),
        "url_170x135": url.format("170x135"),
        "url_570xN": url.format("570xN"),
        "url_fullxfull": url.format("fullxfull"),
        "full_height": None,
        "full_width": None,
        "alt_text": image["alt_text"],
    }
