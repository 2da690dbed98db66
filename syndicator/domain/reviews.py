"""Reviews as every channel's are recorded: a rating, a text, a language, opaque ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Review", "ReviewSource"]


class ReviewSource(StrEnum):
    PRODUCT_REVIEW = "product_review"  # a buyer rates the item (Etsy, ANOU)
    SELLER_FEEDBACK = "seller_feedback"  # a buyer rates the seller (Amazon: 1 to 3 stars only)


@dataclass(frozen=True, slots=True)
class Review:
    review_id: str  # stable across pulls: a re-pull updates, never duplicates
    source: ReviewSource
    rating: int  # 1 to 5
    text: str | None
    language: str | None  # the channel's own field; None: not given
    created_at: datetime
    updated_at: datetime | None = None
    sku: str | None = None
    remote_listing_id: str | None = None
    order_ref: str | None = None
    buyer_ref: str | None = None  # an opaque id, never a name or an address
    complete_sample: bool = True  # False: the source holds only some ratings (Amazon feedback)
