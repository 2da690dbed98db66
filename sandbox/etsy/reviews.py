"""Reviews: getReviewsByShop (public, newest first, within ``min_created``/``max_created``),
and the review a buyer leaves."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.etsy.api import Call, EtsyApi, Part, Served
from sandbox.etsy.rules import page

__all__ = ["Reviews", "new_review"]


class Reviews(Part):
    served = (Served("getReviewsByShop", "get_many"),)

    def get_many(self, call: Call) -> Response:
        shop = self.api.shop(call.path["shop_id"])
        q = call.query
        found = [
            r
            for r in self.state.reviews
            if r["shop_id"] == shop.shop_id
            and (q.get("min_created") is None or r["create_timestamp"] >= q["min_created"])
            and (q.get("max_created") is None or r["create_timestamp"] <= q["max_created"])
        ]
        found.reverse()  # newest first
        found.sort(key=lambda r: r["create_timestamp"], reverse=True)
        return JSONResponse(page(found, q))


def new_review(
    api: EtsyApi, listing: dict[str, Any], rating: int, text: str, language: str
) -> dict[str, Any]:
    """A buyer's review of a listing, on its latest sale (a transaction of its own if none)."""
    bought = [
        t
        for r in api.state.receipts.values()
        for t in r["receipt"]["transactions"]
        if t["listing_id"] == listing["listing_id"]
    ]
    now = api.stamp()
    return {
        "shop_id": listing["shop_id"],
        "listing_id": listing["listing_id"],
        "transaction_id": bought[-1]["transaction_id"] if bought else api.new_id(),
        "buyer_user_id": bought[-1]["buyer_user_id"] if bought else None,
        "rating": rating,
        "review": text,
        "language": language,
        "image_url_fullxfull": None,
        "create_timestamp": now,
        "created_timestamp": now,
        "update_timestamp": now,
        "updated_timestamp": now,
    }
