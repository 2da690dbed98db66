"""The Amazon connector: listings through the Listings Items API or a JSON listings feed,
orders through Orders 2026-01-01, seller feedback through its report, read-back through
getListingsItem. It speaks python-amazon-sp-api, within Syndicator's quotas and retries.

What the library does not do, or does in a way a daemon cannot live with, is done here:

* **Login.** The library's access tokens live in a process-wide cache keyed by the refresh
  token alone; the connector logs in itself (:mod:`connectors.amazon.lwa`), so a wrong
  credential is never masked and another seller's token is never reused.
* **Empty answers.** The library raises only when a body has ``errors``: a 429 or 5xx with
  no body (a gateway's) comes back as an empty response. Every answer goes through a response
  hook that turns an error status without an ``errors`` body into Throttled/Transient, and
  an answer missing what it must hold is Transient too.
* **Timeouts and transport.** One httpx client per connector, with the context's timeout,
  under every library client; httpx transport errors are Transient.
* **Feeds.** The document is uploaded as UTF-8 bytes with ``application/json;
  charset=UTF-8`` (the library encodes a ``str`` as ISO-8859-1: Arabic would not survive).
* **Marketplace ids** are always passed (``put_listings_item`` does not add them to the
  query, and the library's defaults come from an environment variable).
* **Deletes.** ``delete_listings_item`` drops its keyword arguments (a DELETE has no body)
  and sends four marketplace parameters of its own instead of ``marketplaceIds`` and
  ``issueLocale``: the connector makes the same call through the client's own request
  (login, transport, answer) with the query the model documents.

Every Amazon write is idempotent by SKU (a put replaces the listing, a patch sets absolute
values, a delete of a SKU already gone is accepted), so writes are retried like reads: a
retried create never lists twice.
"""

from __future__ import annotations

import gzip
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sp_api.api import Feeds, ListingsItems, Orders, Reports
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces, SellingApiException, fill_query_params
from sp_api.base._transport_httpx import HttpxTransport
from sp_api.base.credential_provider import FromCodeCredentialProvider, MissingCredentials

from connectors.amazon import AmazonSettings
from connectors.amazon.feeds import FeedMessage, chunks, document, report_outcomes
from connectors.amazon.listing import MARKETPLACES, ListingBuilder, Marketplace
from connectors.amazon.lwa import LWA_URL, LwaTokens, auth_class
from connectors.amazon.records import (
    feedback_from,
    iso,
    next_token,
    order_from,
    outcome_from,
    remote_from,
)
from connectors.limits import quota_rules
from syndicator.connector import (
    Action,
    AuthError,
    Caller,
    Capability,
    ChannelError,
    Connector,
    ConnectorContext,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    OrderPage,
    QuotaRule,
    RemoteListing,
    ReviewPage,
    SetupError,
    Throttled,
    Transient,
    error_for_status,
)

__all__ = ["AmazonConnector"]

log = logging.getLogger("syndicator.connectors.amazon")
T = TypeVar("T")

REGION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"  # with UTF-8 bytes: Arabic survives
FEEDBACK_REPORT = "GET_SELLER_FEEDBACK_DATA"
FINISHED = ("DONE", "FATAL", "CANCELLED")
READ_BACK_DATA = ["summaries", "offers", "fulfillmentAvailability", "relationships"]
CHECK_SKU = "syndicator-credentials-check"  # never listed: a 404 proves token and seller
NOT_LISTED = "not listed on Amazon: nothing to take off sale"
NOT_THERE = "not listed on Amazon: nothing to delete"
ITEM_PATH = "/listings/2021-08-01/items/{}/{}"
# The library wants credentials even though it never logs in here (see lwa.py).
_LIBRARY_CREDENTIALS = {
    "refresh_token": "unused: the connector logs in",
    "lwa_app_id": "unused: the connector logs in",
    "lwa_client_secret": "unused: the connector logs in",
}


class AmazonConnector(Connector):
    """One seller in one Amazon store (see the module's docstring)."""

    capabilities = frozenset(Capability)

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, AmazonSettings):
            raise SetupError("the amazon connector needs AmazonSettings")
        self.settings = settings = context.settings
        self.seller_id = settings.seller_id
        self.marketplace = MARKETPLACES.get(settings.marketplace_id) or Marketplace(
            settings.marketplace_id,
            "",
            context.channel.currency,
            settings.marketplace_id,
            settings.region,
            "en_US",
        )
        self.mid = settings.marketplace_id
        self.builder = ListingBuilder(settings, self.marketplace)
        self._secrets = sorted(
            (v for v in context.credentials.values() if len(v) >= 4), key=len, reverse=True
        )
        self._sleep: Callable[[float], None] = time.sleep
        self._operation = ""
        self._last_status: int | None = None
        # One TLS context for every client of this connector (each costs ~50 ms to make).
        self._tls = ssl.create_default_context()
        timeout = httpx.Timeout(context.timeout)
        self._http = httpx.Client(timeout=timeout, verify=self._tls)  # LWA, documents
        self._api_http = httpx.Client(
            timeout=timeout, verify=self._tls, event_hooks={"response": [self._on_response]}
        )
        self.caller = Caller(context.quota, self._classify)
        self.endpoint = (
            str(settings.endpoint).rstrip("/")
            if settings.endpoint
            else REGION_ENDPOINTS[settings.region]
        )
        if settings.token_url:
            token_url = str(settings.token_url)
        elif settings.endpoint:
            token_url = f"{self.endpoint}/auth/o2/token"
        else:
            token_url = LWA_URL
        for name in ("refresh_token", "client_id", "client_secret"):
            if not context.credentials.get(name):
                raise SetupError(f"no {name} under credentials: in the config")
        self.tokens = LwaTokens(token_url, dict(context.credentials), self._http, self.caller)
        self._auth = auth_class(self.tokens)
        self._clients: dict[str, Any] = {}
        self._product_types: dict[str, str | None] = {}

    # ------------------------------------------------------------------ quotas
    @classmethod
    def quota_account(cls, settings: Any, credentials: Any) -> str:
        return f"amazon:{settings.seller_id}"

    @classmethod
    def quota_rules(cls, settings: Any) -> dict[str, list[QuotaRule]]:
        return quota_rules("amazon")

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._http.close()
        self._api_http.close()
        self._clients.clear()

    def _client(self, name: str) -> Any:
        """A library client on this connector's login, timeout, endpoint and store."""
        client = self._clients.get(name)
        if client is None:
            api, extra = {
                "listings": (ListingsItems, {"version": "2021-08-01"}),
                "feeds": (Feeds, {"version": "2021-06-30"}),
                "orders": (Orders, {"version": "2026-01-01"}),
                "reports": (Reports, {}),
            }[name]
            library_marketplace = next(
                (m for m in Marketplaces if m.marketplace_id == self.mid), Marketplaces.US
            )
            client = api(
                marketplace=library_marketplace,
                credentials=_LIBRARY_CREDENTIALS,
                credential_providers=(FromCodeCredentialProvider,),  # never env, never files
                auth_token_client_class=self._auth,
                verify=self._tls,
                timeout=self.context.timeout,
                **extra,
            )
            client._transport.close()
            client._transport = HttpxTransport(client=self._api_http)
            client.endpoint = self.endpoint
            client.marketplace_id = self.mid  # not SP_API_DEFAULT_MARKETPLACE's
            self._clients[name] = client
        return client

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _on_response(self, response: httpx.Response) -> None:
        """Every SP-API answer: an error status whose body has no ``errors`` would reach us
        as an empty success (the library raises only on ``errors``)."""
        self._last_status = response.status_code
        if response.status_code < 400:
            return
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("errors"):
            return  # the library raises, with Amazon's own words
        raise error_for_status(
            response.status_code,
            f"Amazon answered HTTP {response.status_code} with no error body",
            operation=self._operation or "amazon",
            headers=response.headers,
        )

    def _classify(self, exc: BaseException, operation: str) -> ChannelError | None:
        """The library's and httpx's exceptions as the error tree."""
        if isinstance(exc, SellingApiException):
            status = exc.code if exc.code != 999 else (self._last_status or 0)
            errors = exc.error if isinstance(getattr(exc, "error", None), list) else []
            first = errors[0] if errors and isinstance(errors[0], dict) else {}
            message = str(first.get("message") or type(exc).__name__)
            if first.get("details"):
                message += f" ({first['details']})"
            headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
            code = first.get("code") if isinstance(first.get("code"), str) else None
            if status < 400:
                return Transient(self._scrub(message), code=code, status=status or None)
            return error_for_status(
                status, self._scrub(message), code=code, operation=operation, headers=headers
            )
        if isinstance(exc, AuthorizationError):
            what = f"Login with Amazon refused the credentials ({exc.error_code})"
            return AuthError(self._scrub(what), code=exc.error_code, status=exc.status_code)
        if isinstance(exc, httpx.TimeoutException):
            return Transient(
                f"no answer from Amazon within {self.context.timeout:g} s ({type(exc).__name__})"
            )
        if isinstance(exc, httpx.HTTPError):
            return Transient(self._scrub(f"the connection to Amazon failed: {exc!r}"))
        if isinstance(exc, MissingCredentials):
            return SetupError("the client library found no credentials")
        return None

    def _call(
        self,
        operation: str,
        fn: Callable[[], T],
        *,
        expect: str | None = None,
    ) -> T:
        """``fn()`` as ``operation``: logged in, within the quota, retried when it may pass,
        and an answer without ``expect`` in its payload taken as the empty answer it is."""
        self.tokens.access_token()

        def run() -> T:
            self._operation = operation
            self._last_status = None
            answer = fn()
            if expect is not None:
                payload = getattr(answer, "payload", None)
                if not isinstance(payload, dict) or expect not in payload:
                    raise Transient(
                        f"Amazon answered {operation} with no {expect} (an empty answer)",
                        status=self._last_status,
                    )
            return answer

        try:
            return self.caller(operation, run)
        except AuthError as exc:
            if exc.status == 403 and "expired" in exc.message.lower():
                self.tokens.invalidate()  # Amazon's clock says the token is old: once more
                self.tokens.access_token()
                return self.caller(operation, run)
            raise

    # ------------------------------------------------------------------ check
    def check(self) -> str:
        s = self.settings
        known = MARKETPLACES.get(self.mid)
        if known is not None and not s.endpoint and known.region != s.region:
            raise SetupError(
                f"marketplace {self.mid} ({known.name}) is served in region {known.region}, "
                f"not {s.region}: set region: {known.region}"
            )
        if known is not None and known.currency != self.context.channel.currency:
            raise SetupError(
                f"{known.name} sells in {known.currency}; the channel's currency is "
                f"{self.context.channel.currency}"
            )
        listings = self._client("listings")
        try:
            self._call(
                "getListingsItem",
                lambda: listings.get_listings_item(
                    self.seller_id, CHECK_SKU, marketplaceIds=[self.mid], includedData=["summaries"]
                ),
            )
        except AuthError as exc:
            if exc.operation == "lwaToken":
                raise
            raise AuthError(
                f"Amazon refused seller {self.seller_id} with these credentials: {exc.message}. "
                "Is the refresh token the one this seller authorised for this app, and does "
                "the app have the Product Listing role?",
                code=exc.code,
                status=exc.status,
                operation=exc.operation,
            ) from None
        except ItemRejected as exc:
            if exc.status != 404:
                raise SetupError(
                    f"seller {self.seller_id} in {self.mid}: {exc.message}",
                    code=exc.code,
                    status=exc.status,
                    operation=exc.operation,
                ) from None
        name = known.name if known else self.mid
        return f"seller {self.seller_id} on {name} ({self.mid}), {self.context.channel.currency}"

    # ------------------------------------------------------------------ push
    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        if not changes:
            return []
        if len(changes) >= self.settings.feed_threshold:
            return self._push_feed(changes)
        return self._push_items(changes)

    @staticmethod
    def _failed(change: ListingChange, exc: Exception) -> ItemOutcome:
        if isinstance(exc, ChannelError):
            return ItemOutcome(
                change.sku, False, message=exc.message, code=exc.code, retryable=exc.retryable
            )
        if isinstance(exc, TimeoutError):  # our quota: the next pass
            return ItemOutcome(change.sku, False, message=str(exc), retryable=True)
        return ItemOutcome(change.sku, False, message=str(exc))  # an amount JSON cannot carry

    def _push_items(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """One Listings Items call per change (two for the first child of a family)."""
        outcomes: list[ItemOutcome] = []
        parents: dict[str, list[str]] = {}  # parent SKU -> what Amazon said of it
        for n, change in enumerate(changes):
            try:
                outcomes.append(self._push_one(change, parents))
            except (AuthError, SetupError):
                raise
            except (ItemRejected, Throttled, Transient, ValueError) as exc:
                outcomes.append(self._failed(change, exc))
            except TimeoutError as exc:  # our quota: leave the rest for the next pass
                log.warning("amazon %s: %s", self.seller_id, exc)
                outcomes += [self._failed(c, exc) for c in changes[n:]]
                break
        return outcomes

    def _submitted(
        self, sku: str, payload: dict[str, Any], warnings: Sequence[str] = ()
    ) -> ItemOutcome:
        """A putListingsItem / patchListingsItem answer as an outcome."""
        return outcome_from(
            sku,
            payload.get("status") == "ACCEPTED",
            payload.get("issues") or [],
            self._scrub,
            warnings,
            refused=f"Amazon answered {payload.get('status')}",
        )

    def _put(self, sku: str, body: dict[str, Any]) -> dict[str, Any]:
        """putListingsItem: creates or replaces the listing of ``sku``. Idempotent: a
        retried put lists nothing twice."""
        listings = self._client("listings")
        answer = self._call(
            "putListingsItem",
            lambda: listings.put_listings_item(
                self.seller_id,
                sku,
                marketplaceIds=[self.mid],  # the library puts them in the body only
                issueLocale=self.settings.issue_locale,
                body=body,
            ),
            expect="status",
        )
        return dict(answer.payload)

    def _patch(self, sku: str, product_type: str, patches: list[dict[str, Any]]) -> dict[str, Any]:
        listings = self._client("listings")
        answer = self._call(
            "patchListingsItem",
            lambda: listings.patch_listings_item(
                self.seller_id,
                sku,
                marketplaceIds=[self.mid],
                issueLocale=self.settings.issue_locale,
                body={"productType": product_type, "patches": patches},
            ),
            expect="status",
        )
        return dict(answer.payload)

    def _delete(self, sku: str) -> ItemOutcome:
        """deleteListingsItem: the listing of ``sku`` is gone for good; its variation
        siblings and their parent listing are left as they are. A SKU Amazon does not have
        (404) is deleted already."""
        listings = self._client("listings")
        path = fill_query_params(ITEM_PATH, self.seller_id, sku)

        def call() -> Any:
            # A new dict each time: the library pops "method" from it.
            params = {
                "marketplaceIds": self.mid,
                "issueLocale": self.settings.issue_locale,
                "method": "DELETE",
            }
            return listings._request(path, params=params, add_marketplace=False)

        try:
            answer = self._call("deleteListingsItem", call, expect="status")
        except ItemRejected as exc:
            if exc.status != 404:
                raise
            self._product_types[sku] = None
            return ItemOutcome(sku, True, warnings=(NOT_THERE,))
        self._product_types[sku] = None
        return self._submitted(sku, dict(answer.payload))

    def _product_type(self, sku: str) -> str | None:
        """The product type Amazon has for ``sku`` (a patch names it; a delist has no
        projection to take it from). None: Amazon does not list ``sku``."""
        if sku not in self._product_types:
            listings = self._client("listings")
            try:
                answer = self._call(
                    "getListingsItem",
                    lambda: listings.get_listings_item(
                        self.seller_id, sku, marketplaceIds=[self.mid], includedData=["summaries"]
                    ),
                    expect="sku",
                )
            except ItemRejected as exc:
                if exc.status != 404:
                    raise
                self._product_types[sku] = None
            else:
                summaries = answer.payload.get("summaries") or [{}]
                self._product_types[sku] = summaries[0].get("productType") or None
        return self._product_types[sku]

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

    def _push_one(self, change: ListingChange, parents: dict[str, list[str]]) -> ItemOutcome:
        p, sku = change.projection, change.sku
        if change.action is Action.DELETE:  # gone for good (sync.removed: delete)
            return self._delete(sku)
        if change.action is Action.DELIST:  # off sale, not deleted: it can come back
            product_type = self._product_type(sku)
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

    # ------------------------------------------------------------------ feeds
    def _push_feed(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """JSON listings feeds (as many as Amazon's limits need), their processing reports
        read back into one outcome per change."""
        outcomes: dict[int, ItemOutcome] = {}
        messages: list[FeedMessage] = []
        parents: dict[str, FeedMessage] = {}
        warnings: dict[int, list[str]] = {}
        for n, change in enumerate(changes):
            try:
                built = self._feed_messages(n, change, parents, warnings)
            except (AuthError, SetupError):
                raise
            except (ChannelError, ValueError, TimeoutError) as exc:
                outcomes[n] = self._failed(change, exc)
                continue
            if isinstance(built, ItemOutcome):
                outcomes[n] = built
            else:
                messages.extend(built)
        skus = [c.sku for c in changes]
        for chunk in chunks(messages, self.settings.feed_max_messages):
            for n, outcome in self._run_feed(skus, chunk, warnings).items():
                outcomes.setdefault(n, outcome)
        lost = "Amazon's processing report said nothing of this change"
        return [
            outcomes.get(n) or ItemOutcome(c.sku, False, message=lost, retryable=True)
            for n, c in enumerate(changes)
        ]

    def _feed_messages(
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
            self._product_types.pop(sku, None)  # asked again if needed
            return [FeedMessage({"sku": sku, "operationType": "DELETE"}, n)]
        if change.action is Action.DELIST:
            product_type = self._product_type(sku)
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

    def _run_feed(
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

        data = document(self.seller_id, self.settings.issue_locale, chunk)
        try:
            feed_id = self._submit_feed(data)
            status, report = self._await_feed(feed_id)
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
        return report_outcomes(chunk, skus, report, status, warnings, self._scrub)

    def _submit_feed(self, data: bytes) -> str:
        """createFeedDocument, the upload, createFeed (what the library's submit_feed does,
        but each step retried on its own, and the upload with our timeout and bytes)."""
        feeds = self._client("feeds")
        created = self._call(
            "createFeedDocument",
            lambda: feeds.create_feed_document(None, FEED_CONTENT_TYPE),
            expect="url",
        )
        document_id = str(created.payload["feedDocumentId"])
        url = str(created.payload["url"])
        self.caller("uploadFeedDocument", lambda: self._upload(url, data))
        answer = self._call(
            "createFeed",
            lambda: feeds.create_feed(FEED_TYPE, document_id, marketplaceIds=[self.mid]),
            expect="feedId",
        )
        return str(answer.payload["feedId"])

    def _upload(self, url: str, data: bytes) -> None:
        """PUT the document to its presigned URL: UTF-8 bytes, the declared content type."""
        response = self._http.put(url, content=data, headers={"content-type": FEED_CONTENT_TYPE})
        if 200 <= response.status_code < 300:
            return
        said = response.text[:300].replace("\n", " ")
        message = f"the feed document upload was refused ({response.status_code}): {said}"
        if response.status_code >= 500 or response.status_code == 429 or "expired" in said:
            raise Transient(message, status=response.status_code)
        raise ItemRejected(message, status=response.status_code)

    def _await_feed(self, feed_id: str) -> tuple[str | None, dict[str, Any]]:
        """Poll until the feed is finished (None: not within job_timeout_seconds); its
        processing report when it has one."""
        feeds = self._client("feeds")
        payload = self._poll(
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

        return status, self._call("getFeedDocument", fetch)

    def _poll(self, operation: str, fn: Callable[[], Any], every: float) -> dict[str, Any] | None:
        """Call ``fn`` every ``every`` seconds until a finished status (None: not within
        job_timeout_seconds)."""
        deadline = time.monotonic() + self.settings.job_timeout_seconds
        while True:
            payload: dict[str, Any] = self._call(operation, fn, expect="processingStatus").payload
            if payload["processingStatus"] in FINISHED:
                return payload
            if time.monotonic() + every > deadline:
                return None
            self._sleep(every)

    # ------------------------------------------------------------------ orders
    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        """searchOrders (Orders 2026-01-01) by last update, from ``since`` minus the
        overlap, page by page; the watermark is the latest update seen."""
        s = self.settings
        now = datetime.now(UTC)
        start = since - s.order_overlap if since else now - timedelta(days=s.order_lookback_days)
        orders = self._client("orders")
        query: dict[str, Any] = {
            "lastUpdatedAfter": iso(min(start, now)),  # a string: the library sends as is
            "marketplaceIds": [self.mid],
            "includedData": ["FULFILLMENT", "PROCEEDS"],
            "maxResultsPerPage": s.order_page_size,
        }
        watermark = since
        token: str | None = None
        while True:
            kw = dict(query, paginationToken=token) if token else dict(query)
            answer = self._call(
                "searchOrders", partial(orders.search_orders, **kw), expect="orders"
            )
            page = [o for o in map(order_from, answer.payload.get("orders") or []) if o]
            for order in page:
                if watermark is None or order.updated_at > watermark:
                    watermark = order.updated_at
            yield OrderPage(tuple(page), watermark)
            token = next_token(answer)
            if not token:
                return

    # ------------------------------------------------------------------ reviews
    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        """Seller feedback (GET_SELLER_FEEDBACK_DATA): Amazon gives only the 1 to 3 star
        ratings of the seller, never product reviews, so every review says
        ``complete_sample=False``: never a satisfaction rate."""
        s = self.settings
        now = datetime.now(UTC)
        # Feedback is dated by the day: start two days early; the review ids dedupe.
        start = (
            since - timedelta(days=2) if since else now - timedelta(days=s.feedback_lookback_days)
        )
        reports = self._client("reports")
        created = self._call(
            "createReport",
            lambda: reports.create_report(
                reportType=FEEDBACK_REPORT,
                marketplaceIds=[self.mid],
                dataStartTime=iso(min(start, now)),
            ),
            expect="reportId",
        )
        report_id = str(created.payload["reportId"])
        payload = self._poll(
            "getReport", lambda: reports.get_report(report_id), s.report_poll_seconds
        )
        if payload is None:
            raise Transient(
                f"report {report_id} was not ready within {s.job_timeout_seconds:g} s",
                operation="getReport",
            )
        status = payload["processingStatus"]
        if status == "CANCELLED":  # Amazon's way of saying: no feedback in that time
            yield ReviewPage((), since)
            return
        if status != "DONE" or not payload.get("reportDocumentId"):
            raise Transient(f"report {report_id} ended {status}", operation="getReport")
        text = self._report_text(str(payload["reportDocumentId"]))
        try:
            reviews = feedback_from(
                text,
                seller_id=self.seller_id,
                date_order=s.feedback_date_order,
                default_order="MDY" if self.marketplace.region == "NA" else "DMY",
            )
        except ValueError as exc:
            raise Transient(str(exc), operation="getReportDocument") from None
        watermark = since
        for review in reviews:
            if watermark is None or review.created_at > watermark:
                watermark = review.created_at
        yield ReviewPage(tuple(reviews), watermark)

    def _report_text(self, document_id: str) -> str:
        """A report document, downloaded with our timeout, unzipped, decoded by its charset
        (Amazon's flat files are not always UTF-8)."""
        reports = self._client("reports")
        answer = self._call(
            "getReportDocument",
            lambda: reports.get_report_document(document_id, download=False),
            expect="url",
        )
        url = str(answer.payload["url"])
        compression = answer.payload.get("compressionAlgorithm")

        def download() -> str:
            response = self._http.get(url)
            if response.status_code >= 400:
                raise error_for_status(
                    response.status_code,
                    f"the report document could not be read ({response.status_code})",
                    operation="downloadReport",
                    headers=response.headers,
                )
            data = response.content
            if compression == "GZIP":
                data = gzip.decompress(data)
            for encoding in (response.charset_encoding, "utf-8", "cp1252"):
                if encoding:
                    try:
                        return data.decode(encoding)
                    except (UnicodeDecodeError, LookupError):
                        continue
            return data.decode("latin-1")

        return self.caller("downloadReport", download)

    # ------------------------------------------------------------------ read-back
    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        """getListingsItem for each SKU (a SKU Amazon does not list is left out)."""
        if skus is None:
            return self._read_all()
        listings = self._client("listings")
        out = []
        for sku in skus:
            try:
                answer = self._call(
                    "getListingsItem",
                    partial(
                        listings.get_listings_item,
                        self.seller_id,
                        sku,
                        marketplaceIds=[self.mid],
                        includedData=READ_BACK_DATA,
                    ),
                    expect="sku",
                )
            except ItemRejected as exc:
                if exc.status == 404:
                    continue
                raise
            out.append(remote_from(answer.payload, self.mid))
        return out

    def _read_all(self) -> list[RemoteListing]:
        """Every listing of the seller (searchListingsItems, 20 a page)."""
        listings = self._client("listings")
        out: list[RemoteListing] = []
        token: str | None = None
        while True:
            kw: dict[str, Any] = {
                "marketplaceIds": [self.mid],
                "includedData": READ_BACK_DATA,
                "pageSize": 20,
            }
            if token:
                kw["pageToken"] = token
            try:
                answer = self._call(
                    "searchListingsItems",
                    partial(listings.search_listings_items, self.seller_id, **kw),
                    expect="items",
                )
            except ItemRejected as exc:
                raise SetupError(
                    f"Amazon cannot list this seller's listings: {exc.message}",
                    code=exc.code,
                    status=exc.status,
                    operation=exc.operation,
                ) from None
            out += [remote_from(item, self.mid) for item in answer.payload.get("items") or []]
            token = next_token(answer)
            if not token:
                return out
