"""Planning: what each channel needs now, compared with what it last confirmed.

The world here: one cooperative with a small CSV catalog and three channels (Amazon in USD,
Etsy in EUR, ANOU in MAD with a stock buffer), and a real SQLite store.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from syndicator.config import Config, load_config
from syndicator.planning.availability import new_counts
from syndicator.planning.operations import Action, PlannedOp, confirmed_state
from syndicator.planning.plan import PlanReport, make_plan
from syndicator.plugins import ChannelType
from syndicator.store import Store
from syndicator.store.ledger import save_stock_counts
from syndicator.store.listings import save_listings
from syndicator.store.schema import stock_ledger
from tests.conftest import JPEG

TODAY = date(2026, 11, 25)
CONFIG = """
store: {url: sqlite:///state.db}
exchange_rates:
  - {date: 2026-11-02, USD: 0.1082, EUR: 0.0934}
cooperatives:
  - id: atlas
    catalog: catalog.csv
    channels:
      - id: amazon
        type: amazon
        currency: USD
        languages: [en, fr]
        pricing: {fee_percent: 15, rounding: ends_99}
        stock: {max_quantity: 5}
        categories: {rugs: RUG, cushions: HOME}
        settings: {seller_id: S1, marketplace_id: ATVPDKIKX0DER}
        credentials:
          refresh_token: {env: A_RT}
          client_id: {env: A_ID}
          client_secret: {env: A_SECRET}
      - id: etsy
        type: etsy
        currency: EUR
        languages: [fr, en]
        pricing: {fee_percent: 9.5, fee_fixed: 0.45, rounding: ends_90}
        categories: {rugs: "1036", cushions: "1057"}
        settings: {shop_id: 1}
        credentials:
          keystring: {env: E_K}
          shared_secret: {env: E_S}
          refresh_token: {env: E_RT}
      - id: anou
        type: anou
        currency: MAD
        languages: [fr, ar, en]
        pricing: {fee_percent: 10, rounding: whole}
        stock: {buffer: 1}
        settings: {base_url: https://anou.example.org/api}
        credentials:
          api_key: {env: ANOU_KEY}
"""
HEADER = (
    "sku;parent_sku;title_ar;title_fr;title_en;description_fr;category;price;stock;images;"
    "who_made;when_made;option_size;amazon_enabled;anou_stock_buffer"
)
ROWS = {
    "RUG-1": "RUG-1;;زربية;Tapis unique;One-of-a-kind rug;Laine;rugs;4500;1;images/rug.jpg;"
    "collective;2025;;;",
    "RUG-2": "RUG-2;;;Tapis Azilal;Azilal rug;Laine;rugs;2000;8;images/rug.jpg;collective;2025;;;",
    "CSH-3": "CSH-3;;وسادة;Coussin;Cushion;Coton;cushions;350;;images/rug.jpg;collective;2025;;;",
    "CSH-3-S": "CSH-3-S;CSH-3;;;;;;;4;;;;petit;;",
    "CSH-3-L": "CSH-3-L;CSH-3;;;;;;420;2;;;;grand;;1",
    "VIN-4": "VIN-4;;;Tapis ancien;;Ancien;rugs;9000;1;images/rug.jpg;someone_else;1990s;;non;",
    "OUT-5": "OUT-5;;;Tapis épuisé;Sold-out rug;Laine;rugs;800;0;images/rug.jpg;collective;2025;;;",
}


@dataclass
class World:
    folder: Path
    config: Config
    store: Store

    def write_catalog(self, rows: dict[str, str], *, mtime: datetime | None = None) -> None:
        path = self.folder / "catalog.csv"
        path.write_text("\r\n".join([HEADER, *rows.values()]) + "\r\n", encoding="utf-8-sig")
        if mtime is not None:
            import os

            os.utime(path, (mtime.timestamp(), mtime.timestamp()))

    def plan(self, **kw: str) -> PlanReport:
        """The full plan (every row checked), after showing that the incremental plan, which
        leaves unchanged products unchecked, plans exactly the same changes."""
        full = make_plan(self.config, self.store, today=TODAY, incremental=False, **kw)
        fast = make_plan(self.config, self.store, today=TODAY, **kw)

        def changes(report: PlanReport) -> list[dict[str, object]]:
            return [op.to_json() for op in report.ops() if op.action is not Action.UNCHANGED]

        assert changes(fast) == changes(full)
        for a, b in zip(fast.cooperatives, full.cooperatives, strict=True):
            assert [c.counts() for c in a.channels] == [c.counts() for c in b.channels]
        assert sorted(map(str, fast.problems())) == sorted(map(str, full.problems()))
        return full

    def ops(self, **kw: str) -> dict[tuple[str, str], PlannedOp]:
        return {(op.channel, op.sku): op for op in self.plan(**kw).ops()}

    def confirm(self, report: PlanReport | None = None) -> None:
        """Record the plan as done, as a sync pass does once each channel confirms."""
        report = report or self.plan()
        now = datetime.now(UTC)
        with self.store.write() as conn:
            for cplan in report.cooperatives:
                assert cplan.catalog is not None
                save_stock_counts(
                    conn,
                    cplan.cooperative.id,
                    new_counts(cplan.catalog.units(), {}, cplan.catalog.modified_at),
                )
                for chplan in cplan.channels:
                    states = [confirmed_state(op, f"R-{op.sku}") for op in chplan.ops]
                    save_listings(
                        conn,
                        cplan.cooperative.id,
                        chplan.channel.id,
                        [s for s in states if s is not None],
                        now,
                    )

    def sell(
        self,
        sku: str,
        quantity: int,
        *,
        channel: str = "etsy",
        order: str = "o-1",
        at: datetime | None = None,
        kind: str = "sale",
    ) -> None:
        at = at or datetime.now(UTC)
        with self.store.write() as conn:
            conn.execute(
                stock_ledger.insert().values(
                    cooperative="atlas",
                    sku=sku,
                    channel=channel,
                    order_id=order,
                    line_id="1",
                    kind=kind,
                    quantity=quantity,
                    delta=-quantity if kind == "sale" else quantity,
                    occurred_at=at,
                    recorded_at=at,
                )
            )


@pytest.fixture
def world(
    tmp_path: Path, channel_types: dict[str, ChannelType], monkeypatch: pytest.MonkeyPatch
) -> World:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "rug.jpg").write_bytes(JPEG)
    config_path = tmp_path / "syndicator.yaml"
    config_path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    config = load_config(config_path, channel_types)
    w = World(tmp_path, config, Store(config.database_url))
    w.write_catalog(ROWS, mtime=datetime.now(UTC) - timedelta(hours=1))
    yield w  # type: ignore[misc]
    w.store.close()


def test_a_new_store_plans_a_create_for_every_listable_sku(world: World) -> None:
    ops = world.ops()
    creates = sorted(k for k, op in ops.items() if op.action is Action.CREATE)
    assert creates == sorted(
        [(ch, s) for ch in ("amazon", "etsy") for s in ("RUG-1", "RUG-2", "CSH-3-S", "CSH-3-L")]
        + [("anou", "RUG-2"), ("anou", "CSH-3-S"), ("etsy", "VIN-4")]
    )
    # ANOU holds one piece back: the one-of-a-kind pieces show 0 there and are not created.
    assert ops[("anou", "RUG-1")].action is Action.UNCHANGED
    assert ops[("anou", "VIN-4")].action is Action.UNCHANGED
    assert ("amazon", "VIN-4") not in ops  # turned off for Amazon, never listed: nothing to do
    assert ops[("etsy", "OUT-5")].action is Action.UNCHANGED  # sold out: not created
    assert ops[("etsy", "OUT-5")].reason == "none available; not listed"


def test_prices_languages_and_quantities_per_channel(world: World) -> None:
    ops = world.ops()
    rug_amazon, rug_etsy, rug_anou = (ops[(ch, "RUG-1")] for ch in ("amazon", "etsy", "anou"))
    assert (rug_amazon.language, rug_amazon.title) == ("en", "One-of-a-kind rug")
    assert (rug_etsy.language, rug_etsy.title) == ("fr", "Tapis unique")
    assert str(rug_amazon.price) == "572.99 USD"  # 4500 x 0.1082 / 0.85 = 572.82 -> .99
    assert str(rug_etsy.price) == "465.90 EUR"  # (420.30 + 0.45) / 0.905 = 464.92 -> 465.90
    assert str(rug_anou.price) == "5000.00 MAD"  # 4500 / 0.90
    assert (rug_amazon.quantity, rug_etsy.quantity, rug_anou.quantity) == (1, 1, 0)  # buffer 1
    assert ops[("amazon", "RUG-2")].quantity == 5  # capped by max_quantity
    assert ops[("anou", "RUG-2")].quantity == 7
    assert ops[("anou", "CSH-3-L")].quantity == 0  # channel buffer 1 + the row's own 1
    assert ops[("etsy", "CSH-3-S")].price is not None
    assert ops[("amazon", "CSH-3-L")].parent_sku == "CSH-3"


def test_once_confirmed_nothing_changes_and_no_call_is_planned(world: World) -> None:
    world.confirm()
    ops = list(world.plan().ops())
    assert {op.action for op in ops} == {Action.UNCHANGED}
    # Worked out from the same inputs as last time: not even projected again.
    assert all(op.projection is None for op in ops if op.previous_price is not None)
    unchanged = world.ops()[("amazon", "RUG-1")]
    assert (str(unchanged.price), unchanged.quantity) == ("572.99 USD", 1)


def test_unchanged_products_are_not_even_checked_again(world: World) -> None:
    """After a confirmation, a plan checks only what changed: here nothing, then one row."""
    world.confirm()
    fast = make_plan(world.config, world.store, today=TODAY)
    (coop,) = fast.cooperatives
    assert coop.catalog is not None
    # A product with a unit not listed on some channel is checked every time: VIN-4 (off for
    # Amazon), OUT-5 (sold out), RUG-1 and CSH-3-L (ANOU's buffer leaves 0: not created
    # there). RUG-2, listed everywhere as confirmed, is left out unchecked.
    assert {p.sku for p in coop.catalog.products} == {"RUG-1", "CSH-3", "VIN-4", "OUT-5"}
    assert coop.unchanged == 1
    assert all(op.action is Action.UNCHANGED for op in fast.ops())
    rows = dict(ROWS)
    rows["CSH-3-L"] = rows["CSH-3-L"].replace(";420;", ";460;")
    world.write_catalog(rows)
    fast = make_plan(world.config, world.store, today=TODAY)
    (coop,) = fast.cooperatives
    assert coop.catalog is not None
    changed = {
        (op.channel, op.sku): op.action for op in fast.ops() if op.action is not Action.UNCHANGED
    }
    assert changed == {(ch, "CSH-3-L"): Action.REPRICE for ch in ("amazon", "etsy")}
    rows["RUG-2"] = rows["RUG-2"].replace("Azilal rug", "Azilal rug, wool")
    world.write_catalog(rows)
    (coop,) = make_plan(world.config, world.store, today=TODAY).cooperatives
    assert coop.catalog is not None and coop.unchanged == 0
    assert "RUG-2" in {p.sku for p in coop.catalog.products}
    world.plan()  # and the full plan agrees


def test_a_sale_or_a_bad_edit_brings_a_product_back_into_the_checks(world: World) -> None:
    world.confirm()
    world.sell("RUG-2", 1)
    rows = dict(ROWS)
    rows["RUG-1"] = rows["RUG-1"].replace(";4500;", ";-4;")
    world.write_catalog(rows)
    fast = make_plan(world.config, world.store, today=TODAY)
    (coop,) = fast.cooperatives
    assert coop.catalog is not None
    assert {"RUG-2"} <= {p.sku for p in coop.catalog.products}
    assert coop.catalog.held == {"RUG-1": 2}
    assert any(p.sku == "RUG-1" and p.line == 2 for p in fast.problems())
    ops = {(op.channel, op.sku): op for op in fast.ops()}
    assert ops[("etsy", "RUG-2")].action is Action.RESTOCK
    assert ops[("amazon", "RUG-1")].action is Action.HOLD  # keeps its last good state
    world.plan()


def test_a_removed_row_is_still_delisted_when_the_rest_is_left_unchecked(world: World) -> None:
    world.confirm()
    rows = {k: v for k, v in ROWS.items() if k != "RUG-2"}
    world.write_catalog(rows)
    fast = make_plan(world.config, world.store, today=TODAY)
    changed = {
        (op.channel, op.sku): op.action for op in fast.ops() if op.action is not Action.UNCHANGED
    }
    assert changed == {(ch, "RUG-2"): Action.DELIST for ch in ("amazon", "etsy", "anou")}
    world.plan()


def test_what_changed_since_the_last_confirmation_is_worked_out_again(world: World) -> None:
    world.confirm()
    world.sell("RUG-2", 1)
    ops = world.ops()
    assert ops[("etsy", "RUG-2")].action is Action.RESTOCK
    assert ops[("etsy", "RUG-2")].projection is not None
    assert ops[("etsy", "RUG-1")].projection is None


def test_a_change_of_channel_settings_or_rate_reprices_every_sku(
    world: World, channel_types: dict[str, ChannelType]
) -> None:
    world.confirm()
    config_path = world.folder / "syndicator.yaml"
    text = config_path.read_text()
    config_path.write_text(
        text.replace(
            "{fee_percent: 15, rounding: ends_99}", "{fee_percent: 16, rounding: ends_99}"
        ).replace("EUR: 0.0934", "EUR: 0.0950")
    )
    world.config = load_config(config_path, channel_types)
    ops = world.ops()
    listed = {k: op for k, op in ops.items() if op.previous_price is not None}
    assert {op.action for (ch, _), op in listed.items() if ch == "amazon"} == {Action.REPRICE}
    assert {op.action for (ch, _), op in listed.items() if ch == "etsy"} == {Action.REPRICE}
    assert {op.action for (ch, _), op in listed.items() if ch == "anou"} == {Action.UNCHANGED}


def test_each_kind_of_edit_gives_its_action(world: World) -> None:
    world.confirm()
    rows = dict(ROWS)
    rows["RUG-1"] = rows["RUG-1"].replace("Tapis unique", "Tapis unique, laine écrue")
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;8;", ";2100;8;")
    rows["CSH-3-S"] = rows["CSH-3-S"].replace(";4;", ";3;")
    del rows["OUT-5"]
    world.write_catalog(rows)
    ops = world.ops()
    assert ops[("etsy", "RUG-1")].action is Action.UPDATE  # French title shown on Etsy
    assert ops[("etsy", "RUG-1")].changes == ("content",)
    assert ops[("amazon", "RUG-1")].action is Action.UNCHANGED  # Amazon shows the English one
    assert ops[("amazon", "RUG-2")].action is Action.REPRICE
    assert ops[("amazon", "RUG-2")].previous_price is not None
    assert ops[("amazon", "CSH-3-S")].action is Action.RESTOCK
    assert (ops[("amazon", "CSH-3-S")].previous_quantity, ops[("amazon", "CSH-3-S")].quantity) == (
        4,
        3,
    )
    assert ("etsy", "OUT-5") not in ops  # never listed (sold out): nothing to take down


def test_a_product_removed_from_the_catalog_is_delisted(world: World) -> None:
    world.confirm()
    rows = dict(ROWS)
    del rows["RUG-2"]
    world.write_catalog(rows)
    ops = world.ops()
    assert {ch: ops[(ch, "RUG-2")].action for ch in ("amazon", "etsy", "anou")} == dict.fromkeys(
        ("amazon", "etsy", "anou"), Action.DELIST
    )
    assert ops[("etsy", "RUG-2")].reason == "no longer in the catalog"


def test_turning_a_product_off_for_one_channel_delists_it_there_only(world: World) -> None:
    world.confirm()
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].removesuffix(";;;") + ";;false;"
    world.write_catalog(rows)
    ops = world.ops()
    assert ops[("amazon", "RUG-2")].action is Action.DELIST
    assert ops[("amazon", "RUG-2")].reason == "turned off for amazon in the catalog"
    assert ops[("etsy", "RUG-2")].action is Action.UNCHANGED


def test_a_row_with_a_problem_keeps_its_last_good_state(world: World) -> None:
    world.confirm()
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;8;", ";deux mille;8;")
    world.write_catalog(rows)
    report = world.plan()
    ops = {(op.channel, op.sku): op for op in report.ops()}
    for ch in ("amazon", "etsy", "anou"):
        op = ops[(ch, "RUG-2")]
        assert op.action is Action.HOLD  # not delisted, not changed
        assert op.reason == "left out of the catalog because of a problem on line 3"
        assert op.previous_price is not None and op.previous_quantity is not None
    assert any(p.sku == "RUG-2" and "deux mille" in p.message for p in report.problems())
    assert ops[("amazon", "RUG-1")].action is Action.UNCHANGED  # the rest goes on


def test_an_unreadable_catalog_plans_nothing(world: World) -> None:
    world.confirm()
    (world.folder / "catalog.csv").write_bytes(b"PK\x03\x04 not a csv")
    report = world.plan()
    assert list(report.ops()) == []
    assert report.cooperatives[0].unreadable is not None
    assert "Excel workbook" in report.cooperatives[0].unreadable.message


def test_a_sale_after_the_count_lowers_every_channel(world: World) -> None:
    world.confirm()
    world.sell("RUG-1", 1, channel="etsy")
    ops = world.ops()
    for ch in ("amazon", "etsy", "anou"):
        assert ops[(ch, "RUG-1")].quantity == 0
    assert ops[("amazon", "RUG-1")].action is Action.RESTOCK  # listed 1, now 0
    assert ops[("anou", "RUG-1")].action is Action.UNCHANGED  # its buffer already showed 0


def test_a_sale_before_the_count_is_already_in_it(world: World) -> None:
    world.confirm()
    world.sell("RUG-2", 3, at=datetime.now(UTC) - timedelta(days=2))
    assert world.ops()[("etsy", "RUG-2")].quantity == 8


def test_a_new_count_in_the_file_starts_again_from_the_file(world: World) -> None:
    world.confirm()
    world.sell("RUG-2", 3)  # 8 - 3 = 5 left
    assert world.ops()[("etsy", "RUG-2")].quantity == 5
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;8;", ";2000;6;")  # the member counted 6
    world.write_catalog(rows, mtime=datetime.now(UTC) + timedelta(seconds=5))
    assert world.ops()[("etsy", "RUG-2")].quantity == 6


def test_a_cancellation_gives_stock_back_and_available_never_goes_below_zero(
    world: World,
) -> None:
    world.confirm()
    world.sell("RUG-1", 1, order="o-1", channel="etsy")
    world.sell("RUG-1", 1, order="o-2", channel="amazon")  # sold twice: an oversell
    assert world.ops()[("etsy", "RUG-1")].quantity == 0
    world.sell("RUG-1", 1, order="o-2", channel="amazon", kind="cancel")
    assert world.ops()[("etsy", "RUG-1")].quantity == 0
    world.sell("RUG-1", 1, order="o-1", channel="etsy", kind="cancel")
    assert world.ops()[("etsy", "RUG-1")].quantity == 1


def test_language_fallback_and_a_product_no_channel_language_can_show(world: World) -> None:
    rows = dict(ROWS)
    rows["AR-6"] = "AR-6;;زربية;;;وصف;rugs;500;2;images/rug.jpg;collective;2025;;;"
    world.write_catalog(rows)
    report = world.plan()
    ops = {(op.channel, op.sku): op for op in report.ops()}
    assert ops[("etsy", "RUG-2")].language == "fr"
    assert ops[("amazon", "RUG-2")].language == "en"
    assert ops[("anou", "AR-6")].language == "ar"  # ANOU shows fr, ar, en: Arabic is fine
    held = ops[("amazon", "AR-6")]
    assert held.action is Action.HOLD
    assert held.reason == "no title in a language amazon shows (en, fr); add title_en"
    problems = [str(p) for p in report.problems() if p.sku == "AR-6"]
    assert any(
        p.startswith("catalog.csv:9: AR-6: not listed on amazon: no title") for p in problems
    )


def test_what_a_channel_requires_is_checked_per_channel(world: World) -> None:
    rows = dict(ROWS)
    rows["NOW-7"] = "NOW-7;;;Tapis;Rug;Laine;rugs;500;2;images/rug.jpg;;;;;"  # no who/when
    rows["LAMP-8"] = "LAMP-8;;;Lampe;Lamp;Cuivre;lamps;500;2;images/rug.jpg;collective;2025;;;"
    world.write_catalog(rows)
    ops = world.ops()
    assert ops[("etsy", "NOW-7")].action is Action.HOLD
    assert (
        ops[("etsy", "NOW-7")].reason == "Etsy needs who_made, when_made, which this product lacks"
    )
    assert ops[("amazon", "NOW-7")].action is Action.CREATE
    assert ops[("amazon", "LAMP-8")].reason == (
        'category "lamps" has no Amazon category: add it under categories: of channel amazon in '
        "the config, or set amazon_category"
    )
    assert ops[("anou", "LAMP-8")].action is Action.CREATE  # ANOU takes the catalog's category


def test_filters_by_cooperative_and_channel(world: World) -> None:
    assert {op.channel for op in world.plan(channel="etsy").ops()} == {"etsy"}
    from syndicator.errors import ScopeError

    with pytest.raises(ScopeError, match='no cooperative "atlass" in the config; did you'):
        world.plan(cooperative="atlass")
    with pytest.raises(ScopeError, match='has no channel "etsi"; did you mean "etsy"'):
        world.plan(cooperative="atlas", channel="etsi")


def test_plan_json_has_the_promised_fields(world: World) -> None:
    op = world.ops()[("amazon", "RUG-1")].to_json()
    assert {"cooperative", "channel", "sku", "action", "price", "quantity"} <= set(op)
    assert op["price"] == {"amount": "572.99", "currency": "USD"}
    assert isinstance(op["price"]["amount"], str) and Decimal(op["price"]["amount"])  # type: ignore[index]


def test_a_sku_written_twice_is_reported_when_the_rest_is_left_unchecked(world: World) -> None:
    world.confirm()
    rows = dict(ROWS)
    rows["RUG-2 again"] = ROWS["RUG-2"].replace("Azilal rug", "Azilal rug, copy")
    world.write_catalog(rows)
    fast = make_plan(world.config, world.store, today=TODAY)
    (coop,) = fast.cooperatives
    assert coop.catalog is not None and set(coop.catalog.held) == {"RUG-2"}
    assert any("also used on line" in p.message for p in fast.problems())
    actions = {op.action for op in fast.ops() if op.sku == "RUG-2"}
    assert actions == {Action.HOLD}  # keeps its last good state on every channel
    world.plan()


def test_a_sale_in_the_same_second_as_the_save_counts_as_after_it(world: World) -> None:
    """Shops date orders to the second; the file's save time has microseconds. A sale in
    that second is taken off the new count: the side that never sells a piece twice."""
    saved = datetime(2026, 11, 24, 10, 0, 0, 600_000, tzinfo=UTC)
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";8;", ";6;")  # a new count: 6
    world.write_catalog(rows, mtime=saved)
    world.sell("RUG-2", 1, at=saved.replace(microsecond=0))  # 10:00:00, as the shop dates it
    assert world.ops()[("etsy", "RUG-2")].quantity == 5


def test_a_held_listing_that_shows_more_than_is_left_is_taken_off_sale(world: World) -> None:
    """A broken row keeps its listings as they were, but not above what is left: the
    one-of-a-kind rug's row breaks, then the rug sells: no shop may go on showing it."""
    world.confirm()
    rows = dict(ROWS)
    rows["RUG-1"] = rows["RUG-1"].replace(";4500;", ";-4;")
    world.write_catalog(rows)
    ops = world.ops()
    assert {ops[(ch, "RUG-1")].action for ch in ("amazon", "etsy")} == {Action.HOLD}
    world.sell("RUG-1", 1, channel="amazon")
    ops = world.ops()
    for ch in ("amazon", "etsy"):
        assert ops[(ch, "RUG-1")].action is Action.DELIST
        assert "taken off sale until the row is fixed" in (ops[(ch, "RUG-1")].reason or "")
    assert ops[("anou", "RUG-1")].action is Action.HOLD  # its buffer showed 0: never listed


def test_a_tag_longer_than_etsy_takes_is_left_out_with_a_warning(world: World) -> None:
    """Etsy refuses a whole listing for one tag over 20 characters: the tag is left out
    there (and only there), and the plan says so with the row's line."""
    path = world.folder / "catalog.csv"
    lines = [HEADER + ";tags", *(row + ";" for row in ROWS.values())]
    lines[2] = lines[2][:-1] + ";azilal|moroccan serving dish"  # RUG-2, line 3
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    report = world.plan()
    ops = {(op.channel, op.sku): op for op in report.ops()}
    etsy, anou = ops[("etsy", "RUG-2")], ops[("anou", "RUG-2")]
    assert etsy.projection is not None and anou.projection is not None
    assert etsy.projection.tags == ("azilal",)
    assert anou.projection.tags == ("azilal", "moroccan serving dish")
    (warning,) = [p for p in report.problems() if "characters" in p.message]
    assert warning.line == 3
    assert warning.message == (
        "etsy: Etsy takes tags of at most 20 characters; left out: moroccan serving dish"
    )
