"""reviews: the month of each review (UTC) stored with it, and the satisfaction report's
indexes

``created_month`` ('YYYY-MM') is what :func:`syndicator.reviews.records.record_reviews` now
writes with every creation time. The reviews already stored get it in one UPDATE, the month
worked out by the database (:class:`syndicator.store.reviews.utc_month`, compiled for SQLite
and for PostgreSQL), then the column is made NOT NULL so that no writer can leave it out.
Two covering indexes let the report count without sorting (docs/reviews.md).

On SQLite, making the column NOT NULL rebuilds the table (Alembic's batch mode): about
half a minute at a million reviews, once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_reviews = sa.table(
    "reviews",
    sa.column("created_at", sa.DateTime()),
    sa.column("created_month", sa.String()),
)

_INDEXES = {
    "ix_reviews_report_shop": [
        "source_kind",
        "complete_sample",
        "cooperative",
        "channel",
        "language",
        "created_month",
        "rating",
    ],
    "ix_reviews_report_sku": [
        "source_kind",
        "complete_sample",
        "cooperative",
        "sku",
        "created_month",
        "rating",
        "channel",
    ],
}


def upgrade() -> None:
    from syndicator.store.reviews import utc_month

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_month", sa.String(length=7), nullable=True))
    r = _reviews.c
    op.execute(sa.update(_reviews).values(created_month=utc_month(r.created_at)))
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.alter_column("created_month", existing_type=sa.String(length=7), nullable=False)
    # After the rebuild, not in it: SQLite builds each index once, from the final table.
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        for name, columns in _INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column("created_month")
