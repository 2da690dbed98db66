"""Reviews from every channel: one normalized store, exports, a satisfaction report.

``store``: what a pass writes (:func:`~syndicator.reviews.store.record_reviews`) and the one
way to read reviews back (:func:`~syndicator.reviews.store.read_reviews`,
:class:`~syndicator.reviews.store.ReviewFilter`); ``language``: a review's language, the
channel's or detected offline; ``export``: CSV, Parquet, JSON Lines (imported on demand: it
needs pyarrow). docs/reviews.md defines every field.
"""

from __future__ import annotations

from syndicator.reviews.language import Detection, LanguageSource, detect_language
from syndicator.reviews.store import (
    REVIEW_COLUMNS,
    Recorded,
    ReviewFilter,
    opaque_buyer,
    read_reviews,
    record_reviews,
    select_reviews,
)

__all__ = [
    "REVIEW_COLUMNS",
    "Detection",
    "LanguageSource",
    "Recorded",
    "ReviewFilter",
    "detect_language",
    "opaque_buyer",
    "read_reviews",
    "record_reviews",
    "select_reviews",
]
