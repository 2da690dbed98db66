"""The bundled demo: what a newcomer sees must be a realistic, clean pair of catalogs."""

from __future__ import annotations

import re
from pathlib import Path

from syndicator.catalog import Catalog, load_catalog
from tests.conftest import REPO

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
