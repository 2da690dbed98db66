"""Every catalog rule, with the message a member reads and the line it points at.

Each problem is ``FILE:LINE: SKU: what is wrong, and what would be right``; all are found
in one read; a row with an error is left out and its SKU held (it keeps its last good
state), while every other row goes on.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from syndicator.catalog import Catalog, load_catalog
from syndicator.common.problems import Problem, Severity
from tests.conftest import WriteFile

HEADER = "sku,parent_sku,title_fr,title_en,category,price,stock,images,option_size"


def csv_catalog(write: WriteFile, *rows: str, header: str = HEADER) -> Catalog:
    path = write("catalog.csv", "\n".join([header, *rows]) + "\n", dedent=False)
    return load_catalog(path, display="catalog.csv")


def only(catalog: Catalog, severity: Severity | None = None) -> Problem:
    problems = [p for p in catalog.problems if severity is None or p.severity is severity]
    assert len(problems) == 1, [str(p) for p in catalog.problems]
    return problems[0]


def test_a_clean_catalog_has_no_problems(write: WriteFile) -> None:
    catalog = csv_catalog(write, "R-1,,Tapis,Rug,rugs,450,1,images/rug.jpg,")
    assert catalog.problems == ()
    assert [p.sku for p in catalog.products] == ["R-1"]


def test_problem_format_names_file_line_sku_and_fix(write: WriteFile) -> None:
    catalog = csv_catalog(write, "R-1,,Tapis,Rug,rugs,450,1,,", "R-2,,Tapis,Rug,rugs,450,-2,,")
    assert str(only(catalog)) == (
        "catalog.csv:3: R-2: stock -2 is below zero; write how many pieces you have, for "
        "example 1 (0 if none is left)"
    )


def test_unknown_column_suggests_the_right_name(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,,Tapis,rugs,450,1,oui",
        header="sku,parent_sku,title_fr,category,price,stock,prix_special",
    )
    problem = only(catalog)
    assert problem.line == 1 and problem.severity is Severity.WARNING
    assert problem.message.startswith('column "prix_special" is not a catalog column')
    catalog = csv_catalog(
        write, "R-1,Tapis,rugs,450,1,x", header="sku,title_fr,category,price,stock,descripton_fr"
    )
    assert 'did you mean "description_fr"?' in only(catalog).message
    assert [p.sku for p in catalog.products] == ["R-1"]  # the row still goes on


def test_a_misspelled_required_column_is_said_once_not_per_row(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1",
        "R-2,Tapis,rugs,450,1",
        header="sku,title_fr,category,price,stok",
    )
    errors = [p for p in catalog.problems if p.severity is Severity.ERROR]
    assert [(p.line, p.message) for p in errors] == [
        (
            1,
            'there is no "stock" column; did you mean "stok"?; every row needs one (rows are '
            "left out until the column is added)",
        )
    ]
    assert catalog.products == () and set(catalog.held) == {"R-1", "R-2"}


def test_a_language_column_with_an_unknown_code_holds_the_rows_that_fill_it(
    write: WriteFile,
) -> None:
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,Rug",
        "R-2,Tapis,rugs,450,1,",
        header="sku,title_fr,category,price,stock,title_english",
    )
    header = only(catalog, Severity.WARNING)
    assert header.line == 1 and '"english" is not a language code' in header.message
    row = only(catalog, Severity.ERROR)
    assert (row.line, row.sku) == (2, "R-1")
    assert row.message.startswith('column "title_english": "english" is not a language code')
    assert "(line 1), and this row fills it; rename the column or empty the cell" in row.message
    assert [p.sku for p in catalog.products] == ["R-2"]  # its English title is not lost


def test_duplicate_sku_leaves_both_rows_out_and_names_the_first_line(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,,Tapis,Rug,rugs,450,1,,",
        "R-2,,Tapis,Rug,rugs,450,1,,",
        "R-1,,Tapis bleu,Blue rug,rugs,500,2,,",
    )
    problem = only(catalog)
    assert (problem.line, problem.sku) == (4, "R-1")
    assert problem.message == (
        "SKU R-1 is also used on line 2; each product and variant needs its own SKU (both "
        "rows are left out until this is fixed)"
    )
    assert [p.sku for p in catalog.products] == ["R-2"]
    assert catalog.held == {"R-1": 2}


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        ("-2", "stock -2 is below zero"),
        ("2,5", "stock 2,5 is not a whole number"),
        ("beaucoup", 'stock "beaucoup" is not a number'),
    ],
)
def test_stock_must_be_a_whole_count(write: WriteFile, stock: str, message: str) -> None:
    catalog = csv_catalog(write, f'R-1,,Tapis,Rug,rugs,450,"{stock}",,')
    problem = only(catalog)
    assert problem.message.startswith(message)
    assert (problem.line, problem.sku) == (2, "R-1")
    assert catalog.held == {"R-1": 2}


def test_missing_stock_says_what_to_write(write: WriteFile) -> None:
    assert only(csv_catalog(write, "R-1,,Tapis,Rug,rugs,450,,,")).message == (
        "stock is missing; write how many pieces you have, for example 1 (0 if none is left)"
    )


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "price 0 must be more than 0"),
        ("-450", "price -450 must be more than 0"),
        (
            "12 dh",
            'price "12 dh" is not a number; write only the amount in '
            "dirhams, for example 450 or 1 250,50",
        ),
        ("12.345", "price 12.345 has more than 2 decimals"),
        ("1,250", 'price "1,250" is not a number (a comma followed by three digits'),
    ],
)
def test_price_must_be_a_positive_amount_in_dirhams(
    write: WriteFile, price: str, message: str
) -> None:
    problem = only(csv_catalog(write, f'R-1,,Tapis,Rug,rugs,"{price}",1,,'))
    assert problem.message.startswith(message)
    assert problem.line == 2


def test_missing_price(write: WriteFile) -> None:
    assert only(csv_catalog(write, "R-1,,Tapis,Rug,rugs,,1,,")).message.startswith(
        "price is missing; write only the amount in dirhams"
    )


def test_no_title_in_any_language(write: WriteFile) -> None:
    problem = only(csv_catalog(write, "R-1,,,,rugs,450,1,,"))
    assert problem.message == (
        "no title in any language; fill at least one of title_ar, title_fr, title_en"
    )


def test_a_title_in_arabic_only_is_enough(write: WriteFile) -> None:
    catalog = csv_catalog(write, "R-1,زربية,rugs,450,1", header="sku,title_ar,category,price,stock")
    assert catalog.problems == ()
    assert catalog.products[0].title == {"ar": "زربية"}


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("images/missing.jpg", 'image "images/missing.jpg" was not found next to the catalog'),
        ("../secret.jpg", 'image "../secret.jpg" is outside the catalog\'s folder'),
        ("images/../../x.jpg", "is outside the catalog's folder"),
        ("/etc/passwd.jpg", "must be written relative to the catalog's folder"),
        ("C:\\photos\\rug.jpg", "must be written relative to the catalog's folder"),
        ("http://cdn.example.org/rug.jpg", "must be an https:// address"),
        ("images/notes.txt", "is not a .jpg, .jpeg, .png, .gif, .webp file"),
    ],
)
def test_images_must_exist_inside_the_catalog_folder(
    write: WriteFile, image: str, message: str
) -> None:
    problem = only(csv_catalog(write, f'R-1,,Tapis,Rug,rugs,450,1,"images/rug.jpg|{image}",'))
    assert message in problem.message
    assert (problem.line, problem.sku) == (2, "R-1")


def test_good_images_local_windows_style_and_https(write: WriteFile) -> None:
    catalog = csv_catalog(
        write, 'R-1,,Tapis,Rug,rugs,450,1,"images\\rug.jpg|https://cdn.example.org/r.jpg",'
    )
    assert catalog.problems == ()


def test_a_symlink_out_of_the_catalog_folder_is_refused(write: WriteFile, tmp_path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"\xff\xd8\xff")
    (write("images/.keep", "").parent / "link.jpg").symlink_to(outside)
    problem = only(csv_catalog(write, "R-1,,Tapis,Rug,rugs,450,1,images/link.jpg,"))
    assert "outside the catalog's folder" in problem.message


def test_variants_take_their_product_and_its_price(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "K-1,,Kilim,Kilim,rugs,1800,,images/rug.jpg,",
        "K-1-S,K-1,,,,,2,,120 x 180",
        'K-1-L,K-1,,,,"3 900",1,,200 x 300',
    )
    assert catalog.problems == ()
    product = catalog.products[0]
    assert [(u.sku, u.parent_sku, u.price, u.stock) for u in product.units()] == [
        ("K-1-S", "K-1", Decimal("1800"), 2),
        ("K-1-L", "K-1", Decimal("3900"), 1),
    ]
    assert product.variants[0].options == {"size": "120 x 180"}


def test_a_variant_whose_parent_is_missing(write: WriteFile) -> None:
    catalog = csv_catalog(
        write, "K-1,,Kilim,Kilim,rugs,1800,,,", "K-1-S,K-1,,,,,2,,S", "K-2-S,K-2,,,,,2,,S"
    )
    problem = only(catalog)
    assert (problem.line, problem.sku) == (4, "K-2-S")
    assert problem.message == (
        'parent_sku "K-2" is not a product in this file; check the spelling or add the '
        "product's row"
    )
    assert "K-2-S" in catalog.held


def test_variants_share_option_names_and_differ_in_values(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "K-1,,Kilim,Kilim,rugs,1800,,,",
        "K-1-S,K-1,,,,,2,,S",
        "K-1-S2,K-1,,,,,2,,S",
        header=HEADER,
    )
    problem = only(catalog)
    assert (problem.sku, problem.line) == ("K-1-S2", 4)
    assert "has the same options as K-1-S (line 3)" in problem.message
    assert [u.sku for u in catalog.units()] == ["K-1-S"]


def test_a_variant_without_options(write: WriteFile) -> None:
    problem = only(csv_catalog(write, "K-1,,Kilim,Kilim,rugs,1800,,,", "K-1-S,K-1,,,,,2,,"))
    assert problem.message == "a variant needs at least one option, for example option_size"


def test_a_variant_row_that_repeats_a_different_title_is_warned(write: WriteFile) -> None:
    catalog = csv_catalog(write, "K-1,,Kilim,Kilim,rugs,1800,,,", "K-1-S,K-1,Kilim rouge,,,,2,,S")
    problem = only(catalog)
    assert problem.severity is Severity.WARNING
    assert problem.message.startswith("title_fr on a variant differs from its product K-1 (line 2)")
    assert [u.sku for u in catalog.units()] == ["K-1-S"]


def test_stock_on_a_product_with_variants_is_warned(write: WriteFile) -> None:
    problem = only(csv_catalog(write, "K-1,,Kilim,Kilim,rugs,1800,5,,", "K-1-S,K-1,,,,,2,,S"))
    assert problem.severity is Severity.WARNING
    assert "stock of each variant counts" in problem.message


OVERRIDES = "sku,title_fr,category,price,stock,etsy_price,amazon_enabled,etsy_title_en,etsy_tags"


def test_channel_overrides_are_read(write: WriteFile) -> None:
    catalog = csv_catalog(
        write, 'R-1,Tapis,rugs,450,1,"49,90",non,Rug for Etsy,"a|b"', header=OVERRIDES
    )
    assert catalog.problems == ()
    channels = catalog.products[0].channels
    assert channels["etsy"].price == Decimal("49.90")
    assert channels["etsy"].title == {"en": "Rug for Etsy"}
    assert channels["etsy"].tags == ("a", "b")
    assert channels["amazon"].enabled is False


def test_an_override_for_an_unknown_channel(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,49",
        "R-2,Tapis,rugs,450,1,",
        header="sku,title_fr,category,price,stock,etsyy_price",
    )
    problem = only(catalog)
    assert (problem.line, problem.sku) == (2, "R-1")
    assert problem.message == (
        '"etsyy" is not one of this cooperative\'s shops (amazon, anou, etsy); did you mean "etsy"?'
    )
    assert [p.sku for p in catalog.products] == ["R-2"]  # the row that does not use it goes on


def test_channels_come_from_the_cooperative_config(write: WriteFile) -> None:
    path = write("c.csv", "sku,title_fr,category,price,stock,amazon-fr_price\nR-1,T,rugs,4,1,3\n")
    assert load_catalog(path, channels=["amazon-fr"]).problems == ()
    assert (
        "not one of this cooperative's shops (etsy)"
        in load_catalog(path, channels=["etsy"]).problems[0].message
    )


def test_a_bad_override_value(write: WriteFile) -> None:
    catalog = csv_catalog(write, "R-1,Tapis,rugs,450,1,,peut-être,,", header=OVERRIDES)
    assert 'amazon enabled "peut-être" is not yes or no' in only(catalog).message


def test_other_field_rules(write: WriteFile) -> None:
    header = "sku,title_fr,category,price,stock,who_made,when_made,made_to_order_days,hs_code"
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,collectif,2025,,",
        "R-2,Tapis,rugs,450,1,collective,2099,,",
        "R-3,Tapis,rugs,450,1,collective,made_to_order,0,",
        "R-4,Tapis,rugs,450,1,collective,1990s,,57-01",
        "R-5,Tapis,rugs,450,1,Collective,Made_To_Order,21,5701.10",
        header=header,
    )
    messages = {p.sku: p.message for p in catalog.problems}
    assert messages["R-1"].startswith(
        'who_made "collectif" must be one of collective, i_did, '
        'someone_else; did you mean "collective"?'
    )
    assert messages["R-2"].startswith('when_made "2099" must be made_to_order, a year')
    assert messages["R-3"] == "made_to_order_days 0 must be between 1 and 365"
    assert messages["R-4"].startswith('hs_code "57-01" is not a customs code')
    assert [p.sku for p in catalog.products] == ["R-5"]
    assert (catalog.products[0].who_made, catalog.products[0].when_made) == (
        "collective",
        "made_to_order",
    )


@pytest.mark.parametrize(
    ("sku", "message"),
    [
        ("", "the SKU is missing"),
        ("TAPIS BLEU", 'SKU "TAPIS BLEU" has spaces or signs that shops refuse'),
        ("R" * 41, "is longer than 40 characters"),
    ],
)
def test_sku_rules(write: WriteFile, sku: str, message: str) -> None:
    catalog = csv_catalog(write, f'"{sku}",,Tapis,Rug,rugs,450,1,,', "R-2,,Tapis,Rug,rugs,450,1,,")
    assert message in only(catalog).message
    assert [p.sku for p in catalog.products] == ["R-2"]


def test_all_problems_are_reported_at_once_and_good_rows_go_on(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,,Tapis,Rug,rugs,450,1,,",
        "R-2,,,,rugs,0,-1,images/none.jpg,",
        "R-3,,Tapis,Rug,rugs,450,2,,",
        "R-4,R-9,,,,,1,,S",
    )
    by_line: dict[int, list[str]] = {}
    for p in catalog.problems:
        by_line.setdefault(p.line or 0, []).append(p.message)
    assert sorted(by_line) == [3, 5]
    assert len(by_line[3]) == 4  # title, price, stock and image, all on the same row
    assert [p.sku for p in catalog.products] == ["R-1", "R-3"]
    assert set(catalog.held) == {"R-2", "R-4"}


# ------------------------------------------------------------------ upper bounds (issue 14)
BOUNDS = "sku,parent_sku,title_fr,category,price,stock,option_size,etsy_price,etsy_stock_buffer"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "R-1,,Tapis,rugs,1000000000000000000000000000,1,,,",
            "price 1000000000000000000000000000 is more than 999,999.99, the most Syndicator "
            "accepts (a typing mistake?); write only the amount in dirhams, for example 450 or "
            "1 250,50",
        ),
        (
            "R-1,,Tapis,rugs,450,1000000000000000000000000000000,,,",
            "stock 1000000000000000000000000000000 is more than 999,999, the most Syndicator "
            "accepts (a typing mistake?); write how many pieces you have, for example 1 (0 if "
            "none is left)",
        ),
        ("R-1,,Tapis,rugs,1 000 000,1,,,", "price 1 000 000 is more than 999,999.99"),
        ("R-1,,Tapis,rugs,450,1 000 000,,,", "stock 1 000 000 is more than 999,999,"),
        ("R-1,,Tapis,rugs,450,1,,1e30,", 'etsy price "1e30" is not a number'),
        ("R-1,,Tapis,rugs,450,1,,10000000000000000000000000000,", "etsy price 1000000000000"),
        ("R-1,,Tapis,rugs,450,1,,49.9051,", "etsy price 49.9051 has more than 3 decimals"),
        ("R-1,,Tapis,rugs,450,1,,,10000000000000000000000", "etsy stock_buffer 100000000000"),
        ("R-1,,Tapis,rugs,NaN,1,,,", 'price "NaN" is not a number'),
        ("R-1,,Tapis,rugs,Infinity,1,,,", 'price "Infinity" is not a number'),
        ("R-1,,Tapis,rugs,-0,1,,,", "price -0 must be more than 0"),
        ("R-1,,Tapis,rugs,0.0000001,1,,,", "price 0.0000001 has more than 2 decimals"),
        ("R-1,,Tapis,rugs,450," + "9" * 5000 + ",,,", '(5000 characters)" is not a number'),
    ],
)
def test_a_value_beyond_the_bounds_holds_its_row_and_the_rest_goes_on(
    write: WriteFile, row: str, message: str
) -> None:
    catalog = csv_catalog(write, row, "R-2,,Tapis,rugs,450,1,,,", header=BOUNDS)
    problem = only(catalog)
    assert (problem.file, problem.line, problem.sku) == ("catalog.csv", 2, "R-1")
    assert message in problem.message
    assert len(problem.message) < 300  # a value of 5,000 digits is not repeated whole
    assert catalog.held == {"R-1": 2}
    assert [p.sku for p in catalog.products] == ["R-2"]


def test_variant_prices_and_stocks_have_the_same_bounds(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "K-1,,Kilim,rugs,1800,,,,",
        "K-1-S,K-1,,,1000000,2,S,,",
        "K-1-M,K-1,,,,1000000,M,,",
        "K-1-L,K-1,,,999 999.99,999999,L,999999.99,999999",
        header=BOUNDS,
    )
    lines = {(p.line, p.sku) for p in catalog.problems}
    assert lines == {(3, "K-1-S"), (4, "K-1-M")}
    (kilim,) = catalog.products
    (large,) = kilim.variants
    assert (large.price, large.stock) == (Decimal("999999.99"), 999_999)
    assert large.channels["etsy"].price == Decimal("999999.99")
    assert large.channels["etsy"].stock_buffer == 999_999


def test_weight_and_size_have_bounds_too(write: WriteFile) -> None:
    header = "sku,title_fr,category,price,stock,weight_kg,length_cm"
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,100000,",
        "R-2,Tapis,rugs,450,1,,100000",
        "R-3,Tapis,rugs,450,1,12.1234,",
        "R-4,Tapis,rugs,450,1,10000,250.55",
        header=header,
    )
    messages = {p.sku: p.message for p in catalog.problems}
    assert messages["R-1"].startswith("weight_kg 100000 is more than 10,000")
    assert messages["R-2"].startswith("length_cm 100000 is more than 10,000")
    assert messages["R-3"].startswith("weight_kg 12.1234 has more than 3 decimals")
    assert [p.sku for p in catalog.products] == ["R-4"]


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("etsy_prix", 'column "etsy_prix" is not a catalog column; did you mean "etsy_price"?'),
        ("prix", 'column "prix" is not a catalog column; did you mean "price"?'),
        ("etsy_title_english", 'column "etsy_title_english" is not a catalog column'),
        ("titel_fr", 'column "titel_fr" is not a catalog column; did you mean "title_fr"?'),
    ],
)
def test_a_misspelt_price_stock_title_or_shop_column_holds_the_rows_that_fill_it(
    write: WriteFile, column: str, message: str
) -> None:
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,24",
        "R-2,Tapis,rugs,450,1,",
        header=f"sku,title_fr,category,price,stock,{column}",
    )
    errors = [p for p in catalog.problems if p.severity is Severity.ERROR]
    assert [(p.line, p.sku) for p in errors] == [(2, "R-1")]
    assert errors[0].message.startswith(message)
    assert [p.sku for p in catalog.products] == ["R-2"]


def test_a_column_written_twice_with_different_values_holds_the_row(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        "R-1,Tapis,rugs,450,1,450",
        "R-2,Tapis,rugs,450,1,",
        "R-3,Tapis,rugs,450,1,500",
        header="sku,title_fr,category,price,stock,Price",
    )
    errors = [p for p in catalog.problems if p.severity is Severity.ERROR]
    assert [(p.line, p.sku) for p in errors] == [(4, "R-3")]
    assert errors[0].message.startswith(
        'column "Price" appears twice (columns 4 and 6) and this row has a different value in '
        "each; keep one column"
    )
    assert [p.sku for p in catalog.products] == ["R-1", "R-2"]
