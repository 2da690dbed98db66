"""What a listing looks like to Etsy: a batch's changes grouped by listing, the draft of a
new listing, the fields of an update, the body of an inventory, the time filters of a pull.
Pure: no I/O, no clock (the shipping profile of a draft is asked for through a callable,
once the draft's own fields have passed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from etsy_python.v3.enums.Listing import WhenMade, WhoMade
from etsy_python.v3.models.Listing import (
    CreateDraftListingRequest,
    UpdateListingInventoryRequest,
)
from etsy_python.v3.models.Product import Product

from connectors.etsy.inventory import Inventory, Want
from connectors.etsy.settings import EtsySettings
from syndicator.connector import Action, ItemRejected, ListingChange, Projection, aware

__all__ = [
    "EARLIEST",
    "MAX_QUANTITY",
    "Group",
    "changed_fields",
    "draft_request",
    "etsy_when_made",
    "inventory_request",
    "placeholder",
    "since_filter",
    "taxonomy",
]

EARLIEST = 946_684_800  # Etsy refuses timestamps before 2000-01-01
MAX_QUANTITY = 999


def etsy_when_made(value: str | None) -> str | None:
    """The catalog's ``when_made`` as Etsy takes it: a year (``2025``, as cooperatives write
    it, docs/catalog.md) becomes the period Etsy lists it under (``2020_2026``, ``1990s``,
    ``before_1700`` ...); ``made_to_order`` and Etsy's own periods pass as they are."""
    if value is None or not value.isdigit():
        return value
    year = int(value)
    for low, period in (
        (2020, "2020_2026"),
        (2010, "2010_2019"),
        (2007, "2007_2009"),
        (2000, "2000_2006"),
    ):
        if year >= low:
            return period
    if year >= 1700:
        return f"{year // 100}00s" if year < 1900 else f"{year // 10 * 10}s"
    return "before_1700"


def since_filter(since: datetime | None, overlap: int) -> int | None:
    """A pull's time filter: ``overlap`` seconds before ``since``, in epoch seconds (None:
    from the start)."""
    if since is None:
        return None
    return max(EARLIEST, int((aware(since) - timedelta(seconds=overlap)).timestamp()))


@dataclass(frozen=True, slots=True)
class Group:
    """The batch's changes for one Etsy listing: a product, or a parent's variants."""

    key: str
    changes: tuple[ListingChange, ...]

    @property
    def base(self) -> Projection | None:
        """The projection the listing's own fields (title, tags ...) come from."""
        return next((c.projection for c in self.changes if c.projection is not None), None)

    @property
    def parent(self) -> str | None:
        return next((c.parent_sku for c in self.changes if c.parent_sku), None)

    @property
    def skus(self) -> set[str]:
        return {c.sku for c in self.changes}

    @property
    def lists(self) -> bool:
        """Whether some change puts a SKU on sale (not only delists and deletes)."""
        return any(
            c.action not in (Action.DELIST, Action.DELETE) and c.projection for c in self.changes
        )

    @property
    def deletes(self) -> bool:
        return any(c.action is Action.DELETE for c in self.changes)

    def wants(self) -> list[Want]:
        out: list[Want] = []
        for c in self.changes:
            p = c.projection
            if c.action is Action.DELETE:
                out.append(Want(c.sku, delete=True))
            elif c.action is Action.DELIST or p is None:
                out.append(Want(c.sku, delist=True))
            else:
                out.append(Want(c.sku, p.options, p.price.amount, p.quantity))
        return out


def taxonomy(p: Projection) -> int:
    """The projection's category as an Etsy taxonomy id."""
    try:
        taxonomy_id = int(p.category)
    except ValueError:
        raise ItemRejected(
            f"category {p.category!r} is not an Etsy taxonomy id (a number): map it under "
            "categories: of the channel"
        ) from None
    if taxonomy_id < 1:
        raise ItemRejected(f"taxonomy id {taxonomy_id} is not an Etsy taxonomy id")
    return taxonomy_id


def draft_request(
    group: Group,
    wants: Sequence[Want],
    settings: EtsySettings,
    shipping_profile: Callable[[], int],
) -> CreateDraftListingRequest:
    """createDraftListing's body for a new listing; ``shipping_profile()`` gives the shop's
    only profile when the settings name none."""
    base = group.base
    assert base is not None
    attrs = dict(base.attributes)
    if not base.description or not base.description.strip():
        raise ItemRejected("Etsy needs a description")
    try:
        who_made = WhoMade(attrs.get("who_made"))
    except ValueError:
        raise ItemRejected(
            f"who_made {attrs.get('who_made')!r} is not one of Etsy's: "
            f"{', '.join(w.value for w in WhoMade)}"
        ) from None
    try:
        when_made = WhenMade(etsy_when_made(attrs.get("when_made")))
    except ValueError:
        raise ItemRejected(
            f"when_made {attrs.get('when_made')!r} is not one of Etsy's: "
            f"{', '.join(w.value for w in WhenMade)}"
        ) from None
    listed = [w for w in wants if not w.delist and w.price is not None]
    if not listed:
        raise ItemRejected("nothing to list: no projection with a price")
    total = sum(w.quantity for w in listed)
    if total > MAX_QUANTITY:
        raise ItemRejected(
            f"Etsy holds at most {MAX_QUANTITY} pieces per listing, not {total}: set "
            "stock: {max_quantity: ...} on the channel"
        )
    price = min(w.price for w in listed if w.price is not None)
    quantity = min(MAX_QUANTITY, max(1, sum(w.quantity for w in listed)))
    return CreateDraftListingRequest(
        quantity=quantity,  # 1 to 999 at creation; the inventory sets the real numbers
        title=base.title,
        description=base.description,
        price=price,
        who_made=who_made,
        when_made=when_made,
        taxonomy_id=taxonomy(base),
        # the configured profile as it is (Etsy names a wrong one); else the only one
        shipping_profile_id=settings.shipping_profile_id or shipping_profile(),
        tags=list(base.tags),
        materials=list(base.materials),
        readiness_state_id=settings.readiness_state_id,
    )


def placeholder(price: Decimal, quantity: int, readiness_state_id: int | None) -> Inventory:
    """The inventory createDraftListing makes: one product with no SKU and no variation."""
    return Inventory(
        [
            {
                "sku": "",
                "property_values": [],
                "offerings": [
                    {
                        "price": price,
                        "quantity": quantity,
                        "is_enabled": True,
                        "readiness_state_id": readiness_state_id,
                    }
                ],
            }
        ]
    )


def changed_fields(info: Mapping[str, Any], p: Projection) -> dict[str, Any]:
    """The listing's own fields that differ from the projection, for updateListing."""
    attrs = dict(p.attributes)
    fields: dict[str, Any] = {}
    if info.get("title") != p.title:
        fields["title"] = p.title
    if p.description and info.get("description") != p.description:
        fields["description"] = p.description
    if list(info.get("tags") or []) != list(p.tags):
        fields["tags"] = list(p.tags)
    if list(info.get("materials") or []) != list(p.materials):
        fields["materials"] = list(p.materials)
    taxonomy_id = taxonomy(p)
    if info.get("taxonomy_id") != taxonomy_id:
        fields["taxonomy_id"] = taxonomy_id
    for name, enum in (("who_made", WhoMade), ("when_made", WhenMade)):
        value = attrs.get(name)
        if name == "when_made":
            value = etsy_when_made(value)
        if value and info.get(name) != value:
            try:
                fields[name] = enum(value)
            except ValueError:
                raise ItemRejected(f"{name} {value!r} is not one of Etsy's values") from None
    return fields


def inventory_request(inventory: Inventory) -> UpdateListingInventoryRequest:
    """updateListingInventory's body: every product of the listing."""
    body = inventory.request_body()
    return UpdateListingInventoryRequest(
        products=[
            Product(sku=p["sku"], property_values=p["property_values"], offerings=p["offerings"])
            for p in body["products"]
        ],
        price_on_property=body["price_on_property"],
        quantity_on_property=body["quantity_on_property"],
        sku_on_property=body["sku_on_property"],
        readiness_state_on_property=body.get("readiness_state_on_property"),
    )
