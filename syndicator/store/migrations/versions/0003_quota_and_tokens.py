"""quota_buckets and channel_tokens: quotas that survive restarts, rotated credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicator.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_buckets",
        sa.Column("account", sa.String(length=160), nullable=False),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=True),
        sa.Column("calls_today", sa.Integer(), nullable=False),
        sa.Column("throttled_today", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account", "bucket", name=op.f("pk_quota_buckets")),
    )
    op.create_table(
        "channel_tokens",
        sa.Column("cooperative", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cooperative", "channel", "name", name=op.f("pk_channel_tokens")),
    )


def downgrade() -> None:
    op.drop_table("channel_tokens")
    op.drop_table("quota_buckets")
