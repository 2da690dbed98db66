"""Etsy inventories: read one, merge our changes into it, send it all back.

``updateListingInventory`` replaces the whole inventory of a listing: a product left out of
the request is deleted (with its variation), and the request may not carry the ids
(``product_id``, ``offering_id``) nor ``is_deleted`` that ``getListingInventory`` answers with,
nor Money objects for prices. So every change is: GET the inventory, turn it into the
editable shape (:func:`editable`), change only the products of the SKUs asked
(:func:`merge`), PUT every product back. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.etsy.records import money
from syndicator.connector import ItemRejected

__all__ = [
    "CUSTOM_PROPERTIES",
    "Inventory",
    "Want",
    "editable",
    "merge",
    "same_products",
]

# Etsy's two custom variation properties ("Custom property 1" and "2"): a listing varies on
# at most two properties.
CUSTOM_PROPERTIES = (513, 514)
ON_PROPERTY = ("price_on_property", "quantity_on_property", "sku_on_property")

InventoryProduct = dict[
    str, Any
]  # {"sku", "property_values", "offerings"}, as updateListingInventory takes


@dataclass(frozen=True, slots=True)
class Want:
    """What one SKU should be in the inventory. ``price`` None: keep the listed price;
    ``delist``: take the SKU off sale (its offering disabled, or the listing deactivated
    when it is the last one on sale); ``delete``: remove the SKU's product (or the whole
    listing, when no other SKU is left in it)."""

    sku: str
    options: tuple[tuple[str, str], ...] = ()
    price: Decimal | None = None
    quantity: int = 0
    delist: bool = False
    delete: bool = False


@dataclass(slots=True)
class Inventory:
    """An editable inventory: products without ids, prices as Decimals."""

    products: list[InventoryProduct]
    on_property: dict[str, list[int]] = field(default_factory=dict)
    readiness_on_property: list[int] | None = None
    # After merge: no product is left on sale, so the listing is to be made inactive
    # (its inventory left as it was, so that it can come back, unless a product was deleted).
    listing_off: bool = False
    # After merge: every SKU of the listing was deleted, so the listing is to be deleted.
    listing_gone: bool = False

    def skus(self) -> list[str]:
        return [str(p["sku"]) for p in self.products if p["sku"]]

    def total(self) -> int:
        """Pieces on sale: the quantities of enabled offerings."""
        return sum(
            int(o["quantity"]) for p in self.products for o in p["offerings"] if o["is_enabled"]
        )

    def request_body(self) -> dict[str, Any]:
        """The body of updateListingInventory."""
        body: dict[str, Any] = {"products": self.products}
        for key in ON_PROPERTY:
            body[key] = list(self.on_property.get(key, []))
        if self.readiness_on_property:
            body["readiness_state_on_property"] = list(self.readiness_on_property)
        return body


def editable(inventory: Mapping[str, Any]) -> Inventory:
    """getListingInventory's answer, as updateListingInventory takes it back: no
    product_id, offering_id or is_deleted, deleted products left out, Money as Decimal."""
    products: list[InventoryProduct] = []
    for raw in inventory.get("products") or []:
        if raw.get("is_deleted"):
            continue
        offerings = [
            {
                "price": money(o["price"]).amount,
                "quantity": int(o["quantity"]),
                "is_enabled": bool(o["is_enabled"]),
                "readiness_state_id": o.get("readiness_state_id"),
            }
            for o in raw.get("offerings") or []
            if not o.get("is_deleted")
        ]
        values = [
            {
                "property_id": int(v["property_id"]),
                **({"property_name": v["property_name"]} if v.get("property_name") else {}),
                **({"scale_id": v["scale_id"]} if v.get("scale_id") is not None else {}),
                "value_ids": list(v.get("value_ids") or []),
                "values": list(v.get("values") or []),
            }
            for v in raw.get("property_values") or []
        ]
        products.append(
            {"sku": raw.get("sku") or "", "property_values": values, "offerings": offerings}
        )
    on_property = {key: [int(i) for i in inventory.get(key) or []] for key in ON_PROPERTY}
    readiness = [int(i) for i in inventory.get("readiness_state_on_property") or []]
    return Inventory(products, on_property, readiness or None)


def _signature(product: InventoryProduct) -> tuple[Any, ...]:
    offers = tuple(
        (
            Decimal(o["price"]),
            int(o["quantity"]),
            bool(o["is_enabled"]),
            o.get("readiness_state_id"),
        )
        for o in product["offerings"]
    )
    values = tuple(
        sorted(
            (int(v["property_id"]), str(v["values"][0]).casefold())
            for v in product["property_values"]
        )
    )
    return (product["sku"], values, offers)


def same_products(a: Inventory, b: Inventory) -> bool:
    """Whether two inventories hold the same products, offerings and property settings."""
    return sorted(map(_signature, a.products)) == sorted(map(_signature, b.products)) and all(
        sorted(a.on_property.get(k, [])) == sorted(b.on_property.get(k, [])) for k in ON_PROPERTY
    )


def _is_placeholder(product: InventoryProduct) -> bool:
    """The product createDraftListing makes: no SKU, no variation."""
    return not product["sku"] and not product["property_values"]


def _property_ids(
    products: Iterable[InventoryProduct], wants: Sequence[Want], configured: Mapping[str, int]
) -> dict[str, int]:
    """Option name (casefolded) -> Etsy property id: the listing's own first, then the
    configured ones, then Etsy's free custom properties."""
    ids: dict[str, int] = {}
    for product in products:
        for v in product["property_values"]:
            name = str(v.get("property_name") or "").casefold()
            if name:
                ids.setdefault(name, int(v["property_id"]))
    for name, pid in configured.items():
        ids.setdefault(name.casefold(), pid)
    free = [pid for pid in CUSTOM_PROPERTIES if pid not in ids.values()]
    for want in wants:
        for name, _ in want.options:
            key = name.casefold()
            if key not in ids:
                if not free:
                    raise ItemRejected(
                        f"{want.sku}: Etsy takes at most two variation properties; "
                        f"map option {name!r} in settings.option_properties"
                    )
                ids[key] = free.pop(0)
    return ids


def _values(want: Want, ids: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "property_id": ids[name.casefold()],
            "property_name": name.replace("_", " ").capitalize(),
            "value_ids": [],
            "values": [value],
        }
        for name, value in want.options
    ]


def merge(
    current: Inventory,
    wants: Sequence[Want],
    *,
    readiness_state_id: int | None = None,
    option_properties: Mapping[str, int] | None = None,
) -> Inventory:
    """``current`` with ``wants`` applied, every other product kept as it is.

    A SKU not in the listing is added (taking the place of createDraftListing's placeholder
    product); a delisted SKU's offering is disabled with quantity 0, unless no product would
    be left on sale: then ``listing_off`` is set and the inventory is left as it was. A
    deleted SKU's product is removed, the others kept as they are; when no product is left,
    ``listing_gone`` is set (and the inventory left as it was). When the products left are
    all off sale, Etsy still wants one offering enabled: the first one is, at quantity 0,
    and ``listing_off`` is set.
    """
    deleting = {w.sku for w in wants if w.delete}
    kept = [p for p in current.products if not (p["sku"] and p["sku"] in deleting)]
    removed = len(kept) < len(current.products)
    ids = _property_ids(kept, [w for w in wants if not w.delete], option_properties or {})
    products = [
        {
            **p,
            "offerings": [dict(o) for o in p["offerings"]],
            "property_values": list(p["property_values"]),
        }
        for p in kept
    ]
    by_sku = {p["sku"]: p for p in products if p["sku"]}
    adding = [w for w in wants if not (w.delist or w.delete) and w.sku not in by_sku]
    if adding:
        products = [p for p in products if not _is_placeholder(p)]
    if removed and all(_is_placeholder(p) for p in products):
        # Every product of the listing is deleted (createDraftListing's placeholder aside).
        return Inventory(
            current.products, current.on_property, current.readiness_on_property, listing_gone=True
        )
    for want in wants:
        product = by_sku.get(want.sku)
        if want.delete:
            continue
        if want.delist:
            if product is not None:
                for offer in product["offerings"]:
                    offer.update(quantity=0, is_enabled=False)
            continue
        wanted_values = _values(want, ids)
        if product is None:
            if want.price is None:
                raise ItemRejected(f"{want.sku}: no price to list it at")
            product = {
                "sku": want.sku,
                "property_values": wanted_values,
                "offerings": [
                    {
                        "price": want.price,
                        "quantity": want.quantity,
                        "is_enabled": True,
                        "readiness_state_id": readiness_state_id,
                    }
                ],
            }
            products.append(product)
            by_sku[want.sku] = product
            continue
        have = sorted(
            (v["property_id"], str(v["values"][0]).casefold()) for v in product["property_values"]
        )
        if have != sorted((v["property_id"], v["values"][0].casefold()) for v in wanted_values):
            product["property_values"] = wanted_values
        if not product["offerings"]:
            product["offerings"] = [{"readiness_state_id": readiness_state_id}]
        offer = product["offerings"][0]
        offer.update(quantity=want.quantity, is_enabled=True)
        if want.price is not None:
            offer["price"] = want.price
    merged = Inventory(products, {}, current.readiness_on_property)
    if not any(o["is_enabled"] for p in products for o in p["offerings"]):
        # Every product is off sale: Etsy wants one offering enabled; deactivate the listing.
        if not removed:
            return Inventory(
                current.products, current.on_property, current.readiness_on_property, True
            )
        # A product is deleted and those left are all off sale: they stay off sale in an
        # inactive listing, one of them enabled at quantity 0 to satisfy Etsy.
        first = next((p for p in products if p["offerings"]), None)
        if first is None:
            raise ItemRejected("no offering left in the listing to keep it")
        first["offerings"][0].update(quantity=0, is_enabled=True)
        merged.listing_off = True
    used = {tuple(sorted(v["property_id"] for v in p["property_values"])) for p in products}
    if len(used) > 1:
        raise ItemRejected(
            "the products of this Etsy listing would vary on different properties "
            f"({', '.join(sorted(map(str, used)))}); every variant needs the same options"
        )
    (pids,) = used
    merged.on_property = {key: list(pids) for key in ON_PROPERTY}
    if merged.readiness_on_property:
        merged.readiness_on_property = [
            i for i in merged.readiness_on_property if i in pids
        ] or None
    return merged
