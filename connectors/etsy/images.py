"""A listing's photos at Etsy: read from the catalog's folder or fetched over https, checked
against Etsy's limits before any draft is made, and uploaded in order, never twice.

A catalog's image URL is fetched by :func:`~syndicator.connector.fetch_public`: public
addresses only, redirects checked hop by hop, Etsy's 20 MB and a time bound. The one origin
that may be local is the channel's own ``endpoint`` (the in-process sandbox the demo wires
in): the connector already sends it the shop's credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etsy_python.v3.models.Listing import UploadListingImageRequest
from etsy_python.v3.resources import EtsyClient, ListingImageResource

from connectors.etsy.client import EtsyApi
from syndicator.connector import (
    ChannelError,
    FetchLimits,
    ItemRejected,
    Throttled,
    Transient,
    error_for_status,
    fetch_public,
    origin_of,
    shown,
)

__all__ = ["Images"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
FETCH_DEADLINE = 120.0  # seconds for one image URL, redirects included
WHAT_TO_DO = "put the photo in the catalog's folder, or give its address on a public https host"
IMAGE_KINDS = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


class Images:
    """The photos of one connector's listings (``root``: the catalog's folder)."""

    def __init__(
        self, api: EtsyApi, root: Path, timeout: float, deadline: float = FETCH_DEADLINE
    ) -> None:
        self.api = api
        self.root = root
        self.limits = FetchLimits(MAX_IMAGE_BYTES, timeout=timeout, deadline=deadline)
        endpoint = api.settings.endpoint
        self.trusted = None if endpoint is None else origin_of(str(endpoint))
        self._loaded: dict[str, bytes] = {}

    def load(self, ref: str) -> bytes:
        """An image's bytes: a file under the catalog's folder, or an https URL (fetched
        without any Etsy header)."""
        if ref in self._loaded:
            return self._loaded[ref]
        if ref.lower().startswith(("https://", "http://")):
            data = self._download(ref)
        else:
            root = self.root.resolve()
            path = (root / ref).resolve()
            if not path.is_relative_to(root):
                raise ItemRejected(f"image {ref} is outside the catalog's folder")
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise ItemRejected(f"image {ref} cannot be read: {exc.strerror}") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise ItemRejected(f"image {ref} is over 20 MB, Etsy's limit")
        if not any(data.startswith(magic) for magic, _ in IMAGE_KINDS):
            raise ItemRejected(f"image {ref} is not a JPEG, PNG or GIF file")
        self._loaded[ref] = data
        return data

    def _download(self, url: str) -> bytes:
        try:
            got = fetch_public(url, self.limits, trusted=self.trusted)
        except ChannelError as exc:
            said = f"image {shown(url)} {exc.message}"
            if isinstance(exc, ItemRejected):
                raise ItemRejected(f"{said}; {WHAT_TO_DO}") from None
            raise Transient(said) from None
        if got.status >= 300:
            err = error_for_status(got.status, f"image {shown(url)} answered {got.status}")
            raise err if err.retryable else ItemRejected(err.message)
        return got.data

    def count(self, listing_id: int) -> int:
        """How many images Etsy holds for the listing."""
        answer = self.api.call(
            "getListingImages", lambda c: ListingImageResource(c).get_listing_images(listing_id)
        )
        return len(answer.get("results") or [])

    def upload(
        self, listing_id: int, images: Sequence[tuple[str, bytes]], *, have: int, alt: str
    ) -> None:
        """Upload the images from ``have`` on, in order. An upload is not repeated blindly
        (it would add the picture twice): after a lost answer, count what Etsy holds."""
        caller = self.api.caller
        count, attempt = have, 0
        while count < len(images):
            data = images[count][1]
            request = UploadListingImageRequest(data, rank=count + 1, alt_text=alt[:250])
            try:

                def call(c: EtsyClient, r: UploadListingImageRequest = request) -> Any:
                    return ListingImageResource(c).upload_listing_image(
                        self.api.shop_id, listing_id, r
                    )

                self.api.call("uploadListingImage", call, retry=False)
                count, attempt = count + 1, 0
            except Throttled:
                attempt += 1
                if attempt >= caller.policy.attempts:
                    raise
            except Transient as exc:
                attempt += 1
                if attempt >= caller.policy.attempts:
                    raise
                caller.pause(exc, attempt)
                count = max(have, self.count(listing_id))

    def close(self) -> None:
        """Nothing stays open between fetches (each connects to the address it checked)."""
