"""What a channel was last confirmed to show for one SKU: the state plans compare with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["LISTED", "LISTED_IF_REMOTE", "ListingState"]

# A listing on the channel (even at quantity 0) has one of these statuses, or one of the
# second set with the channel's own id: a failed update or a pending one of a listing there.
LISTED = frozenset(("active", "inactive"))
LISTED_IF_REMOTE = frozenset(("failed", "pending"))


@dataclass(frozen=True, slots=True)
class ListingState:
    """What a channel was last confirmed to show for one SKU."""

    sku: str
    status: str
    parent_sku: str | None = None
    remote_id: str | None = None
    fingerprint: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    language: str | None = None
    input_key: str | None = None
    last_error: str | None = None
    confirmed_at: datetime | None = None
    # When a read-back last found the channel showing exactly this (None: answered, not yet
    # read back: "sent", never "in sync").
    verified_at: datetime | None = None
    # What the last read-back found different and left as the shop has it (sync.drift:
    # report); None when it agreed or was corrected.
    drift: str | None = None

    @property
    def listed(self) -> bool:
        """Present on the channel (even at quantity 0), as opposed to never or no longer."""
        return self.status in LISTED or (
            self.status in LISTED_IF_REMOTE and self.remote_id is not None
        )
