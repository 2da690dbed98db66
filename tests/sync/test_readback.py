"""The read-back is the truth (issue 14): what a shop shows is read back after every write
and on the read-back schedule; a write answered but never applied, a listing the shop lost,
stock above what was confirmed are sent again; "in sync" means read back and equal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx

from syndicator.planning.operations import Action
from syndicator.planning.plan import make_plan
from syndicator.store.journal import query_journal
from syndicator.store.status import ListingCounts, listing_counts
from syndicator.sync.reconcile import sync_once
from tests.connectors.kit import SKUS, World
from tests.connectors.test_anou import HARNESS as ANOU
from tests.sync.test_reconcile import MARKETS, shown, sync, with_sync


def counts(world: World, channel: str) -> ListingCounts:
    with world.store.read() as conn:
        return listing_counts(conn)[(world.config.cooperatives[0].id, channel)]


def planned(world: World, channel: str, config: object = None) -> dict[str, Action]:
    report = make_plan(config or world.config, world.store, today=date.today())  # type: ignore[arg-type]
    (cplan,) = report.cooperatives
    (chplan,) = [c for c in cplan.channels if c.channel.id == channel]
    return {op.sku: op.action for op in chplan.ops}


def anou_patch(world: World, sku: str, body: dict[str, object]) -> None:
    """A member's edit made by hand on the ANOU-style shop (here: through its API)."""
    base = ANOU.channel(world.sandbox)["settings"]["base_url"]
    key = ANOU.secrets()["api_key"]
    httpx.patch(
        f"{base}/products/{sku}/offer", headers={"X-Api-Key": key}, json=body
    ).raise_for_status()


def test_writes_answered_but_never_applied_are_found_in_the_pass_and_sent_again(
    world: World,
) -> None:
    # The shop answers every create "done" and keeps none of them.
    world.control("anou", "PUT", "faults", {"lost_write": 1.0, "operations": ["upsertProduct"]})
    first = sync(world)
    anou = next(c for c in first.channels if c.channel == "anou")
    assert anou.done["create"] == 4 and shown(world, "anou") == {}
    assert anou.drift == 4  # found by the read-back at the end of the same pass
    assert counts(world, "anou").in_sync == 0  # answered is not in sync
    assert set(planned(world, "anou").values()) == {Action.CREATE}  # never "unchanged"
    for market in ("amazon", "etsy"):
        assert counts(world, market).in_sync == len(SKUS), market  # read back and equal
    world.control("anou", "PUT", "faults", {})
    second = sync(world)
    assert set(shown(world, "anou")) == set(SKUS)
    assert counts(world, "anou") == ListingCounts(in_sync=len(SKUS))
    assert all(not c.failed and not c.drift for c in second.channels)
    third = sync(world)
    assert all(not c.done and not c.failed for c in third.channels)


def test_a_price_edited_on_a_shop_is_sent_back_by_default(world: World) -> None:
    sync(world)
    before = Decimal(shown(world, "anou")["LAMP-1"]["price"])
    anou_patch(world, "LAMP-1", {"price": {"amount": "1.00", "currency": "MAD"}})
    report = sync(world, readback=True)
    assert next(c for c in report.channels if c.channel == "anou").drift == 1
    assert Decimal(shown(world, "anou")["LAMP-1"]["price"]) == before  # the catalog wins
    with world.store.read() as conn:
        (entry,) = query_journal(conn, channel="anou", outcome="drift")
    assert entry.sku == "LAMP-1" and "price 1.00" in (entry.message or "")
    assert counts(world, "anou").in_sync == len(SKUS)


def test_with_drift_report_a_price_edited_on_a_shop_stays_and_is_never_called_in_sync(
    world: World,
) -> None:
    reporting = with_sync(world, drift="report")
    sync_once(reporting, world.store, timeout=5.0)
    anou_patch(world, "LAMP-1", {"price": {"amount": "1.00", "currency": "MAD"}})
    sync_once(reporting, world.store, timeout=5.0, readback=True)
    assert Decimal(shown(world, "anou")["LAMP-1"]["price"]) == Decimal("1.00")  # left so
    assert counts(world, "anou") == ListingCounts(in_sync=len(SKUS) - 1, differs=1)
    report = make_plan(reporting, world.store, today=date.today())
    (chplan,) = [c for c in report.cooperatives[0].channels if c.channel.id == "anou"]
    (op,) = [op for op in chplan.ops if op.sku == "LAMP-1"]
    assert op.action is Action.HOLD
    assert "price 1.00" in (op.reason or "") and "sync.drift: report" in (op.reason or "")
    again = sync_once(reporting, world.store, timeout=5.0, readback=True)
    assert all(not c.done for c in again.channels)  # a report stays a report


def test_stock_above_what_was_confirmed_is_taken_back_even_when_drift_is_reported(
    world: World,
) -> None:
    reporting = with_sync(world, drift="report")
    sync_once(reporting, world.store, timeout=5.0)
    assert shown(world, "anou")["RUG-1"]["quantity"] == 1  # one of a kind
    anou_patch(world, "RUG-1", {"quantity": 3})  # pieces that do not exist
    sync_once(reporting, world.store, timeout=5.0, readback=True)
    assert shown(world, "anou")["RUG-1"]["quantity"] == 1
    assert counts(world, "anou").in_sync == len(SKUS)


def test_a_listing_the_shop_no_longer_shows_is_listed_again(world: World) -> None:
    reporting = with_sync(world, drift="report")  # whatever drift says
    sync_once(reporting, world.store, timeout=5.0)
    base = ANOU.channel(world.sandbox)["settings"]["base_url"]
    httpx.post(
        f"{base}/products/LAMP-1/deactivate", headers={"X-Api-Key": ANOU.secrets()["api_key"]}
    ).raise_for_status()
    assert shown(world, "anou")["LAMP-1"]["status"] != "active"
    first = sync_once(reporting, world.store, timeout=5.0, readback=True)
    assert next(c for c in first.channels if c.channel == "anou").drift == 1
    assert shown(world, "anou")["LAMP-1"]["status"] == "active"
    for market in MARKETS:
        assert counts(world, market) == ListingCounts(in_sync=len(SKUS)), market
