"""The month each review is stored with (``created_month``): the calendar month of its
creation time in UTC, written by the review store on insert and whenever a re-pull moves the
creation time; filled in by migration 0008 for the reviews stored before it; and what the
satisfaction report counts by, from indexes that spare it the table and the sort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import CompileError, IntegrityError

from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.records import record_reviews
from syndicator.reviews.report import GroupBy, satisfaction_report
from syndicator.store import Store
from syndicator.store.reviews import ReviewFilter, month_of, utc_month
from syndicator.store.schema import reviews
from tests.reviews.kit import upgrade

NOW = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
TOKYO = timezone(timedelta(hours=9))
LAST_EVENING = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Paris


def review(review_id: str, created_at: datetime, rating: int = 5, **kw: Any) -> Review:
    return Review(
        review_id=review_id,
        source=kw.pop("source", ReviewSource.PRODUCT_REVIEW),
        rating=rating,
        text=None,
        language="fr",
        created_at=created_at,
        sku="ATL-BNO-001",
        **kw,
    )


def record(store: Store, page: list[Review], now: datetime = NOW) -> None:
    with store.write() as conn:
        assert not record_reviews(conn, "atlas-rugs", "etsy", page, {}, now).skipped


def stored_months(store: Store) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.execute(select(reviews.c.review_id, reviews.c.created_month)).all()
    return dict(rows)


# --------------------------------------------------------------------------- the rule
def test_the_month_is_the_calendar_month_in_utc() -> None:
    assert month_of(LAST_EVENING) == "2026-01"
    assert month_of(LAST_EVENING.astimezone(PARIS)) == "2026-01"  # the same instant
    assert month_of(datetime(2026, 1, 1, 0, 30, tzinfo=PARIS)) == "2025-12"  # a year back
    assert month_of(datetime(2024, 3, 1, 8, 0, tzinfo=TOKYO)) == "2024-02"  # 23:00 on the 29th
    with pytest.raises(ValueError, match="naive"):
        month_of(datetime(2026, 1, 31, 23, 30))


def test_month_bucketing_is_written_for_sqlite_and_postgresql() -> None:
    month = select(utc_month(reviews.c.created_at))
    assert "substr(reviews.created_at, 1, 7)" in str(month.compile(dialect=sqlite.dialect()))
    pg = str(month.compile(dialect=postgresql.dialect()))
    assert "to_char((reviews.created_at) AT TIME ZONE 'UTC', 'YYYY-MM')" in pg
    with pytest.raises(CompileError):
        str(month.compile(dialect=mysql.dialect()))


# --------------------------------------------------------------------------- the store writes it
def test_a_new_review_is_stored_with_its_utc_month(store: Store) -> None:
    record(
        store,
        [
            review("evening", LAST_EVENING),
            review("new-year-in-paris", datetime(2026, 1, 1, 0, 30, tzinfo=PARIS)),
            review("feedback", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), rating=2,
                   source=ReviewSource.SELLER_FEEDBACK, complete_sample=False),
        ],
    )  # fmt: skip
    assert stored_months(store) == {
        "evening": "2026-01",
        "new-year-in-paris": "2025-12",
        "feedback": "2025-12",
    }


def test_a_re_pull_that_moves_the_creation_time_moves_the_month(store: Store) -> None:
    record(store, [review("R-1", LAST_EVENING, rating=4), review("R-2", LAST_EVENING)])
    # The channel corrects R-1's time past midnight, and only R-2's rating.
    corrected = datetime(2026, 2, 1, 0, 10, tzinfo=UTC)
    with store.write() as conn:
        again = record_reviews(
            conn,
            "atlas-rugs",
            "etsy",
            [review("R-1", corrected, rating=4), review("R-2", LAST_EVENING, rating=1)],
            {},
            NOW + timedelta(days=1),
        )
    assert again.updated == 2
    assert stored_months(store) == {"R-1": "2026-02", "R-2": "2026-01"}
    with store.read() as conn:
        r = satisfaction_report(conn)
    assert [(m.month, m.ratings.stars) for m in r.months] == [
        ("2026-01", (1, 0, 0, 0, 0)),
        ("2026-02", (0, 0, 0, 1, 0)),
    ]


def test_no_writer_can_leave_the_month_out(store: Store) -> None:
    with pytest.raises(IntegrityError, match="created_month"), store.write() as conn:
        conn.execute(
            reviews.insert().values(
                cooperative="atlas-rugs",
                channel="etsy",
                review_id="raw",
                rating=5,
                source_kind="product_review",
                created_at=LAST_EVENING,
                recorded_at=NOW,
            )
        )


# --------------------------------------------------------------------------- migration 0008
def test_the_migration_fills_the_month_of_every_review_stored_before(tmp_path: Path) -> None:
    """Reviews stored at 0007 (no month), at the edges of months and years, then upgraded."""
    url = f"sqlite:///{tmp_path}/old.db"
    old = Store(url, migrate=False)
    upgrade(old, "0007")
    written = {
        "last-evening": LAST_EVENING,  # 23:30 UTC on the last day of January
        "leap-day": datetime(2024, 2, 29, 23, 30, tzinfo=UTC),
        "year-end": datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "new-year": datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        "new-year-in-paris": datetime(2026, 1, 1, 0, 30, tzinfo=PARIS),  # 2025 in UTC
        "march-in-tokyo": datetime(2024, 3, 1, 8, 0, tzinfo=TOKYO),  # 29 February in UTC
    }
    with old.write() as conn:
        conn.execute(
            reviews.insert(),
            [
                {
                    "cooperative": "atlas-rugs",
                    "channel": "etsy",
                    "review_id": review_id,
                    "sku": "ATL-BNO-001",
                    "rating": 5 if i % 2 else 2,
                    "language": "fr",
                    "language_source": "channel",
                    "source_kind": "product_review",
                    "complete_sample": True,
                    "created_at": at,
                    "updated_at": at,
                    "recorded_at": NOW,
                }
                for i, (review_id, at) in enumerate(written.items())
            ],
        )
    upgrade(old, "0008")
    with old.read() as conn:
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("reviews")}
        column = next(
            c for c in inspect(conn).get_columns("reviews") if c["name"] == "created_month"
        )
    old.close()

    migrated = Store(url)  # and on to the newest schema, as a daemon would
    try:
        months = stored_months(migrated)
        with migrated.read() as conn:
            by_month = satisfaction_report(conn, GroupBy.MONTH)
            since = satisfaction_report(
                conn, where=ReviewFilter(since=datetime(2026, 1, 1, 0, 45, tzinfo=PARIS))
            )
    finally:
        migrated.close()
    assert months == {
        "last-evening": "2026-01",
        "leap-day": "2024-02",
        "year-end": "2025-12",
        "new-year": "2026-01",
        "new-year-in-paris": "2025-12",
        "march-in-tokyo": "2024-02",
    }
    assert months == {review_id: month_of(at) for review_id, at in written.items()}
    assert column["nullable"] is False
    assert {"ix_reviews_report_shop", "ix_reviews_report_sku"} <= indexes
    assert [(g.label, g.ratings.n) for g in by_month.groups] == [
        ("2024-02", 2),
        ("2025-12", 2),
        ("2026-01", 2),
    ]
    # Since 23:45 UTC on New Year's Eve: not the Paris review (23:30), the one at 23:59:59.
    assert [(m.month, m.ratings.n) for m in since.months] == [("2025-12", 1), ("2026-01", 2)]


# --------------------------------------------------------------------------- the report's reads
def test_the_report_counts_from_its_indexes_without_sorting(store: Store) -> None:
    """Every query of the report, each --by, alone or since a time, reads an index of the
    report in the order of its GROUP BY: SQLite counts without sorting the reviews and, but
    for the reviews of ``since``'s own month, without reading the table."""
    record(store, [review(f"R-{i}", LAST_EVENING + timedelta(days=i)) for i in range(40)])
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "reviews" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.read() as conn:
            for by in GroupBy:
                satisfaction_report(conn, by)
                satisfaction_report(conn, by, ReviewFilter(since=LAST_EVENING + timedelta(days=9)))
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert len(statements) == 2 * 2 * len(GroupBy)
    with store.read() as conn:
        for statement, parameters in statements:
            plan = " ".join(
                row[3]
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "INDEX ix_reviews_report_" in plan, (statement, plan)
            assert "TEMP B-TREE" not in plan, (statement, plan)
