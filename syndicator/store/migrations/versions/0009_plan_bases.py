"""plan_bases: the rows of the catalog file as a cooperative's last pass left its channels;
covering indexes for the quiet marks' aggregates

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicator.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_bases",
        sa.Column("cooperative", sa.String(length=64), nullable=False),
        sa.Column("file_digest", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
        sa.Column("ledger_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cooperative", name=op.f("pk_plan_bases")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_listings_cooperative_channel_updated_at_attempts"),
            ["cooperative", "channel", "updated_at", "attempts"],
            unique=False,
        )
    with op.batch_alter_table("stock_counts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_counts_cooperative_counted_at_count"),
            ["cooperative", "counted_at", "count"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_counts_cooperative_counted_at_count"))
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_cooperative_channel_updated_at_attempts"))
    op.drop_table("plan_bases")
