"""What the review tests share: reviews written through the records' own write path, the
report of a store, the report as a console prints it, and a store brought to an old
migration for a migration's test to fill as it was then."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from rich.console import Console

from syndicator.cli.render.reviews import render_report
from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.records import record_reviews
from syndicator.reviews.report import GroupBy, ReviewReport, satisfaction_report
from syndicator.store import Store
from syndicator.store.db import migrations_config
from syndicator.store.reviews import ReviewFilter

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
JAN = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
PRODUCT = ReviewSource.PRODUCT_REVIEW
FEEDBACK = ReviewSource.SELLER_FEEDBACK


def stars(*counts: int) -> list[int]:
    """``stars(1, 0, 1, 3, 5)``: one 1-star, one 3-star, three 4-star, five 5-star ratings."""
    return [rating for rating, n in enumerate(counts, start=1) for _ in range(n)]


def add(
    store: Store,
    channel: str,
    ratings: list[int],
    *,
    cooperative: str = "atlas-rugs",
    source: ReviewSource = PRODUCT,
    complete_sample: bool = True,
    sku: str | None = "ATL-BNO-001",
    language: str | None = "fr",
    at: datetime = JAN,
    prefix: str = "",
) -> None:
    """Reviews with these ratings, through the review records' own write path."""
    page = [
        Review(
            review_id=f"{prefix or channel}-{i}",
            source=source,
            rating=rating,
            text=None,
            language=language,
            created_at=at + timedelta(minutes=i),
            sku=sku,
            complete_sample=complete_sample,
        )
        for i, rating in enumerate(ratings)
    ]
    with store.write() as conn:
        recorded = record_reviews(conn, cooperative, channel, page, {}, NOW)
    assert not recorded.skipped


def report(
    store: Store, by: GroupBy = GroupBy.CHANNEL, where: ReviewFilter | None = None
) -> ReviewReport:
    with store.read() as conn:
        return satisfaction_report(conn, by, where)


def printed(parts: Iterable[Any], width: int) -> str:
    """What a console ``width`` characters wide shows of ``parts``, as plain text."""
    console = Console(width=width, record=True, file=io.StringIO())
    for part in parts:
        console.print(part)
    return console.export_text()


def rendered(r: ReviewReport) -> str:
    """The report as ``syndicator reviews report`` prints it, 120 characters wide."""
    return printed(render_report(r), 120)


def upgrade(store: Store, revision: str) -> None:
    """Bring ``store`` (opened with ``migrate=False``) up to ``revision`` and no further."""
    cfg = migrations_config()
    with store.write() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
