"""The bundled demo: what a newcomer sees must be a realistic, clean pair of catalogs, served
by the in-process sandbox, with buyers who order and review."""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from sandbox.demo import Buyers, DemoSandbox, Shop, start
from syndicator.catalog import Catalog, Product, load_catalog
from syndicator.config import Config, load_config
from syndicator.plugins import load_channel_types
from syndicator.store import Store
from syndicator.store.listings import load_listings
from syndicator.store.schema import reviews, stock_ledger
from syndicator.sync.reconcile import SyncReport, sync_once
from tests.conftest import REPO
from tests.connectors.kit import SKUS, write_catalog

DEMO = REPO / "config" / "catalogs"


def demo() -> tuple[Catalog, Catalog]:
    return (
        load_catalog(DEMO / "atlas-rugs.yaml", cooperative="atlas-rugs"),
        load_catalog(DEMO / "zellige-fes.csv"),
    )


def test_the_demo_catalogs_are_clean_and_hold_30_products_or_more() -> None:
    rugs, zellige = demo()
    assert rugs.problems == () and zellige.problems == ()
    assert rugs.held == {} and zellige.held == {}
    assert len(rugs.products) + len(zellige.products) >= 30


def test_the_demo_has_what_cooperatives_sell() -> None:
    products = [p for c in demo() for p in c.products]
    units = [u for c in demo() for u in c.units()]
    assert all({"ar", "fr", "en"} & set(p.title) for p in products)
    assert sum({"ar", "fr", "en"} <= set(p.title) for p in products) >= 25
    assert sum(1 for p in products if p.variants) >= 4
    assert sum(1 for u in units if u.stock == 1 and u.variant is None) >= 6  # one of a kind
    assert sum(1 for p in products if p.when_made == "made_to_order" and p.made_to_order_days) >= 4
    assert any(p.channels for p in products)


def test_the_csv_is_saved_as_french_excel_does() -> None:
    raw = (DEMO / "zellige-fes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    header = raw.split(b"\r\n", 1)[0].decode("utf-8-sig")
    assert header.count(";") > 20 and "," not in header
    assert b"\r\n" in raw
    assert re.search(rb";\d{1,3}(?: \d{3})*,\d{2};", raw)  # decimal commas such as 1 250,50


def test_every_local_image_of_the_demo_exists() -> None:
    for catalog in demo():
        for unit in catalog.units():
            for ref in unit.product.images:
                if "://" not in ref:
                    assert (Path(catalog.root) / ref).is_file(), ref


# ------------------------------------------------------------------ the demo's sandbox
# The daemon's demo (sandbox/demo.py): the bundled config served by the
# in-process sandbox, with buyers. The buyers' thread is off in these tests: each test makes
# a buyer act when it wants, so nothing here waits on randomness.
def demo_config(root: Path, *, buyers: str = "{enabled: false, seed: 7}") -> Config:
    """The bundled config and catalogs copied into ``root`` (so its store is written
    there), read as the daemon reads it, with ``sandbox.buyers`` set to ``buyers``."""
    shutil.copytree(REPO / "config", root / "config", ignore=shutil.ignore_patterns("var"))
    path = root / "config" / "demo.yaml"
    text = path.read_text(encoding="utf-8")
    assert "sandbox:\n  enabled: true\n" in text  # the demo runs on the sandbox
    text = text.replace(
        "sandbox:\n  enabled: true\n", f"sandbox:\n  enabled: true\n  buyers: {buyers}\n"
    )
    path.write_text(text, encoding="utf-8")
    return load_config(path, load_channel_types())


@dataclass
class Listed:
    demo: DemoSandbox
    store: Store
    first: SyncReport  # the first pass's report


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    """The demo started on a fresh copy of the bundled config, after one sync pass."""
    demo = start(demo_config(tmp_path_factory.mktemp("demo")))
    store = Store(demo.config.database_url)
    yield Listed(demo, store, sync_once(demo.config, store))
    store.close()
    demo.stop()


def products(config: Config, cooperative: str) -> dict[str, Product]:
    """The cooperative's catalog, by SKU of each unit sold."""
    coop = config.cooperative(cooperative)
    catalog = load_catalog(config.catalog_path(coop), cooperative=cooperative)
    return {u.sku: u.product for u in catalog.units()}


def test_the_demo_config_is_pointed_at_the_sandbox_with_its_own_accounts(
    listed: Listed,
) -> None:
    demo = listed.demo
    assert {str(s) for s in demo.shops} == {
        f"{coop}/{channel}"
        for coop in ("atlas-rugs", "zellige-fes")
        for channel in ("amazon", "etsy", "anou")
    }
    for coop in demo.config.cooperatives:
        for ch in coop.channels:
            assert (coop.id, ch.id) in demo.config.credential_values
            where = ch.settings.get("endpoint") or ch.settings.get("base_url")
            assert str(where).startswith(demo.url(ch.type))
    # The bundled file keeps its references (validation needs them; the sandbox does not).
    assert demo.config.path.read_text(encoding="utf-8").count("{env: ") >= 8


def test_a_pass_lists_the_demo_catalogs_on_all_six_channels(
    listed: Listed,
) -> None:
    demo, store = listed.demo, listed.store
    for shop in demo.shops:
        shown = demo.listings(shop.cooperative, shop.channel)
        with store.read() as conn:
            confirmed = {
                s.sku: s
                for s in load_listings(conn, shop.cooperative, shop.channel).values()
                if s.listed
            }
        assert confirmed, shop
        catalog = products(demo.config, shop.cooperative)
        assert set(confirmed) <= set(shown), shop
        assert {sku for sku in shown if sku in catalog} == set(confirmed), shop
        for sku, state in confirmed.items():
            assert shown[sku]["quantity"] == state.quantity, (shop, sku)
    for shop in demo.shops:  # most of each catalog (a piece kept back is not on ANOU)
        assert len(demo.listings(shop.cooperative, shop.channel)) >= 15, shop


def test_no_shop_refuses_a_demo_product(listed: Listed) -> None:
    assert listed.first.ok, [r.to_json() for r in listed.first.channels if r.failed]


def test_a_buyers_order_reaches_the_ledger_and_lowers_the_other_channels(
    listed: Listed,
) -> None:
    demo, store = listed.demo, listed.store
    catalog = products(demo.config, "atlas-rugs")
    before = {ch: demo.listings("atlas-rugs", ch) for ch in ("amazon", "etsy", "anou")}
    sku = next(  # a piece made ahead, on sale on ANOU and on Amazon
        sku
        for sku, row in sorted(before["anou"].items())
        if row["quantity"] >= 1
        and before["amazon"].get(sku, {}).get("quantity", 0) >= 2
        and catalog[sku].when_made != "made_to_order"
    )
    action = demo.buyers.order(shop=demo.shop("atlas-rugs", "anou"), sku=sku)
    assert action is not None and action.order_id
    assert action.describe() == f"a buyer ordered 1 × {sku} on atlas-rugs/anou"
    assert demo.buyers.actions[-1] == action
    assert (
        demo.listings("atlas-rugs", "anou")[sku]["quantity"] == before["anou"][sku]["quantity"] - 1
    )

    report = sync_once(demo.config, store, cooperative="atlas-rugs")
    assert report.alerts == []
    with store.read() as conn:
        ledger = conn.execute(
            select(stock_ledger).where(
                stock_ledger.c.cooperative == "atlas-rugs", stock_ledger.c.sku == sku
            )
        ).all()
    assert [(r.channel, r.order_id, r.kind, r.quantity) for r in ledger] == [
        ("anou", action.order_id, "sale", 1)
    ]
    after = {ch: demo.listings("atlas-rugs", ch) for ch in ("amazon", "etsy")}
    assert after["amazon"][sku]["quantity"] == before["amazon"][sku]["quantity"] - 1
    if sku in before["etsy"]:
        assert after["etsy"][sku]["quantity"] == before["etsy"][sku]["quantity"] - 1


def test_a_buyers_review_comes_back_in_the_reviews_pull(
    listed: Listed,
) -> None:
    demo, store = listed.demo, listed.store
    shop = demo.shop("zellige-fes", "anou")
    ordered = demo.buyers.order(shop=shop)
    assert ordered is not None
    reviewed = demo.buyers.review(shop=shop)
    assert reviewed is not None and reviewed.kind == "review"
    assert (reviewed.sku, reviewed.order_id) == (ordered.sku, ordered.order_id)
    assert reviewed.rating is not None and 1 <= reviewed.rating <= 5
    assert reviewed.language == "fr"  # the channel's first language
    assert demo.buyers.review(shop=shop) is None  # each order is reviewed once

    report = sync_once(demo.config, store, cooperative="zellige-fes", reviews=True)
    run = next(r for r in report.channels if (r.cooperative, r.channel) == ("zellige-fes", "anou"))
    assert run.reviews == 1
    with store.read() as conn:
        rows = conn.execute(
            select(reviews).where(
                reviews.c.cooperative == "zellige-fes", reviews.c.channel == "anou"
            )
        ).all()
    assert [(r.sku, r.rating, r.text, r.language) for r in rows] == [
        (reviewed.sku, reviewed.rating, reviewed.text, "fr")
    ]


def test_buyers_act_on_their_own_and_review_what_they_bought(
    listed: Listed,
) -> None:
    demo = listed.demo
    shops = [demo.shop("zellige-fes", "amazon")]  # a shop the other tests leave alone
    buyers = Buyers({"amazon": demo.url("amazon")}, shops, every=0.01, review_share=0.5, seed=3)
    buyers.start()
    deadline = time.monotonic() + 10
    while len(buyers.actions) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    buyers.stop()
    assert not buyers.is_alive()
    done = buyers.actions
    assert len(done) >= 12
    orders = [a for a in done if a.kind == "order"]
    rated = [a for a in done if a.kind == "review"]
    assert orders and rated
    assert {a.shop for a in done} == set(shops)
    for review in rated:  # of something ordered before, by this buyer
        assert any(o.order_id == review.order_id and o.at <= review.at for o in orders)
        assert review.text and review.language == review.shop.language


def test_buyers_never_raise_and_say_a_failure_once() -> None:
    shop = Shop("atlas-rugs", "anou", "anou", "shop", "atlas-rugs", "fr")
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{free.getsockname()[1]}/anou"
    buyers = Buyers({"anou": url}, [shop], every=1, review_share=0.5, seed=1, timeout=2)
    with capture_logs() as logged:
        assert [buyers.act() for _ in range(3)] == [None, None, None]
    buyers.stop()
    assert [(e["event"], e["log_level"]) for e in logged] == [
        ("failing", "error"),
        ("still_failing", "debug"),
        ("still_failing", "debug"),
    ]
    assert logged[0]["key"] == "sandbox/buyers" and "ConnectError" in logged[0]["error"]
    assert buyers.actions == []


def test_any_config_with_the_sandbox_on_gets_accounts_there(tmp_path: Path) -> None:
    """Channel ids, a seller, a shop and an ANOU-style API the demo does not know, the
    latter described for another marketplace (its auth header): all served all the same."""
    write_catalog(tmp_path / "catalogs")
    ref = {"env": "NOT_SET_ANYWHERE"}
    config = {
        "store": {"url": "sqlite:///var/other.db"},
        "exchange_rates": [{"date": "2026-11-01", "EUR": "0.0934"}],
        "sandbox": {"enabled": True, "buyers": {"enabled": False}},
        "cooperatives": [
            {
                "id": "atlas-rugs",
                "catalog": "catalogs/atlas-rugs.yaml",
                "channels": [
                    {
                        "id": "amazon-de",
                        "type": "amazon",
                        "currency": "EUR",
                        "languages": ["en", "fr"],
                        "categories": {
                            "rugs": "RUG",
                            "cushions": "HOME",
                            "lanterns": "LIGHT_FIXTURE",
                        },
                        "settings": {
                            "seller_id": "A3OTHERSELLER",
                            "marketplace_id": "A1PA6795UKMFR9",
                        },
                        "credentials": {
                            "refresh_token": ref,
                            "client_id": ref,
                            "client_secret": ref,
                        },
                    },
                    {
                        "id": "etsy-eu",
                        "type": "etsy",
                        "currency": "EUR",
                        "languages": ["en"],
                        "categories": {"rugs": "1036", "cushions": "1057", "lanterns": "1207"},
                        "settings": {"shop_id": 43000077},
                        "credentials": {
                            "keystring": ref,
                            "shared_secret": ref,
                            "refresh_token": ref,
                        },
                    },
                    {
                        "id": "souk",
                        "type": "anou",
                        "currency": "MAD",
                        "languages": ["ar", "fr"],
                        "settings": {
                            "base_url": "https://souk.example.org/v2",
                            "auth_header": "Authorization",
                            "auth_scheme": "Bearer",
                        },
                        "credentials": {"api_key": ref},
                    },
                ],
            }
        ],
    }
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "var").mkdir()
    with start(load_config(path, load_channel_types())) as demo:
        assert [(s.marketplace, s.value, s.language) for s in demo.shops] == [
            ("amazon", "A3OTHERSELLER", "en"),
            ("etsy", 43000077, "en"),
            ("anou", "atlas-rugs", "ar"),
        ]
        store = Store(demo.config.database_url)
        try:
            report = sync_once(demo.config, store)
        finally:
            store.close()
        assert report.ok, [r.to_json() for r in report.channels]
        for shop in demo.shops:
            assert set(SKUS) <= set(demo.listings(shop.cooperative, shop.channel)), shop
        assert demo.buyers.order(shop=demo.shop("atlas-rugs", "etsy-eu")) is not None


def test_a_restart_finds_the_marketplaces_as_it_left_them(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    etsy = {"cooperative": "zellige-fes", "channel": "etsy"}
    with start(config) as demo:
        store = Store(demo.config.database_url)
        sync_once(demo.config, store, **etsy)
        ordered = demo.buyers.order(shop=demo.shop(**etsy))
        assert ordered is not None
        shown = demo.listings(**etsy)
        store.close()
    assert demo.state_file is not None and demo.state_file.is_file()

    with start(config) as again:  # a new sandbox and new Etsy tokens, the same shops
        assert again.listings(**etsy) == shown
        store = Store(again.config.database_url)
        try:
            report = sync_once(again.config, store, readback=True, **etsy)
        finally:
            store.close()
    (run,) = report.channels
    assert run.stopped is None and run.drift == 0, run.to_json()
    assert run.order_lines == 1  # the order placed before the restart
    assert not run.done.get("create")

    Path(make_url(config.database_url).database or "").unlink()
    with start(config) as fresh:  # a new store: new, empty marketplaces
        assert fresh.listings(**etsy) == {}
