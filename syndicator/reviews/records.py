"""The review records: one normalized row per review, whatever the channel, made from the
pages a pass pulls (:func:`record_reviews`, called by each pass, syndicator/sync/reconcile.py).

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
* ``created_month`` is the calendar month of ``created_at`` in UTC
  (:func:`~syndicator.store.reviews.month_of`), written with it every time: the satisfaction
  report counts by it, through indexes that hold it.

The SQL, and the one way to read reviews back (``read_reviews``, ``ReviewFilter``), are in
:mod:`syndicator.store.reviews`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection

from syndicator.common.logs import get_logger
from syndicator.domain.reviews import Review
from syndicator.reviews.language import review_language
from syndicator.store.reviews import month_of, stored_reviews, upsert_reviews

__all__ = ["Recorded", "opaque_buyer", "record_reviews"]

log = get_logger("syndicator.reviews")

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
    stored = stored_reviews(conn, cooperative, channel, list(rows), _CONTENT)
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
    upsert_reviews(conn, changed)
    return result
