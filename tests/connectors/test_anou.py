"""The ANOU-style connector against the sandbox (conformance), and the same generic connector
configured for another cooperative marketplace served by a small app of our own: real HTTP
on loopback, nothing mocked."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.anou import AnouSettings
from connectors.anou.connector import AnouConnector
from connectors.limits import quota_rules
from sandbox import FaultPlan, Sandbox
from sandbox.base import Exchange
from syndicator.channels.calls import RetryPolicy
from syndicator.channels.interface import Connector, ListingChange
from syndicator.domain.money import Money
from syndicator.domain.orders import OrderStatus
from syndicator.domain.reviews import ReviewSource
from syndicator.errors import AuthError, SetupError, Throttled, Transient
from tests.connectors.conformance import ConformanceSuite, Harness
from tests.connectors.kit import SKUS, World, delisted, repriced, restocked, retitled, serving

API_KEY = "anou-sandbox-atlas-rugs"
TOO_LONG = "Lanterne " * 25  # 225 characters: ANOU takes 200


class AnouHarness(Harness):
    marketplace: ClassVar[str] = "anou"
    sandbox_quota_factor: ClassVar[float] = 50.0

    def channel(self, sandbox: Sandbox) -> dict[str, Any]:
        return {
            "id": "anou",
            "type": "anou",
            "currency": "MAD",
            "languages": ["fr", "en", "ar"],
            "pricing": {"fee_percent": 10, "rounding": "whole"},
            "categories": {"rugs": "rugs", "cushions": "cushions", "lanterns": "lighting"},
            "settings": {
                "base_url": sandbox.url("anou") + "/api/v1",
                "quota_factor": self.sandbox_quota_factor,
            },
        }

    def secrets(self) -> dict[str, str]:
        return {"api_key": API_KEY}

    def wrong_secrets(self) -> dict[str, str]:
        return {"api_key": "anou-sandbox-not-a-key"}

    def rejected(self, change: ListingChange) -> ListingChange:
        assert change.projection is not None
        return dataclasses.replace(
            change, projection=dataclasses.replace(change.projection, title=TOO_LONG)
        )


HARNESS = AnouHarness()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the module (the conformance class uses it too)."""
    with Sandbox(quota_factor=HARNESS.sandbox_quota_factor) as running:
        yield running


class TestAnouConformance(ConformanceSuite):
    harness = HARNESS

    @pytest.fixture(scope="class")
    @classmethod
    def sandbox_server(cls, sandbox: Sandbox) -> Sandbox:
        return sandbox


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> Iterator[World]:
    """Atlas Rugs' catalog with one ANOU channel on an empty sandbox (calls recorded)."""
    sandbox.reset(record=True)
    sandbox.anou.buckets.factor = HARNESS.sandbox_quota_factor
    w = World(tmp_path, sandbox, HARNESS.channel(sandbox), HARNESS.secrets())
    yield w
    w.close()


# --------------------------------------------------------------------------- helpers
def exchanges(sandbox: Sandbox, operation: str) -> list[Exchange]:
    return [e for e in sandbox.anou.exchanges if e.operation == operation]


def products(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """The sandbox's own products of Atlas Rugs' shop, as stored."""
    with sandbox.anou.lock:
        return {sku: dict(p) for sku, p in sandbox.anou.state.products["atlas-rugs"].items()}


def create_all(world: World) -> dict[str, ListingChange]:
    changes = world.changes()
    with world.connector() as connector:
        out = connector.push(list(changes.values()))
    assert all(o.ok for o in out), out
    return changes


def fast(connector: Connector) -> AnouConnector:
    """The connector with short backoffs (the retries themselves are what is tested)."""
    assert isinstance(connector, AnouConnector)
    connector.client.caller.policy = RetryPolicy(attempts=6, base=0.01, cap=0.05)
    return connector


# --------------------------------------------------------------------------- payloads
def test_products_go_out_as_the_api_doc_shows(world: World, sandbox: Sandbox) -> None:
    changes = create_all(world)
    puts = {e.path.rsplit("/", 1)[1]: e.request_json() for e in exchanges(sandbox, "upsertProduct")}
    assert set(puts) == set(changes)
    rug = puts["RUG-1"]
    assert rug["price"] == {"amount": "5000.00", "currency": "MAD"}  # a string, 2 decimals
    assert rug["title"] == "Tapis Beni Ouarain en laine naturelle"
    assert rug["language"] == "fr"
    assert rug["active"] is True
    assert rug["parent_sku"] is None
    assert rug["materials"] == ["wool"] and rug["tags"] == ["beni ourain", "handmade"]
    assert rug["attributes"]["who_made"] == "collective"
    small = puts["CUSH-1-S"]
    assert (small["parent_sku"], small["options"]) == ("CUSH-1", {"size": "small"})
    assert isinstance(small["quantity"], int)
    # Local images are uploaded through the API, once per file (the variants share one).
    uploads = exchanges(sandbox, "uploadImage")
    assert len(uploads) == 4
    assert all(e.request_type == "image/jpeg" and e.status == 201 for e in uploads)
    urls = {e.response_json()["url"] for e in uploads}
    assert len(rug["images"]) == 2 and set(rug["images"]) <= urls
    assert small["images"] == puts["CUSH-1-L"]["images"]
    # Nothing in any body is a float.
    assert not any(isinstance(v, float) for v in leaves(list(puts.values())))


def leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            yield from leaves(item)
    else:
        yield data


def test_https_images_pass_as_they_are_and_a_bad_image_fails_its_item_only(
    world: World, sandbox: Sandbox
) -> None:
    changes = world.changes()

    def with_images(sku: str, *images: str) -> ListingChange:
        p = changes[sku].projection
        assert p is not None
        return dataclasses.replace(changes[sku], projection=dataclasses.replace(p, images=images))

    batch = [
        with_images("RUG-1", "https://cdn.example.org/rug.jpg"),
        with_images("LAMP-1", "../secrets/api_key"),
        with_images("CUSH-1-S", "images/missing.jpg"),
        changes["CUSH-1-L"],
    ]
    with world.connector() as connector:
        out = {o.sku: o for o in connector.push(batch)}
    assert out["RUG-1"].ok and out["CUSH-1-L"].ok
    assert products(sandbox)["RUG-1"]["images"] == ["https://cdn.example.org/rug.jpg"]
    assert not out["LAMP-1"].ok and "outside the catalog" in (out["LAMP-1"].message or "")
    assert not out["CUSH-1-S"].ok and "no such file" in (out["CUSH-1-S"].message or "")
    assert API_KEY not in str(out)
    assert {e.request_type for e in exchanges(sandbox, "uploadImage")} == {"image/jpeg"}


def test_a_422_reaches_the_outcome_verbatim(world: World, sandbox: Sandbox) -> None:
    changes = world.changes()
    with world.connector() as connector:
        out = {o.sku: o for o in connector.push([HARNESS.rejected(changes["LAMP-1"])])}
    lamp = out["LAMP-1"]
    assert not lamp.ok and not lamp.retryable
    assert lamp.message == "title is required, at most 200 characters"
    assert lamp.code == "invalid"
    assert [e.status for e in exchanges(sandbox, "upsertProduct")] == [422]  # not retried


# --------------------------------------------------------------------------- offers, delist
def test_reprice_and_restock_send_the_offer_only(world: World, sandbox: Sandbox) -> None:
    changes = create_all(world)
    lamp = changes["LAMP-1"]
    with world.connector() as connector:
        out = connector.push([repriced(lamp, "1234.5"), restocked(changes["CUSH-1-L"], 0)])
    assert all(o.ok for o in out), out
    patches = {e.path.split("/")[-2]: e.request_json() for e in exchanges(sandbox, "updateOffer")}
    assert patches["LAMP-1"] == {"price": {"amount": "1234.50", "currency": "MAD"}, "quantity": 3}
    assert patches["CUSH-1-L"]["quantity"] == 0
    assert len(exchanges(sandbox, "upsertProduct")) == 4  # the creates only
    assert products(sandbox)["CUSH-1-S"]["quantity"] == 4


def test_an_offer_for_a_product_the_marketplace_lost_writes_it_whole(
    world: World, sandbox: Sandbox
) -> None:
    changes = create_all(world)
    with sandbox.anou.lock:
        del sandbox.anou.state.products["atlas-rugs"]["LAMP-1"]
    with world.connector() as connector:
        (out,) = connector.push([restocked(changes["LAMP-1"], 2)])
    assert out.ok, out
    assert [e.status for e in exchanges(sandbox, "updateOffer")] == [404]
    assert products(sandbox)["LAMP-1"]["quantity"] == 2
    assert products(sandbox)["LAMP-1"]["active"] is True


def test_delist_takes_off_sale_and_an_update_brings_it_back(world: World, sandbox: Sandbox) -> None:
    changes = create_all(world)
    with world.connector() as connector:
        (out,) = connector.push([delisted(changes["LAMP-1"])])
        assert out.ok and out.remote_id == str(products(sandbox)["LAMP-1"]["id"])
        (back,) = connector.read_back(["LAMP-1"])
        assert back.status == "inactive"
        assert products(sandbox)["LAMP-1"]["quantity"] == 3  # kept, not deleted
        (again,) = connector.push([retitled(changes["LAMP-1"], "Lanterne — فانوس")])
        assert again.ok
        (back,) = connector.read_back(["LAMP-1"])
    assert back.status == "active" and back.title == "Lanterne — فانوس"


def test_delisting_what_the_marketplace_does_not_have_is_done(world: World) -> None:
    changes = world.changes()
    with world.connector() as connector:
        (out,) = connector.push([delisted(changes["LAMP-1"])])
        assert connector.read_back(["LAMP-1"]) == []
    assert out.ok and out.warnings


def test_read_back_gives_money_and_parents(world: World) -> None:
    changes = create_all(world)
    with world.connector() as connector:
        back = {r.sku: r for r in connector.read_back(["CUSH-1-L", "NOPE-1"])}
    assert set(back) == {"CUSH-1-L"}
    large = back["CUSH-1-L"]
    p = changes["CUSH-1-L"].projection
    assert p is not None
    assert large.price == Money(p.price.amount, "MAD") and large.parent_sku == "CUSH-1"
    assert large.remote_id and large.status == "active"


# --------------------------------------------------------------------------- failures
def test_a_refused_key_is_asked_once(world: World, sandbox: Sandbox) -> None:
    world.write_secrets({"api_key": "anou-sandbox-revoked"})
    with world.connector() as connector, pytest.raises(AuthError) as err:
        connector.push(list(world.changes().values()))
    assert len(sandbox.anou.exchanges) == 1  # the first call: no retry, no next item
    text = str(err.value)
    assert "revoked" not in text
    account = AnouConnector.quota_account(None, {"api_key": "anou-sandbox-revoked"})
    assert f"refuses the API key {account}: Missing or unknown API key" in text


def test_check_names_a_wrong_address(world: World, sandbox: Sandbox, tmp_path: Path) -> None:
    channel = HARNESS.channel(sandbox)
    channel["settings"]["base_url"] = sandbox.url("anou") + "/api/v9"
    other = World(tmp_path / "v9", sandbox, channel, HARNESS.secrets())
    try:
        with other.connector() as connector, pytest.raises(SetupError, match="base_url"):
            connector.check()
    finally:
        other.close()


@pytest.mark.parametrize(
    ("prefix", "message"),
    [("/moved", "moved to https://anou.example.org/api/v1"), ("/website", "is base_url")],
)
def test_check_says_when_base_url_is_not_the_api(
    sandbox: Sandbox, tmp_path: Path, prefix: str, message: str
) -> None:
    async def moved(request: Request) -> Response:
        return RedirectResponse("https://anou.example.org/api/v1", status_code=301)

    async def website(request: Request) -> Response:
        return HTMLResponse("<html>Welcome to our shop</html>")

    app = Starlette(
        routes=[Route("/moved/{rest:path}", moved), Route("/website/{rest:path}", website)]
    )
    with serving(app) as url:
        channel = HARNESS.channel(sandbox)
        channel["settings"]["base_url"] = url + prefix
        w = World(tmp_path, sandbox, channel, HARNESS.secrets())
        try:
            with w.connector() as connector, pytest.raises(SetupError, match=message) as err:
                fast(connector).check()
            assert API_KEY not in str(err.value)
        finally:
            w.close()


def test_timeouts_and_cut_connections_are_retried(world: World, sandbox: Sandbox) -> None:
    create_all(world)
    plan = {"slow": 0.3, "drop": 0.3, "slow_seconds": 0.5, "seed": 3, "operations": ["getProduct"]}
    sandbox.anou.faults.set(FaultPlan.from_json(plan))
    with world.connector(timeout=0.2) as connector:
        back = fast(connector).read_back(list(SKUS))
        assert {r.sku for r in back} == set(SKUS)
        assert connector.client.caller.retries > 0
    assert {"slow", "drop"} <= set(sandbox.anou.faults.injected)
    sandbox.anou.faults.set(FaultPlan.from_json({**plan, "slow": 1.0, "drop": 0.0}))
    with world.connector(timeout=0.2) as connector, pytest.raises(Transient):
        fast(connector).read_back(["RUG-1"])


def test_a_server_error_left_after_retries_fails_the_item_as_retryable(
    world: World, sandbox: Sandbox
) -> None:
    sandbox.anou.faults.set(FaultPlan(error_500=1.0, operations=["upsertProduct"]))
    changes = world.changes()
    with world.connector() as connector:
        out = fast(connector).push([changes["LAMP-1"]])
    assert not out[0].ok and out[0].retryable
    assert len(exchanges(sandbox, "upsertProduct")) == 6


def test_retry_after_is_read_from_the_answer(world: World, sandbox: Sandbox) -> None:
    sandbox.anou.faults.set(FaultPlan(throttle=1.0, retry_after=2, operations=["getProduct"]))
    with world.connector() as connector:
        anou = fast(connector)
        anou.client.caller.policy = RetryPolicy(attempts=1)
        with pytest.raises(Throttled) as err:
            anou.read_back(["RUG-1"])
    assert err.value.retry_after == 2.0


# --------------------------------------------------------------------------- orders, reviews
def place(world: World, sku: str, quantity: int = 1) -> str:
    return str(world.control("anou", "POST", "orders", {"sku": sku, "quantity": quantity})["id"])


def test_orders_come_in_pages_with_lines_and_money(world: World, sandbox: Sandbox) -> None:
    channel = HARNESS.channel(sandbox)
    channel["settings"]["page_size"] = 2
    small = World(world.root / "paged", sandbox, channel, HARNESS.secrets())
    try:
        create_all(small)
        placed = [place(small, "CUSH-1-S") for _ in range(3)] + [place(small, "RUG-1")]
        with small.connector() as connector:
            pages = list(connector.pull_orders(None))
        assert [len(p.orders) for p in pages] == [2, 2]
        orders = {o.order_id: o for p in pages for o in p.orders}
        assert list(orders) == placed
        rug = orders[placed[-1]]
        assert rug.status is OrderStatus.PAID
        (line,) = rug.lines
        assert (line.line_id, line.sku, line.quantity) == (f"{placed[-1]}-1", "RUG-1", 1)
        assert line.price == Money(Decimal("5000.00"), "MAD") and rug.total == line.price
        marks = [p.watermark for p in pages if p.watermark is not None]
        assert len(marks) == len(pages) and marks == sorted(marks)
        assert marks[-1] == max(o.updated_at for o in orders.values())
        assert [e.query.get("since") for e in exchanges(sandbox, "listOrders")] == [
            None,
            ["2"],
            ["4"],
        ]
    finally:
        small.close()


def test_orders_start_from_a_checkpoint_safely_before_the_watermark(
    world: World, sandbox: Sandbox
) -> None:
    create_all(world)
    now = time.time()
    sandbox.anou.wall = lambda: now - 7200
    old = [place(world, "CUSH-1-S") for _ in range(2)]
    with world.connector() as connector:
        first = list(connector.pull_orders(None))[-1].watermark
        sandbox.anou.wall = lambda: now - 3600
        middle = place(world, "LAMP-1")
        second = list(connector.pull_orders(first))[-1].watermark
        assert second is not None and first is not None and second > first
        sandbox.anou.wall = lambda: now
        latest = place(world, "LAMP-1")
        world.control("anou", "POST", f"orders/{old[0]}/cancel")
        sandbox.anou.exchanges.clear()
        third = {o.order_id: o for p in connector.pull_orders(second) for o in p.orders}
        # From the first pull's checkpoint: the second's is within the overlap.
        assert exchanges(sandbox, "listOrders")[0].query["since"] == ["2"]
        assert set(third) == {middle, latest, old[0]}
        assert third[old[0]].status is OrderStatus.CANCELLED
        # A store that did not keep the last pages asks from further back: read again.
        sandbox.anou.exchanges.clear()
        again = {o.order_id for p in connector.pull_orders(first) for o in p.orders}
        assert exchanges(sandbox, "listOrders")[0].query.get("since") is None
        assert {middle, latest, old[0]} <= again


def test_an_empty_pull_keeps_the_watermark(world: World) -> None:
    with world.connector() as connector:
        assert [p.watermark for p in connector.pull_orders(None)] == [None]
        mark = datetime(2026, 11, 25, 10, tzinfo=UTC)
        pages = list(connector.pull_reviews(mark))
    assert [(p.reviews, p.watermark) for p in pages] == [((), mark)]


def test_reviews_keep_their_language_and_ids(world: World) -> None:
    create_all(world)
    order = place(world, "RUG-1")
    for language, text in (("ar", "زربية رائعة"), ("fr", "Magnifique")):
        world.control(
            "anou",
            "POST",
            "reviews",
            {"sku": "RUG-1", "rating": 4, "text": text, "language": language, "order_id": order},
        )
    with world.connector() as connector:
        first = [r for p in connector.pull_reviews(None) for r in p.reviews]
        again = [r for p in connector.pull_reviews(None) for r in p.reviews]
    assert [(r.language, r.text) for r in first] == [("ar", "زربية رائعة"), ("fr", "Magnifique")]
    assert [r.review_id for r in first] == [r.review_id for r in again]
    assert all(r.source is ReviewSource.PRODUCT_REVIEW and r.order_ref == order for r in first)
    assert all(r.sku == "RUG-1" and r.created_at.tzinfo is not None for r in first)


# --------------------------------------------------------------------------- account, settings
def test_quota_account_hides_the_key() -> None:
    account = AnouConnector.quota_account(None, {"api_key": API_KEY})
    assert account.startswith("anou:") and API_KEY not in account and len(account) == 21
    assert account != AnouConnector.quota_account(None, {"api_key": "another-key"})
    assert AnouConnector.quota_rules(None) == quota_rules("anou")


def test_the_demo_needs_only_base_url() -> None:
    settings = AnouSettings.model_validate({"base_url": "https://anou.example.org/api/v1"})
    assert settings.auth_header == "X-Api-Key"
    assert settings.endpoints.upsert == "PUT /products/{sku}"
    assert settings.fields.merged("product")["attributes.length_cm"] == (
        "attributes.dimensions_cm.length"
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"fields": {"product": {"titel": "name"}}}, 'did you mean "title"'),
        ({"fields": {"product": {"title": None}}}, "title is needed"),
        ({"fields": {"product": {"tags": "attributes"}}}, "two fields would be written"),
        ({"endpoints": {"upsert": "PUT /listings"}}, "needs {sku}"),
        ({"endpoints": {"orders": "FETCH /orders"}}, "METHOD /path"),
        ({"endpoints": {"orders": "GET /orders/{id}"}}, "only placeholder"),
        ({"active_values": ["on", "on"]}, "must differ"),
        ({"base_url": "https://x.example", "api_key": "x"}, "Extra inputs"),
    ],
)
def test_settings_say_what_is_wrong(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AnouSettings.model_validate({"base_url": "https://anou.example.org/api/v1", **settings})


# --------------------------------------------------------------------------- another marketplace
DOC = Path(__file__).resolve().parents[2] / "docs" / "anou.md"
DAR_SANAA_KEY = "darsanaa-test-key"


def worked_example() -> dict[str, Any]:
    """The channel block of docs/anou.md's worked example, as an operator would copy it."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- worked-example:start -->")[1].split("<!-- worked-example:end -->")[0]
    (channel,) = yaml.safe_load(block.split("```yaml")[1].split("```")[0])
    assert isinstance(channel, dict)
    return channel


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "detail": detail}]}, status_code=status)


class DarSanaa:
    """A small marketplace of our own with other addresses and names than anou-api.md: the
    worked example of docs/anou.md. Keeps every request it is sent."""

    def __init__(self) -> None:
        self.base = ""
        self.listings: dict[str, dict[str, Any]] = {}
        self.media: set[str] = set()
        self.orders: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []

    def app(self) -> Starlette:
        async def guard(request: Request) -> Response | None:
            raw = await request.body()
            is_json = request.headers.get("content-type", "").startswith("application/json")
            self.requests.append(
                (
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    json.loads(raw) if raw and is_json else None,
                )
            )
            if request.headers.get("authorization") != f"Bearer {DAR_SANAA_KEY}":
                return _error(401, "unauthenticated", "Bearer token missing or invalid")
            return None

        async def put(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            body = await request.json()
            if len(body.get("name") or "") > 140:
                return _error(422, "too_long", "name: at most 140 characters")
            if not isinstance(body["pricing"]["value"], str) or not body.get("photos"):
                return _error(422, "invalid", "pricing.value is a string; photos are needed")
            sku = request.path_params["sku"]
            old = self.listings.get(sku)
            self.listings[sku] = {**body, "id": old["id"] if old else f"L-{len(self.listings)}"}
            return JSONResponse(self.listings[sku], status_code=200 if old else 201)

        async def patch(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            listing = self.listings.get(request.path_params["sku"])
            if listing is None:
                return _error(404, "not_found", "no such listing")
            body = await request.json()
            if set(body) - {"pricing", "stock", "status"}:
                return _error(422, "invalid", "PATCH takes pricing, stock and status")
            listing.update(body)
            return JSONResponse(listing)

        async def get(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            listing = self.listings.get(request.path_params["sku"])
            return JSONResponse(listing) if listing else _error(404, "not_found", "no listing")

        async def media(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            if not request.headers.get("content-type", "").startswith("image/"):
                return _error(415, "unsupported", "send an image")
            digest = hashlib.sha256(await request.body()).hexdigest()[:12]
            self.media.add(digest)
            return JSONResponse({"media": {"href": f"{self.base}/media/{digest}"}}, 201)

        async def shop(request: Request) -> Response:
            return await guard(request) or JSONResponse({"shop": {"name": "Atlas Rugs"}})

        def changes(items: list[dict[str, Any]], changed: str) -> Callable[..., Any]:
            async def listing(request: Request) -> Response:
                if (refused := await guard(request)) is not None:
                    return refused
                q = request.query_params
                since = q.get("updated_since")
                chosen = sorted(
                    (i for i in items if since is None or i[changed] >= since),
                    key=lambda i: i[changed],
                )
                start, size = int(q.get("page_token") or 0), int(q["per_page"])
                more = start + size < len(chosen)
                paging = {"next": str(start + size) if more else None}
                return JSONResponse({"data": chosen[start : start + size], "paging": paging})

            return listing

        return Starlette(
            routes=[
                Route("/v2/listings/{sku}", put, methods=["PUT"]),
                Route("/v2/listings/{sku}", patch, methods=["PATCH"]),
                Route("/v2/listings/{sku}", get, methods=["GET"]),
                Route("/v2/media", media, methods=["POST"]),
                Route("/v2/shop", shop, methods=["GET"]),
                Route("/v2/orders", changes(self.orders, "modified_at"), methods=["GET"]),
                Route("/v2/feedback", changes(self.reviews, "modified"), methods=["GET"]),
            ]
        )


@pytest.fixture
def dar_sanaa(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[World, DarSanaa]]:
    """Atlas Rugs with one channel on Dar Sanaa, configured by docs/anou.md's block."""
    market = DarSanaa()
    with serving(market.app()) as url:
        market.base = url + "/v2"
        channel = worked_example()
        channel["settings"]["base_url"] = market.base
        channel["settings"]["page_size"] = 2  # to see it page with only a few orders
        w = World(tmp_path, sandbox, channel, {"api_key": DAR_SANAA_KEY})
        yield w, market
        w.close()


def test_the_worked_example_lists_through_its_own_names(
    dar_sanaa: tuple[World, DarSanaa],
) -> None:
    world, market = dar_sanaa
    changes = world.changes()
    with world.connector() as connector:
        assert "api.darsanaa" not in connector.check()  # the address it was given
        assert "127.0.0.1" in connector.check()
        batch = [*changes.values()]
        batch[-1] = HARNESS.rejected(changes["LAMP-1"])
        out = {o.sku: o for o in connector.push(batch)}
        assert out["LAMP-1"].message == "name: at most 140 characters"
        assert out["LAMP-1"].code == "too_long" and not out["LAMP-1"].retryable
        assert all(out[s].ok for s in ("RUG-1", "CUSH-1-S", "CUSH-1-L")), out
        assert out["RUG-1"].remote_id == market.listings["RUG-1"]["id"]

        small = market.listings["CUSH-1-S"]
        assert small["photos"][0].startswith(f"{market.base}/media/")
        assert small == {  # as docs/anou.md shows it
            "id": small["id"],
            "name": "Coussin kilim",
            "lang": "fr",
            "body": "A cushion cover woven on the loom.",
            "section": "cushions",
            "pricing": {"value": "43.00", "currency_code": "EUR"},
            "stock": 4,
            "photos": small["photos"],
            "materials": ["wool", "cotton"],
            "keywords": [],
            "variant_of": "CUSH-1",
            "variant_options": {"size": "small"},
            "status": "published",
        }

        market.requests.clear()
        out = {
            o.sku: o
            for o in connector.push([restocked(changes["CUSH-1-L"], 0), delisted(changes["RUG-1"])])
        }
        assert all(o.ok for o in out.values()), out
        sent = {path.rsplit("/", 1)[1]: (method, body) for method, path, _, body in market.requests}
        cur = changes["CUSH-1-L"].projection
        assert cur is not None
        assert sent["CUSH-1-L"] == (
            "PATCH",
            {"pricing": {"value": str(cur.price.amount), "currency_code": "EUR"}, "stock": 0},
        )
        assert sent["RUG-1"] == ("PATCH", {"status": "hidden"})
        back = {r.sku: r for r in connector.read_back(["RUG-1", "CUSH-1-L", "LAMP-1"])}
    assert set(back) == {"RUG-1", "CUSH-1-L"}
    assert back["RUG-1"].status == "inactive" and back["CUSH-1-L"].status == "active"
    assert back["CUSH-1-L"].price == cur.price and back["CUSH-1-L"].quantity == 0


def test_the_worked_example_pulls_orders_and_reviews_by_time(
    dar_sanaa: tuple[World, DarSanaa],
) -> None:
    world, market = dar_sanaa

    def order(no: str, state: str, modified: str) -> dict[str, Any]:
        return {
            "order_no": no,
            "state": state,
            "placed_at": "2026-11-20T09:00:00Z",
            "modified_at": modified,
            "currency_code": "EUR",
            "grand_total": "84.00",
            "items": [
                {"item_no": f"{no}-A", "listing_sku": "CUSH-1-S", "qty": 2, "price_each": "42.00"}
            ],
        }

    market.orders += [
        order("DS-1", "completed", "2026-11-20T09:00:00Z"),
        order("DS-2", "dispatched", "2026-11-21T09:00:00Z"),
        order("DS-3", "completed", "2026-11-22T09:00:00Z"),
    ]
    market.reviews.append(
        {
            "uid": "F-9",
            "listing_sku": "CUSH-1-S",
            "stars": 5,
            "comment": "وسادة جميلة",
            "locale": "ar",
            "order_no": "DS-1",
            "created": "2026-11-23T09:00:00Z",
            "modified": "2026-11-23T09:00:00Z",
        }
    )
    with world.connector() as connector:
        pages = list(connector.pull_orders(None))
        assert [[o.order_id for o in p.orders] for p in pages] == [["DS-1", "DS-2"], ["DS-3"]]
        first = pages[0].orders[0]
        assert first.status is OrderStatus.PAID and pages[0].orders[1].status is OrderStatus.SHIPPED
        (line,) = first.lines
        assert (line.line_id, line.sku, line.quantity) == ("DS-1-A", "CUSH-1-S", 2)
        assert line.price == Money(Decimal("42.00"), "EUR")
        assert first.total == Money(Decimal("84.00"), "EUR")
        mark = pages[-1].watermark
        assert mark == datetime(2026, 11, 22, 9, tzinfo=UTC)
        queries = [q for _, path, q, _ in market.requests if path == "/v2/orders"]
        assert queries == [{"per_page": "2"}, {"per_page": "2", "page_token": "2"}]

        market.orders[0] = order("DS-1", "refunded", "2026-11-24T09:00:00Z")
        market.requests.clear()
        again = {o.order_id: o for p in connector.pull_orders(mark) for o in p.orders}
        assert again["DS-1"].status is OrderStatus.CANCELLED
        assert set(again) == {"DS-1", "DS-3"}  # DS-3 again: within the overlap
        queries = [q for _, path, q, _ in market.requests if path == "/v2/orders"]
        since = "2026-11-22T08:50:00Z"  # the watermark less 600 s of overlap
        assert queries == [{"per_page": "2", "updated_since": since}]  # next: null, the end

        (review,) = [r for p in connector.pull_reviews(None) for r in p.reviews]
    assert (review.review_id, review.rating, review.language) == ("F-9", 5, "ar")
    assert (review.text, review.sku, review.order_ref) == ("وسادة جميلة", "CUSH-1-S", "DS-1")
    assert review.buyer_ref is None


def test_the_worked_example_refuses_a_wrong_key_once(dar_sanaa: tuple[World, DarSanaa]) -> None:
    world, market = dar_sanaa
    world.write_secrets({"api_key": "darsanaa-revoked"})
    with world.connector() as connector:
        with pytest.raises(AuthError, match="Bearer token missing or invalid") as err:
            connector.check()
        assert "revoked" not in str(err.value)
        with pytest.raises(AuthError):
            connector.push(list(world.changes().values()))
    assert len(market.requests) == 2
