"""Reviews from every channel: normalized records, exports, a satisfaction report.

``records``: what a pass writes (:func:`~syndicator.reviews.records.record_reviews`): one
normalized row per review; ``language``: a review's language, the channel's or detected
offline; ``report``: the satisfaction figures; ``export``: CSV, Parquet, JSON Lines
(imported on demand: it needs pyarrow); ``chart``: the PNG (imported on demand: matplotlib).
The one way to read reviews back (:func:`~syndicator.store.reviews.read_reviews`,
:class:`~syndicator.store.reviews.ReviewFilter`) is the store's, re-exported here.
docs/reviews.md defines every field.
"""

from __future__ import annotations

from syndicator.reviews.language import Detection, LanguageSource, detect_language
from syndicator.reviews.records import Recorded, opaque_buyer, record_reviews
from syndicator.store.reviews import REVIEW_COLUMNS, ReviewFilter, read_reviews, select_reviews

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
