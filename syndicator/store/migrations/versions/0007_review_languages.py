"""reviews: where the language came from, whether the source is a complete sample, an index
on the creation time; the rows already stored brought to the review store's rules

Existing rows get what :func:`syndicator.reviews.records.record_reviews` now writes: the
channel's language normalized (or detected from the text), the buyer reference replaced by
its opaque hash, ``updated_at`` never null, seller feedback marked as an incomplete sample,
and any row whose rating is not 1 to 5 removed (a pull skips such reviews now).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 1000

_reviews = sa.table(
    "reviews",
    sa.column("id", sa.Integer()),
    sa.column("cooperative", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("rating", sa.Integer()),
    sa.column("text", sa.Text()),
    sa.column("language", sa.String()),
    sa.column("language_source", sa.String()),
    sa.column("source_kind", sa.String()),
    sa.column("complete_sample", sa.Boolean()),
    sa.column("buyer_ref", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_source", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("complete_sample", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_reviews_created_at"), ["created_at"], unique=False)
    _backfill()


def _backfill() -> None:
    from syndicator.reviews.language import review_language
    from syndicator.reviews.records import opaque_buyer

    r = _reviews.c
    op.execute(sa.delete(_reviews).where(sa.or_(r.rating.is_(None), r.rating < 1, r.rating > 5)))
    op.execute(
        sa.update(_reviews)
        .where(r.source_kind == "seller_feedback")
        .values(complete_sample=sa.false())
    )
    op.execute(sa.update(_reviews).where(r.updated_at.is_(None)).values(updated_at=r.created_at))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(r.id, r.cooperative, r.channel, r.text, r.language, r.buyer_ref)
            .where(r.id > last)
            .order_by(r.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            found = review_language(row.language, row.text)
            conn.execute(
                sa.update(_reviews)
                .where(r.id == row.id)
                .values(
                    language=found.language,
                    language_source=None if found.source is None else str(found.source),
                    buyer_ref=opaque_buyer(row.cooperative, row.channel, row.buyer_ref),
                )
            )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_created_at"))
        batch_op.drop_column("complete_sample")
        batch_op.drop_column("language_source")
