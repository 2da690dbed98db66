"""The Amazon connector against the Amazon sandbox, over real HTTP on loopback.

The conformance suite first, then what is Amazon's own: JSON listings feeds and their
processing reports, answers with an error status but no body (a gateway's), the library's
process-wide token cache, orders seen twice through the overlap, seller feedback, variation
parents. Where a misbehaving network is needed, a small gateway on loopback stands between
the connector and the sandbox: it forwards every call, and answers some of them badly.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sp_api.api import Orders
from sp_api.auth import AccessTokenClient, access_token_client

from connectors.amazon.connector import AmazonConnector
from sandbox import Sandbox, spec_amazon
from sandbox.amazon import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLERS
from syndicator.channels.interface import Connector, ListingChange
from syndicator.domain.money import Money
from syndicator.domain.orders import OrderStatus
from syndicator.domain.reviews import ReviewSource
from syndicator.errors import AuthError, SetupError
from tests.connectors.conformance import ConformanceSuite, Harness
from tests.connectors.kit import SKUS, World, delisted, repriced, restocked, retitled

ATLAS, FES = "A2SANDBOXATLAS", "A2SANDBOXFES"
US, FR = "ATVPDKIKX0DER", "A13V1IB3VIYZZH"
FACTOR = 50.0
SECRETS = {
    "refresh_token": DEMO_SELLERS[ATLAS][0],
    "client_id": DEMO_CLIENT_ID,
    "client_secret": DEMO_CLIENT_SECRET,
}
WRONG = {"client_secret": "amzn1.oa2-cs.v1.not-the-secret-at-all"}
ARABIC = "زربية بني ورين من الصوف الطبيعي"


def amazon_channel(base_url: str, **settings: Any) -> dict[str, Any]:
    """The channel block of the config: the demo seller on amazon.com, at ``base_url``."""
    return {
        "id": "amazon",
        "type": "amazon",
        "currency": "USD",
        "languages": ["en", "fr"],
        "pricing": {"fee_percent": 15, "rounding": "ends_99"},
        "categories": {"rugs": "RUG", "cushions": "HOME", "lanterns": "LIGHT_FIXTURE"},
        "settings": {
            "seller_id": ATLAS,
            "marketplace_id": US,
            "endpoint": base_url,
            "quota_factor": FACTOR,
            "feed_poll_seconds": 0.01,
            "report_poll_seconds": 0.01,
            "brand": "Coopérative Tissage Atlas",
            "image_base_url": "https://images.atlas-rugs.example/catalog/",
            **settings,
        },
    }


class AmazonHarness(Harness):
    marketplace = "amazon"
    review_source: ClassVar[ReviewSource] = ReviewSource.SELLER_FEEDBACK
    complete_sample: ClassVar[bool] = False
    sandbox_quota_factor: ClassVar[float] = FACTOR

    def channel(self, sandbox: Sandbox) -> dict[str, Any]:
        return amazon_channel(sandbox.url("amazon"))

    def secrets(self) -> dict[str, str]:
        return dict(SECRETS)

    def wrong_secrets(self) -> dict[str, str]:
        return dict(WRONG)

    def unit_row(self, row: Mapping[str, Any]) -> bool:
        return row.get("price") is not None  # a variation parent has no offer

    def rejected(self, change: ListingChange) -> ListingChange:
        """A product type Amazon does not know (4000003)."""
        assert change.projection is not None
        projection = dataclasses.replace(change.projection, category="SOFA")
        return dataclasses.replace(change, projection=projection)


class TestAmazonConformance(ConformanceSuite):
    harness = AmazonHarness()


# ---------------------------------------------------------------------- Amazon's own
class Gateway:
    """A gateway on loopback in front of the sandbox. It forwards every call, except the
    first ``times`` calls whose method is ``method`` and whose path holds ``part``: those it
    answers with ``status`` and ``body`` (``mode="answer"``), or forwards and then cuts the
    connection before answering (``mode="cut"``: applied, but the client never hears so)."""

    def __init__(
        self,
        upstream: str,
        *,
        method: str,
        part: str,
        times: int,
        mode: str = "answer",
        status: int = 429,
        body: bytes = b"",
        retry_after: str | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/").rsplit("/", 1)[0]  # the server, not /amazon
        self.seen: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                hit = self.command == method and part in self.path
                if hit:
                    gateway.seen[part] += 1
                if hit and gateway.seen[part] <= times:
                    if mode == "cut":
                        gateway.forward(self.command, self.path, dict(self.headers), data)
                        self.close_connection = True
                        return
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                answer = gateway.forward(self.command, self.path, dict(self.headers), data)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(
        self, method: str, path: str, headers: dict[str, str], data: bytes
    ) -> httpx.Response:
        self.forwarded[f"{method} {path.split('?')[0]}"] += 1
        keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        return httpx.request(method, self.upstream + path, headers=keep, content=data, timeout=10)

    def url(self, name: str = "amazon") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class TestAmazon:
    """What only Amazon does, and the traps of its client library."""

    @pytest.fixture(scope="class")
    @classmethod
    def server(cls) -> Iterator[Sandbox]:
        with Sandbox(marketplaces=("amazon",), quota_factor=FACTOR) as running:
            yield running

    @pytest.fixture
    def sandbox(self, server: Sandbox) -> Iterator[Sandbox]:
        """A fresh sandbox; afterwards, every call the connector made (and every answer)
        checked against Amazon's official models."""
        server.reset(record=True)
        httpx.put(f"{server.url('amazon')}/_sandbox/quota", json={"factor": FACTOR}, timeout=10)
        yield server
        problems = [
            f"{x.operation} {x.status}: {p}"
            for x in server.amazon.exchanges
            for p in spec_amazon.validate_exchange(x)
        ]
        assert not problems, problems

    @pytest.fixture
    def make_world(self, sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., World]]:
        worlds: list[World] = []

        def make(
            name: str = "atlas",
            *,
            base_url: str | None = None,
            secrets: dict[str, str] | None = None,
            channel: dict[str, Any] | None = None,
            **settings: Any,
        ) -> World:
            block = channel or amazon_channel(base_url or sandbox.url("amazon"), **settings)
            world = World(tmp_path / name, sandbox, block, secrets or SECRETS)
            worlds.append(world)
            return world

        yield make
        for world in worlds:
            world.close()

    def connector(self, world: World) -> AmazonConnector:
        connector = world.connector()
        assert isinstance(connector, AmazonConnector)
        return connector

    def calls(self, world: World) -> dict[str, int]:
        counted = world.control("amazon", "GET", "calls")["operations"]
        return {op: c["calls"] for op, c in counted.items()}

    def listings(self, world: World) -> dict[str, dict[str, Any]]:
        rows = world.control("amazon", "GET", "state")["listings"]
        assert len({(r["seller_id"], r["sku"]) for r in rows}) == len(rows)
        return {r["sku"]: r for r in rows}

    def created(self, connector: Connector, world: World) -> dict[str, ListingChange]:
        changes = world.changes()
        out = {o.sku: o for o in connector.push(list(changes.values()))}
        assert all(o.ok for o in out.values()), out
        return changes

    # ------------------------------------------------------------------ feeds
    def test_a_large_batch_goes_by_feed_and_its_report_is_read_per_sku(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        world = make_world(feed_threshold=3, variation_parents=True)
        changes = world.changes()
        rug, lamp = changes["RUG-1"].projection, changes["LAMP-1"].projection
        assert rug is not None and lamp is not None
        batch = [
            dataclasses.replace(
                changes["RUG-1"], projection=dataclasses.replace(rug, title=ARABIC, language="ar")
            ),
            # No material: Amazon refuses the lantern (90220), and only the lantern.
            dataclasses.replace(
                changes["LAMP-1"], projection=dataclasses.replace(lamp, materials=())
            ),
            changes["CUSH-1-S"],
            changes["CUSH-1-L"],
        ]
        with self.connector(world) as connector:
            out = {o.sku: o for o in connector.push(batch)}
        calls = self.calls(world)
        assert calls.get("createFeed") == 1 and "putListingsItem" not in calls
        assert not out["LAMP-1"].ok and not out["LAMP-1"].retryable
        assert out["LAMP-1"].code == "90220"
        assert out["LAMP-1"].message == "'material' is required but not supplied."
        assert all(out[s].ok for s in ("RUG-1", "CUSH-1-S", "CUSH-1-L")), out
        rows = self.listings(world)
        assert set(rows) == {"RUG-1", "CUSH-1-S", "CUSH-1-L", "CUSH-1"}  # and the parent
        assert rows["RUG-1"]["title"] == ARABIC  # UTF-8 bytes, not ISO-8859-1
        (document,) = [d for d in sandbox.amazon.state.documents.values() if d.kind == "feed"]
        assert document.content_type == "application/json; charset=UTF-8"
        assert document.data is not None
        feed = json.loads(document.data.decode("utf-8"))
        assert spec_amazon.feed_problems(feed) == []
        assert [(m["sku"], m.get("requirements")) for m in feed["messages"]][2:4] == [
            ("CUSH-1", "LISTING_PRODUCT_ONLY"),  # a family's parent before its children
            ("CUSH-1-S", "LISTING"),
        ]
        item = next(m for m in feed["messages"] if m["sku"] == "RUG-1")
        assert item["attributes"]["item_name"][0]["language_tag"] == "ar_AE"
        price = item["attributes"]["purchasable_offer"][0]["our_price"][0]["schedule"][0]
        assert Decimal(str(price["value_with_tax"])) == rug.price.amount

    def test_reprice_restock_and_delist_by_feed_patch_only_what_they_change(
        self, make_world: Callable[..., World]
    ) -> None:
        world = make_world(feed_threshold=3)
        with self.connector(world) as connector:
            changes = self.created(connector, world)
            before = self.listings(world)
            lamp = changes["LAMP-1"].projection
            assert lamp is not None
            price = str(lamp.price.amount + Decimal("10"))
            out = connector.push(
                [
                    repriced(changes["LAMP-1"], price),
                    restocked(changes["CUSH-1-L"], 1),
                    delisted(changes["RUG-1"]),
                ]
            )
            assert all(o.ok for o in out), out
        assert self.calls(world).get("createFeed") == 2
        rows = self.listings(world)
        assert Decimal(rows["LAMP-1"]["price"]) == Decimal(price)
        assert rows["LAMP-1"]["quantity"] == before["LAMP-1"]["quantity"]
        assert rows["CUSH-1-L"]["quantity"] == 1
        assert rows["CUSH-1-L"]["price"] == before["CUSH-1-L"]["price"]
        assert rows["CUSH-1-S"] == before["CUSH-1-S"]  # a sibling is never touched
        assert rows["RUG-1"]["quantity"] == 0 and rows["RUG-1"]["status"] == "DISCOVERABLE"

    # ------------------------------------------------------------------ empty answers
    @pytest.mark.parametrize(
        ("status", "body", "retry_after"),
        [(429, b"", "1"), (503, b"<html>Service Unavailable</html>", None)],
        ids=["429-no-body", "503-html"],
    )
    def test_an_error_without_a_body_is_retried_not_taken_for_success(
        self,
        make_world: Callable[..., World],
        sandbox: Sandbox,
        status: int,
        body: bytes,
        retry_after: str | None,
    ) -> None:
        gateway = Gateway(
            sandbox.url("amazon"),
            method="PUT",
            part="/listings/2021-08-01/items/",
            times=1,
            status=status,
            body=body,
            retry_after=retry_after,
        )
        try:
            world = make_world(base_url=gateway.url())
            lamp = world.changes()["LAMP-1"]
            started = time.monotonic()
            with self.connector(world) as connector:
                (outcome,) = connector.push([lamp])
                waited = time.monotonic() - started
                assert outcome.ok, outcome
                assert connector.caller.retries == 1
        finally:
            gateway.close()
        assert gateway.seen["/listings/2021-08-01/items/"] == 2
        if retry_after:
            assert waited >= float(retry_after)  # Retry-After honoured
        assert set(self.listings(world)) == {"LAMP-1"}

    def test_an_error_without_a_body_every_time_is_a_retryable_failure(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        gateway = Gateway(
            sandbox.url("amazon"),
            method="PUT",
            part="/listings/2021-08-01/items/",
            times=100,
            retry_after="0",
        )
        try:
            world = make_world(base_url=gateway.url())
            with self.connector(world) as connector:
                (outcome,) = connector.push([world.changes()["LAMP-1"]])
        finally:
            gateway.close()
        assert not outcome.ok and outcome.retryable
        assert outcome.message and "429" in outcome.message
        assert not self.listings(world)

    def test_a_put_applied_but_never_answered_is_retried_and_lists_once(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        gateway = Gateway(sandbox.url("amazon"), method="PUT", part="/RUG-1", times=1, mode="cut")
        try:
            world = make_world(base_url=gateway.url())
            with self.connector(world) as connector:
                (outcome,) = connector.push([world.changes()["RUG-1"]])
        finally:
            gateway.close()
        assert outcome.ok, outcome
        # The first put reached Amazon (and was applied), the retry put the same listing.
        puts = [k for k in gateway.forwarded if k.startswith("PUT") and k.endswith("/RUG-1")]
        assert sum(gateway.forwarded[k] for k in puts) == 2
        rows = world.control("amazon", "GET", "state")["listings"]
        assert [r["sku"] for r in rows] == ["RUG-1"]

    def test_a_call_that_does_not_answer_in_time_is_retried(
        self, make_world: Callable[..., World]
    ) -> None:
        world = make_world()
        # Seed 1 makes the first put slow (0.6 s, past our 0.2 s timeout), not the second.
        plan = {"slow": 0.5, "slow_seconds": 0.6, "seed": 1, "operations": ["putListingsItem"]}
        world.control("amazon", "PUT", "faults", plan)
        with world.connector(timeout=0.2) as connector:
            assert isinstance(connector, AmazonConnector)
            (outcome,) = connector.push([world.changes()["LAMP-1"]])
            assert outcome.ok, outcome
            assert connector.caller.retries == 1
        time.sleep(0.6)  # the slow put lands late, and lists nothing twice
        assert world.control("amazon", "GET", "calls")["faults"] == {"slow": 1}
        assert [r["sku"] for r in world.control("amazon", "GET", "state")["listings"]] == ["LAMP-1"]

    # ------------------------------------------------------------------ credentials
    def test_the_library_token_cache_neither_masks_nor_leaks(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        base = sandbox.url("amazon")
        # Someone in this process logged in as Atlas through the library: its cache holds a
        # token under Atlas's refresh token, whatever the client secret.
        scheme, _, host = base.partition("://")
        lwa = type("SandboxLwa", (AccessTokenClient,), {"scheme": f"{scheme}://", "host": host})
        plain = Orders(
            version="2026-01-01",
            credentials={
                "refresh_token": SECRETS["refresh_token"],
                "lwa_app_id": DEMO_CLIENT_ID,
                "lwa_client_secret": DEMO_CLIENT_SECRET,
            },
            auth_token_client_class=lwa,
        )
        plain.endpoint = base
        plain.search_orders(createdAfter="2026-01-01T00:00:00Z")
        cached = dict(access_token_client.cache)
        assert cached
        try:
            atlas = make_world("atlas")
            with self.connector(atlas) as connector:
                assert ATLAS in connector.check()
            # A wrong secret is refused, cache or not.
            wrong = make_world("wrong", secrets={**SECRETS, **WRONG})
            with self.connector(wrong) as connector, pytest.raises(AuthError) as refused:
                connector.check()
            assert refused.value.code == "invalid_client"
            # Two sellers in one process: each with its own token, its own listings.
            fes_secrets = {**SECRETS, "refresh_token": DEMO_SELLERS[FES][0]}
            fes_channel = amazon_channel(base, seller_id=FES, marketplace_id=FR, region="EU")
            fes_channel["currency"] = "EUR"
            fes = make_world("fes", secrets=fes_secrets, channel=fes_channel)
            with self.connector(atlas) as a, self.connector(fes) as f:
                assert all(o.ok for o in a.push([atlas.changes()["LAMP-1"]]))
                assert all(o.ok for o in f.push([fes.changes()["RUG-1"]]))
            rows = atlas.control("amazon", "GET", "state")["listings"]
            assert {(r["seller_id"], r["sku"]) for r in rows} == {
                (ATLAS, "LAMP-1"),
                (FES, "RUG-1"),
            }
            assert {r["currency"] for r in rows if r["seller_id"] == FES} == {"EUR"}
            # Fes's refresh token with Atlas's seller id: Amazon refuses, no token is shared.
            mixed = make_world("mixed", secrets=fes_secrets)
            with self.connector(mixed) as connector, pytest.raises(AuthError) as denied:
                connector.check()
            assert ATLAS in str(denied.value)
            # The connectors never read nor wrote the library's cache.
            assert dict(access_token_client.cache) == cached
        finally:
            access_token_client.cache.clear()

    def test_refused_credentials_are_asked_for_once(self, make_world: Callable[..., World]) -> None:
        world = make_world(secrets={**SECRETS, "refresh_token": "Atzr|revoked-long-ago"})
        with self.connector(world) as connector:
            for _ in range(2):
                with pytest.raises(AuthError) as refused:
                    connector.check()
                text = str(refused.value)
                assert "invalid_grant" in text and "refresh token" in text
                assert "Atzr|revoked-long-ago" not in text and DEMO_CLIENT_SECRET not in text
            with pytest.raises(AuthError):
                connector.push([world.changes()["LAMP-1"]])
        assert self.calls(world) == {"lwaToken": 1}

    def test_a_store_the_seller_does_not_sell_in_is_a_setup_error(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        germany = amazon_channel(sandbox.url("amazon"), marketplace_id="A1PA6795UKMFR9")
        germany["currency"] = "EUR"
        germany["settings"]["region"] = "EU"
        world = make_world("de", channel=germany)
        with self.connector(world) as connector, pytest.raises(SetupError) as wrong:
            connector.check()
        assert "does not sell in marketplace A1PA6795UKMFR9" in str(wrong.value)
        euros = amazon_channel(sandbox.url("amazon"))
        euros["currency"] = "EUR"
        world = make_world("eur", channel=euros)
        with self.connector(world) as connector, pytest.raises(SetupError) as currency:
            connector.check()
        assert "Amazon.com sells in USD" in str(currency.value)

    # ------------------------------------------------------------------ orders
    def test_orders_come_back_through_the_overlap_with_the_same_line_ids(
        self, make_world: Callable[..., World]
    ) -> None:
        world = make_world(order_page_size=2)
        with self.connector(world) as connector:
            changes = self.created(connector, world)
            placed = [
                world.control("amazon", "POST", "orders", {"sku": sku, "quantity": 1})
                for sku in ("CUSH-1-S", "CUSH-1-L", "LAMP-1")
            ]
            pages = list(connector.pull_orders(None))
            assert len(pages) == 2  # three orders, two a page
            marks = [p.watermark for p in pages]
            assert all(m is not None for m in marks) and marks == sorted(marks)  # type: ignore[type-var]
            first = {o.order_id: o for p in pages for o in p.orders}
            assert set(first) == {p["order_id"] for p in placed}
            again = {o.order_id: o for p in connector.pull_orders(marks[-1]) for o in p.orders}
            assert again  # the overlap brings the last orders back ...
            for order_id, order in again.items():  # ... with the same line ids: deduped
                assert [line.line_id for line in order.lines] == [
                    line.line_id for line in first[order_id].lines
                ]
        lamp = next(o for o in first.values() if o.lines[0].sku == "LAMP-1")
        projection = changes["LAMP-1"].projection
        assert projection is not None
        assert lamp.status is OrderStatus.PAID
        assert lamp.lines[0].price == projection.price
        assert isinstance(lamp.lines[0].price.amount, Decimal)  # type: ignore[union-attr]
        assert lamp.total == Money(projection.price.amount, "USD")
        assert lamp.created_at.utcoffset() is not None

    # ------------------------------------------------------------------ reviews
    def test_seller_feedback_holds_only_the_bad_and_is_never_a_complete_sample(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        world = make_world()
        with self.connector(world) as connector:
            self.created(connector, world)
            orders = [
                world.control("amazon", "POST", "orders", {"sku": "CUSH-1-S", "quantity": 1})
                for _ in range(2)
            ]
            for order, rating in zip(orders, (5, 1), strict=True):
                world.control(
                    "amazon",
                    "POST",
                    "reviews",
                    {"order_id": order["order_id"], "rating": rating, "text": "Pas reçu\tdu tout"},
                )
            reviews = [r for p in connector.pull_reviews(None) for r in p.reviews]
            again = [r for p in connector.pull_reviews(None) for r in p.reviews]
        (review,) = reviews  # Amazon's report leaves out 4 and 5 stars
        assert review.rating == 1 and review.order_ref == orders[1]["order_id"]
        assert review.source is ReviewSource.SELLER_FEEDBACK
        assert review.complete_sample is False
        assert review.text == "Pas reçu du tout"
        assert [r.review_id for r in again] == [review.review_id]
        email = sandbox.amazon.state.feedback[1].rater_email
        assert review.buyer_ref and email not in repr(review) and "@" not in review.buyer_ref

    # ------------------------------------------------------------------ variations
    def test_a_variant_family_has_a_parent_and_a_child_restock_touches_one_child(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        world = make_world(variation_parents=True)
        with self.connector(world) as connector:
            changes = self.created(connector, world)
            stored = sandbox.amazon.state.listings
            parent = stored[(ATLAS, "CUSH-1")]
            assert parent.requirements == "LISTING_PRODUCT_ONLY" and parent.offer() is None
            assert parent.attributes["parentage_level"][0]["value"] == "parent"
            child = stored[(ATLAS, "CUSH-1-S")].attributes
            assert child["parentage_level"][0]["value"] == "child"
            assert child["child_parent_sku_relationship"][0]["parent_sku"] == "CUSH-1"
            assert child["variation_theme"] == [{"name": "SIZE"}]
            assert child["size"][0]["value"] == "small"
            before = self.listings(world)
            out = connector.push([restocked(changes["CUSH-1-L"], 1)])
            assert out[0].ok, out
        rows = self.listings(world)
        assert rows["CUSH-1-L"]["quantity"] == 1
        assert rows["CUSH-1-S"] == before["CUSH-1-S"] and rows["CUSH-1"] == before["CUSH-1"]
        assert set(rows) == {*SKUS, "CUSH-1"}

    def test_a_delisted_listing_can_come_back(self, make_world: Callable[..., World]) -> None:
        world = make_world()
        with self.connector(world) as connector:
            changes = self.created(connector, world)
            assert connector.push([delisted(changes["LAMP-1"])])[0].ok
            row = self.listings(world)["LAMP-1"]
            assert (row["quantity"], row["status"]) == (0, "DISCOVERABLE")  # kept, not sold
            assert connector.push([restocked(changes["LAMP-1"], 2)])[0].ok
            back = {r.sku: r for r in connector.read_back(["LAMP-1", "NEVER-LISTED"])}
        assert set(back) == {"LAMP-1"}
        assert (back["LAMP-1"].status, back["LAMP-1"].quantity) == ("active", 2)
        assert self.listings(world)["LAMP-1"]["status"] == "BUYABLE"

    def test_an_update_keeps_the_language_of_its_title(
        self, make_world: Callable[..., World], sandbox: Sandbox
    ) -> None:
        world = make_world()
        with self.connector(world) as connector:
            changes = self.created(connector, world)
            out = connector.push([retitled(changes["LAMP-1"], "Lanterne — فانوس")])
            assert out[0].ok, out
        names = sandbox.amazon.state.listings[(ATLAS, "LAMP-1")].attributes["item_name"]
        assert names == [
            {"value": "Lanterne — فانوس", "language_tag": "en_US", "marketplace_id": US}
        ]
