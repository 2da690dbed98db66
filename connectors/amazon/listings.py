"""Listings through the Listings Items API, one call per change, and read back.

Every Amazon write is idempotent by SKU (a put replaces the listing, a patch sets absolute
values, a delete of a SKU already gone is accepted), so writes are retried like reads: a
retried create never lists twice.

* **Deletes.** ``delete_listings_item`` drops its keyword arguments (a DELETE has no body)
  and sends four marketplace parameters of its own instead of ``marketplaceIds`` and
  ``issueLocale``: the same call is made through the client's own request (login,
  transport, answer) with the query the model documents.
* **Variations.** A variant family's parent listing is put once per push, before its first
  child; what Amazon said of it goes with the children's outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sp_api.base import fill_query_params

from connectors.amazon.client import AmazonApi
from connectors.amazon.payloads import ListingBuilder
from connectors.amazon.records import next_token, outcome_from, remote_from
from syndicator.connector import (
    Action,
    AuthError,
    ChannelError,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    RemoteListing,
    SetupError,
    Throttled,
    Transient,
    cursor_pages,
    reclassify,
)

__all__ = ["NOT_LISTED", "NOT_THERE", "Listings", "failed"]

log = logging.getLogger("syndicator.connectors.amazon")

READ_BACK_DATA = ["summaries", "offers", "fulfillmentAvailability", "relationships"]
NOT_LISTED = "not listed on Amazon: nothing to take off sale"
NOT_THERE = "not listed on Amazon: nothing to delete"
ITEM_PATH = "/listings/2021-08-01/items/{}/{}"


def failed(change: ListingChange, exc: Exception) -> ItemOutcome:
    """A change that could not be made, as its outcome."""
    if isinstance(exc, ChannelError):
        return ItemOutcome(
            change.sku, False, message=exc.message, code=exc.code, retryable=exc.retryable
        )
    if isinstance(exc, TimeoutError):  # our quota: the next pass
        return ItemOutcome(change.sku, False, message=str(exc), retryable=True)
    return ItemOutcome(change.sku, False, message=str(exc))  # an amount JSON cannot carry


class Listings:
    """The listings of one seller in one store."""

    def __init__(self, api: AmazonApi, builder: ListingBuilder) -> None:
        self.api = api
        self.builder = builder
        self.settings = api.settings
        self._product_types: dict[str, str | None] = {}

    # ------------------------------------------------------------------ push
    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """One Listings Items call per change (two for the first child of a family)."""
        outcomes: list[ItemOutcome] = []
        parents: dict[str, list[str]] = {}  # parent SKU -> what Amazon said of it
        for n, change in enumerate(changes):
            try:
                outcomes.append(self._push_one(change, parents))
            except (AuthError, SetupError):
                raise
            except (ItemRejected, Throttled, Transient, ValueError) as exc:
                outcomes.append(failed(change, exc))
            except TimeoutError as exc:  # our quota: leave the rest for the next pass
                log.warning("amazon %s: %s", self.api.seller_id, exc)
                outcomes += [failed(c, exc) for c in changes[n:]]
                break
        return outcomes

    def _push_one(self, change: ListingChange, parents: dict[str, list[str]]) -> ItemOutcome:
        p, sku = change.projection, change.sku
        if change.action is Action.DELETE:  # gone for good (sync.removed: delete)
            return self._delete(sku)
        if change.action is Action.DELIST:  # off sale, not deleted: it can come back
            product_type = self.product_type(sku)
            if product_type is None:
                return ItemOutcome(sku, True, warnings=(NOT_LISTED,))
            return self._submitted(sku, self._patch(sku, product_type, self.builder.restock(0)))
        if p is None:
            return ItemOutcome(sku, False, message=f"{change.action} without a projection")
        if change.action in (Action.CREATE, Action.UPDATE):
            warnings = self._parent_warnings(change, parents)
            body, more = self.builder.listing(p)
            return self._submitted(sku, self._put(sku, body), [*warnings, *more])
        if change.action is Action.REPRICE:
            return self._submitted(sku, self._patch(sku, p.category, self.builder.reprice(p)))
        if change.action is Action.RESTOCK:
            patches = self.builder.restock(p.quantity)
            return self._submitted(sku, self._patch(sku, p.category, patches))
        return ItemOutcome(sku, True, remote_id=sku)  # nothing to do

    def _submitted(
        self, sku: str, payload: dict[str, Any], warnings: Sequence[str] = ()
    ) -> ItemOutcome:
        """A putListingsItem / patchListingsItem answer as an outcome."""
        return outcome_from(
            sku,
            payload.get("status") == "ACCEPTED",
            payload.get("issues") or [],
            self.api.redactor.redact,
            warnings,
            refused=f"Amazon answered {payload.get('status')}",
        )

    def _put(self, sku: str, body: dict[str, Any]) -> dict[str, Any]:
        """putListingsItem: creates or replaces the listing of ``sku``. Idempotent: a
        retried put lists nothing twice."""
        listings = self.api.client("listings")
        return self._write("putListingsItem", listings.put_listings_item, sku, body)

    def _patch(self, sku: str, product_type: str, patches: list[dict[str, Any]]) -> dict[str, Any]:
        listings = self.api.client("listings")
        body = {"productType": product_type, "patches": patches}
        return self._write("patchListingsItem", listings.patch_listings_item, sku, body)

    def _write(
        self, operation: str, method: Callable[..., Any], sku: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A put or a patch of ``sku``: its answer's payload."""
        answer = self.api.call(
            operation,
            lambda: method(
                self.api.seller_id,
                sku,
                marketplaceIds=[self.api.mid],  # the library puts them in the body only
                issueLocale=self.settings.issue_locale,
                body=body,
            ),
            expect="status",
        )
        return dict(answer.payload)

    def get(
        self, sku: str, included: list[str], *, expect: str | None = "sku"
    ) -> dict[str, Any] | None:
        """getListingsItem: the listing of ``sku`` with the ``included`` data (None: Amazon
        does not list ``sku``)."""
        listings = self.api.client("listings")
        answer = self.api.found(
            "getListingsItem",
            partial(
                listings.get_listings_item,
                self.api.seller_id,
                sku,
                marketplaceIds=[self.api.mid],
                includedData=included,
            ),
            expect=expect,
        )
        if answer is None:
            return None
        payload = getattr(answer, "payload", None)
        return dict(payload) if isinstance(payload, dict) else {}

    def _delete(self, sku: str) -> ItemOutcome:
        """deleteListingsItem: the listing of ``sku`` is gone for good; its variation
        siblings and their parent listing are left as they are. A SKU Amazon does not have
        (404) is deleted already."""
        listings = self.api.client("listings")
        path = fill_query_params(ITEM_PATH, self.api.seller_id, sku)

        def call() -> Any:
            # A new dict each time: the library pops "method" from it.
            params = {
                "marketplaceIds": self.api.mid,
                "issueLocale": self.settings.issue_locale,
                "method": "DELETE",
            }
            return listings._request(path, params=params, add_marketplace=False)

        answer = self.api.found("deleteListingsItem", call, expect="status")
        self._product_types[sku] = None
        if answer is None:
            return ItemOutcome(sku, True, warnings=(NOT_THERE,))
        return self._submitted(sku, dict(answer.payload))

    def product_type(self, sku: str) -> str | None:
        """The product type Amazon has for ``sku`` (a patch names it; a delist has no
        projection to take it from). None: Amazon does not list ``sku``."""
        if sku not in self._product_types:
            payload = self.get(sku, ["summaries"])
            if payload is None:
                self._product_types[sku] = None
            else:
                summaries = payload.get("summaries") or [{}]
                self._product_types[sku] = summaries[0].get("productType") or None
        return self._product_types[sku]

    def forget_type(self, sku: str) -> None:
        """``sku`` is being deleted: its product type is asked again if needed."""
        self._product_types.pop(sku, None)

    def _parent_warnings(self, change: ListingChange, parents: dict[str, list[str]]) -> list[str]:
        """Put a variant family's parent listing once per push; what Amazon said of it."""
        p = change.projection
        if p is None or not p.parent_sku or not self.settings.variation_parents:
            return []
        if p.parent_sku not in parents:
            body = self.builder.parent(p)
            notes: list[str] = []
            if body is not None:
                try:
                    out = self._submitted(p.parent_sku, self._put(p.parent_sku, body))
                except (ItemRejected, Throttled, Transient) as exc:
                    notes = [f"parent {p.parent_sku} not listed: {exc.message}"]
                else:
                    notes = [] if out.ok else [f"parent {p.parent_sku} refused: {out.message}"]
            parents[p.parent_sku] = notes
        return parents[p.parent_sku]

    # ------------------------------------------------------------------ read-back
    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        """getListingsItem for each SKU (a SKU Amazon does not list is left out)."""
        if skus is None:
            return self._read_all()
        out = []
        for sku in skus:
            payload = self.get(sku, READ_BACK_DATA)
            if payload is not None:
                out.append(remote_from(payload, self.api.mid))
        return out

    def _read_all(self) -> list[RemoteListing]:
        """Every listing of the seller (searchListingsItems, 20 a page)."""
        listings = self.api.client("listings")

        def fetch(token: str | None) -> tuple[list[RemoteListing], str | None]:
            kw: dict[str, Any] = {
                "marketplaceIds": [self.api.mid],
                "includedData": READ_BACK_DATA,
                "pageSize": 20,
            }
            if token:
                kw["pageToken"] = token
            try:
                answer = self.api.call(
                    "searchListingsItems",
                    partial(listings.search_listings_items, self.api.seller_id, **kw),
                    expect="items",
                )
            except ItemRejected as exc:
                raise reclassify(
                    exc, SetupError, f"Amazon cannot list this seller's listings: {exc.message}"
                ) from None
            items = answer.payload.get("items") or []
            return [remote_from(item, self.api.mid) for item in items], next_token(answer)

        return [remote for page in cursor_pages(fetch, None) for remote in page]
