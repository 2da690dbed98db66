"""The sync pass against the three sandbox marketplaces at once, over real loopback HTTP.

One cooperative (tests/connectors/kit.py: a one-of-a-kind rug, a cushion in two sizes, a
lantern) on Amazon, Etsy and an ANOU-style marketplace, each through its real connector.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from syndicator.catalog.loader import path_digest
from syndicator.config import Config
from syndicator.planning.basis import load_basis
from syndicator.planning.plan import make_plan
from syndicator.store.alerts import open_alerts
from syndicator.store.journal import query_journal
from syndicator.store.schema import stock_ledger
from syndicator.sync.reconcile import SyncReport, sync_once
from tests.connectors.kit import CATALOG, SKUS, World
from tests.connectors.test_amazon import AmazonHarness
from tests.connectors.test_anou import HARNESS as ANOU
from tests.connectors.test_etsy import HARNESS as ETSY

AMAZON = AmazonHarness()
MARKETS = ("amazon", "etsy", "anou")


def sync(world: World, **kw: Any) -> SyncReport:
    return sync_once(world.config, world.store, timeout=5.0, **kw)


def shown(world: World, market: str) -> dict[str, dict[str, Any]]:
    """SKU -> the listing row the marketplace shows (variation parents left out); fails when
    a SKU is listed twice."""
    rows = world.control(market, "GET", "state")["listings"]
    rows = [r for r in rows if market != "amazon" or r.get("price") is not None]
    twice = [sku for sku, n in Counter(r["sku"] for r in rows).items() if n > 1]
    assert not twice, f"{market} lists {twice} more than once"
    return {r["sku"]: r for r in rows}


def quantities(world: World, sku: str) -> dict[str, int]:
    return {m: shown(world, m)[sku]["quantity"] for m in MARKETS}


def order(world: World, market: str, sku: str, quantity: int = 1) -> str:
    placed = world.control(market, "POST", "orders", {"sku": sku, "quantity": quantity})
    harness = {"amazon": AMAZON, "etsy": ETSY, "anou": ANOU}[market]
    return harness.order_id(placed)


def ledger_lines(world: World) -> int:
    with world.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_ledger)).scalar_one())


def write_catalog(world: World, text: str) -> None:
    (world.root / "catalogs" / "atlas-rugs.yaml").write_text(text, encoding="utf-8")


def test_a_first_pass_lists_everything_everywhere_and_a_second_sends_nothing(
    world: World,
) -> None:
    first = sync(world)
    assert first.ok, [c.to_json() for c in first.channels]
    for market in MARKETS:
        assert set(shown(world, market)) == set(SKUS), market
    assert {c.channel: c.done["create"] for c in first.channels} == dict.fromkeys(MARKETS, 4)
    second = sync(world)
    assert second.ok
    assert all(not c.done and not c.failed for c in second.channels)
    with world.store.read() as conn:
        created = query_journal(conn, action="create", outcome="ok", limit=100)
    assert len(created) == 12


def test_a_one_of_a_kind_rug_sold_on_etsy_is_at_zero_everywhere_in_the_same_pass(
    world: World,
) -> None:
    sync(world)
    assert quantities(world, "RUG-1") == dict.fromkeys(MARKETS, 1)
    order(world, "etsy", "RUG-1")
    report = sync(world)
    assert report.ok, [c.to_json() for c in report.channels]
    assert quantities(world, "RUG-1") == dict.fromkeys(MARKETS, 0)
    etsy = next(c for c in report.channels if c.channel == "etsy")
    assert etsy.order_lines == 1


def test_an_order_pulled_again_counts_once_and_a_cancellation_gives_it_back(
    world: World,
) -> None:
    sync(world)
    placed = order(world, "anou", "CUSH-1-S", 2)
    sync(world)
    sync(world)  # the overlap brings the same order back: not counted again
    assert ledger_lines(world) == 1
    assert quantities(world, "CUSH-1-S") == dict.fromkeys(MARKETS, 2)  # 4 - 2
    world.control("anou", "POST", f"orders/{placed}/cancel")
    sync(world)
    assert ledger_lines(world) == 2  # the sale and its cancellation
    assert quantities(world, "CUSH-1-S") == dict.fromkeys(MARKETS, 4)


def test_the_last_piece_sold_on_two_channels_raises_an_oversell_naming_both(
    world: World,
) -> None:
    sync(world)
    on_etsy = order(world, "etsy", "RUG-1")
    on_anou = order(world, "anou", "RUG-1")  # before either sale reached the other
    report = sync(world)
    assert quantities(world, "RUG-1") == dict.fromkeys(MARKETS, 0)
    (alert,) = report.alerts
    assert on_etsy in alert and on_anou in alert and "RUG-1" in alert
    with world.store.read() as conn:
        (stored,) = open_alerts(conn)
    assert stored.kind == "oversell" and stored.sku == "RUG-1"
    assert not sync(world).alerts  # raised once, not at every pass


def test_a_truncated_catalog_does_not_empty_the_shops(world: World) -> None:
    sync(world)
    cut = CATALOG[: CATALOG.index("  - sku: CUSH-1")]  # a half-saved file: only the rug
    write_catalog(world, cut)
    refused = sync(world)
    assert all(c.stopped and "--confirm-delist" in c.stopped for c in refused.channels)
    assert len(refused.alerts) == 3
    for market in MARKETS:
        assert all(r["quantity"] > 0 for s, r in shown(world, market).items() if s != "RUG-1")
    confirmed = sync(world, confirm_delist=True)
    assert confirmed.ok
    assert {c.channel: c.done["delist"] for c in confirmed.channels} == dict.fromkeys(MARKETS, 3)
    lamp = {m: shown(world, m).get("LAMP-1") for m in MARKETS}
    assert all(
        row is None or row["quantity"] == 0 or row["status"] != "active" for row in lamp.values()
    )


def test_a_pass_under_a_fifth_of_calls_failing_converges_on_the_next(world: World) -> None:
    faults = {
        "throttle": 0.06,
        "error_500": 0.05,
        "error_503": 0.04,
        "drop": 0.03,
        "slow": 0.02,
        "slow_seconds": 6.0,
        "retry_after": 0.1,
        "seed": 5,
    }
    for market in MARKETS:
        httpx.put(f"{world.sandbox.url(market)}/_sandbox/faults", json=faults).raise_for_status()
    sync(world)
    for market in MARKETS:
        httpx.put(f"{world.sandbox.url(market)}/_sandbox/faults", json={}).raise_for_status()
    report = sync(world)
    assert report.ok, [c.to_json() for c in report.channels]
    for market in MARKETS:
        rows = shown(world, market)  # no SKU twice
        assert set(rows) == set(SKUS), market
    again = sync(world)
    assert all(not c.done and not c.failed for c in again.channels)


def test_a_refused_item_is_journalled_in_the_channels_words_and_the_rest_goes_on(
    world: World,
) -> None:
    write_catalog(world, CATALOG.replace("    materials: [brass]\n", ""))  # Amazon needs it
    report = sync(world)
    amazon = next(c for c in report.channels if c.channel == "amazon")
    assert amazon.failed["create"] == 1 and amazon.done["create"] == 3
    with world.store.read() as conn:
        (entry,) = query_journal(conn, channel="amazon", outcome="failed")
    assert entry.sku == "LAMP-1"
    assert entry.message and "material" in entry.message
    assert not report.ok


def test_the_sync_and_journal_commands(world: World) -> None:
    from typer.testing import CliRunner

    from syndicator.cli import app

    runner = CliRunner()
    config = str(world.config_path)
    result = runner.invoke(app, ["sync", "--config", config, "--once", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    done = {c["channel"]: c["done"] for c in summary["channels"]}
    assert done == {market: {"create": 4} for market in MARKETS}
    write_catalog(world, CATALOG.replace("    materials: [brass]\n", ""))
    assert runner.invoke(app, ["sync", "--config", config, "--once"]).exit_code == 1
    listed = runner.invoke(app, ["journal", "--config", config, "--outcome", "failed", "--json"])
    assert listed.exit_code == 0, listed.output
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (entry["channel"], entry["sku"], entry["action"]) == ("amazon", "LAMP-1", "update")
    assert "material" in entry["message"]
    table = runner.invoke(app, ["journal", "--config", config, "--sku", "LAMP-1"])
    assert "LAMP-1" in table.stdout and "failed" in table.stdout
    for secret in (*AMAZON.secrets().values(), *ETSY.secrets().values()):
        assert secret not in table.stdout and secret not in listed.stdout


def with_sync(world: World, **settings: Any) -> Config:
    """The world's config with other ``sync:`` settings."""
    model = world.config.model
    sync_settings = model.sync.model_copy(update=settings)
    return Config(
        world.config.path,
        model.model_copy(update={"sync": sync_settings}),
        world.config.rates,
        world.config.channel_types,
    )


def test_removed_products_are_deleted_only_when_the_config_says_so(world: World) -> None:
    sync(world)
    write_catalog(world, CATALOG[: CATALOG.index("  - sku: LAMP-1")])  # the lantern goes
    # One of four listings is a quarter of the shop: more than the default share, so confirmed.
    report = sync_once(
        with_sync(world, removed="delete"), world.store, timeout=5.0, confirm_delist=True
    )
    assert report.ok, [c.to_json() for c in report.channels]
    assert {c.channel: dict(c.done) for c in report.channels} == {
        market: {"delete": 1} for market in MARKETS
    }
    assert "LAMP-1" not in shown(world, "amazon") and "LAMP-1" not in shown(world, "etsy")
    anou = shown(world, "anou").get("LAMP-1")  # ANOU has no delete: off sale
    assert anou is None or anou["status"] != "active"
    write_catalog(world, CATALOG)  # back in the catalog: listed anew
    again = sync(world)
    assert {c.channel: dict(c.done) for c in again.channels} == {
        market: {"create": 1} for market in MARKETS
    }
    assert all("LAMP-1" in shown(world, m) for m in MARKETS)


def test_a_channel_that_moved_its_own_stock_is_set_right_in_the_next_pass(world: World) -> None:
    """A shop lowers its own quantity when it sells and raises it when an order is cancelled,
    without us: the pass that sees the order sends that shop the quantity again."""
    sync(world)  # CUSH-1-S: 4 everywhere
    on_etsy = order(world, "etsy", "CUSH-1-S")
    sync(world)
    assert quantities(world, "CUSH-1-S") == dict.fromkeys(MARKETS, 3)
    world.control("etsy", "POST", f"orders/{on_etsy}/cancel")  # Etsy shows 4 by itself
    order(world, "anou", "CUSH-1-S")  # ANOU shows 2 by itself
    sync(world)
    assert quantities(world, "CUSH-1-S") == dict.fromkeys(MARKETS, 3)  # 4 - 1 + 1 - 1


def test_a_quiet_shop_costs_no_planning_until_a_sale_or_an_edit(world: World) -> None:
    """Once a pass left every shop in step (every change confirmed), the next ones neither
    read the catalog nor plan (syndicator/planning/marks.py); a sale and an edit each bring the
    planning back at once."""
    first = sync(world)
    assert first.ok and all(c.done for c in first.channels)  # every listing created
    second = sync(world)
    assert second.ok and all(c.quiet and not c.done for c in second.channels)
    order(world, "etsy", "RUG-1")
    report = sync(world)
    assert not any(c.quiet for c in report.channels)
    assert quantities(world, "RUG-1") == dict.fromkeys(MARKETS, 0)
    assert all(c.quiet for c in sync(world).channels)  # the sale's restocks were confirmed
    write_catalog(world, CATALOG.replace("    stock: 3\n", "    stock: 5\n"))  # lanterns
    report = sync(world)
    assert not any(c.quiet for c in report.channels)
    assert quantities(world, "LAMP-1") == dict.fromkeys(MARKETS, 5)
    assert all(c.quiet for c in sync(world).channels)


CSV_CATALOG = (
    "sku;parent_sku;title_ar;title_fr;title_en;description_en;category;materials;tags;price;"
    "stock;images;who_made;when_made;option_size\r\n"
    'RUG-1;;زربية بني ورين;Tapis Beni Ouarain;Beni Ourain rug;"Hand-knotted; undyed wool.";'
    "rugs;wool;beni ourain | handmade;4500;1;images/rug.jpg | images/rug-detail.jpg;"
    "collective;2020_2026;\r\n"
    'CUSH-1;;;Coussin kilim;Kilim cushion;"A cover woven\r\non the loom.";cushions;'
    "wool | cotton;;400;;images/cushion.jpg;collective;2020_2026;\r\n"
    "CUSH-1-S;CUSH-1;;;;;;;;;4;;;;small\r\n"
    "CUSH-1-L;CUSH-1;;;;;;;;550;2;;;;large\r\n"
    "LAMP-1;;;Lanterne en laiton;Brass lantern;Chiselled by hand in Fes.;lanterns;brass;;900;"
    "3;images/lamp.jpg;someone_else;2020_2026;\r\n"
)


def with_csv_catalog(world: World) -> Config:
    """The world's config with its catalog as a CSV file (the same products)."""
    (world.root / "catalogs" / "atlas-rugs.csv").write_text(CSV_CATALOG, encoding="utf-8-sig")
    model = world.config.model
    (coop,) = model.cooperatives
    csv_coop = coop.model_copy(update={"catalog": Path("catalogs/atlas-rugs.csv")})
    return Config(
        world.config.path,
        model.model_copy(update={"cooperatives": [csv_coop]}),
        world.config.rates,
        world.config.channel_types,
    )


def test_a_pass_leaves_a_basis_and_the_next_plans_only_what_is_new_or_refused(
    world: World,
) -> None:
    """syndicator/planning/basis.py through real passes: each pass keeps the file's rows; the next
    one plans from them only new rows, sold SKUs and changes a shop refused; a truncated
    save still asks for its delists."""
    config = with_csv_catalog(world)
    path = config.catalog_path(config.cooperatives[0])

    def planned() -> list[str]:
        (cplan,) = make_plan(config, world.store, today=date.today(), quiet=True).cooperatives
        assert cplan.from_basis and cplan.catalog is not None
        return [p.sku for p in cplan.catalog.products]

    path.write_text(CSV_CATALOG.replace(";brass;", ";;"), encoding="utf-8-sig")
    first = sync_once(config, world.store, timeout=5.0)  # Amazon refuses the lantern
    assert {c.channel: dict(c.failed) for c in first.channels}["amazon"] == {"create": 1}
    with world.store.read() as conn:
        basis = load_basis(conn, "atlas-rugs")
    assert basis is not None and basis.file_digest == path_digest(path)
    assert {sku for sku, _ in basis.records.values()} == {"RUG-1", "CUSH-1", *SKUS} - {"LAMP-1"}
    assert planned() == ["LAMP-1"]  # only what a shop refused is tried again

    path.write_text(CSV_CATALOG, encoding="utf-8-sig")  # the material filled in
    assert planned() == ["LAMP-1"]
    fixed = sync_once(config, world.store, timeout=5.0)
    assert fixed.ok and {c.channel: dict(c.done) for c in fixed.channels}["amazon"] == {"create": 1}
    assert all(c.quiet for c in sync_once(config, world.store, timeout=5.0).channels)

    path.write_text(CSV_CATALOG.replace(";900;", ";990;"), encoding="utf-8-sig")
    order(world, "etsy", "CUSH-1-S")
    assert planned() == ["LAMP-1"]  # the sale is not pulled yet
    report = sync_once(config, world.store, timeout=5.0)
    assert report.ok
    # Each shop: the lantern repriced, the cushion's size sold restocked (Etsy updates the
    # listing that holds both sizes).
    assert all(c.done["reprice"] == 1 and c.done.total() == 2 for c in report.channels)
    assert Decimal(str(shown(world, "anou")["LAMP-1"]["price"])) > Decimal("900")
    assert quantities(world, "CUSH-1-S") == {"amazon": 3, "etsy": 3, "anou": 3}
    assert all(c.quiet for c in sync_once(config, world.store, timeout=5.0).channels)

    path.write_text(CSV_CATALOG.split("\r\n", 1)[0] + "\r\n", encoding="utf-8-sig")
    stopped = sync_once(config, world.store, timeout=5.0)  # a truncated save
    assert all(c.stopped for c in stopped.channels)  # mass delist refused
    (cplan,) = make_plan(config, world.store, today=date.today(), quiet=True).cooperatives
    assert cplan.from_basis
    delists = {(op.channel, op.sku) for op in cplan.channels[0].ops if op.action == "delist"}
    assert {sku for _, sku in delists} == set(SKUS)  # asked again, never forgotten
