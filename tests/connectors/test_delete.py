"""``Action.DELETE`` (``sync: {removed: delete}``) on the three connectors, against the
sandbox over loopback through the real client libraries, as the conformance suite runs.

Each marketplace: every SKU created, then LAMP-1 (a product of its own) and CUSH-1-L (a
variant whose sibling CUSH-1-S stays) deleted: gone on Amazon and Etsy, off sale with a
warning on the ANOU-style API (it has no delete); the sibling keeps its price and quantity,
RUG-1 is untouched, and deleting again is ok. Then what is each one's own: Amazon's feed and
its 404, Etsy's inventory and listing, an ANOU-style marketplace that does have a delete.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.amazon.listings import NOT_THERE
from connectors.anou import AnouSettings
from connectors.anou.listings import NO_DELETE
from connectors.etsy.inventory import Inventory, Want, merge
from sandbox import Sandbox, spec_amazon
from syndicator.channels.interface import ItemOutcome, ListingChange
from syndicator.planning.operations import Action
from tests.connectors.conformance import ConformanceSuite, Harness
from tests.connectors.kit import SKUS, World, delisted, restocked, serving
from tests.connectors.test_amazon import AmazonHarness, Gateway
from tests.connectors.test_anou import HARNESS as ANOU
from tests.connectors.test_etsy import HARNESS as ETSY

AMAZON = AmazonHarness()
HARNESSES: dict[str, Harness] = {"amazon": AMAZON, "etsy": ETSY, "anou": ANOU}
SUITE = ConformanceSuite()  # its created() and push_all(): every SKU listed, outcomes by SKU
DELETED = ("LAMP-1", "CUSH-1-L")


def deleted(change: ListingChange) -> ListingChange:
    """The change a sync with ``removed: delete`` sends for a SKU gone from the catalog."""
    return ListingChange(change.sku, change.parent_sku, Action.DELETE, None, change.remote_id)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    factors = {h.sandbox_quota_factor for h in HARNESSES.values()}
    assert len(factors) == 1, factors
    with Sandbox(quota_factor=factors.pop()) as running:
        yield running


@pytest.fixture
def make_world(sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., World]]:
    """A world on a fresh sandbox (calls recorded): the harness's channel of ``market``,
    with ``settings`` changed. Afterwards, every Amazon call checked against Amazon's
    models (the delete's query too)."""
    worlds: list[World] = []

    def make(market: str, **settings: Any) -> World:
        harness = HARNESSES[market]
        sandbox.reset(record=True)
        url = f"{sandbox.url(market)}/_sandbox/quota"
        httpx.put(url, json={"factor": harness.sandbox_quota_factor}, timeout=10)
        block = harness.channel(sandbox)
        block["settings"] = {**block["settings"], **settings}
        world = World(tmp_path / f"{market}-{len(worlds)}", sandbox, block, harness.secrets())
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()
    problems = [
        f"{x.operation} {x.status}: {p}"
        for x in sandbox.amazon.exchanges
        for p in spec_amazon.validate_exchange(x)
    ]
    assert not problems, problems


# --------------------------------------------------------------------------- helpers
def rows(world: World, market: str) -> dict[str, dict[str, Any]]:
    """The marketplace's listing rows by SKU (an Amazon variation parent included); fails
    when a SKU is listed twice."""
    found = world.control(market, "GET", "state")["listings"]
    counts = Counter(r["sku"] for r in found)
    assert all(n == 1 for n in counts.values()), counts
    return {r["sku"]: r for r in found}


def calls(world: World, market: str) -> Counter[str]:
    counted = world.control(market, "GET", "calls")["operations"]
    return Counter({op: c["calls"] for op, c in counted.items()})


def offer(row: Mapping[str, Any]) -> tuple[Decimal, int]:
    return Decimal(str(row["price"])), int(row["quantity"])


def all_ok(out: Mapping[str, ItemOutcome]) -> None:
    failed = {sku: o.message for sku, o in out.items() if not o.ok}
    assert not failed, failed


# --------------------------------------------------------------------------- all three
@pytest.mark.parametrize(
    ("market", "settings"),
    [
        ("amazon", {}),
        ("amazon", {"feed_threshold": 2}),  # the two deletes go as one JSON_LISTINGS_FEED
        ("etsy", {}),
        ("anou", {}),
    ],
    ids=["amazon-listings-items", "amazon-feed", "etsy", "anou"],
)
def test_delete_removes_only_what_it_names_and_again_is_ok(
    make_world: Callable[..., World], sandbox: Sandbox, market: str, settings: dict[str, Any]
) -> None:
    world = make_world(market, **settings)
    harness = HARNESSES[market]
    with world.connector() as connector:
        changes = SUITE.created(world, connector)
        before = rows(world, market)
        made = calls(world, market)
        batch = [deleted(changes[sku]) for sku in DELETED]
        out = SUITE.push_all(connector, batch)
        all_ok(out)
        after = rows(world, market)
        done = calls(world, market) - made

        if market == "anou":  # no delete in anou-api.md: off sale, and the outcome says so
            for sku in DELETED:
                assert not harness.live(after[sku]), after[sku]
                assert NO_DELETE in out[sku].warnings
            assert done["deactivateProduct"] == 2
        else:
            assert not set(DELETED) & set(after), after
        assert harness.live(after["CUSH-1-S"])
        assert offer(after["CUSH-1-S"]) == offer(before["CUSH-1-S"])  # the sibling kept
        assert after["RUG-1"] == before["RUG-1"]  # untouched
        if market == "amazon":
            assert after["CUSH-1"] == before["CUSH-1"]  # the parent stays for CUSH-1-S
            assert after["CUSH-1-S"] == before["CUSH-1-S"]
            if settings:
                assert done["createFeed"] == 1 and not done["deleteListingsItem"]
                documents = sandbox.amazon.state.documents.values()
                *_, document = (d for d in documents if d.kind == "feed")
                assert document.data is not None
                feed = json.loads(document.data.decode("utf-8"))
                assert spec_amazon.feed_problems(feed) == []
                assert [(m["sku"], m["operationType"]) for m in feed["messages"]] == [
                    (sku, "DELETE") for sku in DELETED
                ]
            else:
                assert done["deleteListingsItem"] == 2 and not done["createFeed"]
        if market == "etsy":
            assert done["deleteListing"] == 1  # LAMP-1's listing; the cushion's stays
            assert done["updateListingInventory"] == 1  # CUSH-1-L dropped, CUSH-1-S sent back
            lamp = changes["LAMP-1"].remote_id
            assert lamp and all(str(r["listing_id"]) != lamp for r in after.values())
            assert after["CUSH-1-S"]["listing_id"] == before["CUSH-1-S"]["listing_id"]

        again = SUITE.push_all(connector, batch)
        all_ok(again)
        assert rows(world, market) == after
    # A new connector (nothing known of the shop) finds nothing left to delete either.
    with world.connector() as connector:
        all_ok(SUITE.push_all(connector, batch))
    assert rows(world, market) == after


# --------------------------------------------------------------------------- Amazon
def test_amazon_a_sku_it_no_longer_has_counts_as_deleted(
    make_world: Callable[..., World], sandbox: Sandbox
) -> None:
    gone = {"errors": [{"code": "NOT_FOUND", "message": "SKU 'LAMP-1' not found"}]}
    gateway = Gateway(
        sandbox.url("amazon"),
        method="DELETE",
        part="/LAMP-1",
        times=100,
        status=404,
        body=json.dumps(gone).encode(),
    )
    try:
        world = make_world("amazon", endpoint=gateway.url())
        with world.connector() as connector:
            out = SUITE.push_all(connector, [deleted(world.changes()["LAMP-1"])])
    finally:
        gateway.close()
    assert out["LAMP-1"].ok, out
    assert out["LAMP-1"].warnings == (NOT_THERE,)
    assert gateway.seen["/LAMP-1"] == 1  # a 404 is an answer, not retried


def test_amazon_deleting_every_variant_leaves_the_parent(
    make_world: Callable[..., World],
) -> None:
    world = make_world("amazon")
    with world.connector() as connector:
        changes = SUITE.created(world, connector)
        cushion = [deleted(changes[sku]) for sku in ("CUSH-1-S", "CUSH-1-L")]
        all_ok(SUITE.push_all(connector, cushion))
    left = rows(world, "amazon")
    assert set(left) == {"RUG-1", "LAMP-1", "CUSH-1"}
    assert left["CUSH-1"]["price"] is None  # a parent: never buyable, kept for a comeback


# --------------------------------------------------------------------------- Etsy
def test_etsy_deleting_every_variant_deletes_the_listing(
    make_world: Callable[..., World],
) -> None:
    world = make_world("etsy")
    with world.connector() as connector:
        changes = SUITE.created(world, connector)
        made = calls(world, "etsy")
        cushion = [deleted(changes[sku]) for sku in ("CUSH-1-S", "CUSH-1-L")]
        all_ok(SUITE.push_all(connector, cushion))
    done = calls(world, "etsy") - made
    assert done["deleteListing"] == 1 and not done["updateListingInventory"]
    left = rows(world, "etsy")
    assert set(left) == {"RUG-1", "LAMP-1"}
    listing = changes["CUSH-1-S"].remote_id
    assert listing and all(str(r["listing_id"]) != listing for r in left.values())


def test_etsy_a_listing_already_gone_counts_as_deleted(
    make_world: Callable[..., World],
) -> None:
    world = make_world("etsy")
    with world.connector() as first:
        changes = SUITE.created(world, first)  # first knows the shop's listings now
        with world.connector() as other:
            all_ok(SUITE.push_all(other, [deleted(changes["LAMP-1"])]))
        out = SUITE.push_all(first, [deleted(changes["LAMP-1"])])  # its listing: a 404
    all_ok(out)
    assert calls(world, "etsy")["deleteListing"] == 1
    assert "LAMP-1" not in rows(world, "etsy")


def test_etsy_a_variant_deleted_with_its_sibling_restocked_in_one_batch(
    make_world: Callable[..., World],
) -> None:
    world = make_world("etsy")
    with world.connector() as connector:
        changes = SUITE.created(world, connector)
        batch = [restocked(changes["CUSH-1-S"], 7), deleted(changes["CUSH-1-L"])]
        all_ok(SUITE.push_all(connector, batch))
    left = rows(world, "etsy")
    assert "CUSH-1-L" not in left
    assert left["CUSH-1-S"]["quantity"] == 7 and ETSY.live(left["CUSH-1-S"])


def test_etsy_a_variant_deleted_when_its_siblings_are_off_sale(
    make_world: Callable[..., World],
) -> None:
    """Etsy wants one offering enabled: the sibling left, off sale, stays so in an inactive
    listing (enabled at quantity 0), and comes back on sale when it is listed again."""
    world = make_world("etsy")
    with world.connector() as connector:
        changes = SUITE.created(world, connector)
        all_ok(SUITE.push_all(connector, [delisted(changes["CUSH-1-S"])]))
        all_ok(SUITE.push_all(connector, [deleted(changes["CUSH-1-L"])]))
        left = rows(world, "etsy")
        assert "CUSH-1-L" not in left
        small = left["CUSH-1-S"]
        assert small["quantity"] == 0 and not ETSY.live(small)
        assert small["listing_id"] == int(changes["CUSH-1-S"].remote_id or 0)
        all_ok(SUITE.push_all(connector, [restocked(changes["CUSH-1-S"], 3)]))
    back = rows(world, "etsy")["CUSH-1-S"]
    assert back["quantity"] == 3 and ETSY.live(back)


def test_etsy_merge_never_drops_a_product_it_was_not_asked_to() -> None:
    """A SKU-less product with options (made by hand on Etsy) is not a placeholder: deleting
    the listing's only SKU removes that product, not the listing."""
    offering = {"price": Decimal("10"), "quantity": 1, "is_enabled": True}
    size = {"property_id": 513, "property_name": "Size", "value_ids": [], "values": ["S"]}
    large = {**size, "values": ["L"]}
    current = Inventory(
        [
            {"sku": "A", "property_values": [size], "offerings": [dict(offering)]},
            {"sku": "", "property_values": [large], "offerings": [dict(offering)]},
        ]
    )
    merged = merge(current, [Want("A", delete=True)])
    assert not merged.listing_gone and not merged.listing_off
    assert [p["property_values"][0]["values"] for p in merged.products] == [["L"]]
    placeholder = {"sku": "", "property_values": [], "offerings": [dict(offering)]}
    only = Inventory([{"sku": "A", "property_values": [], "offerings": [offering]}, placeholder])
    assert merge(only, [Want("A", delete=True)]).listing_gone
    assert not merge(only, [Want("B", delete=True)]).listing_gone  # nothing of ours to delete


# --------------------------------------------------------------------------- ANOU-style
def test_anou_a_configured_delete_endpoint_deletes(sandbox: Sandbox, tmp_path: Path) -> None:
    """A marketplace that has a delete (``endpoints.delete``): called through the same
    client (key, quota, retries); a product it no longer has is deleted already."""
    products = {sku: {"sku": sku} for sku in SKUS}
    seen: Counter[str] = Counter()

    async def delete(request: Request) -> Response:
        sku = request.path_params["sku"]
        seen[sku] += 1
        if request.headers.get("x-api-key") != ANOU.secrets()["api_key"]:
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        if products.pop(sku, None) is None:
            error = {"message": f"no product {sku}", "code": "not_found"}
            return JSONResponse({"error": error}, status_code=404)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/api/products/{sku}", delete, methods=["DELETE"])])
    with serving(app) as url:
        channel = ANOU.channel(sandbox)
        channel["settings"] = {
            **channel["settings"],
            "base_url": url + "/api",
            "endpoints": {"delete": "delete /products/{sku}"},
        }
        world = World(tmp_path, sandbox, channel, ANOU.secrets())
        try:
            changes = world.changes()
            batch = [deleted(changes[sku]) for sku in DELETED]
            with world.connector() as connector:
                out = SUITE.push_all(connector, batch)
                assert all(o.ok and not o.warnings for o in out.values()), out
                assert set(products) == {"RUG-1", "CUSH-1-S"}
                again = SUITE.push_all(connector, batch)
        finally:
            world.close()
    assert all(o.ok for o in again.values()), again
    assert all("nothing to delete" in o.warnings[0] for o in again.values()), again
    assert seen == {"LAMP-1": 2, "CUSH-1-L": 2}


def test_anou_a_delete_endpoint_names_a_product() -> None:
    base = "https://anou.example.org/api/v1"
    assert AnouSettings(base_url=base).endpoints.delete is None  # anou-api.md has none
    with pytest.raises(ValueError, match="needs"):
        AnouSettings.model_validate({"base_url": base, "endpoints": {"delete": "DELETE /x"}})


def test_every_connector_answers_delete_for_each_change(
    make_world: Callable[..., World],
) -> None:
    """A delete of SKUs never listed: one ok outcome per change, nothing written."""
    for market in ("etsy", "anou", "amazon"):  # Amazon last: its calls are checked after
        world = make_world(market)
        changes = world.changes()
        with world.connector() as connector:
            out = SUITE.push_all(connector, [deleted(changes[sku]) for sku in SKUS])
        all_ok(out)
        assert not rows(world, market)
        written = {"createDraftListing", "updateListingInventory", "putListingsItem"}
        assert not written & set(calls(world, market))
