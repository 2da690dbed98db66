"""What the connector knows of the shop: its listings, and its shipping profiles.

Etsy has no SKU search: the shop's listings (every state, with their inventories) are read
once per connector and kept up to date by its own writes; a batch's changes find their
listing there (:meth:`Shop.resolve`). A create whose answer was lost left a SKU-less draft
with the same title: it is found (:meth:`Shop.find_orphan`) and adopted, not duplicated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from etsy_python.v3.enums.Listing import Includes, State
from etsy_python.v3.resources import EtsyClient, ListingResource, ShippingProfileResource

from connectors.etsy.client import EtsyApi
from connectors.etsy.payloads import Group
from connectors.etsy.records import Listing
from syndicator.connector import SetupError

__all__ = ["LISTING_STATES", "Shop"]

LISTING_STATES = ("active", "inactive", "draft", "sold_out", "expired")


def child_of(sku: str, parent: str) -> bool:
    """Whether ``sku`` is a variant SKU of ``parent`` (``CUSH-1-S`` of ``CUSH-1``)."""
    return sku.startswith(parent) and len(sku) > len(parent) and not sku[len(parent)].isalnum()


def _orphan(listings: Sequence[Listing], title: str) -> Listing | None:
    """A SKU-less listing with this title (a draft first): a create whose answer was lost."""
    wanted = title.strip().casefold()
    same = [x for x in listings if not x.skus and x.title.strip().casefold() == wanted]
    same.sort(key=lambda x: (x.state != "draft", x.listing_id))
    return same[0] if same else None


class Shop:
    """The listings and shipping profiles of one shop."""

    def __init__(self, api: EtsyApi) -> None:
        self.api = api
        self.shop_id = api.shop_id
        self._index: dict[int, Listing] | None = None
        self._profiles: list[int] | None = None

    # ------------------------------------------------------------------ listings
    def listings(self, *, fresh: bool = False) -> dict[int, Listing]:
        """Every listing of the shop in every state, with its inventory: read once per
        connector (``fresh``: read again), kept up to date by its own writes."""
        if self._index is not None and not fresh:
            return self._index
        index: dict[int, Listing] = {}
        for state in LISTING_STATES:
            for listing in self._pages(state):
                index[listing.listing_id] = listing
        self._index = index
        return index

    def known(self, listing_id: int) -> Listing | None:
        """A listing already read, without reading any."""
        return (self._index or {}).get(listing_id)

    def add(self, listing: Listing) -> None:
        self.listings()[listing.listing_id] = listing

    def forget(self, listing_id: int) -> None:
        if self._index is not None:
            self._index.pop(listing_id, None)

    def _pages(self, state: str, *, most: int | None = None) -> Iterator[Listing]:
        def call(c: EtsyClient, offset: int) -> Any:
            return ListingResource(c).get_listings_by_shop(
                self.shop_id,
                state=State(state),
                limit=self.api.settings.page_size,
                offset=offset,
                includes=[Includes.INVENTORY],
            )

        for page in self.api.pages("getListingsByShop", call, most=most):
            yield from map(Listing.from_json, page.items)

    def resolve(self, group: Group) -> Listing | None:
        """The listing of a group: by its SKUs (the truth at Etsy), by the remote id the store
        knows, by a parent's sibling SKUs, or a SKU-less listing with the same title (a draft
        whose create answer was lost)."""
        index = self.listings()
        skus = group.skus
        ordered = sorted(index.values(), key=lambda x: x.listing_id)
        found = [x for x in ordered if x.skus & skus]
        if found:
            return found[0]
        for change in group.changes:
            if change.remote_id and change.remote_id.isdigit():
                listing = index.get(int(change.remote_id))
                if listing is not None and self._claimable(listing, group):
                    return listing
        parent = group.parent
        if parent:
            siblings = [x for x in ordered if x.skus and all(child_of(s, parent) for s in x.skus)]
            if len(siblings) == 1:
                return siblings[0]
        base = group.base
        if base is not None:
            return _orphan(ordered, base.title)
        return None

    @staticmethod
    def _claimable(listing: Listing, group: Group) -> bool:
        """A listing may take this group when its SKUs are the group's (or its siblings')."""
        skus = group.skus
        parent = group.parent
        return all(sku in skus or (parent and child_of(sku, parent)) for sku in listing.skus)

    def find_orphan(self, title: str) -> Listing | None:
        """After a create whose answer was lost: the newest drafts, read again."""
        index = self.listings()
        for listing in self._pages("draft", most=self.api.settings.page_size):
            index[listing.listing_id] = listing
        return _orphan(sorted(index.values(), key=lambda x: x.listing_id), title)

    # ------------------------------------------------------------------ shipping
    def shipping_profile(self) -> int:
        """The shipping profile of new listings: the configured one (if the shop has it),
        else the shop's only one."""
        if self._profiles is None:
            answer = self.api.call(
                "getShopShippingProfiles",
                lambda c: ShippingProfileResource(c).get_shop_shipping_profiles(self.shop_id),
            )
            self._profiles = [int(p["shipping_profile_id"]) for p in answer.get("results") or []]
        wanted = self.api.settings.shipping_profile_id
        if wanted is not None:
            if wanted not in self._profiles:
                raise SetupError(
                    f"shipping_profile_id {wanted} is not a shipping profile of Etsy shop "
                    f"{self.shop_id} (it has {', '.join(map(str, self._profiles)) or 'none'})"
                )
            return wanted
        if len(self._profiles) != 1:
            raise SetupError(
                f"Etsy shop {self.shop_id} has {len(self._profiles)} shipping profiles "
                f"({', '.join(map(str, self._profiles))}): set settings.shipping_profile_id"
            )
        return self._profiles[0]
