"""The reviews table's SQL: what a pass's page of reviews is compared with and written by,
the one way to read reviews back, and the satisfaction report's counts.

What a row holds (the language, the opaque buyer, what is refused) is decided above, by
:mod:`syndicator.reviews.records`: the functions here take and give plain row values.

The month rule lives here twice, side by side: in Python (:func:`month_of`, which the
review records write ``created_month`` with, and which says the boundary months of a
filter) and in SQL (:class:`utc_month`, for migration 0008, which filled the column for the
reviews stored before it); tests hold the two to the same months.

The satisfaction report (syndicator/reviews/report.py) counts in two ``GROUP BY`` queries,
:func:`count_rated` and :func:`count_apart`, each reading a covering index of the table
(store/schema.py) in the order of its ``GROUP BY``, so that SQLite, which has no hash
aggregation, counts without sorting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    and_,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from syndicator.domain.reviews import ReviewSource
from syndicator.store.schema import reviews
from syndicator.store.sql import CHUNK, upsert

__all__ = [
    "REVIEW_COLUMNS",
    "SHOP_READ",
    "SKU_READ",
    "STARS",
    "ReviewFilter",
    "count_apart",
    "count_rated",
    "month_of",
    "read_reviews",
    "select_reviews",
    "sort_threads",
    "stored_reviews",
    "upsert_reviews",
    "utc_month",
]

STARS: Final = (1, 2, 3, 4, 5)  # the ratings a stored review can have
_KEY: Final = ("cooperative", "channel", "review_id")


# --------------------------------------------------------------------------- the month
def month_of(moment: datetime) -> str:
    """``YYYY-MM``: the calendar month of ``moment`` in UTC (a review written at 00:30 in
    Paris on 1 January belongs to December), as ``created_month`` stores it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: use a timezone-aware time")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


class utc_month(FunctionElement[str]):  # lower case, as SQLAlchemy names SQL functions
    """:func:`month_of` in SQL: ``YYYY-MM``, the calendar month in UTC of a ``UTCDateTime``
    column. Compiled for each database the store supports: SQLite keeps naive UTC text;
    PostgreSQL keeps a TIMESTAMPTZ, read here in UTC whatever the session's time zone."""

    type = String()
    name = "utc_month"
    inherit_cache = True


@compiles(utc_month)
def _utc_month_other(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"utc_month is written for SQLite and PostgreSQL, not {compiler.dialect}")


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    # UTCDateTime stores naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff': the month is its first
    # seven characters, read without parsing the time.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


# --------------------------------------------------------------------------- writing
def stored_reviews(
    conn: Connection, cooperative: str, channel: str, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored rows of one channel's reviews among ``ids``, by review id: ``review_id``,
    ``updated_at`` and ``columns``. Reviews not stored yet are not in it."""
    c = reviews.c
    picked = [c.review_id, c.updated_at, *(c[name] for name in columns)]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(*picked).where(
            c.cooperative == cooperative,
            c.channel == channel,
            c.review_id.in_(ids[start : start + CHUNK]),
        )
        found.update({row.review_id: row._asdict() for row in conn.execute(query)})
    return found


def upsert_reviews(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the new reviews and update the stored ones, keyed by (cooperative, channel,
    the channel's review id); every row holds every column."""
    upsert(conn, reviews, rows, _KEY)


# --------------------------------------------------------------------------- reading
# The columns a reader gets, in this order: every stored field but the internal row id and
# the buyer's opaque reference. The export writes exactly these (docs/reviews.md, "Export").
REVIEW_COLUMNS: Final = (
    "cooperative",
    "channel",
    "review_id",
    "source_kind",
    "complete_sample",
    "sku",
    "rating",
    "text",
    "language",
    "language_source",
    "order_ref",
    "created_at",
    "updated_at",
    "recorded_at",
)


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which reviews to read. ``since``/``until``: creation time, ``since`` included and
    ``until`` not (aware datetimes); None everywhere: every review."""

    since: datetime | None = None
    until: datetime | None = None
    cooperative: str | None = None
    channel: str | None = None
    source_kind: ReviewSource | None = None

    def clauses(self, *, by_month: bool = False) -> list[ColumnElement[bool]]:
        """The filter as WHERE clauses on the ``reviews`` table, for a reader that builds
        its own query (an aggregate in SQL).

        ``by_month``: the same reviews, with ``since`` and ``until`` said on
        ``created_month`` first and on ``created_at`` only within their own month, for a
        reader of an index that holds the month but not the time (the report's): the
        database then reads the table only for the reviews of those boundary months."""
        c = reviews.c
        out: list[ColumnElement[bool]] = []
        if self.since is not None:
            if by_month:
                first = month_of(self.since)
                out.append(c.created_month >= first)
                out.append(or_(c.created_month > first, c.created_at >= self.since))
            else:
                out.append(c.created_at >= self.since)
        if self.until is not None:
            if by_month:
                last = month_of(self.until)
                out.append(c.created_month <= last)
                out.append(or_(c.created_month < last, c.created_at < self.until))
            else:
                out.append(c.created_at < self.until)
        if self.cooperative is not None:
            out.append(c.cooperative == self.cooperative)
        if self.channel is not None:
            out.append(c.channel == self.channel)
        if self.source_kind is not None:
            out.append(c.source_kind == str(self.source_kind))
        return out


def select_reviews(
    where: ReviewFilter | None = None,
    columns: Sequence[str] = REVIEW_COLUMNS,
    *,
    ordered: bool = True,
) -> Select[Any]:
    """The query behind :func:`read_reviews`: ``columns`` (names from
    :data:`REVIEW_COLUMNS`) of the reviews ``where`` selects, oldest first when
    ``ordered``. ``updated_at`` is never null here (the creation time when the store has no
    other)."""
    unknown = set(columns) - set(REVIEW_COLUMNS)
    if unknown:
        raise ValueError(f"not a review column: {', '.join(sorted(unknown))}")
    c = reviews.c
    picked = [
        func.coalesce(c.updated_at, c.created_at).label("updated_at")
        if name == "updated_at"
        else c[name]
        for name in columns
    ]
    query = select(*picked).where(*(where or ReviewFilter()).clauses())
    if ordered:
        query = query.order_by(c.created_at, c.id)
    return query


def read_reviews(
    conn: Connection,
    where: ReviewFilter | None = None,
    columns: Sequence[str] = REVIEW_COLUMNS,
    *,
    batch_size: int = 5000,
    ordered: bool = True,
) -> Iterator[Sequence[Row[Any]]]:
    """The stored reviews ``where`` selects, in batches of at most ``batch_size`` rows
    (named tuples: ``row.rating``, ``row.created_at`` as aware UTC datetimes), streamed from
    the database rather than loaded at once (a server-side cursor on PostgreSQL). Read
    within one ``store.read()`` transaction for a consistent snapshot."""
    query = select_reviews(where, columns, ordered=ordered)
    result = conn.execution_options(yield_per=batch_size).execute(query)
    yield from result.partitions()


# --------------------------------------------------------------------------- counting
# What the counting of rated product reviews reads, in the order of a covering index of the
# reviews table (store/schema.py): grouped in that order, with the month and the rating last,
# the database counts from the index alone and never sorts.
SHOP_READ: Final = ("cooperative", "channel", "language")  # ix_reviews_report_shop
SKU_READ: Final = ("cooperative", "sku")  # ix_reviews_report_sku


def _counting() -> list[ColumnElement[Any]]:
    """Per group: every review, those with a rating, and those with each number of stars
    (``count(*) FILTER (WHERE ...)``: SQLite 3.30 and PostgreSQL have it, and SQLite counts
    it about a tenth faster than a sum of ``CASE``)."""
    rating = reviews.c.rating
    return [
        func.count().label("reviews"),
        func.count(rating).label("with_rating"),
        *(func.count().filter(rating == s).label(f"stars_{s}") for s in STARS),
    ]


def _rated() -> ColumnElement[bool]:
    """What a satisfaction rate is over: product reviews from a source holding every rating."""
    c = reviews.c
    return and_(c.source_kind == str(ReviewSource.PRODUCT_REVIEW), c.complete_sample)


def count_rated(
    conn: Connection, read: Sequence[str], where: ReviewFilter
) -> Sequence[Sequence[Any]]:
    """The rated product reviews ``where`` keeps, counted per ``read`` columns
    (:data:`SHOP_READ` or :data:`SKU_READ`) and month: rows of ``(read ..., month,
    reviews, with a rating, 1 star ... 5 stars)``, in no particular order."""
    c = reviews.c
    columns = [*(c[name] for name in read), c.created_month]
    scope = where.clauses(by_month=True)  # the same reviews, without reading the table
    products = select(*columns, *_counting()).where(_rated(), *scope).group_by(*columns)
    return conn.execute(products).all()  # fetchall: cheaper than row by row


def count_apart(conn: Connection, where: ReviewFilter) -> Sequence[Sequence[Any]]:
    """Every other review ``where`` keeps (seller feedback, partial sources, other kinds),
    counted per kind and shop: rows of ``(source_kind, complete_sample, cooperative,
    channel, reviews, with a rating, 1 star ... 5 stars)``."""
    # Grouped by kind first, in the order of the shop index, which holds every column this
    # reads: SQLite reads the index alone, in order, and not the table. (With --cooperative
    # it prefers the unique index and sorts what it finds: 0.4 s at a million reviews.)
    c = reviews.c
    others = (
        select(c.source_kind, c.complete_sample, c.cooperative, c.channel, *_counting())
        .where(not_(_rated()), *where.clauses(by_month=True))
        .group_by(c.source_kind, c.complete_sample, c.cooperative, c.channel)
    )
    return conn.execute(others).all()


# SQLite sorts the rows of a GROUP BY on one core unless allowed helper threads.
_SORT_THREADS: Final = max(0, min(3, (os.cpu_count() or 1) - 1))


@contextmanager
def sort_threads(conn: Connection) -> Iterator[None]:
    """On SQLite, let the counting's sorts use the other cores (``PRAGMA threads``: about a
    third off the report over a million reviews on two cores); put the setting back after."""
    if conn.dialect.name != "sqlite" or not _SORT_THREADS:
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA threads").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA threads = {_SORT_THREADS}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA threads = {before}")
