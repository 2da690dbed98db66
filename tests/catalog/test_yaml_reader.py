"""YAML catalogs: the same rules as CSV, plus what a text editor can get wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syndicator.catalog import Catalog, load_catalog
from syndicator.catalog.model import Dimensions
from syndicator.common.problems import Severity, Unreadable
from tests.conftest import WriteFile

RUG = """
cooperative: atlas-rugs
currency: MAD
products:
  - sku: ATL-001
    title:
      ar: زربية بني ورين
      fr: Tapis Beni Ouarain
      en: Beni Ourain rug
    description:
      fr: |
        Tissé à la main.
        Laine non teintée.
    category: rugs
    materials: [wool, cotton]
    tags: [berber, handmade]
    price: 4 500,00
    stock: 1
    images: [images/rug.jpg]
    who_made: collective
    when_made: 2025
    weight_kg: 12,5
    dimensions_cm: {length: 250, width: 160, height: 2}
    hs_code: "5701.10"
    provenance: {region: Moyen Atlas, artisan: Fatima Aït Lahcen}
    channels:
      etsy:
        title: {en: "Beni Ourain rug, one of a kind"}
        price: 489.00
      amazon:
        enabled: false
  - sku: ATL-010
    title: {fr: Kilim Azilal}
    category: rugs
    price: 1800
    when_made: made_to_order
    made_to_order_days: 30
    variants:
      - sku: ATL-010-S
        options: {size: 120 x 180 cm, colour: safran}
        stock: 2
      - sku: ATL-010-L
        options: {size: 200 x 300 cm, colour: safran}
        price: 3900
        stock: 1
        channels:
          etsy: {price: 420}
"""


def yaml_catalog(write: WriteFile, text: str) -> Catalog:
    return load_catalog(write("atlas.yaml", text), display="atlas.yaml")


def test_a_full_yaml_catalog(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG)
    assert catalog.problems == ()
    assert catalog.cooperative == "atlas-rugs"
    rug, kilim = catalog.products
    assert rug.title["ar"] == "زربية بني ورين"
    assert rug.description["fr"] == "Tissé à la main.\nLaine non teintée."
    assert rug.price == Decimal("4500.00") and rug.stock == 1
    assert rug.weight_kg == Decimal("12.5")
    assert rug.dimensions_cm == Dimensions(Decimal(250), Decimal(160), Decimal(2))
    assert (rug.region, rug.artisan, rug.hs_code) == ("Moyen Atlas", "Fatima Aït Lahcen", "5701.10")
    assert rug.channels["etsy"].price == Decimal("489.00")
    assert rug.channels["amazon"].enabled is False
    assert kilim.made_to_order_days == 30
    assert [(u.sku, u.price, u.stock) for u in kilim.units()] == [
        ("ATL-010-S", Decimal(1800), 2),
        ("ATL-010-L", Decimal(3900), 1),
    ]
    assert kilim.variants[1].channels["etsy"].price == Decimal(420)


def test_yaml_problems_point_at_the_field_line(write: WriteFile) -> None:
    text = RUG.replace("    stock: 1\n    images", "    stock: -1\n    images", 1)
    catalog = yaml_catalog(write, text)
    (problem,) = catalog.problems
    assert str(problem).startswith("atlas.yaml:17: ATL-001: stock -1 is below zero")
    assert catalog.held == {"ATL-001": 4}
    assert [p.sku for p in catalog.products] == ["ATL-010"]


def test_an_unknown_field_suggests_the_right_one(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("    materials:", "    materiels:"))
    (problem,) = catalog.problems
    assert problem.severity is Severity.WARNING and problem.line == 14
    assert (
        problem.message == '"materiels" is not a product field; did you mean "materials"?; '
        "it is ignored"
    )


def test_a_field_written_twice_leaves_the_product_out(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("    stock: 1\n", "    stock: 1\n    stock: 3\n", 1))
    (problem,) = catalog.problems
    assert problem.message == '"stock" is written twice (lines 17 and 18); keep one'
    assert problem.sku == "ATL-001"
    assert "ATL-001" in catalog.held


def test_a_title_without_language(write: WriteFile) -> None:
    catalog = yaml_catalog(
        write, RUG.replace("    title: {fr: Kilim Azilal}", "    title: Kilim Azilal")
    )
    messages = [p.message for p in catalog.problems]
    assert "title needs a language for each text, for example title: {fr: ..., en: ...}" in messages


def test_an_unknown_shop_in_channels(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("      amazon:\n", "      amazn:\n"))
    (problem,) = catalog.problems
    assert 'did you mean "amazon"?' in problem.message and problem.sku == "ATL-001"


def test_a_variant_cannot_change_the_title_for_a_shop(write: WriteFile) -> None:
    catalog = yaml_catalog(
        write,
        RUG.replace("          etsy: {price: 420}", "          etsy: {price: 420, title: {en: L}}"),
    )
    (problem,) = catalog.problems
    assert problem.sku == "ATL-010-L"
    assert problem.message.startswith("a variant can change only enabled, price and stock_buffer")


def test_empty_values_are_missing_values(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("    price: 1800\n", "    price: ~\n"))
    assert {p.sku for p in catalog.problems} == {"ATL-010-S"}
    assert "price is missing, here and on its product ATL-010" in catalog.problems[0].message


def test_a_catalog_priced_in_another_currency_is_refused(write: WriteFile) -> None:
    with pytest.raises(Unreadable, match="currency: MAD"):
        yaml_catalog(write, RUG.replace("currency: MAD", "currency: EUR"))


def test_a_catalog_of_another_cooperative_is_refused(write: WriteFile) -> None:
    with pytest.raises(Unreadable, match='belongs to cooperative "atlas-rugs"'):
        load_catalog(write("atlas.yaml", RUG), cooperative="zellige-fes")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "a YAML catalog starts with cooperative:"),
        ("cooperative: x\nproducts: {a: 1}\n", "products: must be a list"),
        ("cooperative: x\nproducts: []\nproducts: []\n", '"products" is written twice'),
    ],
)
def test_a_yaml_file_of_the_wrong_shape_cannot_be_used(
    write: WriteFile, text: str, message: str
) -> None:
    with pytest.raises(Unreadable, match=message):
        yaml_catalog(write, text)


def test_an_alias_bomb_in_a_catalog_is_refused(write: WriteFile) -> None:
    from tests.common.test_yamlsafe import billion_laughs

    with pytest.raises(Unreadable, match="expand into more than"):
        yaml_catalog(write, billion_laughs() + "products: []\n")


def test_deep_nesting_in_a_catalog_is_refused(write: WriteFile) -> None:
    with pytest.raises(Unreadable, match="nest"):
        yaml_catalog(write, "products:\n  - sku: " + "[" * 10000 + "]" * 10000 + "\n")


def test_a_bad_product_entry_does_not_stop_the_others(write: WriteFile) -> None:
    text = RUG.replace("products:\n", "products:\n  - just a sentence\n")
    catalog = yaml_catalog(write, text)
    assert [p.sku for p in catalog.products] == ["ATL-001", "ATL-010"]
    assert catalog.problems[0].message.startswith("each product must be a mapping")
    assert catalog.problems[0].line == 4


# ------------------------------------------- money and text never silently cut (issue 14)
def test_a_french_decimal_comma_in_a_flow_mapping_holds_the_product(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("etsy: {price: 420}", "etsy: {price: 24,90}"))
    (problem,) = catalog.problems
    assert (problem.line, problem.sku, problem.severity) == (46, "ATL-010-L", Severity.ERROR)
    assert problem.message == (
        "price: 24,90 was cut at the comma and read as 24: inside { } a comma separates "
        'fields; write the decimal with a point (price: 24.90) or put it in quotes (price: "24,90")'
    )
    assert "ATL-010-L" in catalog.held  # not listed at 24
    assert [u.sku for u in catalog.units()] == ["ATL-001", "ATL-010-S"]


def test_a_sentence_cut_at_its_comma_holds_the_product(write: WriteFile) -> None:
    text = RUG.replace(
        "    title: {fr: Kilim Azilal}", "    title: {fr: Kilim, en: Almonds, argan oil and honey.}"
    )
    catalog = yaml_catalog(write, text)
    (problem,) = catalog.problems
    assert (problem.line, problem.sku) == (32, "ATL-010")
    assert problem.message == (
        'en: the text "Almonds, argan oil and honey." was cut at its comma and read as '
        '"Almonds": inside { } a comma separates fields; put the whole text in quotes '
        '(en: "Almonds, argan oil and honey.")'
    )
    assert [p.sku for p in catalog.products] == ["ATL-001"]


def test_quoted_or_pointed_values_in_flow_mappings_are_read_whole(write: WriteFile) -> None:
    text = RUG.replace("etsy: {price: 420}", 'etsy: {price: "24,90"}').replace(
        "    title: {fr: Kilim Azilal}", '    title: {fr: Kilim, en: "Almonds, argan oil."}'
    )
    catalog = yaml_catalog(write, text)
    assert catalog.problems == ()
    kilim = catalog.products[1]
    assert kilim.title == {"fr": "Kilim", "en": "Almonds, argan oil."}
    assert kilim.variants[1].channels["etsy"].price == Decimal("24.90")


def test_a_decimal_comma_in_dimensions_or_a_list(write: WriteFile) -> None:
    text = RUG.replace("{length: 250, width: 160, height: 2}", "{length: 250, width: 160,5}")
    text = text.replace("tags: [berber, handmade]", "tags: [berber, handmade, 12,5]")
    messages = [p.message for p in yaml_catalog(write, text).problems]
    assert messages == [
        "tags: 12,5 was read as two values, 12 and 5: inside [ ] a comma separates values; "
        'write a decimal with a point (12.5) or put it in quotes ("12,5")',
        "width: 160,5 was cut at the comma and read as 160: inside { } a comma separates "
        "fields; write the decimal with a point (width: 160.5) or put it in quotes "
        '(width: "160,5")',
    ]


def test_an_unknown_field_for_a_shop_holds_the_product(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("        price: 489.00", "        prix: 489.00"))
    (problem,) = catalog.problems
    assert (problem.line, problem.sku, problem.severity) == (28, "ATL-001", Severity.ERROR)
    assert problem.message.startswith(
        '"prix" is not a field a shop can change; did you mean "price"?; write one of enabled, '
        "price, category, tags, stock_buffer, title, description"
    )
    assert "ATL-001" in catalog.held


def test_a_text_under_an_unknown_language_code_holds_the_product(write: WriteFile) -> None:
    catalog = yaml_catalog(write, RUG.replace("      en: Beni Ourain rug", "      english: Rug"))
    (problem,) = catalog.problems
    assert (problem.line, problem.severity) == (8, Severity.ERROR)
    assert problem.message.startswith('"english" is not a language code')
    assert "ATL-001" in catalog.held


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [("    price: 1800", "    prix: 1800", 34), ("        stock: 2", "        stok: 2", 40)],
)
def test_a_misspelt_price_or_stock_holds_the_product(
    write: WriteFile, old: str, new: str, line: int
) -> None:
    catalog = yaml_catalog(write, RUG.replace(old, new))
    misspelt = [p for p in catalog.problems if p.line == line]
    assert [p.severity for p in misspelt] == [Severity.ERROR]
    assert "did you mean" in misspelt[0].message
    assert "ATL-010-S" in catalog.held and "ATL-001" not in catalog.held
