"""Creating and changing the shop's listings: a batch's changes, grouped by listing.

- **No listing twice.** A create is never retried blindly (``retry=False``): after a timeout
  or a dropped answer it looks for the draft it may have made (a SKU-less listing with the
  same title, :meth:`~connectors.etsy.shop.Shop.find_orphan`) before creating again.
- **Inventory.** ``updateListingInventory`` replaces the whole inventory: the listing's is
  always read, only the products of the SKUs asked are changed, and every product is sent
  back (:mod:`connectors.etsy.inventory`). Variant units (``parent_sku``) share their
  parent's listing, one product each, with their options as property values.
- **Delist** takes off sale without deleting: the listing goes inactive, or, when other
  variants stay on sale, the variant's offering is disabled with quantity 0.
- **Delete** (``sync: {removed: delete}``): the variant's product is removed from the
  inventory; when no product of the listing is left, the listing itself is deleted
  (``deleteListing``). A listing Etsy no longer has is deleted already.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from etsy_python.v3.enums.Listing import InventoryIncludes, State
from etsy_python.v3.models.Listing import UpdateListingRequest
from etsy_python.v3.resources import ListingInventoryResource, ListingResource

from connectors.etsy.client import EtsyApi
from connectors.etsy.images import Images
from connectors.etsy.inventory import Inventory, editable, merge, same_products
from connectors.etsy.payloads import (
    Group,
    changed_fields,
    draft_request,
    inventory_request,
    placeholder,
)
from connectors.etsy.records import Listing
from connectors.etsy.shop import Shop
from syndicator.connector import (
    Action,
    AuthError,
    ChannelError,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    SetupError,
    Throttled,
    Transient,
    or_missing,
)

__all__ = ["Listings"]

log = logging.getLogger("syndicator.connectors.etsy")


def _failed(group: Group, message: str, code: str | None, *, retryable: bool) -> list[ItemOutcome]:
    return [ItemOutcome(c.sku, False, c.remote_id, message, code, retryable) for c in group.changes]


def _done(group: Group, listing_id: int | None) -> list[ItemOutcome]:
    remote = None if listing_id is None else str(listing_id)
    return [
        ItemOutcome(
            c.sku,
            True,
            None if c.action is Action.DELETE else remote,  # no listing of its own now
            warnings=c.projection.warnings if c.projection is not None else (),
        )
        for c in group.changes
    ]


class Listings:
    """The writes of one shop's listings."""

    def __init__(self, api: EtsyApi, shop: Shop, images: Images) -> None:
        self.api = api
        self.settings = api.settings
        self.shop = shop
        self.images = images

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """One outcome per change; a refused group does not stop the others."""
        self.api.credentials.check()
        groups: dict[str, list[ListingChange]] = {}
        for change in changes:
            groups.setdefault(change.parent_sku or change.sku, []).append(change)
        outcomes: list[ItemOutcome] = []
        stopped: str | None = None
        for key, members in groups.items():
            group = Group(key, tuple(members))
            if stopped is not None:
                outcomes += _failed(group, stopped, None, retryable=True)
                continue
            try:
                outcomes += self._push_group(group)
            except (AuthError, SetupError):
                raise
            except TimeoutError as exc:  # the quota would wait too long: leave the rest
                stopped = str(exc)
                outcomes += _failed(group, stopped, None, retryable=True)
            except ItemRejected as exc:
                outcomes += _failed(group, str(exc), exc.code, retryable=False)
            except ChannelError as exc:  # Throttled, Transient: after their retries
                outcomes += _failed(group, str(exc), exc.code, retryable=True)
        return outcomes

    def _push_group(self, group: Group) -> list[ItemOutcome]:
        listing = self.shop.resolve(group)
        if listing is None:
            if not group.lists:
                return _done(group, None)  # nothing on Etsy to take off sale or delete
            return _done(group, self._create(group))
        try:
            self._update(listing, group)
        except ItemRejected as exc:
            if exc.status == 404 and group.deletes and not group.lists:
                self.shop.forget(listing.listing_id)  # gone already: deleted, as asked
                return _done(group, None)
            raise self._gone(listing.listing_id, exc) from exc
        return _done(group, listing.listing_id)

    def _update_or_forget(self, listing: Listing, group: Group) -> None:
        try:
            self._update(listing, group)
        except ItemRejected as exc:
            raise self._gone(listing.listing_id, exc) from exc

    def _gone(self, listing_id: int, exc: ItemRejected) -> ItemRejected | Transient:
        """A 404 about a listing we believed in: Etsy no longer has it (deleted, or a write
        answered but never applied). Forget it; the next pass looks the SKUs up again."""
        if exc.status != 404:
            return exc
        self.shop.forget(listing_id)
        return Transient(
            f"Etsy no longer has listing {listing_id} ({exc.message}); it will be looked up again",
            status=404,
            operation=exc.operation,
        )

    # ------------------------------------------------------------------ create
    def _create(self, group: Group) -> int:
        """A new listing: draft (never twice), images, inventory, then on sale."""
        base = group.base
        assert base is not None
        wants = [w for w in group.wants() if not (w.delist or w.delete)]
        request = draft_request(group, wants, self.settings, self.shop.shipping_profile)
        images = [(ref, self.images.load(ref)) for ref in base.images]  # a bad file: first
        caller = self.api.caller
        attempts = caller.policy.attempts
        listing_id: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                answer = self.api.call(
                    "createDraftListing",
                    lambda c: ListingResource(c).create_draft_listing(self.shop.shop_id, request),
                    retry=False,  # a create is never repeated blindly: look first
                )
                listing_id = int(answer["listing_id"])
                break
            except Throttled:  # refused before anything was made; the quota waits
                if attempt == attempts:
                    raise
            except Transient as exc:  # may have been made: look for it before trying again
                orphan = self.shop.find_orphan(base.title)
                if orphan is not None:
                    log.info(
                        "etsy shop %s: adopting draft %s after a lost create answer",
                        self.shop.shop_id,
                        orphan.listing_id,
                    )
                    self._update_or_forget(orphan, group)
                    return orphan.listing_id
                if attempt == attempts:
                    raise
                caller.pause(exc, attempt)
        assert listing_id is not None
        listing = Listing(listing_id, "draft", base.title)
        self.shop.add(listing)
        readiness = self.settings.readiness_state_id
        try:
            self.images.upload(listing_id, images, have=0, alt=base.title)
            inventory = merge(
                placeholder(request.price, request.quantity, readiness),
                wants,
                readiness_state_id=readiness,
                option_properties=self.settings.option_properties,
            )
            self._put_inventory(listing, inventory)
            if inventory.total() > 0:
                self._activate(listing, after_writes=True)
        except ItemRejected as exc:
            raise self._gone(listing_id, exc) from exc  # a 404: the draft was never made
        return listing_id

    # ------------------------------------------------------------------ update
    def _update(self, listing: Listing, group: Group) -> None:
        """Merge the group's changes into the listing Etsy holds now."""
        listing_id = listing.listing_id
        answer = self.api.call(
            "getListingInventory",
            lambda c: ListingInventoryResource(c).get_listing_inventory(
                listing_id, includes=InventoryIncludes.LISTING
            ),
        )
        info: Mapping[str, Any] = answer.get("listing") or {}
        listing.state = str(info.get("state") or listing.state)
        listing.title = str(info.get("title") or listing.title)
        current = editable(answer)
        listing.products = [p for p in answer.get("products") or [] if not p.get("is_deleted")]
        merged = merge(
            current,
            group.wants(),
            readiness_state_id=self.settings.readiness_state_id,
            option_properties=self.settings.option_properties,
        )
        if merged.listing_gone:
            self._delete_listing(listing_id)
            return
        if merged.listing_off:
            if listing.state in ("active", "sold_out"):
                self._patch(listing, {}, deactivate=True)
            if not same_products(merged, current):  # a product deleted, the rest off sale
                self._put_inventory(listing, merged)
            return
        wrote = not same_products(merged, current)
        if wrote:
            self._put_inventory(listing, merged)
        base = group.base
        fields: dict[str, Any] = {}
        if base is not None and any(
            c.action in (Action.CREATE, Action.UPDATE) for c in group.changes
        ):
            fields = changed_fields(info, base)
        activate = (
            group.lists and merged.total() > 0 and listing.state in ("draft", "inactive", "expired")
        )
        if activate and listing.state == "draft" and base is not None:
            have = self.images.count(listing_id)
            if have < len(base.images):
                images = [(ref, self.images.load(ref)) for ref in base.images]
                self.images.upload(listing_id, images, have=have, alt=base.title)
                wrote = True
        if fields:
            self._patch(listing, fields)
        if activate:
            self._activate(listing, after_writes=wrote)

    def _delete_listing(self, listing_id: int) -> None:
        """deleteListing: gone for good. A listing Etsy no longer has (404) is deleted
        already; a delete tried again after a lost answer finds just that."""
        or_missing(
            lambda: self.api.call(
                "deleteListing", lambda c: ListingResource(c).delete_listing(listing_id)
            )
        )
        self.shop.forget(listing_id)

    def _activate(self, listing: Listing, *, after_writes: bool) -> None:
        """Put the listing on sale. Refused right after we sent its images or stock, it
        means one of those writes did not take (Etsy answered, but never applied it): the
        item is tried again next pass rather than reported as the catalog's fault."""
        try:
            self._patch(listing, {}, activate=True)
        except ItemRejected as exc:
            if exc.status == 404 or not after_writes:
                raise
            raise Transient(
                f"Etsy refused to put listing {listing.listing_id} on sale right after its "
                f"images and stock were sent ({exc.message}); it is tried again next pass",
                status=exc.status,
                operation=exc.operation,
            ) from exc

    def _put_inventory(self, listing: Listing, inventory: Inventory) -> None:
        request = inventory_request(inventory)
        answer = self.api.call(
            "updateListingInventory",
            lambda c: ListingInventoryResource(c).update_listing_inventory(
                listing.listing_id, request
            ),
        )
        listing.products = [p for p in answer.get("products") or [] if not p.get("is_deleted")]

    def _patch(
        self,
        listing: Listing,
        fields: Mapping[str, Any],
        *,
        activate: bool = False,
        deactivate: bool = False,
    ) -> None:
        state = State.ACTIVE if activate else State.INACTIVE if deactivate else None
        request = UpdateListingRequest(**fields, state=state)
        answer = self.api.call(
            "updateListing",
            lambda c: ListingResource(c).update_listing(
                self.shop.shop_id, listing.listing_id, request
            ),
        )
        listing.state = str(answer.get("state") or listing.state)
        listing.title = str(answer.get("title") or listing.title)
