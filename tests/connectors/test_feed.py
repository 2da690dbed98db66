"""The product feed in ANOU's open product database shape: built from what the channel
shows, written as pages of 50, and served over real HTTP on loopback."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from connectors.anou.feed import (
    PAGE_SCHEMA,
    PRODUCT_KEYS,
    FeedOptions,
    feed_app,
    feed_product,
    product_id,
    write_feed,
    write_products,
)
from sandbox import Sandbox
from syndicator.domain.money import Money
from syndicator.planning.plan import current_projections
from syndicator.planning.projection import Projection
from tests.connectors.kit import World, serving

BASE = "https://coop.example.org/media"
RUG_AR = "زربية بني ورين من الصوف الطبيعي"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Atlas Rugs with an ANOU channel that shows Arabic first (no marketplace is called)."""
    channel = {
        "id": "anou",
        "type": "anou",
        "currency": "MAD",
        "languages": ["ar", "fr", "en"],
        "pricing": {"fee_percent": 10, "rounding": "whole"},
        "settings": {"base_url": "https://anou.example.org/api/v1"},
    }
    w = World(tmp_path, Sandbox(marketplaces=("anou",)), channel, {"api_key": "unused"})
    yield w
    w.close()


@pytest.fixture
def shown(world: World) -> dict[str, Projection]:
    """What the channel shows, by SKU."""
    found = current_projections(
        world.config, world.store, "atlas-rugs", "anou", today=date(2026, 11, 25)
    )
    return {p.sku: p for p in found}


def validate(page: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(PAGE_SCHEMA)
    jsonschema.validate(page, PAGE_SCHEMA, cls=jsonschema.Draft202012Validator)


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def many(p: Projection, n: int) -> list[Projection]:
    return [dataclasses.replace(p, sku=f"RUG-{i:03d}") for i in range(1, n + 1)]


# --------------------------------------------------------------------------- the shape
def test_each_product_has_the_open_database_fields(
    shown: dict[str, Projection], tmp_path: Path
) -> None:
    assert set(shown) == {"RUG-1", "CUSH-1-S", "CUSH-1-L", "LAMP-1"}
    rug = dataclasses.replace(
        shown["RUG-1"],
        attributes=(
            *shown["RUG-1"].attributes,
            ("weight_kg", "12.5"),
            ("length_cm", "250"),
            ("width_cm", "160"),
            ("artisan", "Fatima Aït Lahcen"),
        ),
    )
    write_feed([rug], tmp_path, BASE + "/", product_url="https://coop.example.org/p/{sku}")
    page = read(tmp_path / "product_data" / "page-1.json")
    validate(page)
    (product,) = page["products"]
    assert tuple(product) == PRODUCT_KEYS
    assert product == {
        "id": product_id("RUG-1"),
        "sku": "RUG-1",
        "name": RUG_AR,
        "description": "Tissé et noué à la main par les femmes de la coopérative.",
        "language": "ar",
        "url": "https://coop.example.org/p/RUG-1",
        "category": "rugs",
        "keywords": ["beni ourain", "handmade"],
        "price": "5000.00",
        "currency": "MAD",
        "shipping_price": "0.00",
        "colors": [],
        "photos": [
            {
                "rank": 1,
                "original": f"{BASE}/images/rug.jpg",
                "thumbnail": f"{BASE}/images/rug.jpg",
            },
            {
                "rank": 2,
                "original": f"{BASE}/images/rug-detail.jpg",
                "thumbnail": f"{BASE}/images/rug-detail.jpg",
            },
        ],
        "artisans": ["Fatima Aït Lahcen"],
        "materials": ["wool"],
        "tools": [],
        "dimensions": {"length": "250", "width": "160"},
        "weight": "12.5",
    }


def test_prices_are_strings_and_arabic_stays_arabic_on_disk(
    shown: dict[str, Projection], tmp_path: Path
) -> None:
    odd = dataclasses.replace(shown["LAMP-1"], price=Money(Decimal("1E+3"), "MAD"))
    write_feed([shown["RUG-1"], odd], tmp_path, BASE, shipping_price=Decimal("35.5"))
    raw = (tmp_path / "product_data" / "page-1.json").read_bytes()
    assert RUG_AR.encode("utf-8") in raw  # written as UTF-8, not \\u escapes
    products = {p["sku"]: p for p in json.loads(raw)["products"]}
    assert products["LAMP-1"]["price"] == "1000.00"  # no exponent, the currency's decimals
    assert products["RUG-1"]["shipping_price"] == "35.50"
    assert all(isinstance(p["price"], str) for p in products.values())


def test_photos_urls_thumbnails_and_colours(shown: dict[str, Projection], tmp_path: Path) -> None:
    p = dataclasses.replace(
        shown["CUSH-1-S"],
        images=("https://cdn.example.org/cushion.jpg", "images/coussin à fleurs.jpg"),
        options=(("couleur", "indigo"), ("size", "small")),
    )
    write_feed([p], tmp_path, BASE, thumbnail_url="{base_url}/thumbs/{path}", shop="atlas-rugs")
    (product,) = read(tmp_path / "product_data" / "page-1.json")["products"]
    assert product["photos"] == [
        {
            "rank": 1,
            "original": "https://cdn.example.org/cushion.jpg",
            "thumbnail": "https://cdn.example.org/cushion.jpg",
        },
        {
            "rank": 2,
            "original": f"{BASE}/images/coussin%20%C3%A0%20fleurs.jpg",
            "thumbnail": f"{BASE}/thumbs/images/coussin%20%C3%A0%20fleurs.jpg",
        },
    ]
    assert product["colors"] == ["indigo"]
    assert product["id"] == product_id("CUSH-1-S", "atlas-rugs") != product_id("CUSH-1-S")
    assert product["url"] == ""  # no product page given: no guessed link


def test_sold_out_products_are_left_out_unless_asked(
    shown: dict[str, Projection], tmp_path: Path
) -> None:
    gone = dataclasses.replace(shown["LAMP-1"], quantity=0)
    index = write_feed([shown["RUG-1"], gone], tmp_path / "a", BASE)
    assert index.products == 1
    index = write_feed([shown["RUG-1"], gone], tmp_path / "b", BASE, include_sold_out=True)
    assert index.products == 2


def test_ids_are_stable_numbers() -> None:
    assert (
        product_id("RUG-1") == product_id("RUG-1") == 92_736_049_130_260
    )  # pinned: ids must not move
    assert product_id("RUG-1") != product_id("RUG-2")
    assert 0 <= product_id("X" * 500) < 2**48


# --------------------------------------------------------------------------- pages and files
def test_pages_of_fifty_with_an_index(shown: dict[str, Projection], tmp_path: Path) -> None:
    when = datetime(2026, 11, 25, 10, tzinfo=UTC)
    index = write_feed(many(shown["RUG-1"], 120), tmp_path, BASE, now=when)
    folder = tmp_path / "product_data"
    assert (index.pages, index.products, index.folder) == (3, 120, folder)
    pages = [read(folder / f"page-{n}.json") for n in (1, 2, 3)]
    for page in pages:
        validate(page)
    assert [(p["page"], p["pages"], len(p["products"])) for p in pages] == [
        (1, 3, 50),
        (2, 3, 50),
        (3, 3, 20),
    ]
    skus = [p["sku"] for page in pages for p in page["products"]]
    assert skus == [f"RUG-{i:03d}" for i in range(1, 121)]
    assert read(folder / "index.json") == {
        "pages": 3,
        "products": 120,
        "page_size": 50,
        "generated_at": "2026-11-25T10:00:00Z",
        "files": ["page-1.json", "page-2.json", "page-3.json"],
    }
    # Written again, shorter: the pages left over are removed; no temporary file remains.
    write_feed(many(shown["RUG-1"], 30), tmp_path, BASE)
    assert sorted(f.name for f in folder.iterdir()) == ["index.json", "page-1.json"]


def test_several_cooperatives_share_one_feed(shown: dict[str, Projection], tmp_path: Path) -> None:
    rug = shown["RUG-1"]
    products = [feed_product(rug, FeedOptions(BASE, shop=shop)) for shop in ("atlas", "fes")]
    index = write_products(products, tmp_path)
    page = read(tmp_path / "product_data" / "page-1.json")
    validate(page)
    assert index.products == 2 and page["products"][0]["id"] != page["products"][1]["id"]


def test_an_empty_feed_is_one_empty_page(tmp_path: Path) -> None:
    index = write_feed([], tmp_path, BASE)
    assert (index.pages, index.products) == (1, 0)
    page = read(tmp_path / "product_data" / "page-1.json")
    validate(page)
    assert page == {"page": 1, "pages": 1, "products": []}


# --------------------------------------------------------------------------- served
def test_served_over_http(shown: dict[str, Projection], world: World, tmp_path: Path) -> None:
    out = tmp_path / "feed"
    write_feed([shown["RUG-1"], *many(shown["LAMP-1"], 59)], out, BASE)
    media = world.root / "catalogs"
    with serving(feed_app(out, media_root=media)) as url, httpx.Client(base_url=url) as http:
        first = http.get("/product_data", params={"page": 1})
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/json; charset=utf-8"
        assert RUG_AR.encode("utf-8") in first.content
        body = first.json()
        validate(body)
        assert (body["page"], body["pages"], len(body["products"])) == (1, 2, 50)
        assert body["products"][0]["name"] == RUG_AR
        assert http.get("/product_data").json() == body  # page 1 when not given
        second = http.get("/product_data?page=2").json()
        validate(second)
        assert len(second["products"]) == 10
        assert http.get("/product_data?page=7").json() == {"page": 7, "pages": 2, "products": []}
        for bad in ("0", "-1", "two"):
            assert http.get(f"/product_data?page={bad}").status_code == 400
        assert http.get("/product_data/index.json").json()["products"] == 60

        image = http.get("/media/images/rug.jpg")
        assert image.status_code == 200
        assert image.content == (media / "images" / "rug.jpg").read_bytes()
        for hidden in ("/media/atlas-rugs.yaml", "/media/../syndicator.yaml", "/media/%2e%2e/x"):
            assert http.get(hidden).status_code == 404, hidden

        # A feed written again is served at once.
        write_feed([shown["RUG-1"]], out, BASE)
        again = http.get("/product_data").json()
        assert (again["pages"], len(again["products"])) == (1, 1)
        assert http.get("/product_data?page=2").json()["products"] == []


def test_nothing_written_yet_is_unavailable(tmp_path: Path) -> None:
    with serving(feed_app(tmp_path)) as url:
        answer = httpx.get(f"{url}/product_data", timeout=5)
        assert answer.status_code == 503
        assert httpx.get(f"{url}/media/x.jpg", timeout=5).status_code == 404
