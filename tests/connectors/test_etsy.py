"""The Etsy connector against the Etsy sandbox, over loopback HTTP through etsy-python.

The conformance suite (tests/connectors/conformance.py), then what is Etsy's own: the refresh
token that works once (persisted, shared by workers, replaced by an operator), the shared
secret, the inventory that is replaced whole, the create whose answer is lost, Money.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from connectors.etsy.client import dumps
from connectors.etsy.connector import EtsyConnector
from connectors.etsy.inventory import Want, editable, merge
from sandbox import Sandbox
from syndicator.channels.interface import ListingChange
from syndicator.domain.money import Money
from syndicator.errors import AuthError
from syndicator.planning.operations import Action
from syndicator.store.tokens import StoreTokens
from tests.connectors.conformance import ConformanceSuite, Harness
from tests.connectors.kit import IMAGES, World, delisted, restocked

KEYSTRING = "sandboxatlasrugs00000001"
SECRET = "atlassecret"
REFRESH = "51000001.sandbox-refresh-atlas-rugs"
SHOP = 41000001


class EtsyHarness(Harness):
    marketplace = "etsy"
    sandbox_quota_factor: ClassVar[float] = 50.0

    def channel(self, sandbox: Sandbox) -> dict[str, Any]:
        return {
            "id": "etsy",
            "type": "etsy",
            "currency": "USD",
            "languages": ["en", "fr"],
            "pricing": {"fee_percent": 9.5, "fee_fixed": 0.45, "rounding": "ends_99"},
            "categories": {"rugs": "1036", "cushions": "1057", "lanterns": "1207"},
            "settings": {
                "shop_id": SHOP,
                "shipping_profile_id": 2100001,
                "endpoint": sandbox.url("etsy"),
                "quota_factor": self.sandbox_quota_factor,
                "page_size": 2,  # small pages: paging is exercised on a small shop
            },
        }

    def secrets(self) -> dict[str, str]:
        return {"keystring": KEYSTRING, "shared_secret": SECRET, "refresh_token": REFRESH}

    def wrong_secrets(self) -> dict[str, str]:
        return {"shared_secret": "not-the-atlas-secret"}

    def rejected(self, change: ListingChange) -> ListingChange:
        """Below Etsy's lowest price (0.20)."""
        p = change.projection
        assert p is not None
        cheap = dataclasses.replace(p, price=Money(Decimal("0.10"), p.price.currency))
        return dataclasses.replace(change, projection=cheap)


class TestEtsyConformance(ConformanceSuite):
    harness = EtsyHarness()


# ---------------------------------------------------------------------------- Etsy's own
HARNESS = EtsyHarness()
TOKEN_PATH = "/v3/public/oauth/token"


@pytest.fixture(scope="module")
def etsy_sandbox() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("etsy",), quota_factor=HARNESS.sandbox_quota_factor) as running:
        yield running


def fresh_world(
    sandbox: Sandbox, root: Any, channel: dict[str, Any] | None = None, **settings: Any
) -> World:
    """A new shop on the sandbox, the harness's channel with ``channel`` and ``settings``
    changes."""
    sandbox.reset(record=True)
    url = f"{sandbox.url('etsy')}/_sandbox/quota"
    httpx.put(url, json={"factor": HARNESS.sandbox_quota_factor}, timeout=10).raise_for_status()
    block = {**HARNESS.channel(sandbox), **(channel or {})}
    block["settings"] = {**block["settings"], **settings}
    return World(root, sandbox, block, HARNESS.secrets())


@pytest.fixture
def world(etsy_sandbox: Sandbox, tmp_path: Any) -> Iterator[World]:
    w = fresh_world(etsy_sandbox, tmp_path)
    yield w
    w.close()


def connect(world: World) -> EtsyConnector:
    connector = world.connector()
    assert isinstance(connector, EtsyConnector)
    return connector


def calls(world: World) -> dict[str, int]:
    counted = world.control("etsy", "GET", "calls")["operations"]
    return {op: c["calls"] for op, c in counted.items()}


def refresh_at_etsy(world: World, token: str) -> httpx.Response:
    """Spend ``token`` at the token endpoint, as a second worker would."""
    return httpx.post(
        f"{world.sandbox.url('etsy')}{TOKEN_PATH}",
        data={"grant_type": "refresh_token", "client_id": KEYSTRING, "refresh_token": token},
        timeout=10,
    )


def stored(world: World, name: str) -> str | None:
    tokens = StoreTokens(world.store, "atlas-rugs", "etsy", HARNESS.secrets())
    return tokens.load(name)


def rows(world: World) -> dict[str, dict[str, Any]]:
    found = world.control("etsy", "GET", "state")["listings"]
    skus = [r["sku"] for r in found]
    assert len(skus) == len(set(skus)), f"a SKU listed twice: {skus}"
    return {r["sku"]: r for r in found}


def create_all(world: World, connector: EtsyConnector) -> dict[str, ListingChange]:
    changes = world.changes()
    out = {o.sku: o for o in connector.push(list(changes.values()))}
    assert all(o.ok for o in out.values()), out
    return {s: dataclasses.replace(c, remote_id=out[s].remote_id) for s, c in changes.items()}


# -- tokens
def test_the_rotated_refresh_token_is_kept_and_a_new_process_goes_on_with_it(
    world: World,
) -> None:
    with connect(world) as first:
        first.check()
    rotated = stored(world, "refresh_token")
    assert rotated and rotated != REFRESH
    # The configured token is spent: only the stored one can go on.
    assert refresh_at_etsy(world, REFRESH).json()["error"] == "invalid_grant"
    # Two hours later at Etsy: a new connector (another process) has only the store. Its
    # stored access token looks fresh to it but Etsy says 401: it refreshes once, with the
    # rotated token, and keeps the next one.
    world.sandbox.etsy.wall = lambda: datetime.now(UTC).timestamp() + 7200
    world.sandbox.etsy.exchanges.clear()
    with connect(world) as second:
        assert "AtlasRugsCoop" in second.check()
    statuses = [(x.operation, x.status) for x in world.sandbox.etsy.exchanges]
    assert statuses[:3] == [("getShop", 401), ("oauthToken", 200), ("getShop", 200)]
    again = stored(world, "refresh_token")
    assert again not in (None, REFRESH, rotated)
    assert refresh_at_etsy(world, rotated).json()["error"] == "invalid_grant"


def test_two_workers_refreshing_at_once_spend_the_token_once(world: World) -> None:
    # A slow token endpoint: the second worker reaches its refresh while the first one's is
    # still on the wire. Without the store's lock it would spend the same token (refused).
    slow = {"slow": 1.0, "slow_seconds": 0.5, "operations": ["oauthToken"]}
    world.control("etsy", "PUT", "faults", slow)
    first, second = connect(world), connect(world)
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def run(name: str, connector: EtsyConnector) -> None:
        start.wait()
        try:
            results[name] = connector.check()
        except Exception as exc:  # reported below
            results[name] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    first.close()
    second.close()
    assert all(isinstance(r, str) for r in results.values()), results
    refreshes = [x for x in world.sandbox.etsy.exchanges if x.operation == "oauthToken"]
    assert [x.status for x in refreshes] == [200]  # one refresh; the other used its token
    assert first.api.tokens.access == second.api.tokens.access


def test_an_operators_new_token_in_the_config_wins(world: World) -> None:
    with connect(world) as first:
        first.check()
    chain = stored(world, "refresh_token")
    # The operator authorises the app again and puts the new token in the config.
    new = "51000001.operator-authorised-again"
    account = {
        "keystring": KEYSTRING,
        "shared_secret": SECRET,
        "refresh_token": new,
        "shop_id": SHOP,
        "user_id": 51000001,
    }
    world.control("etsy", "POST", "accounts", account)
    world.write_secrets({"refresh_token": new})
    with connect(world) as second:
        second.check()
    assert refresh_at_etsy(world, new).json()["error"] == "invalid_grant"  # spent: it won
    assert chain is not None and refresh_at_etsy(world, chain).status_code == 200  # untouched


def test_a_missing_shared_secret_fails_once_before_any_call(world: World) -> None:
    world.write_secrets({"shared_secret": ""})
    changes = world.changes()
    with connect(world) as connector:
        with pytest.raises(AuthError) as check:
            connector.check()
        with pytest.raises(AuthError):
            connector.push(list(changes.values()))
    assert "shared_secret" in str(check.value)
    assert KEYSTRING not in str(check.value) and REFRESH not in str(check.value)
    assert calls(world) == {}  # nothing sent, the refresh token not spent
    assert refresh_at_etsy(world, REFRESH).status_code == 200


def test_throttled_says_how_long_and_no_secret(world: World) -> None:
    from etsy_python.v3.resources import ShopResource

    from syndicator.errors import Throttled

    with connect(world) as connector:
        connector.check()
        world.control("etsy", "PUT", "faults", {"throttle": 1.0, "operations": ["getShop"]})
        with pytest.raises(Throttled) as throttled:
            connector.api.call("getShop", lambda c: ShopResource(c).get_shop(SHOP), retry=False)
    assert throttled.value.retry_after == 1.0  # Etsy's Retry-After, which etsy-python drops
    assert throttled.value.status == 429
    for secret in (*HARNESS.secrets().values(), connector.api.tokens.access or "-"):
        assert secret not in str(throttled.value)


def test_quota_account_names_no_credential() -> None:
    from connectors.etsy import EtsySettings
    from connectors.limits import quota_rules

    settings = EtsySettings(shop_id=SHOP)
    account = EtsyConnector.quota_account(settings, HARNESS.secrets())
    assert account.startswith("etsy:key:") and KEYSTRING not in account
    assert EtsyConnector.quota_rules(settings) == quota_rules("etsy")
    assert set(EtsyConnector.quota_rules(settings)) == {"*"}


# -- listings
def inventory_puts(world: World) -> list[dict[str, Any]]:
    return [
        x.request_json()
        for x in world.sandbox.etsy.exchanges
        if x.operation == "updateListingInventory" and x.status == 200
    ]


def test_the_inventory_is_merged_never_wiped(world: World) -> None:
    with connect(world) as connector:
        changes = create_all(world, connector)
        small, large = changes["CUSH-1-S"], changes["CUSH-1-L"]
        assert small.projection and large.projection
        assert small.remote_id == large.remote_id  # one listing for the parent
        # A buyer takes a large one: Etsy lowers its stock itself.
        world.control("etsy", "POST", "orders", {"sku": "CUSH-1-L", "quantity": 1})
        # Restock the small one only: the large keeps what Etsy holds now.
        world.sandbox.etsy.exchanges.clear()
        out = connector.push([restocked(small, 3)])
        assert out[0].ok, out
        cushions = {s: r for s, r in rows(world).items() if s.startswith("CUSH")}
        assert cushions["CUSH-1-S"]["quantity"] == 3
        assert cushions["CUSH-1-L"]["quantity"] == large.projection.quantity - 1
        assert Decimal(cushions["CUSH-1-L"]["price"]) == large.projection.price.amount
        assert cushions["CUSH-1-S"]["properties"] == {"Size": "small"}
        assert cushions["CUSH-1-L"]["properties"] == {"Size": "large"}
        # What went to Etsy: every product, no ids, prices as exact JSON numbers.
        (put,) = inventory_puts(world)
        assert sorted(p["sku"] for p in put["products"]) == ["CUSH-1-L", "CUSH-1-S"]
        for product in put["products"]:
            assert "product_id" not in product and "is_deleted" not in product
            (offering,) = product["offerings"]
            assert "offering_id" not in offering and "is_deleted" not in offering
            assert isinstance(offering["price"], int | float)
        raw = next(
            x.request_body
            for x in world.sandbox.etsy.exchanges
            if x.operation == "updateListingInventory"
        )
        assert str(small.projection.price.amount).encode() in raw  # 48.99, exactly
        # Delist the small one: its offering is off, the large stays on sale.
        out = connector.push([delisted(small)])
        assert out[0].ok, out
        cushions = {s: r for s, r in rows(world).items() if s.startswith("CUSH")}
        assert (cushions["CUSH-1-S"]["is_enabled"], cushions["CUSH-1-S"]["quantity"]) == (False, 0)
        assert cushions["CUSH-1-L"]["is_enabled"] and cushions["CUSH-1-L"]["status"] == "active"
        back = {r.sku: r for r in connector.read_back(["CUSH-1-S", "CUSH-1-L"])}
        assert back["CUSH-1-S"].status == "delisted" and back["CUSH-1-L"].status == "active"
        # It comes back, the large untouched.
        out = connector.push([dataclasses.replace(restocked(small, 2), action=Action.CREATE)])
        assert out[0].ok, out
        cushions = {s: r for s, r in rows(world).items() if s.startswith("CUSH")}
        assert (cushions["CUSH-1-S"]["is_enabled"], cushions["CUSH-1-S"]["quantity"]) == (True, 2)
        assert cushions["CUSH-1-L"]["quantity"] == large.projection.quantity - 1


def test_delisting_every_variant_deactivates_the_listing_and_it_comes_back(
    world: World,
) -> None:
    with connect(world) as connector:
        changes = create_all(world, connector)
        cushions = [changes["CUSH-1-S"], changes["CUSH-1-L"]]
        out = connector.push([delisted(c) for c in cushions])
        assert all(o.ok for o in out), out
        state = rows(world)
        assert {state[c.sku]["status"] for c in cushions} == {"inactive"}
        assert state["RUG-1"]["status"] == "active"
        out = connector.push(cushions)  # the plan lists them again
        assert all(o.ok for o in out), out
        state = rows(world)
        for c in cushions:
            assert c.projection is not None
            assert (state[c.sku]["status"], state[c.sku]["quantity"]) == (
                "active",
                c.projection.quantity,
            )


def test_a_listing_with_no_stock_is_made_but_not_put_on_sale(world: World) -> None:
    changes = world.changes()
    with connect(world) as connector:
        out = connector.push([restocked(changes["LAMP-1"], 0)])
        assert out[0].ok, out
        lamp = rows(world)["LAMP-1"]
        assert (lamp["status"], lamp["quantity"], lamp["images"]) == ("draft", 0, 1)
        out = connector.push([restocked(changes["LAMP-1"], 2)])
        assert out[0].ok, out
        lamp = rows(world)["LAMP-1"]
        assert (lamp["status"], lamp["quantity"]) == ("active", 2)


class _Forward(BaseHTTPRequestHandler):
    """A loopback proxy in front of the sandbox (``target``)."""

    target = ""

    def cuts(self, answer: httpx.Response) -> bool:
        """Whether to cut the connection instead of giving ``answer``."""
        return False

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        answer = httpx.request(
            self.command, self.target + self.path, content=body, headers=headers, timeout=10
        )
        if self.cuts(answer):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status_code)
        drop = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        for key, value in answer.headers.items():
            if key.lower() not in drop:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _CutFirstCreate(_Forward):
    """Lets the first createDraftListing through and cuts the connection before its
    answer: applied at Etsy, answer lost."""

    cut: ClassVar[list[int]] = []

    def cuts(self, answer: httpx.Response) -> bool:
        creates = self.command == "POST" and self.path.endswith(f"/shops/{SHOP}/listings")
        if creates and not self.cut and answer.status_code == 201:
            self.cut.append(int(answer.json()["listing_id"]))
            return True
        return False


def test_a_create_whose_answer_is_lost_is_not_made_twice(
    etsy_sandbox: Sandbox, tmp_path: Any
) -> None:
    _CutFirstCreate.target = f"http://{etsy_sandbox.host}:{etsy_sandbox.port}"
    _CutFirstCreate.cut = []
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _CutFirstCreate)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}/etsy"
        world = fresh_world(etsy_sandbox, tmp_path, endpoint=endpoint)
        changes = world.changes()
        with connect(world) as connector:
            out = connector.push([changes["LAMP-1"]])
        world.close()
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert len(_CutFirstCreate.cut) == 1  # Etsy made the draft, the answer never came
    assert out[0].ok, out
    assert out[0].remote_id == str(_CutFirstCreate.cut[0])  # that draft, adopted
    assert calls(world)["createDraftListing"] == 1
    lamp = rows(world)["LAMP-1"]
    assert (lamp["status"], lamp["quantity"], lamp["images"]) == ("active", 3, 1)
    assert len(world.control("etsy", "GET", "state")["listings"]) == 1


# -- image URLs
class _PhotosOnTheEndpoint(_Forward):
    """The channel's endpoint (the sandbox behind a proxy) also serves photos: one, and a
    redirect to wherever the query says."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/photos/lamp.jpg":
            data = (IMAGES / "atl-bch-004.jpg").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif path == "/photos/moved":
            self.send_response(302)
            self.send_header("Location", query)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._forward()


@pytest.fixture
def unreachable() -> Iterator[socket.socket]:
    """A loopback port no image fetch may ever reach."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def reached(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except TimeoutError:
        return False
    return True


def with_images(change: ListingChange, *images: str) -> ListingChange:
    assert change.projection is not None
    return dataclasses.replace(
        change, projection=dataclasses.replace(change.projection, images=images)
    )


def test_image_urls_are_fetched_only_from_public_hosts(
    world: World, unreachable: socket.socket
) -> None:
    """A catalog names the photo's URL, so it would choose where the daemon connects: its
    own loopback services, the cloud's metadata address, the private network. Refused for
    that SKU, in words that say what to do, before any draft is made, and never reached."""
    port = unreachable.getsockname()[1]
    lamp = world.changes()["LAMP-1"]
    with connect(world) as connector:
        for url, said in (
            (f"https://127.0.0.1:{port}/lamp.jpg", "127.0.0.1 is a loopback address"),
            (f"https://[::1]:{port}/lamp.jpg", "loopback"),
            (f"https://[::ffff:127.0.0.1]:{port}/lamp.jpg", "loopback"),
            (f"https://localhost:{port}/lamp.jpg", "localhost is this machine"),
            ("https://169.254.169.254/latest/meta-data/lamp.jpg", "link-local"),
            ("https://10.0.0.1/lamp.jpg", "private network"),
            ("https://atlas:s3cret@cdn.example.org/lamp.jpg", "user name or password"),
        ):
            (out,) = connector.push([with_images(lamp, "images/lamp.jpg", url)])
            assert not out.ok and not out.retryable, out
            message = out.message or ""
            assert said in message and "catalog's folder" in message, message
            assert "s3cret" not in message
    assert not reached(unreachable)
    assert "createDraftListing" not in calls(world)


def test_an_image_url_on_the_channels_endpoint_is_fetched_and_its_redirects_checked(
    etsy_sandbox: Sandbox, tmp_path: Any, unreachable: socket.socket
) -> None:
    """The one origin that may be local is the channel's own endpoint (the sandbox the demo
    wires in); a redirect from there is held to the rules like any other URL."""
    _PhotosOnTheEndpoint.target = f"http://{etsy_sandbox.host}:{etsy_sandbox.port}"
    front = ThreadingHTTPServer(("127.0.0.1", 0), _PhotosOnTheEndpoint)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{front.server_address[1]}"
    away = f"http://127.0.0.1:{unreachable.getsockname()[1]}/lamp.jpg"
    try:
        world = fresh_world(etsy_sandbox, tmp_path, endpoint=f"{base}/etsy")
        changes = world.changes()
        with connect(world) as connector:
            (moved,) = connector.push(
                [with_images(changes["RUG-1"], f"{base}/photos/moved?{away}")]
            )
            (out,) = connector.push([with_images(changes["LAMP-1"], f"{base}/photos/lamp.jpg")])
        world.close()
    finally:
        front.shutdown()
        front.server_close()
    assert not moved.ok and not moved.retryable, moved
    assert f"redirected to {away}" in (moved.message or ""), moved
    assert not reached(unreachable)
    assert out.ok, out
    assert rows(world)["LAMP-1"]["images"] == 1


# -- orders and reviews
def test_orders_come_with_exact_money_and_overlap(world: World) -> None:
    with connect(world) as connector:
        changes = create_all(world, connector)
        placed = world.control("etsy", "POST", "orders", {"sku": "CUSH-1-L", "quantity": 2})
        pages = list(connector.pull_orders(None))
        (order,) = [o for p in pages for o in p.orders]
        large = changes["CUSH-1-L"].projection
        assert large is not None
        (line,) = order.lines
        assert line.line_id == str(placed["transactions"][0]["transaction_id"])
        assert (line.sku, line.quantity, line.price) == ("CUSH-1-L", 2, large.price)
        assert order.total == Money(large.price.amount * 2, "USD")
        assert order.updated_at.tzinfo is UTC and order.status.value == "paid"
        watermark = pages[-1].watermark
        assert watermark == order.updated_at
        # A pull from the watermark reads a little before it again: the same order.
        again = [o.order_id for p in connector.pull_orders(watermark) for o in p.orders]
        assert again == [order.order_id]
        far = watermark + timedelta(hours=1)
        assert [o for p in connector.pull_orders(far) for o in p.orders] == []


def test_a_review_of_a_variant_names_its_sku_and_no_buyer(world: World) -> None:
    with connect(world) as connector:
        create_all(world, connector)
        placed = world.control("etsy", "POST", "orders", {"sku": "CUSH-1-S", "quantity": 1})
        review = {"sku": "CUSH-1-S", "rating": 4, "review": "Très joli", "language": "fr"}
        world.control("etsy", "POST", "reviews", review)
        (page,) = list(connector.pull_reviews(None))
        (got,) = page.reviews
    transaction = placed["transactions"][0]
    assert got.review_id == str(transaction["transaction_id"])
    assert (got.sku, got.rating, got.text, got.language) == ("CUSH-1-S", 4, "Très joli", "fr")
    assert got.order_ref == str(placed["receipt_id"])
    assert got.buyer_ref and str(placed["buyer_user_id"]) not in got.buyer_ref
    assert page.watermark == got.created_at and got.created_at.tzinfo is UTC


# -- pieces
def test_json_numbers_are_exact() -> None:
    body = {"price": Decimal("538.99"), "n": [Decimal("1E+2"), 3], "t": "é", "x": None}
    assert dumps(body) == '{"price":538.99,"n":[100,3],"t":"\\u00e9","x":null}'


def test_merge_adds_a_variant_in_place_of_the_draft_placeholder() -> None:
    placeholder = {
        "products": [
            {
                "product_id": 1,
                "sku": "",
                "is_deleted": False,
                "property_values": [],
                "offerings": [
                    {
                        "offering_id": 2,
                        "quantity": 1,
                        "is_enabled": True,
                        "is_deleted": False,
                        "price": {"amount": 4899, "divisor": 100, "currency_code": "USD"},
                        "readiness_state_id": None,
                    }
                ],
            }
        ],
        "price_on_property": [],
        "quantity_on_property": [],
        "sku_on_property": [],
    }
    current = editable(placeholder)
    assert current.products[0]["offerings"][0]["price"] == Decimal("48.99")
    merged = merge(
        current,
        [
            Want("C-S", (("size", "small"),), Decimal("48.99"), 4),
            Want("C-L", (("size", "large"),), Decimal("66.99"), 2),
        ],
    )
    assert merged.skus() == ["C-S", "C-L"] and merged.total() == 6
    assert merged.on_property["price_on_property"] == [513]
    # The last one on sale cannot be disabled: the listing goes inactive instead.
    only = merge(editable(placeholder), [Want("", delist=True)])
    assert not only.listing_off  # an unknown SKU: nothing to take off
    solo = merge(merged, [Want("C-S", delist=True), Want("C-L", delist=True)])
    assert solo.listing_off and solo.products == merged.products


def test_a_cut_answer_is_transient_and_bad_images_are_refused_before_creating(
    world: World,
) -> None:
    from etsy_python.v3.resources import ShopResource

    from syndicator.errors import Transient

    changes = world.changes()
    lamp = changes["LAMP-1"]
    assert lamp.projection is not None
    with connect(world) as connector:
        connector.check()
        # The sandbox starts the answer and cuts it: requests says ChunkedEncodingError.
        world.control("etsy", "PUT", "faults", {"drop": 1.0, "operations": ["getShop"]})
        with pytest.raises(Transient):
            connector.api.call("getShop", lambda c: ShopResource(c).get_shop(SHOP), retry=False)
        world.control("etsy", "PUT", "faults", {})
        for images, said in (
            (("../secrets/shared_secret",), "outside the catalog"),
            (("images/missing.jpg",), "cannot be read"),
            (("http://example.invalid/lamp.jpg",), "not an https:// address"),
        ):
            bad = dataclasses.replace(lamp.projection, images=images)
            (out,) = connector.push([dataclasses.replace(lamp, projection=bad)])
            assert not out.ok and not out.retryable and said in (out.message or ""), out
        many = dataclasses.replace(lamp.projection, quantity=1200)
        (out,) = connector.push([dataclasses.replace(lamp, projection=many)])
        assert not out.ok and "999" in (out.message or ""), out
    assert "createDraftListing" not in calls(world)  # refused before any draft was made


@pytest.mark.parametrize(
    ("settings", "channel", "said"),
    [
        ({"shipping_profile_id": 2100002}, {}, "2100001"),
        ({}, {"currency": "EUR"}, "sells in USD"),
        ({"shop_id": 41000002}, {"currency": "EUR"}, "does not own shop"),
    ],
)
def test_check_names_what_is_wrong_in_the_setup(
    etsy_sandbox: Sandbox,
    tmp_path: Any,
    settings: dict[str, Any],
    channel: dict[str, Any],
    said: str,
) -> None:
    from syndicator.errors import ChannelError

    world = fresh_world(etsy_sandbox, tmp_path, channel=channel, **settings)
    try:
        with connect(world) as connector, pytest.raises(ChannelError) as wrong:
            connector.check()
        assert wrong.value.stops_channel and said in str(wrong.value)
    finally:
        world.close()


def test_a_year_in_the_catalog_goes_to_etsy_as_its_period(world: World) -> None:
    """docs/catalog.md lets a member write when_made as a year (2025); Etsy only takes its
    periods (2020_2026, 1990s ...): the year is sent as the period it falls in."""
    lamp = world.changes()["LAMP-1"]
    assert lamp.projection is not None
    attributes = tuple(
        (k, "2025" if k == "when_made" else v) for k, v in lamp.projection.attributes
    )
    projection = dataclasses.replace(lamp.projection, attributes=attributes)
    with connect(world) as connector:
        (out,) = connector.push([dataclasses.replace(lamp, projection=projection)])
    assert out.ok, out
    (listing,) = world.sandbox.etsy.state.listings.values()
    assert listing["when_made"] == "2020_2026"


@pytest.mark.parametrize(
    ("written", "sent"),
    [("2025", "2020_2026"), ("2019", "2010_2019"), ("2008", "2007_2009"), ("2003", "2000_2006"),
     ("1995", "1990s"), ("1901", "1900s"), ("1850", "1800s"), ("1650", "before_1700"),
     ("made_to_order", "made_to_order"), ("1990s", "1990s")],
)  # fmt: skip
def test_when_made_years_map_to_etsys_periods(written: str, sent: str) -> None:
    from connectors.etsy.payloads import etsy_when_made

    assert etsy_when_made(written) == sent
