"""Listing images: uploadListingImage (a JPEG, PNG or GIF file, or an image of the same
shop again) and getListingImages."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.base import ApiError
from sandbox.etsy.api import Call, Part, Served
from sandbox.etsy.views import image_json

__all__ = ["Images"]

MAX_IMAGES = 20
MAX_IMAGE_BYTES = 20 * 1024 * 1024


def _image_kind(data: bytes) -> str | None:
    for magic, kind in ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif")):
        if data.startswith(magic):
            return kind
    return None


class Images(Part):
    served = (
        Served("uploadListingImage", "upload", write=True),
        Served("getListingImages", "get"),
    )

    def upload(self, call: Call) -> Response:
        shop, listing = self.api.shop_listing(call)
        body = call.body
        data, reuse = body.get("image"), body.get("listing_image_id")
        if data is None and reuse is None:
            raise ApiError(400, "invalid", "Send an image file or a listing_image_id.")
        if data is not None:
            if not isinstance(data, bytes):
                raise ApiError(400, "invalid", "image must be a file part.")
            if _image_kind(data) is None:
                raise ApiError(400, "invalid", "The image must be a JPEG, PNG or GIF file.")
            if len(data) > MAX_IMAGE_BYTES:
                raise ApiError(400, "invalid", "The image is over 20 MB.")
            size = len(data)
        else:
            mine = [
                i
                for x in self.state.listings.values()
                if x["shop_id"] == shop.shop_id
                for i in x["images"]
                if i["listing_image_id"] == reuse
            ]
            if not mine:
                raise ApiError(404, "not_found", f"Image {reuse} not found in this shop.")
            size = mine[0]["size"]
        images: list[dict[str, Any]] = listing["images"]
        rank = min(max(body.get("rank", 1), 1), len(images) + 1)
        image = {
            "listing_image_id": reuse if data is None else self.api.new_id(),
            "created": self.api.stamp(),
            "alt_text": body.get("alt_text") or None,
            "size": size,
        }
        if body.get("overwrite") and rank <= len(images):
            images[rank - 1] = image
        elif len(images) >= MAX_IMAGES:
            raise ApiError(400, "invalid", f"A listing has at most {MAX_IMAGES} images.")
        else:
            images.insert(rank - 1, image)
        listing["updated"] = self.api.stamp()
        return JSONResponse(image_json(listing, image), status_code=201)

    def get(self, call: Call) -> Response:
        listing = self.api.visible(call)
        images = [image_json(listing, i) for i in listing["images"]]
        return JSONResponse({"count": len(images), "results": images})
