"""The state store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Migrations in ``migrations/versions`` create exactly these; a test compares the two.
Keys are (cooperative, channel, ...) everywhere, so that one database serves several
cooperatives and, later, several workers.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from syndicator.store.types import Amount, UTCDateTime

__all__ = [
    "alerts",
    "channel_tokens",
    "cursors",
    "journal",
    "listings",
    "metadata",
    "orders",
    "passes",
    "plan_bases",
    "quota_buckets",
    "reviews",
    "stock_counts",
    "stock_ledger",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

# What each channel was last confirmed to show for each SKU, and how the last attempt went.
listings = Table(
    "listings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("sku", ID, nullable=False),
    Column("parent_sku", ID),
    Column("remote_id", String(128)),  # the channel's id: ASIN / listing id / product id
    Column("status", String(16), nullable=False),  # pending, active, inactive, delisted, failed
    Column("fingerprint", String(64)),  # content (not price or stock) last confirmed
    # What that listing was worked out from (catalog rows, stock, channel settings, rate):
    # when it is the same now, planning can skip the SKU without working it out again.
    Column("input_key", String(64)),
    Column("price", Amount()),
    Column("currency", String(3)),
    Column("quantity", Integer),
    Column("language", String(8)),
    Column("last_error", Text),  # in the channel's own words
    Column("attempts", Integer, nullable=False, default=0),  # failures since the last success
    Column("last_error_at", UTCDateTime()),
    Column("confirmed_at", UTCDateTime()),
    # When a read-back last found the channel showing what it confirmed (None: not since):
    # "in sync" means read back and equal, never only answered (docs/status.md).
    Column("verified_at", UTCDateTime()),
    Column("drift", Text),  # what the shop shows otherwise, left as it is (sync.drift: report)
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("cooperative", "channel", "sku"),
    # Covers a channel's quiet-mark aggregates (syndicator/store/marks.py): no table scan.
    Index(None, "cooperative", "channel", "updated_at", "attempts"),
    # The listings not read back since they were answered (store/listings.py, unverified):
    # found at the end of every pass without reading the others.
    Index(None, "cooperative", "channel", "verified_at"),
)

# The last stock count read from the catalog for each SKU, and when it was counted.
stock_counts = Table(
    "stock_counts",
    metadata,
    Column("cooperative", ID, primary_key=True),
    Column("sku", ID, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("counted_at", UTCDateTime(), nullable=False),
    Index(None, "cooperative", "counted_at", "count"),  # the quiet mark's aggregates
)

# Every change of stock after a count: sales (negative delta), cancellations (positive).
stock_ledger = Table(
    "stock_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cooperative", ID, nullable=False),
    Column("sku", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("line_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # sale, cancel
    Column("quantity", Integer, nullable=False),
    Column("delta", Integer, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("cooperative", "channel", "order_id", "line_id", "kind"),
    Index(None, "cooperative", "sku", "occurred_at"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("placed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("total", Amount()),
    Column("currency", String(3)),
    Column("buyer_ref", String(64)),  # an opaque hash, never the buyer's name or address
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("cooperative", "channel", "order_id"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("review_id", String(128), nullable=False),
    Column("sku", ID),
    Column("rating", Integer),
    Column("text", Text),
    Column("language", String(8)),  # ISO 639-1 (or zgh, tzm, shi, rif), "other", None
    Column("language_source", String(16)),  # channel, detected; None: no language known
    Column("source_kind", String(32), nullable=False),  # product_review, seller_feedback
    # False: the source holds only some ratings (Amazon's feedback report: 1 to 3 stars).
    Column("complete_sample", Boolean, nullable=False, server_default=true()),
    Column("order_ref", String(128)),
    Column("buyer_ref", String(64)),  # syndicator.reviews.records.opaque_buyer, never a name
    Column("created_at", UTCDateTime(), nullable=False),
    # 'YYYY-MM', the calendar month of created_at in UTC, written with it by the review store
    # (syndicator.store.reviews.month_of): the satisfaction report counts by it.
    Column("created_month", String(7), nullable=False),
    Column("updated_at", UTCDateTime()),
    Column("recorded_at", UTCDateTime(), nullable=False),
    UniqueConstraint("cooperative", "channel", "review_id"),
    Index(None, "created_at"),
    # The satisfaction report's (syndicator/reviews/report.py): each holds every column its
    # counting reads, in the order of its GROUP BY, so that the database counts from the index
    # alone and never sorts (about 50 MiB each at a million reviews; docs/reviews.md). By
    # shop and language (--by channel, cooperative, month, language, and what is kept
    # apart), and by SKU.
    Index(
        "ix_reviews_report_shop",
        "source_kind",
        "complete_sample",
        "cooperative",
        "channel",
        "language",
        "created_month",
        "rating",
    ),
    Index(
        "ix_reviews_report_sku",
        "source_kind",
        "complete_sample",
        "cooperative",
        "sku",
        "created_month",
        "rating",
        "channel",  # last: only so that --channel is read from the index too
    ),
)

# Where each pull (orders, reviews ...) of each channel has got to.
cursors = Table(
    "cursors",
    metadata,
    Column("cooperative", ID, primary_key=True),
    Column("channel", ID, primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The rows of the catalog file as a cooperative's last pass left its channels
# (syndicator/planning/basis.py): the next pass parses only the rows that are new.
plan_bases = Table(
    "plan_bases",
    metadata,
    Column("cooperative", ID, primary_key=True),
    Column("file_digest", String(64), nullable=False),
    Column("version", String(8), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("records", LargeBinary, nullable=False),
    Column("ledger_id", Integer),  # the highest stock_ledger id the basis saw (None: none)
    Column("saved_at", UTCDateTime(), nullable=False),
)

# Every operation tried on a channel, with its outcome in the channel's own words.
journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("sku", ID),
    Column("action", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("outcome", String(16), nullable=False),
    Column("message", Text),
    Column("details", JSON),
    Index(None, "cooperative", "channel", "at"),
    Index(None, "sku"),
    # A SKU's history on one channel (status: when its failing streak began).
    Index(None, "cooperative", "channel", "sku", "at"),
)

# Token buckets per (account, bucket): what each marketplace lets one seller or key call.
# Kept in the store so that a restart does not burst past a limit and several workers on one
# database share one seller's quota. ``updated_at`` is wall-clock epoch seconds.
quota_buckets = Table(
    "quota_buckets",
    metadata,
    Column("account", String(160), primary_key=True),
    Column("bucket", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("blocked_until", Float, nullable=False, default=0.0),
    Column("day", String(10)),  # UTC day of calls_today
    Column("calls_today", Integer, nullable=False, default=0),
    Column("throttled_today", Integer, nullable=False, default=0),
)

# Credentials a channel rotates (Etsy's refresh token), newest first; ``source_digest`` is a
# hash of the configured value they descend from, so an operator's new token in the config
# wins over the rotated chain of an older one. Never exported, logged or journalled.
channel_tokens = Table(
    "channel_tokens",
    metadata,
    Column("cooperative", ID, primary_key=True),
    Column("channel", ID, primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("source_digest", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# What an operator must see: an oversell, a refused mass delist, a channel refusing its
# credentials, a backlog. ``key`` makes raising the same alert again a no-op while it is open.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID),
    Column("kind", String(32), nullable=False),  # oversell, mass_delist, auth, backlog
    Column("key", String(255), nullable=False),
    Column("sku", ID),
    Column("message", Text, nullable=False),
    Column("details", JSON),
    Column("resolved_at", UTCDateTime()),
    UniqueConstraint("cooperative", "kind", "key"),
)

# One row per pass on one channel (run id, cooperative, channel): what triggered it, how it
# ended, what it counted, and the last error in the channel's own words. ``syndicator
# status`` reads the newest; ``quota_account`` names the quota buckets the pass drew from.
passes = Table(
    "passes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("cooperative", ID, nullable=False),
    Column("channel", ID, nullable=False),
    Column("kind", String(16), nullable=False),  # sync, push, orders, reviews, readback
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok, partial, failed, stopped
    Column("counts", JSON, nullable=False),
    Column("last_error", Text),
    Column("quota_account", String(160)),
    UniqueConstraint("run_id", "cooperative", "channel"),
    Index(None, "cooperative", "channel", "finished_at"),
)

# Who holds what: "daemon" (one daemon per database); a holder renews its lease while it
# runs, and a lease nobody renewed past expires_at (or whose process is gone) can be taken.
leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
