"""Large batches as JSON listings feeds: the messages built (:mod:`connectors.amazon.feeds`),
each feed sent, awaited and its processing report read back into one outcome per change.

The document is uploaded as UTF-8 bytes with ``application/json; charset=UTF-8`` (the
library encodes a ``str`` as ISO-8859-1: Arabic would not survive), and each step of a
submission (document, upload, feed) is retried on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from connectors.amazon.client import AmazonApi
from connectors.amazon.feeds import FeedMessage, chunks, document, report_outcomes
from connectors.amazon.listings import NOT_LISTED, Listings, failed
from connectors.amazon.payloads import ListingBuilder
from syndicator.connector import (
    Action,
    AuthError,
    ChannelError,
    ItemOutcome,
    ListingChange,
    SetupError,
    Transient,
)

__all__ = ["FEED_CONTENT_TYPE", "Feeds"]

FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"  # with UTF-8 bytes: Arabic survives


class Feeds:
    """The feeds of one seller in one store."""

    def __init__(self, api: AmazonApi, builder: ListingBuilder, listings: Listings) -> None:
        self.api = api
        self.builder = builder
        self.listings = listings
        self.settings = api.settings

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """JSON listings feeds (as many as Amazon's limits need), their processing reports
        read back into one outcome per change."""
        outcomes: dict[int, ItemOutcome] = {}
        messages: list[FeedMessage] = []
        parents: dict[str, FeedMessage] = {}
        warnings: dict[int, list[str]] = {}
        for n, change in enumerate(changes):
            try:
                built = self._messages(n, change, parents, warnings)
            except (AuthError, SetupError):
                raise
            except (ChannelError, ValueError, TimeoutError) as exc:
                outcomes[n] = failed(change, exc)
                continue
            if isinstance(built, ItemOutcome):
                outcomes[n] = built
            else:
                messages.extend(built)
        skus = [c.sku for c in changes]
        for chunk in chunks(messages, self.settings.feed_max_messages):
            for n, outcome in self._run(skus, chunk, warnings).items():
                outcomes.setdefault(n, outcome)
        lost = "Amazon's processing report said nothing of this change"
        return [
            outcomes.get(n) or ItemOutcome(c.sku, False, message=lost, retryable=True)
            for n, c in enumerate(changes)
        ]

    def _messages(
        self,
        n: int,
        change: ListingChange,
        parents: dict[str, FeedMessage],
        warnings: dict[int, list[str]],
    ) -> list[FeedMessage] | ItemOutcome:
        """The messages of change ``n`` (an UPDATE, a PATCH or a DELETE; a family's parent
        before its first child), or its outcome when it needs no message."""
        p, sku = change.projection, change.sku
        if change.action is Action.DELETE:  # that SKU only: siblings and parent stay
            self.listings.forget_type(sku)
            return [FeedMessage({"sku": sku, "operationType": "DELETE"}, n)]
        if change.action is Action.DELIST:
            product_type = self.listings.product_type(sku)
            if product_type is None:
                return ItemOutcome(sku, True, warnings=(NOT_LISTED,))
            patch = {"operationType": "PATCH", "productType": product_type}
            return [FeedMessage({"sku": sku, **patch, "patches": self.builder.restock(0)}, n)]
        if p is None:
            return ItemOutcome(sku, False, message=f"{change.action} without a projection")
        if change.action in (Action.CREATE, Action.UPDATE):
            out: list[FeedMessage] = []
            if p.parent_sku and self.settings.variation_parents:
                parent = parents.get(p.parent_sku)
                if parent is None:
                    body = self.builder.parent(p)
                    if body is not None:
                        parent = FeedMessage(
                            {"sku": p.parent_sku, "operationType": "UPDATE", **body},
                            None,
                            parent=p.parent_sku,
                        )
                        parents[p.parent_sku] = parent
                        out.append(parent)
                if parent is not None:
                    parent.children.append(n)
            listing, warnings[n] = self.builder.listing(p)
            out.append(FeedMessage({"sku": sku, "operationType": "UPDATE", **listing}, n))
            return out
        if change.action is Action.REPRICE:
            patches = self.builder.reprice(p)
        elif change.action is Action.RESTOCK:
            patches = self.builder.restock(p.quantity)
        else:
            return ItemOutcome(sku, True, remote_id=sku)
        body = {"sku": sku, "operationType": "PATCH", "productType": p.category}
        return [FeedMessage({**body, "patches": patches}, n)]

    def _run(
        self, skus: Sequence[str], chunk: list[FeedMessage], warnings: dict[int, list[str]]
    ) -> dict[int, ItemOutcome]:
        """Send one feed, wait for it, read its report."""

        def every(
            message: str, *, retryable: bool, code: str | None = None
        ) -> dict[int, ItemOutcome]:
            return {
                i: ItemOutcome(skus[i], False, message=message, code=code, retryable=retryable)
                for m in chunk
                for i in m.indexes()
            }

        data = document(self.api.seller_id, self.settings.issue_locale, chunk)
        try:
            feed_id = self._submit(data)
            status, report = self._await(feed_id)
        except (AuthError, SetupError):
            raise
        except ChannelError as exc:
            return every(exc.message, retryable=exc.retryable, code=exc.code)
        except TimeoutError as exc:
            return every(str(exc), retryable=True)
        if status is None:
            return every(
                f"feed {feed_id} was not processed within {self.settings.job_timeout_seconds:g} "
                "s; the next pass sends these changes again",
                retryable=True,
            )
        if status == "CANCELLED":
            return every(f"Amazon cancelled feed {feed_id}", retryable=True)
        return report_outcomes(chunk, skus, report, status, warnings, self.api.redactor.redact)

    def _submit(self, data: bytes) -> str:
        """createFeedDocument, the upload, createFeed (what the library's submit_feed does,
        but each step retried on its own, and the upload with our timeout and bytes)."""
        feeds = self.api.client("feeds")
        created = self.api.call(
            "createFeedDocument",
            lambda: feeds.create_feed_document(None, FEED_CONTENT_TYPE),
            expect="url",
        )
        document_id = str(created.payload["feedDocumentId"])
        url = str(created.payload["url"])
        self.api.caller("uploadFeedDocument", lambda: self.api.upload(url, data, FEED_CONTENT_TYPE))
        answer = self.api.call(
            "createFeed",
            lambda: feeds.create_feed(FEED_TYPE, document_id, marketplaceIds=[self.api.mid]),
            expect="feedId",
        )
        return str(answer.payload["feedId"])

    def _await(self, feed_id: str) -> tuple[str | None, dict[str, Any]]:
        """Poll until the feed is finished (None: not within job_timeout_seconds); its
        processing report when it has one."""
        feeds = self.api.client("feeds")
        payload = self.api.poll(
            "getFeed", lambda: feeds.get_feed(feed_id), self.settings.feed_poll_seconds
        )
        if payload is None:
            return None, {}
        status = str(payload["processingStatus"])
        result = payload.get("resultFeedDocumentId")
        if not result:
            return status, {}

        def fetch() -> dict[str, Any]:
            text = feeds.get_feed_result_document(result)  # the library downloads it too
            try:
                report = json.loads(text)
            except (TypeError, ValueError):
                raise Transient(f"the processing report of feed {feed_id} is not JSON") from None
            if not isinstance(report, dict) or "summary" not in report:
                raise Transient(f"the processing report of feed {feed_id} has no summary")
            return report

        return status, self.api.call("getFeedDocument", fetch)
