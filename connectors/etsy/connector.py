"""The Etsy connector: one Etsy shop, through etsy-python (Open API v3).

What it does, and the Etsy traps it steps around (docs/etsy.md for operators):

- **Auth.** Every call carries ``x-api-key: keystring:shared_secret`` (etsy-python sends the
  keystring only) and a bearer token. The access token lasts an hour and the refresh token
  **works once**: each refresh answers a new one. The connector refreshes itself, a margin
  before expiry, inside ``context.tokens.exclusive()`` (the store's write lock), and saves the
  rotated refresh token with the access token in the same transaction, so two workers never
  spend the same token and a restart goes on from the newest one. A 401 refreshes once more.
  The library's own refresh (at expiry, with no lock) is never reached.
- **No listing twice.** Etsy has no SKU search: the connector reads the shop's listings (every
  state, with their inventories) once and finds SKUs there. A create is never retried blindly
  (``retry=False``): after a timeout or a dropped answer it looks for the draft it may have
  made (a SKU-less listing with the same title) before creating again. A listing only gets its
  SKUs from the inventory, so such a draft is adopted, not duplicated.
- **Inventory.** ``updateListingInventory`` replaces the whole inventory: the connector always
  reads it, changes only the products of the SKUs asked, and sends every product back
  (:mod:`connectors.etsy.inventory`). Variant units (``parent_sku``) share their parent's
  listing, one product each, with their options as property values.
- **Delist** takes off sale without deleting: the listing goes inactive, or, when other
  variants stay on sale, the variant's offering is disabled with quantity 0.
- **Delete** (``sync: {removed: delete}``): the variant's product is removed from the
  inventory (read, that product dropped, every other one sent back); when no product of
  the listing is left, the listing itself is deleted (``deleteListing``). A listing Etsy no
  longer has is deleted already.
- **Money** is Decimal end to end: Etsy's ``{amount, divisor}`` in, exact JSON numbers out
  (:mod:`connectors.etsy.session`).

etsy-python reads its URLs from process-wide class attributes (``Env.environment``): the
connector points them at ``settings.endpoint`` (or Etsy's own hosts) before every call, so one
process can talk to one Etsy endpoint at a time.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from etsy_python.v3.common import Env
from etsy_python.v3.enums.Listing import Includes, InventoryIncludes, State, WhenMade, WhoMade
from etsy_python.v3.enums.ShopReceipt import SortOn as ReceiptSortOn
from etsy_python.v3.enums.ShopReceipt import SortOrder as ReceiptSortOrder
from etsy_python.v3.exceptions import RequestException as EtsyRequestException
from etsy_python.v3.models.Listing import (
    CreateDraftListingRequest,
    UpdateListingInventoryRequest,
    UpdateListingRequest,
    UploadListingImageRequest,
)
from etsy_python.v3.models.Product import Product
from etsy_python.v3.resources import (
    EtsyClient,
    ListingImageResource,
    ListingInventoryResource,
    ListingResource,
    ReceiptResource,
    ReviewResource,
    ShippingProfileResource,
    ShopResource,
)

from connectors.etsy import CHANNEL_TYPE, EtsySettings
from connectors.etsy.inventory import Inventory, Want, editable, merge, money, same_products
from connectors.etsy.session import EtsySession
from connectors.limits import quota_rules
from syndicator.connector import (
    Action,
    AuthError,
    Caller,
    ChannelError,
    Connector,
    ConnectorContext,
    ItemOutcome,
    ItemRejected,
    ListingChange,
    Order,
    OrderLine,
    OrderPage,
    OrderStatus,
    Projection,
    RemoteListing,
    Review,
    ReviewPage,
    ReviewSource,
    SetupError,
    Throttled,
    TokenStore,
    Transient,
    error_for_status,
)

if TYPE_CHECKING:
    from syndicator.connector import QuotaRule

__all__ = ["EtsyConnector"]

log = logging.getLogger("syndicator.connectors.etsy")

PRODUCTION_API = "https://openapi.etsy.com/v3/application"
PRODUCTION_TOKEN = "https://api.etsy.com/v3/public/oauth/token"
LISTING_STATES = ("active", "inactive", "draft", "sold_out", "expired")
# Operations about the shop itself: a 404 there means the shop id is wrong (SetupError).
SHOP_OPERATIONS = frozenset(
    {
        "getShop",
        "getShopShippingProfiles",
        "getListingsByShop",
        "getShopReceipts",
        "getReviewsByShop",
    }
)
EARLIEST = 946_684_800  # Etsy refuses timestamps before 2000-01-01
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_QUANTITY = 999
IMAGE_KINDS = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _time(value: Any) -> datetime | None:
    return None if value in (None, "") else datetime.fromtimestamp(int(value), UTC)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


@dataclass(slots=True)
class _Listing:
    """What the connector knows of one Etsy listing (from getListingsByShop with its
    inventory, or from its own writes)."""

    listing_id: int
    state: str
    title: str
    products: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _Listing:
        inventory = data.get("inventory") or {}
        return cls(
            int(data["listing_id"]),
            str(data.get("state") or ""),
            str(data.get("title") or ""),
            [p for p in inventory.get("products") or [] if not p.get("is_deleted")],
        )

    @property
    def skus(self) -> set[str]:
        return {str(p["sku"]) for p in self.products if p.get("sku")}


@dataclass(frozen=True, slots=True)
class _Group:
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


class EtsyConnector(Connector):
    """One Etsy shop (``settings.shop_id``) of one cooperative."""

    capabilities = CHANNEL_TYPE.capabilities

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        if not isinstance(context.settings, EtsySettings):
            raise SetupError("the Etsy connector needs EtsySettings")
        self.settings: EtsySettings = context.settings
        self.shop_id = self.settings.shop_id
        creds = context.credentials
        self._keystring = (creds.get("keystring") or "").strip()
        self._secret = (creds.get("shared_secret") or "").strip()
        self._hidden: set[str] = {v for v in creds.values() if v and len(v) >= 4}
        self.caller = Caller(context.quota, self._classify)
        self._point_env()
        self.session = EtsySession(context.timeout)
        self.client = EtsyClient(
            keystring=self._keystring,
            access_token="",
            refresh_token="",
            expiry=datetime.fromtimestamp(0, UTC),
            sync_refresh=self._library_refreshed,
        )
        self.client.session.close()
        self.client.session = self.session
        self.session.headers.update(
            {"Accept": "application/json", "x-api-key": f"{self._keystring}:{self._secret}"}
        )
        self._access: str | None = None
        self._expires: datetime | None = None
        self._refreshing = False
        self._index: dict[int, _Listing] | None = None
        self._profiles: list[int] | None = None
        self._images: dict[str, bytes] = {}
        self._downloads: requests.Session | None = None
        self._rng = random.Random()

    # ------------------------------------------------------------------ interface: quota
    @classmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        """Etsy counts calls per API key: a short hash of the keystring, never the key."""
        key = (credentials.get("keystring") or "").strip()
        return f"etsy:key:{_digest(key)[:16]}"

    @classmethod
    def quota_rules(cls, settings: Any) -> Mapping[str, Sequence[QuotaRule]]:
        return quota_rules("etsy")  # one bucket "*" per key: per second and per day

    # ------------------------------------------------------------------ calls
    def _point_env(self) -> None:
        """etsy-python's URLs are class attributes, shared by the whole process."""
        if self.settings.endpoint is None:
            api, token = PRODUCTION_API, PRODUCTION_TOKEN
        else:
            base = str(self.settings.endpoint).rstrip("/")
            api, token = f"{base}/v3/application", f"{base}/v3/public/oauth/token"
        Env.environment.request_url = api
        Env.environment.token_url = token

    def _scrub(self, text: str) -> str:
        for secret in sorted(self._hidden, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _classify(self, exc: BaseException, operation: str) -> ChannelError | None:
        """etsy-python's RequestException and requests' failures, in the error tree."""
        if isinstance(exc, EtsyRequestException):
            try:
                status = int(exc.code)
            except (TypeError, ValueError):
                status = 0
            error = None if exc.error is None else str(exc.error)
            description = None if exc.error_description is None else str(exc.error_description)
            message = self._scrub(description or error or f"Etsy answered {status}")
            code = error if description else None
            headers = self.session.last_headers if self.session.last_status == status else {}
            if operation == "oauthToken" and status < 500 and status != 429:
                return AuthError(self._token_message(code, message), code=code, status=status)
            err = error_for_status(
                status,
                message,
                code=code,
                operation=None if operation in SHOP_OPERATIONS else operation,
                headers=headers,
            )
            if isinstance(err, Throttled) and err.retry_after is None:
                err.retry_after = self._limit_wait(exc.rate_limits)
            if status == 401:
                err.message = f"Etsy refused the access token: {message}"
            elif status == 403:
                err.message = (
                    f"Etsy refused the call: {message} (is the shared_secret the app's, and "
                    f"does the token's user own shop {self.shop_id}?)"
                )
            return err
        if isinstance(
            exc,
            requests.ConnectionError
            | requests.Timeout
            | requests.exceptions.ChunkedEncodingError
            | requests.exceptions.ContentDecodingError,
        ):
            return Transient(f"no full answer from Etsy ({type(exc).__name__})")
        if isinstance(exc, requests.RequestException):
            return SetupError(f"Etsy cannot be called ({type(exc).__name__}); check the endpoint")
        return None

    @staticmethod
    def _token_message(code: str | None, message: str) -> str:
        if code == "invalid_grant":
            return (
                f"Etsy refused the refresh token (invalid_grant: {message}): it was used "
                "already, expired or was revoked. Authorise the app again (docs/etsy.md) and "
                "put the new refresh token in the config"
            )
        if code == "invalid_client":
            return f"Etsy does not know this keystring (invalid_client: {message})"
        return f"Etsy refused to refresh the access token ({code or 'error'}: {message})"

    @staticmethod
    def _limit_wait(limits: Any) -> float | None:
        """Seconds until Etsy's counters allow a call, from its x-remaining-* headers."""
        if limits is None:
            return None
        if str(getattr(limits, "remaining_today", "")) == "0":
            return 3600.0  # the daily limit is a sliding 24 h: come back later, not soon
        if str(getattr(limits, "remaining_this_second", "")) == "0":
            return 1.0
        return None

    def _preflight(self) -> None:
        if not self._keystring:
            raise AuthError("the keystring credential is empty: Etsy needs the app's keystring")
        if not self._secret:
            raise AuthError(
                "the shared_secret credential is empty: Etsy wants x-api-key "
                "keystring:shared_secret and refuses the keystring alone (403)"
            )

    def _api(self, operation: str, fn: Callable[[EtsyClient], Any], *, retry: bool = True) -> Any:
        """One Etsy call: credentials checked, token fresh, quota, errors sorted, retried
        when ``retry`` and the failure may pass; a 401 refreshes the token once."""
        self._preflight()
        self._point_env()
        self._ensure_token()
        try:
            answer = self.caller(operation, lambda: fn(self.client), retry=retry)
        except AuthError as exc:
            if exc.status != 401:
                raise
            log.info("etsy shop %s: %s answered 401, refreshing the token", self.shop_id, operation)
            self._refresh(stale=self._access)
            answer = self.caller(operation, lambda: fn(self.client), retry=retry)
        return getattr(answer, "message", answer)

    def _pause(self, exc: ChannelError, attempt: int) -> None:
        """Wait before trying a write again by hand (as the Caller waits between retries)."""
        policy = self.caller.policy
        wait = self._rng.uniform(0, min(policy.cap, policy.base * 2**attempt))
        told = getattr(exc, "retry_after", None)
        if told is not None:
            if told > policy.max_retry_after:
                raise exc
            wait = max(float(told), wait)
        self.caller.sleep(wait)

    # ------------------------------------------------------------------ tokens
    def _margin(self) -> timedelta:
        return timedelta(seconds=self.settings.token_margin)

    def _adopt(self, access: str, expires: datetime) -> None:
        self._access, self._expires = access, expires
        self._hidden.add(access)
        self.client.access_token = access
        self.client.expiry = expires
        self.session.headers["Authorization"] = f"Bearer {access}"

    def _stored_access(
        self, tokens: TokenStore, refresh: str | None
    ) -> tuple[str, datetime] | None:
        """The access token in the store, when it comes from the current refresh token (not
        from a chain an operator has replaced) and is good past the margin."""
        if not refresh:
            return None
        access, chain, expires = (
            tokens.load(n) for n in ("access_token", "access_chain", "access_expires")
        )
        if not access or not expires or chain != _digest(refresh):
            return None
        try:
            when = _aware(datetime.fromisoformat(expires))
        except ValueError:
            return None
        if when - self._margin() <= datetime.now(UTC):
            return None
        return access, when

    def _ensure_token(self) -> None:
        if self._access and self._expires and self._expires - self._margin() > datetime.now(UTC):
            return
        tokens = self.context.tokens
        stored = self._stored_access(tokens, tokens.load("refresh_token"))
        if stored is not None and stored[0] != self._access:
            self._adopt(*stored)
            return
        self._refresh(stale=self._access)

    def _refresh(self, *, stale: str | None) -> None:
        """Refresh under the store's lock: reload the newest refresh token, use what another
        worker got meanwhile if it did, else spend the token and save the rotated one with
        the access token, at once."""

        def run() -> None:
            with self.context.tokens.exclusive() as tokens:
                refresh = tokens.load("refresh_token")
                if not refresh:
                    raise AuthError(
                        "no Etsy refresh token: authorise the app (docs/etsy.md) and put the "
                        "refresh token in the config"
                    )
                self._hidden.add(refresh)
                stored = self._stored_access(tokens, refresh)
                if stored is not None and stored[0] != stale:
                    self._adopt(*stored)
                    return
                self.client.refresh_token = refresh
                self._refreshing = True
                try:
                    access, rotated, expiry = self.client.update_token()
                finally:
                    self._refreshing = False
                expires = _aware(expiry)
                self._hidden.update((str(rotated), str(access)))
                tokens.save(
                    {
                        "refresh_token": str(rotated),
                        "access_token": str(access),
                        "access_expires": expires.isoformat(),
                        "access_chain": _digest(str(rotated)),
                    }
                )
                self._adopt(str(access), expires)
                log.info(
                    "etsy shop %s: access token refreshed, refresh token rotated", self.shop_id
                )

        self.caller("oauthToken", run)

    def _library_refreshed(self, access: str, refresh: str, expiry: datetime) -> None:
        """etsy-python refreshed by itself (it does at expiry): keep what it got, at once."""
        if self._refreshing:
            return  # our own refresh: saved under the lock by _refresh
        log.warning("etsy shop %s: etsy-python refreshed the token itself", self.shop_id)
        expires = _aware(expiry)
        self._hidden.update((refresh, access))
        self.context.tokens.save(
            {
                "refresh_token": refresh,
                "access_token": access,
                "access_expires": expires.isoformat(),
                "access_chain": _digest(refresh),
            }
        )
        self._adopt(access, expires)

    # ------------------------------------------------------------------ check
    def check(self) -> str:
        shop = self._api("getShop", lambda c: ShopResource(c).get_shop(self.shop_id))
        name, currency = shop.get("shop_name"), shop.get("currency_code")
        channel = self.context.channel
        if currency and currency != channel.currency:
            raise SetupError(
                f"Etsy shop {self.shop_id} sells in {currency}, but channel {channel.id} is set "
                f"to {channel.currency}"
            )
        profile = self._shipping_profile()  # needs the owner's token: proves the grant
        return f"shop {self.shop_id} {name}, {currency}, shipping profile {profile}"

    def _shipping_profile(self) -> int:
        if self._profiles is None:
            answer = self._api(
                "getShopShippingProfiles",
                lambda c: ShippingProfileResource(c).get_shop_shipping_profiles(self.shop_id),
            )
            self._profiles = [int(p["shipping_profile_id"]) for p in answer.get("results") or []]
        wanted = self.settings.shipping_profile_id
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

    # ------------------------------------------------------------------ the shop's listings
    def _listings(self, *, fresh: bool = False) -> dict[int, _Listing]:
        """Every listing of the shop in every state, with its inventory (Etsy has no SKU
        search): read once per connector, kept up to date by its own writes."""
        if self._index is not None and not fresh:
            return self._index
        index: dict[int, _Listing] = {}
        for state in LISTING_STATES:
            for listing in self._listing_pages(state):
                index[listing.listing_id] = listing
        self._index = index
        return index

    def _listing_pages(self, state: str, *, most: int | None = None) -> Iterator[_Listing]:
        offset, size = 0, self.settings.page_size
        while True:

            def call(c: EtsyClient, o: int = offset) -> Any:
                return ListingResource(c).get_listings_by_shop(
                    self.shop_id,
                    state=State(state),
                    limit=size,
                    offset=o,
                    includes=[Includes.INVENTORY],
                )

            page = self._api("getListingsByShop", call)
            results = page.get("results") or []
            for data in results:
                yield _Listing.from_json(data)
            offset += len(results)
            if not results or offset >= int(page.get("count") or 0):
                return
            if most is not None and offset >= most:
                return

    def _forget(self, listing_id: int) -> None:
        if self._index is not None:
            self._index.pop(listing_id, None)

    def _resolve(self, group: _Group) -> _Listing | None:
        """The listing of a group: by its SKUs (the truth at Etsy), by the remote id the store
        knows, by a parent's sibling SKUs, or a SKU-less listing with the same title (a draft
        whose create answer was lost)."""
        index = self._listings()
        skus = {c.sku for c in group.changes}
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
            siblings = [
                x for x in ordered if x.skus and all(self._child_of(sku, parent) for sku in x.skus)
            ]
            if len(siblings) == 1:
                return siblings[0]
        base = group.base
        if base is not None:
            return self._orphan(ordered, base.title)
        return None

    @staticmethod
    def _child_of(sku: str, parent: str) -> bool:
        return sku.startswith(parent) and len(sku) > len(parent) and not sku[len(parent)].isalnum()

    def _claimable(self, listing: _Listing, group: _Group) -> bool:
        """A listing may take this group when its SKUs are the group's (or its siblings')."""
        skus = {c.sku for c in group.changes}
        parent = group.parent
        return all(sku in skus or (parent and self._child_of(sku, parent)) for sku in listing.skus)

    @staticmethod
    def _orphan(listings: Sequence[_Listing], title: str) -> _Listing | None:
        wanted = title.strip().casefold()
        same = [x for x in listings if not x.skus and x.title.strip().casefold() == wanted]
        same.sort(key=lambda x: (x.state != "draft", x.listing_id))
        return same[0] if same else None

    def _find_orphan(self, title: str) -> _Listing | None:
        """After a create whose answer was lost: the newest drafts, read again."""
        index = self._listings()
        for listing in self._listing_pages("draft", most=self.settings.page_size):
            index[listing.listing_id] = listing
        return self._orphan(sorted(index.values(), key=lambda x: x.listing_id), title)

    # ------------------------------------------------------------------ push
    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        self._preflight()
        groups: dict[str, list[ListingChange]] = {}
        for change in changes:
            groups.setdefault(change.parent_sku or change.sku, []).append(change)
        outcomes: list[ItemOutcome] = []
        stopped: str | None = None
        for key, members in groups.items():
            group = _Group(key, tuple(members))
            if stopped is not None:
                outcomes += self._failed(group, stopped, None, retryable=True)
                continue
            try:
                outcomes += self._push_group(group)
            except (AuthError, SetupError):
                raise
            except TimeoutError as exc:  # the quota would wait too long: leave the rest
                stopped = str(exc)
                outcomes += self._failed(group, stopped, None, retryable=True)
            except ItemRejected as exc:
                outcomes += self._failed(group, str(exc), exc.code, retryable=False)
            except ChannelError as exc:  # Throttled, Transient: after their retries
                outcomes += self._failed(group, str(exc), exc.code, retryable=True)
        return outcomes

    @staticmethod
    def _failed(
        group: _Group, message: str, code: str | None, *, retryable: bool
    ) -> list[ItemOutcome]:
        return [
            ItemOutcome(c.sku, False, c.remote_id, message, code, retryable) for c in group.changes
        ]

    @staticmethod
    def _done(group: _Group, listing_id: int | None) -> list[ItemOutcome]:
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

    def _push_group(self, group: _Group) -> list[ItemOutcome]:
        listing = self._resolve(group)
        if listing is None:
            if not group.lists:
                return self._done(group, None)  # nothing on Etsy to take off sale or delete
            return self._done(group, self._create(group))
        try:
            self._update(listing, group)
        except ItemRejected as exc:
            if exc.status == 404 and group.deletes and not group.lists:
                self._forget(listing.listing_id)  # gone already: deleted, as asked
                return self._done(group, None)
            raise self._gone(listing.listing_id, exc) from exc
        return self._done(group, listing.listing_id)

    def _update_or_forget(self, listing: _Listing, group: _Group) -> None:
        try:
            self._update(listing, group)
        except ItemRejected as exc:
            raise self._gone(listing.listing_id, exc) from exc

    def _gone(self, listing_id: int, exc: ItemRejected) -> ItemRejected | Transient:
        """A 404 about a listing we believed in: Etsy no longer has it (deleted, or a write
        answered but never applied). Forget it; the next pass looks the SKUs up again."""
        if exc.status != 404:
            return exc
        self._forget(listing_id)
        return Transient(
            f"Etsy no longer has listing {listing_id} ({exc.message}); it will be looked up again",
            status=404,
            operation=exc.operation,
        )

    # -- create
    def _draft_request(self, group: _Group, wants: Sequence[Want]) -> CreateDraftListingRequest:
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
            taxonomy_id=self._taxonomy(base),
            # the configured profile as it is (Etsy names a wrong one); else the only one
            shipping_profile_id=self.settings.shipping_profile_id or self._shipping_profile(),
            tags=list(base.tags),
            materials=list(base.materials),
            readiness_state_id=self.settings.readiness_state_id,
        )

    @staticmethod
    def _taxonomy(p: Projection) -> int:
        try:
            taxonomy = int(p.category)
        except ValueError:
            raise ItemRejected(
                f"category {p.category!r} is not an Etsy taxonomy id (a number): map it under "
                "categories: of the channel"
            ) from None
        if taxonomy < 1:
            raise ItemRejected(f"taxonomy id {taxonomy} is not an Etsy taxonomy id")
        return taxonomy

    def _create(self, group: _Group) -> int:
        """A new listing: draft (never twice), images, inventory, then on sale."""
        base = group.base
        assert base is not None
        wants = [w for w in group.wants() if not (w.delist or w.delete)]
        request = self._draft_request(group, wants)
        images = [(ref, self._image(ref)) for ref in base.images]  # a bad file: before creating
        attempts = self.caller.policy.attempts
        listing_id: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                answer = self._api(
                    "createDraftListing",
                    lambda c: ListingResource(c).create_draft_listing(self.shop_id, request),
                    retry=False,  # a create is never repeated blindly: look first
                )
                listing_id = int(answer["listing_id"])
                break
            except Throttled:  # refused before anything was made; the quota waits
                if attempt == attempts:
                    raise
            except Transient as exc:  # may have been made: look for it before trying again
                orphan = self._find_orphan(base.title)
                if orphan is not None:
                    log.info(
                        "etsy shop %s: adopting draft %s after a lost create answer",
                        self.shop_id,
                        orphan.listing_id,
                    )
                    self._update_or_forget(orphan, group)
                    return orphan.listing_id
                if attempt == attempts:
                    raise
                self._pause(exc, attempt)
        assert listing_id is not None
        listing = _Listing(listing_id, "draft", base.title)
        self._listings()[listing_id] = listing
        try:
            self._upload_images(listing_id, images, have=0, alt=base.title)
            placeholder = Inventory(
                [
                    {
                        "sku": "",
                        "property_values": [],
                        "offerings": [
                            {
                                "price": request.price,
                                "quantity": request.quantity,
                                "is_enabled": True,
                                "readiness_state_id": self.settings.readiness_state_id,
                            }
                        ],
                    }
                ]
            )
            inventory = merge(
                placeholder,
                wants,
                readiness_state_id=self.settings.readiness_state_id,
                option_properties=self.settings.option_properties,
            )
            self._put_inventory(listing, inventory)
            if inventory.total() > 0:
                self._activate(listing, after_writes=True)
        except ItemRejected as exc:
            raise self._gone(listing_id, exc) from exc  # a 404: the draft was never made
        return listing_id

    # -- update
    def _update(self, listing: _Listing, group: _Group) -> None:
        """Merge the group's changes into the listing Etsy holds now."""
        listing_id = listing.listing_id
        answer = self._api(
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
            fields = self._changed_fields(info, base)
        activate = (
            group.lists and merged.total() > 0 and listing.state in ("draft", "inactive", "expired")
        )
        if activate and listing.state == "draft" and base is not None:
            have = self._image_count(listing_id)
            if have < len(base.images):
                images = [(ref, self._image(ref)) for ref in base.images]
                self._upload_images(listing_id, images, have=have, alt=base.title)
                wrote = True
        if fields:
            self._patch(listing, fields)
        if activate:
            self._activate(listing, after_writes=wrote)

    def _delete_listing(self, listing_id: int) -> None:
        """deleteListing: gone for good. A listing Etsy no longer has (404) is deleted
        already; a delete tried again after a lost answer finds just that."""
        try:
            self._api("deleteListing", lambda c: ListingResource(c).delete_listing(listing_id))
        except ItemRejected as exc:
            if exc.status != 404:
                raise
        self._forget(listing_id)

    def _activate(self, listing: _Listing, *, after_writes: bool) -> None:
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

    def _changed_fields(self, info: Mapping[str, Any], p: Projection) -> dict[str, Any]:
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
        taxonomy = self._taxonomy(p)
        if info.get("taxonomy_id") != taxonomy:
            fields["taxonomy_id"] = taxonomy
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

    def _put_inventory(self, listing: _Listing, inventory: Inventory) -> None:
        body = inventory.request_body()
        request = UpdateListingInventoryRequest(
            products=[
                Product(
                    sku=p["sku"], property_values=p["property_values"], offerings=p["offerings"]
                )
                for p in body["products"]
            ],
            price_on_property=body["price_on_property"],
            quantity_on_property=body["quantity_on_property"],
            sku_on_property=body["sku_on_property"],
            readiness_state_on_property=body.get("readiness_state_on_property"),
        )
        answer = self._api(
            "updateListingInventory",
            lambda c: ListingInventoryResource(c).update_listing_inventory(
                listing.listing_id, request
            ),
        )
        listing.products = [p for p in answer.get("products") or [] if not p.get("is_deleted")]

    def _patch(
        self,
        listing: _Listing,
        fields: Mapping[str, Any],
        *,
        activate: bool = False,
        deactivate: bool = False,
    ) -> None:
        state = State.ACTIVE if activate else State.INACTIVE if deactivate else None
        request = UpdateListingRequest(**fields, state=state)
        answer = self._api(
            "updateListing",
            lambda c: ListingResource(c).update_listing(self.shop_id, listing.listing_id, request),
        )
        listing.state = str(answer.get("state") or listing.state)
        listing.title = str(answer.get("title") or listing.title)

    # -- images
    def _image(self, ref: str) -> bytes:
        """An image's bytes: a file under the catalog's folder, or an https URL (fetched
        without any Etsy header)."""
        if ref in self._images:
            return self._images[ref]
        if ref.lower().startswith(("https://", "http://")):
            data = self._download(ref)
        else:
            root = self.context.image_root.resolve()
            path = (root / ref).resolve()
            if not path.is_relative_to(root):
                raise ItemRejected(f"image {ref} is outside the catalog's folder")
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise ItemRejected(f"image {ref} cannot be read: {exc.strerror}") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise ItemRejected(f"image {ref} is over 20 MB, Etsy's limit")
        if not any(data.startswith(magic) for magic, _ in IMAGE_KINDS):
            raise ItemRejected(f"image {ref} is not a JPEG, PNG or GIF file")
        self._images[ref] = data
        return data

    def _download(self, url: str) -> bytes:
        if not url.lower().startswith("https://"):
            raise ItemRejected(f"image {url}: only https image URLs are fetched")
        if self._downloads is None:
            self._downloads = requests.Session()
        try:
            with self._downloads.get(url, stream=True, timeout=self.context.timeout) as answer:
                if answer.status_code >= 400:
                    err = error_for_status(
                        answer.status_code, f"image {url} answered {answer.status_code}"
                    )
                    raise err if err.retryable else ItemRejected(err.message)
                chunks, size = [], 0
                for chunk in answer.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > MAX_IMAGE_BYTES:
                        raise ItemRejected(f"image {url} is over 20 MB, Etsy's limit")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise Transient(f"image {url} cannot be fetched ({type(exc).__name__})") from None

    def _image_count(self, listing_id: int) -> int:
        answer = self._api(
            "getListingImages", lambda c: ListingImageResource(c).get_listing_images(listing_id)
        )
        return len(answer.get("results") or [])

    def _upload_images(
        self, listing_id: int, images: Sequence[tuple[str, bytes]], *, have: int, alt: str
    ) -> None:
        """Upload the images from ``have`` on, in order. An upload is not repeated blindly
        (it would add the picture twice): after a lost answer, count what Etsy holds."""
        count, attempt = have, 0
        attempts = self.caller.policy.attempts
        while count < len(images):
            data = images[count][1]
            request = UploadListingImageRequest(data, rank=count + 1, alt_text=alt[:250])
            try:

                def call(c: EtsyClient, r: UploadListingImageRequest = request) -> Any:
                    return ListingImageResource(c).upload_listing_image(self.shop_id, listing_id, r)

                self._api("uploadListingImage", call, retry=False)
                count, attempt = count + 1, 0
            except Throttled:
                attempt += 1
                if attempt >= attempts:
                    raise
            except Transient as exc:
                attempt += 1
                if attempt >= attempts:
                    raise
                self._pause(exc, attempt)
                count = max(have, self._image_count(listing_id))

    # ------------------------------------------------------------------ read back
    def read_back(self, skus: Sequence[str] | None = None) -> list[RemoteListing]:
        wanted = None if skus is None else set(skus)
        out: list[RemoteListing] = []
        for listing in sorted(self._listings(fresh=True).values(), key=lambda x: x.listing_id):
            for product in listing.products:
                sku = product.get("sku")
                if not sku or (wanted is not None and sku not in wanted):
                    continue
                offers = [o for o in product.get("offerings") or [] if not o.get("is_deleted")]
                offer = offers[0] if offers else None
                status = {
                    "active": "active",
                    "sold_out": "active",
                    "draft": "draft",
                }.get(listing.state, "inactive")
                if offer is not None and not offer.get("is_enabled") and status == "active":
                    status = "delisted"
                out.append(
                    RemoteListing(
                        sku=str(sku),
                        remote_id=str(listing.listing_id),
                        status=status,
                        title=listing.title,
                        price=money(offer["price"]) if offer and offer.get("price") else None,
                        quantity=int(offer["quantity"]) if offer is not None else None,
                    )
                )
        return out

    # ------------------------------------------------------------------ orders
    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        """Receipts changed since ``since`` minus ``order_overlap``, newest created first
        (a receipt changed while paging keeps its place: none is skipped). Only the last
        page carries the new watermark, the latest change seen."""
        start = None
        if since is not None:
            since = _aware(since)
            back = timedelta(seconds=self.settings.order_overlap)
            start = max(EARLIEST, int((since - back).timestamp()))
        latest, offset = since, 0
        while True:

            def call(c: EtsyClient, o: int = offset) -> Any:
                return ReceiptResource(c).get_shop_receipts(
                    self.shop_id,
                    min_last_modified=start,
                    limit=self.settings.page_size,
                    offset=o,
                    sort_on=ReceiptSortOn.CREATED,
                    sort_order=ReceiptSortOrder.DESC,
                )

            page = self._api("getShopReceipts", call)
            results = page.get("results") or []
            orders = tuple(self._order(r) for r in results)
            for order in orders:
                latest = order.updated_at if latest is None else max(latest, order.updated_at)
            offset += len(results)
            last = not results or offset >= int(page.get("count") or 0)
            yield OrderPage(orders, latest if last else since)
            if last:
                return

    @staticmethod
    def _order(r: Mapping[str, Any]) -> Order:
        status_text = str(r.get("status") or "").lower()
        if status_text in ("canceled", "cancelled", "fully refunded"):
            status = OrderStatus.CANCELLED
        elif r.get("is_shipped") or status_text == "completed":
            status = OrderStatus.SHIPPED
        elif r.get("is_paid") or status_text == "paid":
            status = OrderStatus.PAID
        else:
            status = OrderStatus.PENDING
        created = _time(r.get("create_timestamp") or r.get("created_timestamp"))
        assert created is not None, "a receipt without a creation time"
        updated = _time(r.get("update_timestamp") or r.get("updated_timestamp")) or created
        lines = tuple(
            OrderLine(
                line_id=str(t["transaction_id"]),
                sku=str(t["sku"]) if t.get("sku") else None,
                quantity=int(t["quantity"]),
                price=money(t["price"]) if t.get("price") else None,
                remote_listing_id=str(t["listing_id"]) if t.get("listing_id") else None,
            )
            for t in r.get("transactions") or []
        )
        total = money(r["grandtotal"]) if r.get("grandtotal") else None
        return Order(str(r["receipt_id"]), status, created, updated, lines, total)

    # ------------------------------------------------------------------ reviews
    def pull_reviews(self, since: datetime | None) -> Iterator[ReviewPage]:
        """Reviews created since ``since`` minus ``review_overlap`` (Etsy filters on creation
        only). A review's id is its transaction's (one review per purchase): stable."""
        start = None
        if since is not None:
            since = _aware(since)
            back = timedelta(seconds=self.settings.review_overlap)
            start = max(EARLIEST, int((since - back).timestamp()))
        latest, offset = since, 0
        skus: dict[int, set[str]] = {}
        lines: dict[int, tuple[str | None, str]] = {}
        while True:

            def call(c: EtsyClient, o: int = offset) -> Any:
                return ReviewResource(c).get_reviews_by_shop(
                    self.shop_id, limit=self.settings.page_size, offset=o, min_created=start
                )

            page = self._api("getReviewsByShop", call)
            results = page.get("results") or []
            reviews = tuple(self._review(r, skus, lines) for r in results)
            for review in reviews:
                latest = review.created_at if latest is None else max(latest, review.created_at)
            offset += len(results)
            last = not results or offset >= int(page.get("count") or 0)
            yield ReviewPage(reviews, latest if last else since)
            if last:
                return

    def _review(
        self,
        r: Mapping[str, Any],
        skus: dict[int, set[str]],
        lines: dict[int, tuple[str | None, str]],
    ) -> Review:
        created = _time(r.get("create_timestamp") or r.get("created_timestamp"))
        assert created is not None, "a review without a creation time"
        listing_id = int(r["listing_id"]) if r.get("listing_id") else None
        transaction = int(r["transaction_id"]) if r.get("transaction_id") else None
        buyer = r.get("buyer_user_id")
        if transaction is not None:
            review_id = str(transaction)
        else:
            review_id = "x" + _digest(f"{listing_id}:{buyer}:{int(created.timestamp())}")[:20]
        sku, order_ref = None, None
        if listing_id is not None:
            listed = self._listing_skus(listing_id, skus)
            if len(listed) == 1:
                (sku,) = listed
            elif transaction is not None:
                found = self._transaction(transaction, created, lines)
                if found is not None:
                    sku, order_ref = found
        return Review(
            review_id=review_id,
            source=ReviewSource.PRODUCT_REVIEW,
            rating=int(r["rating"]),
            text=r.get("review") or None,
            language=r.get("language") or None,
            created_at=created,
            updated_at=_time(r.get("update_timestamp") or r.get("updated_timestamp")),
            sku=sku,
            remote_listing_id=None if listing_id is None else str(listing_id),
            order_ref=order_ref,
            buyer_ref=None if buyer is None else _digest(f"etsy:{self.shop_id}:{buyer}")[:16],
        )

    def _listing_skus(self, listing_id: int, cache: dict[int, set[str]]) -> set[str]:
        if listing_id not in cache:
            known = (self._index or {}).get(listing_id)
            if known is not None and known.products:
                cache[listing_id] = known.skus
            else:
                try:
                    answer = self._api(
                        "getListingInventory",
                        lambda c: ListingInventoryResource(c).get_listing_inventory(listing_id),
                    )
                    cache[listing_id] = {
                        str(p["sku"]) for p in answer.get("products") or [] if p.get("sku")
                    }
                except ItemRejected:  # deleted since, or not ours any more
                    cache[listing_id] = set()
        return cache[listing_id]

    def _transaction(
        self, transaction: int, before: datetime, lines: dict[int, tuple[str | None, str]]
    ) -> tuple[str | None, str] | None:
        """The SKU and receipt of a purchase, from the receipts of the year before its
        review (for listings with variations, where the listing alone does not say)."""
        if transaction not in lines:
            start = max(EARLIEST, int((before - timedelta(days=365)).timestamp()))
            offset = 0
            while True:

                def call(c: EtsyClient, o: int = offset) -> Any:
                    return ReceiptResource(c).get_shop_receipts(
                        self.shop_id,
                        min_created=start,
                        max_created=max(EARLIEST, int(before.timestamp())),
                        limit=self.settings.page_size,
                        offset=o,
                    )

                page = self._api("getShopReceipts", call)
                results = page.get("results") or []
                for receipt in results:
                    for t in receipt.get("transactions") or []:
                        lines[int(t["transaction_id"])] = (
                            str(t["sku"]) if t.get("sku") else None,
                            str(receipt["receipt_id"]),
                        )
                offset += len(results)
                if transaction in lines or not results or offset >= int(page.get("count") or 0):
                    break
        return lines.get(transaction)

    # ------------------------------------------------------------------ close
    def close(self) -> None:
        self.session.close()
        if self._downloads is not None:
            self._downloads.close()
            self._downloads = None
