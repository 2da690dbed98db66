"""The review store: one normalized row per review, whatever the channel; and the one way to
read them back (the export and the satisfaction report both read through :func:`read_reviews`
or :func:`select_reviews`).

Writing (:func:`record_reviews`, called by each pass, syndicator/sync/reconcile.py):

* a review is keyed by (cooperative, channel, the channel's review id): a re-pull updates the
  row when the channel changed it, and leaves it alone otherwise; it never adds a second one;
* the rating must be a whole number from 1 to 5, the review id at most 128 characters and the
  creation time timezone-aware, or the review is skipped and a ``review_skipped`` warning
  logged with the reason (the rest of the page is stored);
* the language is the channel's field, normalized, or detected from the text
  (:mod:`syndicator.reviews.language`), and ``language_source`` says which;
* the buyer is kept only as :func:`opaque_buyer` of whatever the connector gave, so a name or
  an e-mail a connector or a field map lets through never reaches the store;
* ``updated_at`` is the channel's own update time, or, when the channel gives none, the
  creation time for a new review and the time of the pass that saw it change;
* ``created_month`` is the calendar month of ``created_at`` in UTC (:func:`month_of`), written
  with it every time: the satisfaction report counts by it, through indexes that hold it.

The month rule is here twice, in Python (:func:`month_of`, for what a pass writes) and in SQL
(:class:`utc_month`, for migration 0008, which filled the column for the reviews stored
before it); tests hold the two to the same months.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Row, Select, String, func, or_, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from syndicator.common.logs import get_logger
from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.language import review_language
from syndicator.store.schema import reviews
from syndicator.store.sql import upsert

__all__ = [
    "REVIEW_COLUMNS",
    "Recorded",
    "ReviewFilter",
    "month_of",
    "opaque_buyer",
    "read_reviews",
    "record_reviews",
    "select_reviews",
    "utc_month",
]

log = get_logger("syndicator.reviews")

_KEY: Final = ("cooperative", "channel", "review_id")
_CHUNK: Final = 500  # review ids per IN (...): well under every database's limit
_MAX_ID: Final = 128  # reviews.review_id, order_ref
_MAX_SKU: Final = 64

# What a re-pull compares to tell a changed review from the same one again.
_CONTENT: Final = (
    "sku",
    "rating",
    "text",
    "language",
    "language_source",
    "source_kind",
    "complete_sample",
    "order_ref",
    "buyer_ref",
    "created_at",
)


def opaque_buyer(cooperative: str, channel: str, buyer_ref: str | None) -> str | None:
    """The only trace of a buyer the store keeps: a keyed hash of the connector's reference,
    stable (the same buyer on the same channel gets the same value on every pull) and
    unlinkable across channels and cooperatives. ``b:`` and 24 hex digits."""
    if buyer_ref is None or not buyer_ref.strip():
        return None
    scope = f"syndicator-review-buyer\x00{cooperative}\x00{channel}".encode()
    key = hashlib.blake2b(scope, digest_size=32).digest()
    digest = hashlib.blake2b(buyer_ref.strip().encode(), key=key, digest_size=12)
    return "b:" + digest.hexdigest()


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


@dataclass(slots=True)
class Recorded:
    """What :func:`record_reviews` made of a page."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (review id, reason)

    @property
    def stored(self) -> int:
        """Reviews of the page now in the store (new, updated or already there)."""
        return self.new + self.updated + self.unchanged


def _refusal(r: Review) -> str | None:
    if not r.review_id or len(r.review_id) > _MAX_ID:
        return f"the review id is empty or longer than {_MAX_ID} characters"
    if isinstance(r.rating, bool) or not isinstance(r.rating, int) or not 1 <= r.rating <= 5:
        return f"rating {r.rating!r} is not a whole number from 1 to 5"
    if r.created_at.tzinfo is None:
        return "the creation time has no time zone"
    return None


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()  # PostgreSQL text refuses NUL
    return text or None


def _fits(value: str | None, limit: int) -> str | None:
    return value if value is not None and len(value) <= limit else None


def _row(
    cooperative: str, channel: str, r: Review, sku_of: dict[str, str], now: datetime
) -> dict[str, Any]:
    text = _clean_text(r.text)
    language = review_language(r.language, text)
    sku = r.sku or (sku_of.get(r.remote_listing_id) if r.remote_listing_id else None)
    return {
        "cooperative": cooperative,
        "channel": channel,
        "review_id": r.review_id,
        "sku": _fits(sku, _MAX_SKU),
        "rating": r.rating,
        "text": text,
        "language": language.language,
        "language_source": None if language.source is None else str(language.source),
        "source_kind": str(r.source),
        "complete_sample": bool(r.complete_sample),
        "order_ref": _fits(r.order_ref, _MAX_ID),
        "buyer_ref": opaque_buyer(cooperative, channel, r.buyer_ref),
        "created_at": r.created_at,
        "created_month": month_of(r.created_at),
        "updated_at": r.updated_at,
        "recorded_at": now,
    }


def _stored(
    conn: Connection, cooperative: str, channel: str, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    c = reviews.c
    columns = [c.review_id, c.updated_at, *(c[name] for name in _CONTENT)]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(*columns).where(
            c.cooperative == cooperative,
            c.channel == channel,
            c.review_id.in_(ids[start : start + _CHUNK]),
        )
        found.update({row.review_id: row._asdict() for row in conn.execute(query)})
    return found


def record_reviews(
    conn: Connection,
    cooperative: str,
    channel: str,
    page: Sequence[Review],
    sku_of: dict[str, str],
    now: datetime,
) -> Recorded:
    """Store a page of reviews from one channel (see the module docstring): insert the new,
    update the changed, skip the invalid with a logged reason. ``sku_of`` maps the channel's
    listing ids to SKUs for reviews the connector could not map itself."""
    result = Recorded()
    rows: dict[str, dict[str, Any]] = {}
    for r in page:
        reason = _refusal(r)
        if reason is not None:
            result.skipped.append((str(r.review_id), reason))
            log.warning(
                "review_skipped",
                cooperative=cooperative,
                channel=channel,
                review_id=str(r.review_id)[:_MAX_ID],
                reason=reason,
            )
            continue
        rows[r.review_id] = _row(cooperative, channel, r, sku_of, now)  # the last one wins
    stored = _stored(conn, cooperative, channel, list(rows))
    changed: list[dict[str, Any]] = []
    for review_id, row in rows.items():
        old = stored.get(review_id)
        if old is None:
            row["updated_at"] = row["updated_at"] or row["created_at"]
            result.new += 1
            changed.append(row)
            continue
        # What the channel no longer says is kept: a listing deleted since still had its SKU.
        row["sku"] = row["sku"] or old["sku"]
        row["order_ref"] = row["order_ref"] or old["order_ref"]
        same = all(row[name] == old[name] for name in _CONTENT)
        if same and row["updated_at"] in (None, old["updated_at"]):
            result.unchanged += 1
            continue
        row["updated_at"] = row["updated_at"] or now
        result.updated += 1
        changed.append(row)
    upsert(conn, reviews, changed, _KEY)
    return result


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
