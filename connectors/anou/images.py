"""Images as an ANOU-style marketplace takes them: an https URL as it is, a local file of the
catalog's folder uploaded once per pass (variants share their photos)."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from connectors.anou.client import AnouClient
from connectors.anou.records import get_path
from connectors.anou.settings import AnouSettings, FieldMap
from syndicator.connector import ItemRejected, Transient

__all__ = ["REMOTE_URL", "Images"]

REMOTE_URL = ("https://", "http://")


class Images:
    """The images of one shop's products (``root``: the catalog's folder)."""

    def __init__(
        self, client: AnouClient, settings: AnouSettings, fields: FieldMap, root: Path
    ) -> None:
        self.client = client
        self.endpoint = settings.endpoints.upload_image
        self.fields = fields
        self.root = root
        self._uploaded: dict[str, str] = {}  # sha256 of an image file -> its URL there

    def url(self, ref: str) -> str:
        """An image as the marketplace takes it: a URL as it is, a local file uploaded."""
        if ref.startswith(REMOTE_URL):
            return ref
        path = self._local(ref)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._uploaded:  # one upload per file per pass (variants share them)
            return self._uploaded[digest]
        if self.endpoint is None:
            raise ItemRejected(
                f"image {ref}: this marketplace takes only image URLs (no upload endpoint); "
                "give an https URL"
            )
        content_type = mimetypes.guess_type(path.name)[0] or ""
        if not content_type.startswith("image/"):
            raise ItemRejected(f"image {ref}: not an image file (.jpg, .png, .webp ...)")
        # Uploading the same bytes again is harmless (at worst an unused copy): retried.
        answer = self.client.call(
            "uploadImage", self.endpoint, content=data, content_type=content_type
        )
        url = get_path(answer, self.fields["url"])
        if not isinstance(url, str) or not url.startswith(REMOTE_URL):
            raise Transient(f"image {ref}: the upload gave no URL", operation="uploadImage")
        self._uploaded[digest] = url
        return url

    def _local(self, ref: str) -> Path:
        root = self.root.resolve()
        path = (root / ref).resolve()
        if not path.is_relative_to(root):
            raise ItemRejected(f"image {ref}: outside the catalog's folder")
        if not path.is_file():
            raise ItemRejected(f"image {ref}: no such file in {root}")
        return path
