"""Products on an ANOU-style marketplace: what each change does, and read-back.

- create, update: local images are uploaded (the image endpoint), https URLs pass as they
  are; then the whole product is written by SKU (``PUT``: a retried create never lists
  twice), on sale. A variant is a product of its own with its ``parent_sku`` and ``options``.
- reprice, restock: the offer endpoint (price and stock of that one SKU, nothing else); a
  product the marketplace does not have (404) is written whole instead. Without an offer
  endpoint, the whole product is written.
- delist: taken off sale (``active: false``), never deleted, so it can come back.
- delete (``sync: {removed: delete}``): the delete endpoint when the settings name one (a
  product the marketplace does not have is deleted already); anou-api.md has none, so by
  default the product is taken off sale as for a delist, and the outcome says so.

One item the marketplace refuses (422 ...) gets a failed outcome with the marketplace's own
message, and the batch goes on; refused credentials stop the channel at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from connectors.anou.client import AnouClient
from connectors.anou.images import Images
from connectors.anou.payloads import offer_payload, product_payload, to_payload
from connectors.anou.records import MappingError, get_path, remote_listing
from connectors.anou.settings import AnouSettings, FieldMap
from syndicator.connector import (
    Action,
    AuthError,
    ChannelError,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    Projection,
    RemoteListing,
    SetupError,
    Transient,
    or_missing,
)

__all__ = ["NO_DELETE", "Listings"]

log = logging.getLogger("syndicator.connectors.anou")

NO_DELETE = (
    "this marketplace has no delete (no endpoints.delete): the product was taken off sale instead"
)


def _not_there(change: ListingChange, exc: ItemRejected, what: str, **kw: Any) -> ItemOutcome:
    """The outcome of a change to a product the marketplace does not have: done already."""
    note = f"not on the marketplace ({exc.message}): nothing to {what}"
    return ItemOutcome(change.sku, True, warnings=(note,), **kw)


class Listings:
    """The products of one shop."""

    def __init__(
        self,
        client: AnouClient,
        settings: AnouSettings,
        fields: FieldMap,
        images: Images,
        currency: str,
    ) -> None:
        self.client = client
        self.settings = settings
        self.endpoints = settings.endpoints
        self.fields = fields
        self.images = images
        self.currency = currency

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        outcomes: list[ItemOutcome] = []
        for change in changes:
            try:
                outcome = self._apply(change)
            except (AuthError, SetupError):
                raise  # the whole channel stops: no point trying the next item
            except ChannelError as exc:
                outcome = ItemOutcome(
                    change.sku,
                    False,
                    remote_id=change.remote_id,
                    message=exc.message,
                    code=exc.code,
                    retryable=exc.retryable,
                )
            outcomes.append(outcome)  # logged by the pass, as every marketplace's
        return outcomes

    def _apply(self, change: ListingChange) -> ItemOutcome:
        if change.action is Action.DELETE:
            return self._delete(change)
        if change.action is Action.DELIST:
            return self._deactivate(change)
        if change.action in (Action.HOLD, Action.UNCHANGED):
            return ItemOutcome(change.sku, True, remote_id=change.remote_id)
        projection = change.projection
        if projection is None:
            raise ItemRejected(f"{change.action} {change.sku} came with nothing to show")
        if change.action in (Action.REPRICE, Action.RESTOCK):
            return self._offer(change, projection)
        return self._upsert(change, projection)

    def _upsert(self, change: ListingChange, projection: Projection) -> ItemOutcome:
        images = [self.images.url(ref) for ref in projection.images]
        on_sale = self.settings.active_values[0]
        body = product_payload(projection, images, self.fields, on_sale)
        data = self.client.call("upsertProduct", self.endpoints.upsert, sku=change.sku, body=body)
        return self._ok(change, data)

    def _offer(self, change: ListingChange, projection: Projection) -> ItemOutcome:
        endpoint = self.endpoints.offer
        if endpoint is None:
            return self._upsert(change, projection)
        body = offer_payload(projection, self.fields)
        data = or_missing(
            lambda: self.client.call("updateOffer", endpoint, sku=change.sku, body=body)
        )
        if isinstance(data, ItemRejected):
            # The marketplace lost it (or never had it): show it whole again.
            return self._upsert(change, projection)
        return self._ok(change, data)

    def _deactivate(self, change: ListingChange) -> ItemOutcome:
        body = to_payload({"active": self.settings.active_values[1]}, self.fields)
        data = or_missing(
            lambda: self.client.call(
                "deactivateProduct", self.endpoints.deactivate, sku=change.sku, body=body or None
            )
        )
        if isinstance(data, ItemRejected):
            return _not_there(change, data, "take off sale", remote_id=change.remote_id)
        return self._ok(change, data)

    def _delete(self, change: ListingChange) -> ItemOutcome:
        endpoint = self.endpoints.delete
        if endpoint is None:
            outcome = self._deactivate(change)
            return dataclasses.replace(outcome, warnings=(NO_DELETE, *outcome.warnings))
        gone = or_missing(lambda: self.client.call("deleteProduct", endpoint, sku=change.sku))
        if isinstance(gone, ItemRejected):
            return _not_there(change, gone, "delete")
        return ItemOutcome(change.sku, True)

    def _ok(self, change: ListingChange, data: Any) -> ItemOutcome:
        remote_id = get_path(data, self.fields.get("id"))
        known = str(remote_id) if remote_id is not None else change.remote_id
        return ItemOutcome(change.sku, True, remote_id=known)

    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        """The listings of ``skus`` as the marketplace shows them; a SKU it does not have is
        left out. The API lists no products, so ``skus`` must be given."""
        if skus is None:
            raise NotImplementedError(
                "an ANOU-style API reads products back one SKU at a time: pass the SKUs"
            )
        out: list[RemoteListing] = []
        for sku in skus:
            data = or_missing(partial(self.client.call, "getProduct", self.endpoints.get, sku=sku))
            if isinstance(data, ItemRejected):
                continue
            try:
                active = self.settings.active_values
                out.append(remote_listing(sku, data, self.fields, active, self.currency))
            except MappingError as exc:
                raise Transient(f"product {sku}: {exc}", operation="getProduct") from None
        return out
