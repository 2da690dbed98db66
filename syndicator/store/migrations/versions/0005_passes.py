"""passes: one row per pass on one channel, for ``syndicator status``

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicator.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("cooperative", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("quota_account", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passes")),
        sa.UniqueConstraint(
            "run_id", "cooperative", "channel", name=op.f("uq_passes_run_id_cooperative_channel")
        ),
    )
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passes_cooperative_channel_finished_at"),
            ["cooperative", "channel", "finished_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("passes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passes_cooperative_channel_finished_at"))
    op.drop_table("passes")
