"""A seller's listings and Amazon's rules for them, whichever API asks: what a put, a patch
or a delete does (Listings Items, or a feed message), and how a listing is shown.

A listing that breaks a rule is answered ``INVALID`` with issues and is not stored, as
Amazon does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sandbox import spec_amazon as spec
from sandbox.amazon.api import Part
from sandbox.amazon.state import MARKETPLACES, Listing, digest, iso, our_offer

__all__ = ["BAD_VALUE", "CONDITIONS", "PRODUCT_TYPES", "Catalog", "asin", "issue", "item_json"]

# Required attributes. Product facts are needed for LISTING and LISTING_PRODUCT_ONLY, the
# offer's for LISTING and LISTING_OFFER_ONLY; each product type adds its own facts.
PRODUCT_FACTS = ("item_name", "brand", "product_description")
OFFER_TERMS = ("condition_type",)
PRODUCT_TYPES: dict[str, tuple[str, ...]] = {
    "RUG": ("material",),
    "HOME": ("material",),
    "KITCHEN": ("material",),
    "LIGHT_FIXTURE": ("material",),
    "BEAUTY": ("item_form",),
}
# The conditions a listing can have, as the Listings Items model lists them.
_SUMMARY = spec.definition("listingsItems", "ItemSummaryByMarketplace")
CONDITIONS: tuple[str, ...] = tuple(_SUMMARY["properties"]["conditionType"]["enum"])
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
# Issue codes: 90220, 4000001 and 4000003 are Amazon's; 8541 is the sandbox's own.
MISSING, BAD_PRODUCT_TYPE, BAD_VALUE, NOT_LISTED = "90220", "4000003", "4000001", "8541"

Outcome = tuple[str, list[dict[str, Any]]]  # status (ACCEPTED, VALID, INVALID) and issues


def issue(
    code: str, message: str, names: Iterable[str] = (), category: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "severity": "ERROR",
        "attributeNames": list(names),
        "categories": [category] if category else [],
    }


def asin(seller: str, sku: str) -> str:
    return "B0" + digest("asin", seller, sku, length=8).upper()


def _price_problem(entry: dict[str, Any], currency: str) -> str | None:
    if entry.get("currency") != currency:
        return f"the currency must be {currency}, the store's, not {entry.get('currency')!r}"
    try:
        value = entry["our_price"][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return "our_price[0].schedule[0].value_with_tax is required"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "value_with_tax must be a number"
    amount = Decimal(str(value))
    exponent = amount.as_tuple().exponent
    if amount <= 0 or not isinstance(exponent, int) or exponent < -2:
        return "value_with_tax must be above 0 with at most 2 decimals"
    return None


def _same_entry(existing: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Does a patch value address this attribute entry? By the identifying keys it names."""
    keys = ("marketplace_id", "language_tag", "fulfillment_channel_code", "audience", "currency")
    return all(existing.get(k) == patch[k] for k in keys if k in patch)


def check(
    product_type: str, requirements: str, attributes: dict[str, Any], marketplace_id: str
) -> list[dict[str, Any]]:
    """The issues Amazon would raise for these attributes (none: the listing is valid)."""
    if product_type not in PRODUCT_TYPES:
        return [
            issue(
                BAD_PRODUCT_TYPE,
                "The Amazon product type specified is invalid or not supported.",
            )
        ]
    issues = []
    required: list[str] = []
    if requirements != "LISTING_OFFER_ONLY":
        required += [*PRODUCT_FACTS, *PRODUCT_TYPES[product_type]]
    if requirements != "LISTING_PRODUCT_ONLY":
        required += OFFER_TERMS
    for name in required:
        if not attributes.get(name):
            message = f"'{name}' is required but not supplied."
            issues.append(issue(MISSING, message, [name], "MISSING_ATTRIBUTE"))
    for name, value in attributes.items():
        problem = _value_problem(name, value, marketplace_id)
        if problem:
            message = f"The provided value for '{name}' is invalid: {problem}."
            issues.append(issue(BAD_VALUE, message, [name], "INVALID_ATTRIBUTE"))
    return issues


def _value_problem(name: str, value: Any, marketplace_id: str) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return "an attribute is a list of objects"
    for entry in value:
        if entry.get("marketplace_id") not in (None, marketplace_id):
            return f"marketplace_id {entry['marketplace_id']!r} is not this request's"
    if name in ("item_name", "brand", "product_description", "material", "item_form"):
        limit = {"item_name": MAX_TITLE, "product_description": MAX_DESCRIPTION}.get(name)
        for entry in value:
            text = entry.get("value")
            if not isinstance(text, str) or not text.strip():
                return "each value must be a non-empty text"
            if limit and len(text) > limit:
                return f"at most {limit} characters, not {len(text)}"
    if name == "condition_type" and any(e.get("value") not in CONDITIONS for e in value):
        return f"the condition must be one of {', '.join(CONDITIONS)}"
    if name == "purchasable_offer":
        entry = our_offer(value, marketplace_id)
        if entry is None:
            return "no offer to all buyers (audience ALL) in this store"
        return _price_problem(entry, MARKETPLACES[marketplace_id].currency)
    if name == "fulfillment_availability":
        for entry in value:
            quantity = entry.get("quantity", 0)
            if not isinstance(entry.get("fulfillment_channel_code"), str):
                return "fulfillment_channel_code is required"
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                return "quantity must be a whole number from 0"
    return None


def _patched(attributes: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any] | Outcome:
    """The attributes with JSON patches applied to their top level, or why not."""
    attributes = copy.deepcopy(attributes)
    for patch in patches:
        found = re.fullmatch(r"/attributes/([A-Za-z0-9_]+)", patch["path"])
        if found is None:
            message = f"Only top-level attributes can be patched, not {patch['path']!r}."
            return "INVALID", [issue(BAD_VALUE, message)]
        name, value = found.group(1), patch.get("value")
        if patch["op"] != "delete" and value is None:
            message = f"The {patch['op']} of '{name}' needs a value."
            return "INVALID", [issue(BAD_VALUE, message, [name])]
        if patch["op"] in ("add", "replace"):
            attributes[name] = copy.deepcopy(value)
        elif patch["op"] == "merge":
            entries = attributes.setdefault(name, [])
            for new in value or []:
                match = next((e for e in entries if _same_entry(e, new)), None)
                if match is None:
                    entries.append(copy.deepcopy(new))
                else:
                    match.update(copy.deepcopy(new))
        elif value is None:
            attributes.pop(name, None)
        else:
            kept = [
                e for e in attributes.get(name, []) if not any(_same_entry(e, v) for v in value)
            ]
            if kept:
                attributes[name] = kept
            else:
                attributes.pop(name, None)
    return attributes


class Catalog(Part):
    """The listings of every seller, changed only through these rules."""

    def put(
        self,
        seller: str,
        sku: str,
        marketplace: str,
        product_type: str,
        requirements: str,
        attributes: dict[str, Any],
        *,
        preview: bool = False,
    ) -> Outcome:
        """Create or fully replace a listing (putListingsItem, a feed's UPDATE)."""
        issues = check(product_type, requirements, attributes, marketplace)
        if issues:
            return "INVALID", issues
        if preview:
            return "VALID", []
        existing = self.state.listings.get((seller, sku))
        now = self.api.stamp()
        self.state.listings[(seller, sku)] = Listing(
            seller,
            sku,
            marketplace,
            product_type,
            requirements,
            copy.deepcopy(attributes),
            asin(seller, sku),
            existing.created if existing else now,
            now,
        )
        return "ACCEPTED", []

    def patch(
        self,
        seller: str,
        sku: str,
        marketplace: str,
        product_type: str,
        patches: list[dict[str, Any]],
        *,
        preview: bool = False,
    ) -> Outcome:
        """Apply JSON patches to a listing's top-level attributes (patchListingsItem, a
        feed's PATCH and PARTIAL_UPDATE); nothing changes unless the result is valid."""
        listing = self.state.listings.get((seller, sku))
        if listing is None or listing.marketplace_id != marketplace:
            message = f"SKU '{sku}' is not listed in marketplace {marketplace}: put it first."
            return "INVALID", [issue(NOT_LISTED, message)]
        attributes = _patched(listing.attributes, patches)
        if isinstance(attributes, tuple):
            return attributes
        issues = check(product_type, listing.requirements, attributes, marketplace)
        if issues:
            return "INVALID", issues
        if preview:
            return "VALID", []
        listing.attributes = attributes
        listing.product_type = product_type
        listing.updated = self.api.stamp()
        return "ACCEPTED", []

    def delete(self, seller: str, sku: str, marketplace: str) -> Outcome:
        """Delete a listing. Amazon accepts the deletion of a SKU it does not have."""
        listing = self.state.listings.get((seller, sku))
        if listing is not None and listing.marketplace_id == marketplace:
            del self.state.listings[(seller, sku)]
        return "ACCEPTED", []


def item_json(listing: Listing, included: list[str]) -> dict[str, Any]:
    """A listing as getListingsItem shows it, with the data sets asked for."""
    item: dict[str, Any] = {"sku": listing.sku}
    if "summaries" in included:
        summary = {
            "marketplaceId": listing.marketplace_id,
            "asin": listing.asin,
            "productType": listing.product_type,
            "status": listing.statuses(),
            "itemName": listing.title(),
            "createdDate": iso(listing.created),
            "lastUpdatedDate": iso(listing.updated),
        }
        condition = (listing.attributes.get("condition_type") or [{}])[0].get("value")
        if condition in CONDITIONS:
            summary["conditionType"] = condition
        item["summaries"] = [summary]
    if "attributes" in included:
        item["attributes"] = copy.deepcopy(listing.attributes)
    if "issues" in included:
        item["issues"] = []
    if "offers" in included:
        offer = listing.offer()
        item["offers"] = (
            [
                {
                    "marketplaceId": listing.marketplace_id,
                    "offerType": "B2C",
                    "price": {"currencyCode": offer[1], "amount": str(offer[0])},
                    "audience": {"value": "ALL", "displayName": "Sell on Amazon"},
                }
            ]
            if offer
            else []
        )
    if "fulfillmentAvailability" in included:
        item["fulfillmentAvailability"] = [
            {
                "fulfillmentChannelCode": e["fulfillment_channel_code"],
                "quantity": e.get("quantity", 0),
            }
            for e in listing.attributes.get("fulfillment_availability", [])
        ]
    if "productTypes" in included:
        item["productTypes"] = [
            {"marketplaceId": listing.marketplace_id, "productType": listing.product_type}
        ]
    if "relationships" in included:
        item["relationships"] = [{"marketplaceId": listing.marketplace_id, "relationships": []}]
    if "procurement" in included:
        item["procurement"] = []
    return item
