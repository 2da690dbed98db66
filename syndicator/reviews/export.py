"""Exports of the stored reviews: CSV for a spreadsheet, Parquet and JSON Lines for analysis.

All three hold exactly :data:`~syndicator.store.reviews.REVIEW_COLUMNS` (never the buyer's
reference, never a credential), are streamed from the database in batches, and are written
to a temporary file beside ``out`` that replaces it only once complete. docs/reviews.md,
"Export", is the schema; :data:`PARQUET_SCHEMA` is the same in code.

The CSV is for people: UTF-8 with a byte order mark (Excel then shows Arabic right), CRLF
line ends, every cell quoted, and every text cell that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, after any spaces, or
their full-width forms) prefixed with an apostrophe, as OWASP's CSV injection guidance asks.
Parquet and JSON Lines keep the text exactly as stored.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Row

from syndicator.store import Store
from syndicator.store.reviews import REVIEW_COLUMNS, ReviewFilter, read_reviews

__all__ = [
    "BATCH_SIZE",
    "FORMATS",
    "PARQUET_SCHEMA",
    "csv_cell",
    "export_reviews",
    "neutralize",
]

FORMATS: Final = ("csv", "parquet", "jsonl")
BATCH_SIZE: Final = 5000

_UTC = pa.timestamp("us", tz="UTC")
PARQUET_SCHEMA: Final = pa.schema(
    [
        pa.field("cooperative", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("review_id", pa.string(), nullable=False),
        pa.field("source_kind", pa.string(), nullable=False),
        pa.field("complete_sample", pa.bool_(), nullable=False),
        pa.field("sku", pa.string()),
        pa.field("rating", pa.int8(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("language", pa.string()),
        pa.field("language_source", pa.string()),
        pa.field("order_ref", pa.string()),
        pa.field("created_at", _UTC, nullable=False),
        pa.field("updated_at", _UTC, nullable=False),
        pa.field("recorded_at", _UTC, nullable=False),
    ],
    metadata={"syndicator.schema": "reviews/1", "doc": "docs/reviews.md#export"},
)
assert tuple(PARQUET_SCHEMA.names) == REVIEW_COLUMNS

# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection), with the
# full-width forms some locales of Excel also take.
_FORMULA_START: Final = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def neutralize(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a leading apostrophe when it would
    otherwise start a formula (spaces before the sign do not make it safe)."""
    stripped = text.lstrip(" ")
    if stripped and stripped[0] in _FORMULA_START:
        return "'" + text
    return text


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (microseconds only when there are some)."""
    return moment.isoformat().replace("+00:00", "Z")


def csv_cell(value: Any) -> str:
    """One value as a CSV cell: empty for null, ``true``/``false``, ISO times, text
    neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, int):
        return str(value)
    return neutralize(str(value))


def _json_value(value: Any) -> Any:
    return _iso(value) if isinstance(value, datetime) else value


@contextmanager
def _replacing(out: Path, *, newline: str | None = None, binary: bool = False) -> Iterator[IO[Any]]:
    """A file beside ``out`` that becomes ``out`` when the block ends without an error,
    and is removed otherwise: a failed export leaves no half file behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        if binary:
            with os.fdopen(fd, "wb") as fh:
                yield fh
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
                yield fh
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(batches: Iterator[Sequence[Row[Any]]], out: Path) -> int:
    count = 0
    with _replacing(out, newline="") as fh:
        fh.write("\ufeff")
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(REVIEW_COLUMNS)
        for batch in batches:
            writer.writerows([csv_cell(v) for v in row] for row in batch)
            count += len(batch)
    return count


def _write_jsonl(batches: Iterator[Sequence[Row[Any]]], out: Path) -> int:
    count = 0
    with _replacing(out, newline="\n") as fh:
        for batch in batches:
            fh.writelines(
                json.dumps(
                    {k: _json_value(v) for k, v in zip(REVIEW_COLUMNS, row, strict=True)},
                    ensure_ascii=False,
                )
                + "\n"
                for row in batch
            )
            count += len(batch)
    return count


def _write_parquet(batches: Iterator[Sequence[Row[Any]]], out: Path) -> int:
    count = 0
    with _replacing(out, binary=True) as fh:
        writer = pq.ParquetWriter(fh, PARQUET_SCHEMA, compression="zstd")
        try:
            for batch in batches:
                if not batch:
                    continue
                columns = [
                    pa.array(values, type=f.type)
                    for values, f in zip(zip(*batch, strict=True), PARQUET_SCHEMA, strict=True)
                ]
                writer.write_batch(pa.record_batch(columns, schema=PARQUET_SCHEMA))
                count += len(batch)
        finally:
            writer.close()
    return count


_WRITERS: Final = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}


def export_reviews(
    store: Store,
    out: Path,
    fmt: str,
    where: ReviewFilter | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Write the reviews ``where`` selects to ``out`` as ``fmt`` (one of :data:`FORMATS`),
    oldest first, in batches of ``batch_size`` from one consistent snapshot. Returns how
    many were written (0: a file with the header, or the schema, only)."""
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    with store.read() as conn:
        return writer(read_reviews(conn, where, batch_size=batch_size), out)
