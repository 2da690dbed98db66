"""CSV catalogs as spreadsheets really save them, and files that are not catalogs at all."""

from __future__ import annotations

import codecs
from decimal import Decimal
from pathlib import Path

import pytest

from syndicator.catalog import CatalogLimits, load_catalog
from syndicator.common.problems import Unreadable
from tests.conftest import WriteFile

FRENCH_EXCEL = (
    "sku;title_ar;title_fr;title_en;description_fr;category;price;stock;images\r\n"
    'ZF-001;طاجين مزخرف;Tajine décoré;Decorated tajine;"Peint à la main.\r\n'
    'Deux lignes; et un point-virgule.";pottery;1 250,50;3;images/tile.png\r\n'
    "ZF-002;زليج;Carreau;Tile;;zellige;180;12;\r\n"
)


def test_french_excel_csv_utf8_with_bom_semicolons_crlf_and_decimal_commas(
    write: WriteFile,
) -> None:
    path = write("zellige.csv", codecs.BOM_UTF8 + FRENCH_EXCEL.encode("utf-8"))
    catalog = load_catalog(path)
    assert catalog.problems == ()
    first, second = catalog.products
    assert first.sku == "ZF-001"
    assert first.title == {"ar": "طاجين مزخرف", "fr": "Tajine décoré", "en": "Decorated tajine"}
    assert first.description["fr"] == "Peint à la main.\nDeux lignes; et un point-virgule."
    assert first.price == Decimal("1250.50")
    assert first.stock == 3
    assert first.images == ("images/tile.png",)
    # The quoted cell spans two lines: the next row starts on line 4, not 3.
    assert (first.line, second.line) == (2, 4)


def test_the_same_file_without_bom_with_commas_and_lf(write: WriteFile) -> None:
    text = FRENCH_EXCEL.replace(";", ",").replace("\r\n", "\n").replace("1 250,50", '"1 250,50"')
    text = text.replace(
        '"Peint à la main.\nDeux lignes, et un point-virgule."',
        '"Peint à la main.\nDeux lignes, et une virgule."',
    )
    path = write("zellige.csv", text, dedent=False)
    catalog = load_catalog(path)
    assert catalog.problems == ()
    assert [p.price for p in catalog.products] == [Decimal("1250.50"), Decimal("180")]
    assert catalog.products[0].description["fr"] == "Peint à la main.\nDeux lignes, et une virgule."


def test_tab_separated_utf16_as_excel_unicode_text(write: WriteFile) -> None:
    text = "sku\ttitle_fr\tcategory\tprice\tstock\r\nT-1\tTapis\trugs\t450\t1\r\n"
    path = write("rugs.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    catalog = load_catalog(path)
    assert catalog.problems == ()
    assert catalog.products[0].title == {"fr": "Tapis"}


def test_column_names_in_any_case_and_order(write: WriteFile) -> None:
    path = write("c.csv", "Stock;PRICE;Title FR;Category;SKU\n2;99;Coussin;cushions;C-1\n")
    catalog = load_catalog(path)
    assert catalog.problems == ()
    assert (catalog.products[0].sku, catalog.products[0].stock) == ("C-1", 2)


def test_list_cells_are_split_on_bars(write: WriteFile) -> None:
    path = write(
        "c.csv",
        "sku,title_en,category,price,stock,materials,tags\n"
        "R-1,Rug,rugs,10,1,wool | cotton,berber|| handmade \n",
    )
    product = load_catalog(path).products[0]
    assert product.materials == ("wool", "cotton")
    assert product.tags == ("berber", "handmade")


def test_arabic_is_normalized_so_equal_texts_compare_equal(write: WriteFile) -> None:
    decomposed = "e\u0301"  # é written as e + combining accent, as some keyboards do
    path = write("c.csv", f"sku,title_fr,category,price,stock\nR-1,Caf{decomposed},rugs,10,1\n")
    assert load_catalog(path).products[0].title["fr"] == "Café"


def test_blank_rows_are_skipped_quietly(write: WriteFile) -> None:
    path = write(
        "c.csv", "sku;title_fr;category;price;stock\r\n;;;;\r\nR-1;Tapis;rugs;10;1\r\n;;;;\r\n"
    )
    catalog = load_catalog(path)
    assert catalog.problems == ()
    assert catalog.products[0].line == 3


def test_a_windows_1252_file_is_refused_with_the_line_and_what_to_do(write: WriteFile) -> None:
    text = "sku;title_fr;category;price;stock\r\nR-1;Tapis;rugs;10;1\r\nR-2;Théière;pottery;5;1\r\n"
    path = write("c.csv", text, dedent=False, encoding="cp1252")
    with pytest.raises(Unreadable) as err:
        load_catalog(path)
    problem = err.value.problem
    assert problem.line == 3
    assert "not UTF-8" in problem.message and "CSV UTF-8" in problem.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (bytes(range(256)) * 40, "binary data"),
    ],
)
def test_binary_garbage_and_other_documents_are_named_not_parsed(
    write: WriteFile, content: bytes, expected: str
) -> None:
    path = write("catalog.csv", content)
    with pytest.raises(Unreadable) as err:
        load_catalog(path)
    assert expected in err.value.problem.message


def test_random_bytes_never_crash_the_reader(write: WriteFile) -> None:
    import random

    rng = random.Random(7)
    for i in range(30):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
        path = write(f"garbage{i}.csv", blob)
        try:
            catalog = load_catalog(path)
        except Unreadable as exc:
            assert exc.problem.file.endswith(f"garbage{i}.csv")
        else:  # bytes that happen to decode: at worst rows with problems
            assert catalog.products == () or catalog.problems


def test_a_100_mb_file_is_refused_before_it_is_read(write: WriteFile, catalog_dir: Path) -> None:
    path = catalog_dir / "huge.csv"
    with path.open("wb") as f:
        f.write(b"sku,title_en,category,price,stock\n")
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB on paper, nothing to read
    with pytest.raises(Unreadable) as err:
        load_catalog(path)
    assert "100.0 MiB" in err.value.problem.message
    assert "max_catalog_mb" in err.value.problem.message


def test_the_size_limit_is_a_setting(write: WriteFile) -> None:
    path = write("c.csv", "sku,title_en,category,price,stock\nR-1,Rug,rugs,10,1\n" * 2)
    with pytest.raises(Unreadable, match="more than the 0 MiB"):
        load_catalog(path, limits=CatalogLimits(max_bytes=10))


def test_a_csv_without_sku_column_cannot_be_used(write: WriteFile) -> None:
    path = write("c.csv", "reference;title_fr;price;stock\nR-1;Tapis;10;1\n")
    with pytest.raises(Unreadable) as err:
        load_catalog(path)
    assert err.value.problem.line == 1
    assert '"sku" column' in err.value.problem.message


@pytest.mark.parametrize("name", ["catalog.xlsx", "catalog.json"])
def test_other_file_kinds_are_refused_by_name(write: WriteFile, name: str) -> None:
    path = write(name, "sku\n")
    with pytest.raises(Unreadable, match=r"neither \.csv nor \.yaml"):
        load_catalog(path)


def test_a_missing_file_is_reported(catalog_dir: Path) -> None:
    with pytest.raises(Unreadable, match="does not exist"):
        load_catalog(catalog_dir / "nope.csv")


def test_old_macintosh_line_ends_and_no_final_line_end(write: WriteFile) -> None:
    path = write(
        "mac.csv",
        "sku;title_fr;category;price;stock\rR-1;Tapis;rugs;10;1\rR-2;Pouf;poufs;5;2",
        dedent=False,
    )
    catalog = load_catalog(path)
    assert catalog.problems == ()
    assert [(p.sku, p.line) for p in catalog.products] == [("R-1", 2), ("R-2", 3)]


def test_an_empty_file_cannot_be_used(write: WriteFile) -> None:
    with pytest.raises(Unreadable, match="empty"):
        load_catalog(write("empty.csv", "\ufeff\r\n"))
