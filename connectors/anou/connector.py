"""The generic ANOU-style connector: a cooperative marketplace's JSON API, driven by the
channel's settings (:mod:`connectors.anou.settings`), speaking docs/anou-api.md by default.

What each change does:

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
import hashlib
import logging
import mimetypes
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from connectors.anou import CHANNEL_TYPE
from connectors.anou.client import AnouClient
from connectors.anou.cursors import Checkpoints
from connectors.anou.mapping import (
    MappingError,
    get_path,
    offer_payload,
    order_from,
    product_payload,
    remote_listing,
    review_from,
    to_payload,
)
from connectors.anou.settings import AnouSettings
from connectors.limits import quota_rules
from syndicator.connector import (
    Action,
    AuthError,
    ChannelError,
    Connector,
    ConnectorContext,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    Order,
    OrderPage,
    Projection,
    QuotaRule,
    RemoteListing,
    ReviewPage,
    SetupError,
    Transient,
)

__all__ = ["AnouConnector"]

log = logging.getLogger("syndicator.connectors.anou")

T = TypeVar("T")

_REMOTE_URL = ("https://", "http://")
NO_DELETE = (
    "this marketplace has no delete (no endpoints.delete): the product was taken off sale instead"
)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


class AnouConnector(Connector):
    """One shop (one API key) on an ANOU-style marketplace."""

    capabilities = CHANNEL_TYPE.capabilities

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, AnouSettings):
            raise SetupError("the channel's settings are not ANOU-style settings")
        api_key = context.credentials.get("api_key")
        if not api_key:
            raise SetupError(f"{context.channel.id}: no api_key under credentials")
        self.settings = settings = context.settings
        self.account = self.quota_account(settings, context.credentials)
        self.fields = {
            kind: settings.fields.merged(kind)
            for kind in ("product", "order", "line", "review", "lists", "image", "error")
        }
        self.client = AnouClient(
            settings.api_url,
            api_key,
            auth_header=settings.auth_header,
            auth_scheme=settings.auth_scheme,
            error_fields=self.fields["error"],
            account=self.account,
            quota=context.quota,
            timeout=context.timeout,
        )
        self._uploaded: dict[str, str] = {}  # sha256 of an image file -> its URL there

    # ------------------------------------------------------------------ quotas
    @classmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        """``anou:`` and a short hash of the API key: the key itself is never shown."""
        return f"anou:{_key_digest(credentials.get('api_key', ''))}"

    @classmethod
    def quota_rules(cls, settings: Any) -> Mapping[str, Sequence[QuotaRule]]:
        return quota_rules("anou")

    # ------------------------------------------------------------------ check
    def check(self) -> str:
        where = urlsplit(self.settings.api_url)
        place = f"{where.netloc}{where.path}"
        try:
            self.client.call("check", self.settings.endpoints.check)
        except ItemRejected as exc:  # 404 and the like: the address is wrong, not an item
            raise SetupError(
                f"{place} answers {exc.status} to {self.settings.endpoints.check}: "
                f"{exc.message}; check base_url and endpoints.check",
                code=exc.code,
                status=exc.status,
                operation="check",
            ) from None
        except Transient as exc:
            if exc.status is None or exc.status >= 400:
                raise
            raise SetupError(
                f"{place} answers {exc.message}: is base_url the API's address?",
                status=exc.status,
                operation="check",
            ) from None
        return f"ANOU-style shop at {place}, key {self.account}, {self.context.channel.currency}"

    # ------------------------------------------------------------------ push
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
            log.info(
                "listing_pushed",
                extra={"sku": change.sku, "action": str(change.action), "ok": outcome.ok},
            )
            outcomes.append(outcome)
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
        images = [self._image_url(ref) for ref in projection.images]
        on_sale = self.settings.active_values[0]
        body = product_payload(projection, images, self.fields["product"], on_sale)
        data = self.client.call(
            "upsertProduct", self.settings.endpoints.upsert, sku=change.sku, body=body
        )
        return self._ok(change, data)

    def _offer(self, change: ListingChange, projection: Projection) -> ItemOutcome:
        endpoint = self.settings.endpoints.offer
        if endpoint is None:
            return self._upsert(change, projection)
        body = offer_payload(projection, self.fields["product"])
        try:
            data = self.client.call("updateOffer", endpoint, sku=change.sku, body=body)
        except ItemRejected as exc:
            if exc.status != 404:
                raise
            # The marketplace lost it (or never had it): show it whole again.
            return self._upsert(change, projection)
        return self._ok(change, data)

    def _deactivate(self, change: ListingChange) -> ItemOutcome:
        body = to_payload({"active": self.settings.active_values[1]}, self.fields["product"])
        try:
            data = self.client.call(
                "deactivateProduct",
                self.settings.endpoints.deactivate,
                sku=change.sku,
                body=body or None,
            )
        except ItemRejected as exc:
            if exc.status != 404:
                raise
            return ItemOutcome(
                change.sku,
                True,
                remote_id=change.remote_id,
                warnings=(f"not on the marketplace ({exc.message}): nothing to take off sale",),
            )
        return self._ok(change, data)

    def _delete(self, change: ListingChange) -> ItemOutcome:
        endpoint = self.settings.endpoints.delete
        if endpoint is None:
            outcome = self._deactivate(change)
            return dataclasses.replace(outcome, warnings=(NO_DELETE, *outcome.warnings))
        try:
            self.client.call("deleteProduct", endpoint, sku=change.sku)
        except ItemRejected as exc:
            if exc.status != 404:
                raise
            return ItemOutcome(
                change.sku,
                True,
                warnings=(f"not on the marketplace ({exc.message}): nothing to delete",),
            )
        return ItemOutcome(change.sku, True)

    def _ok(self, change: ListingChange, data: Any) -> ItemOutcome:
        remote_id = get_path(data, self.fields["product"].get("id"))
        known = str(remote_id) if remote_id is not None else change.remote_id
        return ItemOutcome(change.sku, True, remote_id=known)

    # ------------------------------------------------------------------ images
    def _image_url(self, ref: str) -> str:
        """An image as the marketplace takes it: a URL as it is, a local file uploaded."""
        if ref.startswith(_REMOTE_URL):
            return ref
        path = self._local_image(ref)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._uploaded:  # one upload per file per pass (variants share them)
            return self._uploaded[digest]
        endpoint = self.settings.endpoints.upload_image
        if endpoint is None:
            raise ItemRejected(
                f"image {ref}: this marketplace takes only image URLs (no upload endpoint); "
                "give an https URL"
            )
        content_type = mimetypes.guess_type(path.name)[0] or ""
        if not content_type.startswith("image/"):
            raise ItemRejected(f"image {ref}: not an image file (.jpg, .png, .webp ...)")
        # Uploading the same bytes again is harmless (at worst an unused copy): retried.
        answer = self.client.call("uploadImage", endpoint, content=data, content_type=content_type)
        url = get_path(answer, self.fields["image"]["url"])
        if not isinstance(url, str) or not url.startswith(_REMOTE_URL):
            raise Transient(f"image {ref}: the upload gave no URL", operation="uploadImage")
        self._uploaded[digest] = url
        return url

    def _local_image(self, ref: str) -> Path:
        root = self.context.image_root.resolve()
        path = (root / ref).resolve()
        if not path.is_relative_to(root):
            raise ItemRejected(f"image {ref}: outside the catalog's folder")
        if not path.is_file():
            raise ItemRejected(f"image {ref}: no such file in {root}")
        return path

    # ------------------------------------------------------------------ read back
    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        """The listings of ``skus`` as the marketplace shows them; a SKU it does not have is
        left out. The API lists no products, so ``skus`` must be given."""
        if skus is None:
            raise NotImplementedError(
                "an ANOU-style API reads products back one SKU at a time: pass the SKUs"
            )
        out: list[RemoteListing] = []
        for sku in skus:
            try:
                data = self.client.call("getProduct", self.settings.endpoints.get, sku=sku)
            except ItemRejected as exc:
                if exc.status == 404:
                    continue
                raise
            try:
                out.append(
                    remote_listing(
                        sku,
                        data,
                        self.fields["product"],
                        self.settings.active_values,
                        self.context.channel.currency,
                    )
                )
            except MappingError as exc:
                raise Transient(f"product {sku}: {exc}", operation="getProduct") from None
        return out

    # ------------------------------------------------------------------ orders, reviews
    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        fields, lines = self.fields["order"], self.fields["line"]
        statuses, currency = self.settings.order_statuses, self.context.channel.currency

        def parse(raw: Any) -> Order:
            return order_from(raw, fields, lines, statuses, currency)

        for orders, watermark in self._pull(
            "orders", since, parse, lambda o: o.updated_at, self.settings.endpoints.orders
        ):
            yield OrderPage(orders, watermark)

    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        fields = self.fields["review"]
        for reviews, watermark in self._pull(
            "reviews",
            since,
            lambda raw: review_from(raw, fields),
            lambda r: r.updated_at or r.created_at,
            self.settings.endpoints.reviews,
        ):
            yield ReviewPage(reviews, watermark)

    def _pull(
        self,
        kind: str,
        since: datetime | None,
        parse: Callable[[Any], T],
        changed: Callable[[T], datetime],
        endpoint: str,
    ) -> Iterator[tuple[tuple[T, ...], datetime | None]]:
        """Pages of ``kind`` changed at or after ``since`` less the overlap, each with the
        latest change seen so far; at least one page, so the watermark is always given."""
        s = self.settings
        operation = "listOrders" if kind == "orders" else "listReviews"
        threshold = None if since is None else since - s.order_overlap
        checkpoints = Checkpoints(self.context.tokens, kind, f"{s.api_url} {endpoint}")
        params = {s.limit_param: str(s.page_size)}
        if s.since == "cursor":
            start = checkpoints.start(threshold)
            if start is not None:
                params[s.since_param] = start
        elif threshold is not None:
            params[s.since_param] = _iso(threshold)
        watermark = since
        given = False
        while True:
            data = self.client.call(operation, endpoint, params=params)
            raw = get_path(data, self.fields["lists"][kind])
            if not isinstance(raw, list):
                raise SetupError(
                    f"the {kind} answer has no list at {self.fields['lists'][kind]!r}: "
                    f"check fields.lists.{kind}",
                    operation=operation,
                )
            try:
                records = [parse(item) for item in raw]
            except MappingError as exc:
                raise Transient(f"{kind}: {exc}", operation=operation) from None
            for record in records:
                when = changed(record)
                watermark = when if watermark is None or when > watermark else watermark
            cursor = get_path(data, self.fields["lists"]["next_cursor"])
            cursor = None if cursor is None or cursor == "" else str(cursor)
            if s.since == "cursor" and cursor is not None and watermark is not None:
                checkpoints.add(watermark, cursor)
            kept = tuple(r for r in records if threshold is None or changed(r) >= threshold)
            if kept or not given:
                given = True
                yield kept, watermark
            if len(raw) < s.page_size:
                return
            if self.fields["lists"]["next_cursor"] is not None:  # it pages by cursor
                key = s.since_param if s.since == "cursor" else s.cursor_param
                if cursor is None or cursor == params.get(key):
                    return
                params[key] = cursor
            else:  # by time alone: ask again from the last change of this page
                moved = _iso(max(changed(r) for r in records))
                if moved == params.get(s.since_param):
                    raise SetupError(
                        f"{len(raw)} {kind} changed at {moved}, a full page, and the "
                        "marketplace gives no cursor to page on: raise page_size",
                        operation=operation,
                    )
                params[s.since_param] = moved

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.client.close()
