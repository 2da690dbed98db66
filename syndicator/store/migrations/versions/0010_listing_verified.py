"""listings.verified_at and listings.drift: "in sync" means read back and equal

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08

Rows kept before this revision have never been read back as such: ``verified_at`` starts
empty, and the next passes read them back (``sync.verify_writes`` a pass, per channel).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicator.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("drift", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_listings_cooperative_channel_verified_at"),
            ["cooperative", "channel", "verified_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_cooperative_channel_verified_at"))
        batch_op.drop_column("drift")
        batch_op.drop_column("verified_at")
