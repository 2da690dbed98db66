"""The demo's marketplaces: the sandbox in the daemon's own process, and buyers who use it.

With ``sandbox: {enabled: true}`` in its config, the daemon calls :func:`start` (the
``start`` hook of :data:`sandbox.SANDBOX`, found through the ``syndicator.sandboxes`` entry
point) before anything else. It serves the three emulated
marketplaces on a free loopback port, gives every (cooperative, channel) of the config an
account there (the demo sellers and shops exist already; any other seller, shop or key is
registered through the control API, so any config can be tried out), and hands back
:attr:`DemoSandbox.config`: the same config with every channel pointed at the sandbox and
the sandbox's own credentials in place of the references. :class:`Buyers` then order and
review now and then, so that a newcomer sees orders come in, stock move across channels and
reviews arrive within a minute.

What the marketplaces hold outlives a restart: a snapshot is written next to the SQLite
store every few seconds and when the sandbox stops, and read back at the next start when
the store still remembers listings (a new store starts with empty marketplaces). Without it
the store would believe in listings that a fresh sandbox does not have, and the daemon,
finding nothing to change, would never send them again. The snapshot is a pickle: it is
written and read by this process only, in the store's folder, which is trusted as much as
the store itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import random
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Final, Literal

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.amazon import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sandbox.server import Sandbox
from syndicator.common.logs import FailureLog, get_logger
from syndicator.config import ChannelConfig, Config, CooperativeConfig
from syndicator.errors import FixInput
from syndicator.store import Store
from syndicator.store.listings import all_listings

__all__ = ["BuyerAction", "Buyers", "DemoSandbox", "SandboxError", "Shop", "start"]

log = get_logger("syndicator.sandbox.demo")

SNAPSHOT_FORMAT: Final = 1
SNAPSHOT_EVERY: Final = 5.0  # seconds between snapshots (only written when something moved)
CONTROL_TIMEOUT: Final = 10.0  # seconds, for every control API call

# Where an order's id is in the answer of each marketplace's POST _sandbox/orders.
_ORDER_ID: Final[Mapping[str, str]] = MappingProxyType(
    {"amazon": "order_id", "etsy": "receipt_id", "anou": "id"}
)
_BUYERS: Final = ("sandbox", "buyers")  # their key in the failure log
_SNAPSHOT: Final = ("sandbox", "snapshot")
_ON_SALE: Final = frozenset({"BUYABLE", "active"})  # Amazon's, Etsy's and ANOU's word

# Ratings: mostly 4 and 5, some 1 to 3.
_RATINGS: Final = (5, 4, 3, 2, 1)
_RATING_WEIGHTS: Final = (50, 28, 10, 6, 6)
_REVIEWS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = MappingProxyType(
    {
        "fr": MappingProxyType(
            {
                "good": (
                    "Magnifique, encore plus beau qu'en photo.",
                    "Très belle pièce, bien emballée. Merci à la coopérative !",
                    "Travail soigné, je recommande.",
                ),
                "mixed": (
                    "Joli, mais la livraison a pris du temps.",
                    "Conforme, les couleurs sont un peu plus pâles que sur la photo.",
                ),
                "bad": ("Arrivé abîmé, déçu.", "Pas conforme à la description."),
            }
        ),
        "en": MappingProxyType(
            {
                "good": (
                    "Beautiful work, even nicer in person.",
                    "Lovely piece, carefully packed. Thank you!",
                    "Great quality, would buy again.",
                ),
                "mixed": (
                    "Nice, but shipping took a while.",
                    "As described, the colours are a little paler than in the photo.",
                ),
                "bad": ("Arrived damaged, disappointed.", "Not as described."),
            }
        ),
        "ar": MappingProxyType(
            {
                "good": (
                    "عمل رائع، أجمل من الصورة.",
                    "قطعة جميلة ومغلفة بعناية، شكراً للتعاونية!",
                    "جودة ممتازة، أنصح بها.",
                ),
                "mixed": (
                    "جميلة، لكن التوصيل تأخر.",
                    "مطابقة للوصف، الألوان أفتح قليلاً من الصورة.",
                ),
                "bad": ("وصلت متضررة، خيبة أمل.", "غير مطابقة للوصف."),
            }
        ),
    }
)


class SandboxError(FixInput):
    """The sandbox cannot stand in for this config (the message says what to change): a
    :class:`~syndicator.errors.FixInput`, the config is what has to change."""


@dataclass(frozen=True, slots=True)
class Shop:
    """One (cooperative, channel) on a sandbox marketplace. ``key``/``value`` name its
    account in the control API (``seller_id``, ``shop_id`` or ``shop``): in the calls a
    buyer makes and in the rows of ``GET state``."""

    cooperative: str
    channel: str
    marketplace: str
    key: str
    value: str | int
    language: str = "en"  # of the reviews its buyers write

    def holds(self, row: Mapping[str, Any]) -> bool:
        return row.get(self.key) == self.value

    def __str__(self) -> str:
        return f"{self.cooperative}/{self.channel}"


@dataclass(frozen=True, slots=True)
class BuyerAction:
    """What a simulated buyer did."""

    kind: Literal["order", "review"]
    shop: Shop
    sku: str
    at: datetime
    quantity: int = 0
    order_id: str | None = None
    rating: int | None = None
    text: str | None = None
    language: str | None = None

    def describe(self) -> str:
        """The demo's log line: "a buyer ordered 1 × ATL-BNO-001 on atlas-rugs/etsy"."""
        if self.kind == "order":
            return f"a buyer ordered {self.quantity} × {self.sku} on {self.shop}"
        return f"a buyer rated {self.sku} {self.rating}/5 on {self.shop}: {self.text}"

    def fields(self) -> dict[str, object]:
        """The action as log fields."""
        found = {
            "cooperative": self.shop.cooperative,
            "channel": self.shop.channel,
            "sku": self.sku,
            "buyer_action": self.kind,
            "quantity": self.quantity or None,
            "order_id": self.order_id,
            "rating": self.rating,
            "summary": self.describe(),
        }
        return {k: v for k, v in found.items() if v is not None}


class Buyers(threading.Thread):
    """Simulated buyers: every ``every`` seconds on average (exponential waits), one action.

    An action is an order of one piece of a SKU on sale on a marketplace picked at random,
    or, for a share ``review_share`` of actions, a review of a SKU ordered earlier (rated
    mostly 4 or 5, in the shop's language). Only the control API is used, over loopback, as
    a buyer only sees what a marketplace shows. Nothing here ever raises into the daemon: a
    failure is logged once, and its recovery once. ``actions`` keeps what was done.
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        shops: Sequence[Shop],
        *,
        every: float,
        review_share: float,
        seed: int | None = None,
        timeout: float = CONTROL_TIMEOUT,
    ) -> None:
        super().__init__(name="sandbox-buyers", daemon=True)
        self.urls = dict(urls)  # marketplace -> its base URL on the sandbox
        self.shops = tuple(shops)
        self.every = every
        self.review_share = review_share
        self.random = random.Random(seed)
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one action at a time (the thread, or a caller)
        self._actions: list[BuyerAction] = []
        self._unreviewed: list[BuyerAction] = []  # orders nobody reviewed yet
        self.failures = FailureLog(log)
        self._client = httpx.Client(timeout=timeout)

    @property
    def actions(self) -> list[BuyerAction]:
        with self._lock:
            return list(self._actions)

    def run(self) -> None:
        while not self._stopping.wait(self._pause()):
            self.act()

    def _pause(self) -> float:
        with self._lock:
            return self.random.expovariate(1 / self.every)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop acting (an action under way finishes first)."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
        self._client.close()

    # ------------------------------------------------------------------ actions
    def act(self) -> BuyerAction | None:
        """One action now, as the thread does (None: nothing was done)."""
        with self._lock:
            wants_review = self.random.random() < self.review_share
            if wants_review and self._unreviewed:
                return self._safely(lambda: self._review(self.shops))
            return self._safely(lambda: self._order(self.shops, None))

    def order(
        self, *, marketplace: str | None = None, shop: Shop | None = None, sku: str | None = None
    ) -> BuyerAction | None:
        """Order one piece of a SKU on sale now: on any shop, or on those of
        ``marketplace``, or on ``shop``; any SKU, or ``sku``."""
        with self._lock:
            return self._safely(lambda: self._order(self._among(marketplace, shop), sku))

    def review(
        self, *, marketplace: str | None = None, shop: Shop | None = None
    ) -> BuyerAction | None:
        """Review one of the orders not reviewed yet now (of any shop, or as ``order``)."""
        with self._lock:
            return self._safely(lambda: self._review(self._among(marketplace, shop)))

    def _among(self, marketplace: str | None, shop: Shop | None) -> list[Shop]:
        return [s for s in self.shops if marketplace in (None, s.marketplace) and shop in (None, s)]

    def _safely(self, do: Callable[[], BuyerAction | None]) -> BuyerAction | None:
        try:
            action = do()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code >= 500:
                self._failed(exc)
                return None
            # A refusal (sold out in the meantime, listing gone ...): a buyer moves on.
            log.info("sandbox_buyer_turned_away", reason=_said(exc.response))
            self._recovered()
            return None
        except Exception as exc:  # never into the daemon: a buyer is only a demo
            self._failed(exc)
            return None
        self._recovered()
        if action is not None:
            self._actions.append(action)
            log.info(f"sandbox_buyer_{action.kind}", **action.fields())
        return action

    def _failed(self, exc: Exception) -> None:
        self.failures.failed(_BUYERS, f"{type(exc).__name__}: {exc}")

    def _recovered(self) -> None:
        self.failures.recovered(_BUYERS)

    def _order(self, shops: Sequence[Shop], sku: str | None) -> BuyerAction | None:
        names = sorted({s.marketplace for s in shops})
        self.random.shuffle(names)
        for name in names:
            on_sale = [
                (shop, row)
                for row in self._get(name, "state").get("listings", [])
                if _on_sale(row) and sku in (None, row["sku"])
                for shop in shops
                if shop.marketplace == name and shop.holds(row)
            ]
            if on_sale:
                break
        else:
            return None  # nothing on sale yet: the first pass has not listed anything
        shop, row = self.random.choice(on_sale)
        chosen = str(row["sku"])
        body = {"sku": chosen, "quantity": 1, shop.key: shop.value}
        answer = self._post(name, "orders", body)
        order_id = answer.get(_ORDER_ID.get(name, "id"))
        action = BuyerAction(
            "order",
            shop,
            chosen,
            datetime.now(UTC),
            quantity=1,
            order_id=None if order_id is None else str(order_id),
        )
        self._unreviewed.append(action)
        return action

    def _review(self, shops: Sequence[Shop]) -> BuyerAction | None:
        orders = [a for a in self._unreviewed if a.shop in shops]
        if not orders:
            return None
        order = self.random.choice(orders)
        self._unreviewed.remove(order)
        rating = self.random.choices(_RATINGS, _RATING_WEIGHTS)[0]
        language = order.shop.language if order.shop.language in _REVIEWS else "en"
        mood = "good" if rating >= 4 else "mixed" if rating == 3 else "bad"
        text = self.random.choice(_REVIEWS[language][mood])
        body: dict[str, Any] = {
            "sku": order.sku,
            "rating": rating,
            "text": text,
            "language": language,
            order.shop.key: order.shop.value,
        }
        if order.order_id is not None:
            body["order_id"] = order.order_id
        self._post(order.shop.marketplace, "reviews", body)
        return dataclasses.replace(
            order,
            kind="review",
            at=datetime.now(UTC),
            quantity=0,
            rating=rating,
            text=text,
            language=language,
        )

    def _get(self, marketplace: str, path: str) -> dict[str, Any]:
        return _get_json(self._client, f"{self.urls[marketplace]}/_sandbox/{path}")

    def _post(self, marketplace: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._client.post(f"{self.urls[marketplace]}/_sandbox/{path}", json=body)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def _on_sale(row: Mapping[str, Any]) -> bool:
    quantity = row.get("quantity")
    return (
        isinstance(quantity, int)
        and quantity > 0
        and row.get("status") in _ON_SALE
        and row.get("is_enabled", True) is not False
        and bool(row.get("sku"))
    )


def _get_json(client: httpx.Client, url: str) -> dict[str, Any]:
    """A control API's answer (an error status raises)."""
    response = client.get(url)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def _said(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    message = body.get("error") if isinstance(body, dict) else None
    return str(message or f"HTTP {response.status_code}")


# ---------------------------------------------------------------------- the sandbox
class _Served(Sandbox):
    """The sandbox, plus ``GET /_snapshot``: the marketplaces' state, pickled on the
    server's event loop, where every handler changes it, so a snapshot never catches
    one half-done."""

    def app(self) -> Starlette:
        app = super().app()
        app.router.routes.insert(0, Route("/_snapshot", self._snapshot, methods=["GET"]))
        return app

    async def _snapshot(self, request: Request) -> Response:
        saved = {
            name: {attr: getattr(emulator, attr) for attr in emulator.persistent}
            for name, emulator in self.emulators.items()
        }
        body = pickle.dumps({"format": SNAPSHOT_FORMAT, "marketplaces": saved})
        return Response(body, media_type="application/octet-stream")

    def restore(self, data: Mapping[str, Any]) -> list[str]:
        """Put a snapshot's state back (before serving); the marketplaces restored."""
        restored = []
        for name, emulator in self.emulators.items():
            saved = data.get(name)
            if not isinstance(saved, Mapping) or not all(
                _same_shape(saved.get(attr), getattr(emulator, attr))
                for attr in emulator.persistent
            ):
                continue
            with emulator.lock:
                for attr in emulator.persistent:
                    setattr(emulator, attr, saved[attr])
            restored.append(name)
        return restored


def _same_shape(saved: Any, current: Any) -> bool:
    """Whether a saved state can replace the current one (same class, every field there:
    a snapshot from another version of the emulator is not used)."""
    if type(saved) is not type(current):
        return False
    if dataclasses.is_dataclass(current):
        return all(hasattr(saved, f.name) for f in dataclasses.fields(current))
    return True


class DemoSandbox:
    """A running demo sandbox (see the module's doc); :func:`start` makes one.

    ``config``: the config pointed at the sandbox; ``shops``: each (cooperative, channel)'s
    account there; ``buyers``: the simulated buyers (started when the config's
    ``sandbox.buyers.enabled``). ``stop()`` (or leaving a ``with`` block) stops the buyers,
    saves the snapshot and stops the server: call it once the daemon's passes are over.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        config: Config,
        shops: Sequence[Shop],
        buyers: Buyers,
        state_file: Path | None,
    ) -> None:
        self.sandbox = sandbox
        self.config = config
        self.shops = tuple(shops)
        self.buyers = buyers
        self.state_file = state_file
        self._saved_digest: str | None = None
        self._save_lock = threading.Lock()
        self._stopping = threading.Event()
        self._saver: threading.Thread | None = None
        self.failures = FailureLog(log)
        self._stopped = False

    def url(self, marketplace: str) -> str:
        """The marketplace's base URL (its control API is under ``/_sandbox/``)."""
        return self.sandbox.url(marketplace)

    @property
    def base_url(self) -> str:
        """Where the sandbox listens: ``<base_url>/amazon``, ``/etsy``, ``/anou``."""
        return f"http://{self.sandbox.host}:{self.sandbox.port}"

    def state(self, marketplace: str) -> dict[str, Any]:
        """``GET /<marketplace>/_sandbox/state``: listings, orders, reviews."""
        response = httpx.get(f"{self.url(marketplace)}/_sandbox/state", timeout=CONTROL_TIMEOUT)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def shop(self, cooperative: str, channel: str) -> Shop:
        for shop in self.shops:
            if (shop.cooperative, shop.channel) == (cooperative, channel):
                return shop
        raise KeyError(f"{cooperative}/{channel}")

    def listings(self, cooperative: str, channel: str) -> dict[str, dict[str, Any]]:
        """What the channel's shop lists on its marketplace now, by SKU."""
        shop = self.shop(cooperative, channel)
        rows = self.state(shop.marketplace).get("listings", [])
        return {str(r["sku"]): r for r in rows if shop.holds(r)}

    def save(self) -> bool:
        """Write the snapshot now when the marketplaces changed since the last one (True:
        written). Never raises: a failure is logged once."""
        if self.state_file is None:
            return False
        with self._save_lock:
            try:
                response = httpx.get(f"{self.base_url}/_snapshot", timeout=CONTROL_TIMEOUT)
                response.raise_for_status()
                body = response.content
                digest = hashlib.sha256(body).hexdigest()
                if digest == self._saved_digest:
                    return False
                self.state_file.parent.mkdir(parents=True, exist_ok=True)
                temp = self.state_file.with_name(self.state_file.name + ".tmp")
                temp.write_bytes(body)
                os.replace(temp, self.state_file)
            except (OSError, httpx.HTTPError) as exc:
                self.failures.failed(_SNAPSHOT, f"{type(exc).__name__}: {exc}")
                return False
            self.failures.recovered(_SNAPSHOT)
            self._saved_digest = digest
            return True

    def _keep_saving(self) -> None:
        while not self._stopping.wait(SNAPSHOT_EVERY):
            self.save()

    def _start_saving(self) -> None:
        if self.state_file is not None:
            self._saver = threading.Thread(
                target=self._keep_saving, name="sandbox-snapshot", daemon=True
            )
            self._saver.start()

    def stop_traffic(self) -> None:
        """Stop the simulated buyers (the daemon does before its last passes end)."""
        self.buyers.stop()

    def stop(self) -> None:
        """Stop the buyers, save the snapshot, stop the server. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.buyers.stop()
        self._stopping.set()
        if self._saver is not None:
            self._saver.join(CONTROL_TIMEOUT)
            self._saver = None
        self.save()
        self.sandbox.stop()

    def __enter__(self) -> DemoSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---------------------------------------------------------------------- accounts
@dataclass(frozen=True, slots=True)
class _Account:
    settings: dict[str, Any]
    credentials: dict[str, str]
    shop: Shop


class _Setup:
    """What setting the channels' accounts up needs: the running sandbox's control API, the
    config (its quota factor, its channel types' settings) and this start's nonce."""

    def __init__(self, sandbox: Sandbox, client: httpx.Client, config: Config) -> None:
        self.sandbox = sandbox
        self.client = client
        self.config = config
        self.factor = config.sandbox.quota_factor
        self.nonce = secrets.token_hex(4)  # new credentials at each start: no stale cache

    def get(self, marketplace: str, path: str) -> dict[str, Any]:
        return _get_json(self.client, f"{self.sandbox.url(marketplace)}/_sandbox/{path}")

    def post(self, marketplace: str, path: str, body: Mapping[str, Any], where: str) -> None:
        response = self.client.post(f"{self.sandbox.url(marketplace)}/_sandbox/{path}", json=body)
        if response.is_error:
            raise SandboxError(
                f"{where}: the {marketplace} sandbox refuses this channel's account "
                f"({_said(response)}); check its settings, or disable the channel"
            )


def _language(ch: ChannelConfig) -> str:
    return ch.languages[0]


def _amazon(ctl: _Setup, cooperative: CooperativeConfig, ch: ChannelConfig) -> _Account:
    coop = cooperative.id
    url = ctl.sandbox.url("amazon")
    seller, marketplace = str(ch.settings["seller_id"]), str(ch.settings["marketplace_id"])
    token = f"Atzr|sandbox-{coop}-{ch.id}-{ctl.nonce}"  # a new one at each start
    credentials = {
        "refresh_token": token,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    body = {**credentials, "seller_id": seller, "marketplace_id": marketplace}
    ctl.post("amazon", "accounts", body, f"{coop}/{ch.id}")
    settings = {
        "endpoint": url,
        "token_url": f"{url}/auth/o2/token",
        "quota_factor": ctl.factor,
        # The sandbox moves a feed or report on at each poll, not with time.
        "feed_poll_seconds": 0.2,
        "report_poll_seconds": 0.2,
    }
    return _Account(settings, credentials, Shop(coop, ch.id, "amazon", "seller_id", seller))


def _etsy(ctl: _Setup, cooperative: CooperativeConfig, ch: ChannelConfig) -> _Account:
    coop = cooperative.id
    shop_id = int(ch.settings["shop_id"])
    owners = {int(s["shop_id"]): int(s["user_id"]) for s in ctl.get("etsy", "state")["shops"]}
    user_id = owners.get(shop_id, shop_id + 10_000_000)
    digest = hashlib.sha256(f"{coop}/{ch.id}".encode()).hexdigest()
    credentials = {
        "keystring": "sandbox" + digest[:17],
        "shared_secret": digest[17:27],
        # Etsy's refresh tokens work once: a new one at each start, so that a token the
        # store rotated with another sandbox is never what this one is asked for.
        "refresh_token": f"{user_id}.sandbox-{coop}-{ch.id}-{ctl.nonce}",
    }
    body: dict[str, Any] = {
        **credentials,
        "shop_id": shop_id,
        "user_id": user_id,
        "currency": ch.currency,
        "shop_name": "".join(part.title() for part in coop.split("-")) + "Coop",
    }
    if ch.settings.get("shipping_profile_id") is not None:
        body["shipping_profile_id"] = int(ch.settings["shipping_profile_id"])
    ctl.post("etsy", "accounts", body, f"{coop}/{ch.id}")
    settings = {"endpoint": ctl.sandbox.url("etsy"), "quota_factor": ctl.factor}
    return _Account(settings, credentials, Shop(coop, ch.id, "etsy", "shop_id", shop_id))


def _anou(ctl: _Setup, cooperative: CooperativeConfig, ch: ChannelConfig) -> _Account:
    coop = cooperative.id
    base = ctl.sandbox.url("anou") + "/api/v1"
    # The shop is the cooperative's id (as the demo keys have it); a second ANOU-style
    # channel of the same cooperative gets a shop of its own.
    first = next(c.id for c in cooperative.channels if c.type == ch.type)
    shop = coop if ch.id == first else f"{coop}-{ch.id}"
    key = f"anou-sandbox-{coop}-{ch.id}"
    ctl.post("anou", "accounts", {"api_key": key, "shop": shop}, f"{coop}/{ch.id}")
    # The sandbox speaks the API of docs/anou-api.md: a channel set up for another
    # ANOU-style marketplace (its endpoints, field names ...) is put back to that API: the
    # defaults of the channel type's own settings model.
    model = ctl.config.channel_types[ch.type].settings_model
    shape = model(base_url=base).model_dump(mode="json", exclude={"page_size", "order_overlap"})
    settings = {**shape, "base_url": base, "quota_factor": ctl.factor}
    return _Account(settings, {"api_key": key}, Shop(coop, ch.id, "anou", "shop", shop))


_SETUP: Final[Mapping[str, Callable[[_Setup, CooperativeConfig, ChannelConfig], _Account]]] = (
    MappingProxyType({"amazon": _amazon, "etsy": _etsy, "anou": _anou})
)


def _accounts(sandbox: Sandbox, config: Config) -> list[_Account]:
    found: list[_Account] = []
    with httpx.Client(timeout=CONTROL_TIMEOUT) as client:
        ctl = _Setup(sandbox, client, config)
        for coop in config.cooperatives:
            for ch in (c for c in coop.channels if c.enabled):  # a disabled one is never used
                setup = _SETUP.get(ch.type)
                if setup is None or ch.type not in sandbox.emulators:
                    raise SandboxError(
                        f"{coop.id}/{ch.id}: the sandbox has no {ch.type} marketplace (it has "
                        f"{', '.join(sandbox.emulators)}); set enabled: false on this channel "
                        "or sandbox.enabled: false"
                    )
                account = setup(ctl, coop, ch)
                shop = dataclasses.replace(account.shop, language=_language(ch))
                found.append(dataclasses.replace(account, shop=shop))
    return found


# ---------------------------------------------------------------------- the snapshot
def _state_file(config: Config) -> Path | None:
    """Where the snapshot lives: beside a SQLite store file (None: another database)."""
    url = make_url(config.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db = Path(url.database)
    return db.with_name(db.name + ".sandbox")


def _remembered_listings(db: Path) -> int:
    """How many listing rows the store holds (0 when there is no store yet). Read before the
    daemon opens it: no migration runs here."""
    if not db.is_file():
        return 0
    store = Store(f"sqlite:///{db.resolve()}", migrate=False)
    try:
        with store.read() as conn:
            return all_listings(conn)
    except SQLAlchemyError:
        return 0
    finally:
        store.close()


def _load_snapshot(sandbox: _Served, state_file: Path) -> None:
    """Restore the marketplaces when the store remembers listings on them."""
    db = state_file.with_name(state_file.name.removesuffix(".sandbox"))
    remembered = _remembered_listings(db)
    if not remembered:
        return  # a new store: new, empty marketplaces
    try:
        data = pickle.loads(state_file.read_bytes())  # written by this module only
    except FileNotFoundError:
        log.warning(
            "sandbox_started_empty",
            remembered_listings=remembered,
            hint=f"no snapshot {state_file}: delete {db} to start the demo over",
        )
        return
    except Exception as exc:  # a damaged file, or one of another version: start empty, say so
        log.warning(
            "sandbox_snapshot_unreadable",
            file=str(state_file),
            error=f"{type(exc).__name__}: {exc}",
            hint=f"delete {db} to start the demo over",
        )
        return
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        log.warning(
            "sandbox_snapshot_unreadable",
            file=str(state_file),
            error="another version",
            hint=f"delete {db} to start the demo over",
        )
        return
    restored = sandbox.restore(data.get("marketplaces") or {})
    log.info("sandbox_restored", file=str(state_file), marketplaces=restored)


# ---------------------------------------------------------------------- the entry point
def start(config: Config) -> DemoSandbox:
    """Serve the sandbox marketplaces in this process and point ``config`` at them.

    The ``start`` hook of :data:`sandbox.SANDBOX`: the daemon calls it when
    ``sandbox.enabled``, then runs on the returned :attr:`DemoSandbox.config` and calls
    ``stop_traffic()`` and ``stop()`` at the end.
    Raises :class:`SandboxError` when a channel cannot be served by the sandbox.
    """
    options = config.sandbox
    sandbox = _Served(quota_factor=options.quota_factor)
    state_file = _state_file(config)
    if state_file is not None:
        _load_snapshot(sandbox, state_file)
    sandbox.start()
    try:
        accounts = _accounts(sandbox, config)
    except BaseException:
        sandbox.stop()
        raise
    key = [(a.shop.cooperative, a.shop.channel) for a in accounts]
    redirected = config.redirected(
        {k: a.settings for k, a in zip(key, accounts, strict=True)},
        {k: a.credentials for k, a in zip(key, accounts, strict=True)},
    )
    shops = [a.shop for a in accounts]
    buyers = Buyers(
        {name: sandbox.url(name) for name in sandbox.emulators},
        shops,
        every=options.buyers.every,
        review_share=options.buyers.review_share,
        seed=options.buyers.seed,
    )
    demo = DemoSandbox(sandbox, redirected, shops, buyers, state_file)
    demo._start_saving()
    if options.buyers.enabled:
        buyers.start()
    log.info(
        "sandbox_started",
        url=demo.base_url,
        marketplaces=list(sandbox.emulators),
        channels=[str(s) for s in shops],
        buyers_every_s=options.buyers.every if options.buyers.enabled else None,
    )
    return demo
