"""The product feed: a cooperative's catalog in the shape of ANOU's open product database.

ANOU published its products as ``GET /product_data?page=N``, 50 a page: id, name,
description, url, category, keywords, price, shipping_price, colors, photos (rank, original,
thumbnail), artisans, materials, tools, dimensions and weight. A cooperative marketplace (or
a search site) that pulls such a feed can take a cooperative's products from here.

From projections (what the channel shows), this module builds that shape, with prices as
decimal strings, photos at a public base URL for local images, UTF-8 throughout (Arabic as
it is written), and:

- :func:`write_feed` writes ``product_data/page-N.json`` and ``product_data/index.json``
  into a folder (each file replaced whole, the index last), for any static host;
- :func:`feed_app` serves such a folder at ``/product_data?page=N`` (and, if asked, the
  catalog's images under ``/media/``); :func:`serve_feed` runs it.

Products with nothing in stock are left out unless asked: the shape has no quantity.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from connectors.anou.payloads import amount_text
from syndicator.connector import Money, Projection, QuietServer, listen, server_config

__all__ = [
    "MEDIA_SUFFIXES",
    "PAGE_SCHEMA",
    "PAGE_SIZE",
    "FeedIndex",
    "FeedOptions",
    "feed_app",
    "feed_pages",
    "feed_product",
    "serve_feed",
    "write_feed",
    "write_products",
]

PAGE_SIZE = 50  # products a page, as ANOU's open product database
FOLDER = "product_data"
INDEX = "index.json"
MEDIA_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"})
COLOUR_OPTIONS = frozenset({"color", "colour", "couleur", "colors", "colours", "لون"})
_REMOTE = ("https://", "http://")
JSON_TYPE = "application/json; charset=utf-8"


# The keys of a product in the feed: ANOU's, and our sku, language and currency.
PRODUCT_KEYS = (
    "id", "sku", "name", "description", "language", "url", "category", "keywords", "price",
    "currency", "shipping_price", "colors", "photos", "artisans", "materials", "tools",
    "dimensions", "weight",
)  # fmt: skip
_TEXT = {"type": "string"}
_AMOUNT = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
_TEXTS = {"type": "array", "items": _TEXT}
# One page of the feed, as JSON Schema (draft 2020-12): what a platform pulling it can check.
PAGE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["page", "pages", "products"],
    "additionalProperties": False,
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "products": {
            "type": "array",
            "maxItems": PAGE_SIZE,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(PRODUCT_KEYS),
                "properties": {
                    "id": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
                    "sku": _TEXT,
                    "name": {"type": "string", "minLength": 1},
                    "description": _TEXT,
                    "language": _TEXT,
                    "url": _TEXT,
                    "category": _TEXT,
                    "keywords": _TEXTS,
                    "price": _AMOUNT,
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "shipping_price": _AMOUNT,
                    "colors": _TEXTS,
                    "photos": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["rank", "original", "thumbnail"],
                            "properties": {
                                "rank": {"type": "integer", "minimum": 1},
                                "original": _TEXT,
                                "thumbnail": _TEXT,
                            },
                        },
                    },
                    "artisans": _TEXTS,
                    "materials": _TEXTS,
                    "tools": _TEXTS,
                    "dimensions": {
                        "type": ["object", "null"],
                        "additionalProperties": False,
                        "properties": {k: _AMOUNT for k in ("length", "width", "height")},
                    },
                    "weight": {"anyOf": [_AMOUNT, {"type": "null"}]},
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How the feed names things on the web.

    ``base_url``: where the catalog's local images are public (``images/rug.jpg`` becomes
    ``<base_url>/images/rug.jpg``). ``product_url``: where a buyer sees a product, with
    ``{sku}``, ``{id}`` and ``{base_url}`` (None: ``url`` is empty, never a guessed link).
    ``thumbnail_url``: a thumbnail for a local image, with ``{base_url}`` and ``{path}``
    (None: the original serves as its thumbnail). ``shop``: the cooperative, when several
    share one feed (it keeps ids apart).
    """

    base_url: str
    product_url: str | None = None
    thumbnail_url: str | None = None
    shipping_price: Decimal = Decimal(0)
    include_sold_out: bool = False
    shop: str | None = None


@dataclass(frozen=True, slots=True)
class FeedIndex:
    """What :func:`write_feed` wrote."""

    folder: Path
    pages: int
    products: int


def product_id(sku: str, shop: str | None = None) -> int:
    """A stable number for a product (ANOU's ids are numbers): the same SKU of the same shop
    always gets the same one; below 2**48, safe in JavaScript."""
    digest = hashlib.blake2b(f"{shop or ''}/{sku}".encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big")


def _photo_urls(ref: str, options: FeedOptions) -> tuple[str, str]:
    if ref.startswith(_REMOTE):
        return ref, ref
    path = quote(ref.replace("\\", "/").removeprefix("./"))
    base = options.base_url.rstrip("/")
    original = f"{base}/{path}"
    if options.thumbnail_url is None:
        return original, original
    return original, options.thumbnail_url.format(base_url=base, path=path)


def feed_product(projection: Projection, options: FeedOptions) -> dict[str, Any]:
    """One product in the open product database shape (plus ``sku``, ``currency`` and
    ``language``)."""
    p = projection
    pid = product_id(p.sku, options.shop)
    attributes = dict(p.attributes)
    dimensions = {
        name: attributes[f"{name}_cm"]
        for name in ("length", "width", "height")
        if f"{name}_cm" in attributes
    }
    photos = []
    for rank, ref in enumerate(p.images, 1):
        original, thumbnail = _photo_urls(ref, options)
        photos.append({"rank": rank, "original": original, "thumbnail": thumbnail})
    base = options.base_url.rstrip("/")
    return {
        "id": pid,
        "sku": p.sku,
        "name": p.title,
        "description": p.description or "",
        "language": p.language,
        "url": ""
        if options.product_url is None
        else options.product_url.format(base_url=base, sku=quote(p.sku, safe=""), id=pid),
        "category": p.category,
        "keywords": list(p.tags),
        "price": amount_text(p.price),
        "currency": p.price.currency,
        "shipping_price": amount_text(Money(options.shipping_price, p.price.currency)),
        "colors": [v for k, v in p.options if k.casefold() in COLOUR_OPTIONS],
        "photos": photos,
        "artisans": [attributes["artisan"]] if attributes.get("artisan") else [],
        "materials": list(p.materials),
        "tools": [],
        "dimensions": dimensions or None,
        "weight": attributes.get("weight_kg"),
    }


def feed_pages(
    products: Sequence[dict[str, Any]], page_size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """``products`` as pages: ``{"page": n, "pages": total, "products": [...]}``; an empty
    feed is one empty page."""
    pages = max(1, -(-len(products) // page_size))
    return [
        {"page": n, "pages": pages, "products": list(products[(n - 1) * page_size : n * page_size])}
        for n in range(1, pages + 1)
    ]


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a reader never sees half a page."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_feed(
    projections: Iterable[Projection],
    out_dir: Path,
    base_url: str,
    *,
    product_url: str | None = None,
    thumbnail_url: str | None = None,
    shipping_price: Decimal = Decimal(0),
    include_sold_out: bool = False,
    shop: str | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> FeedIndex:
    """Write the feed of ``projections`` under ``out_dir/product_data/``: ``page-N.json``
    for each page, then ``index.json``; pages left from a longer feed are removed. See
    :class:`FeedOptions` for the URLs."""
    options = FeedOptions(
        base_url, product_url, thumbnail_url, shipping_price, include_sold_out, shop
    )
    products = [feed_product(p, options) for p in projections if include_sold_out or p.quantity > 0]
    return write_products(products, out_dir, page_size=page_size, now=now)


def write_products(
    products: Sequence[dict[str, Any]],
    out_dir: Path,
    *,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> FeedIndex:
    """Write products already in the feed's shape (:func:`feed_product`), for a feed of
    several cooperatives together: ``page-N.json`` for each page, then ``index.json``;
    pages left from a longer feed are removed."""
    pages = feed_pages(products, page_size)
    folder = Path(out_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for page in pages:
        _replace(folder / f"page-{page['page']}.json", _dump(page))
    index = {
        "pages": len(pages),
        "products": len(products),
        "page_size": page_size,
        "generated_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": [f"page-{n}.json" for n in range(1, len(pages) + 1)],
    }
    _replace(folder / INDEX, _dump(index))
    for old in folder.glob("page-*.json"):
        number = old.stem.removeprefix("page-")
        if not number.isdigit() or int(number) > len(pages):
            old.unlink(missing_ok=True)
    return FeedIndex(folder, len(pages), len(products))


# --------------------------------------------------------------------------- serving
def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def feed_app(out_dir: Path, *, media_root: Path | None = None) -> Starlette:
    """Serve the feed written in ``out_dir``: ``GET /product_data?page=N`` (1 when not
    given; a page past the end is empty), ``GET /product_data/index.json``, and with
    ``media_root`` the image files under it at ``/media/<path>`` (images only: nothing else
    of the catalog's folder is served). A feed written again is served at once."""
    folder = Path(out_dir) / FOLDER
    root = media_root.resolve() if media_root is not None else None

    def index() -> dict[str, Any] | None:
        try:
            data = json.loads((folder / INDEX).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    async def product_data(request: Request) -> Response:
        raw = request.query_params.get("page") or "1"
        if not raw.isdigit() or int(raw) < 1:
            return _error(400, "invalid", "page is a whole number from 1")
        page = int(raw)
        known = index()
        if known is None:
            return _error(503, "unavailable", "no feed has been written yet")
        if page > int(known["pages"]):
            empty = {"page": page, "pages": known["pages"], "products": []}
            return Response(_dump(empty), media_type=JSON_TYPE)
        try:
            body = (folder / f"page-{page}.json").read_bytes()
        except OSError:
            return _error(503, "unavailable", "the feed is being written; try again")
        return Response(body, media_type=JSON_TYPE, headers={"Cache-Control": "max-age=300"})

    async def feed_index(request: Request) -> Response:
        known = index()
        if known is None:
            return _error(503, "unavailable", "no feed has been written yet")
        return Response(_dump(known), media_type=JSON_TYPE)

    async def media(request: Request) -> Response:
        if root is None:
            return _error(404, "not_found", "no images are served here")
        path = (root / request.path_params["path"]).resolve()
        if (
            not path.is_relative_to(root)
            or path.suffix.lower() not in MEDIA_SUFFIXES
            or not path.is_file()
        ):
            return _error(404, "not_found", "no such image")
        return FileResponse(path, headers={"Cache-Control": "max-age=86400"})

    return Starlette(
        routes=[
            Route(f"/{FOLDER}", product_data, methods=["GET"]),
            Route(f"/{FOLDER}/{INDEX}", feed_index, methods=["GET"]),
            Route("/media/{path:path}", media, methods=["GET"]),
        ]
    )


def serve_feed(
    out_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8800,
    media_root: Path | None = None,
) -> None:
    """Serve :func:`feed_app` until SIGINT or SIGTERM (``syndicator feed --serve``), with
    the core's in-process server."""
    sock = listen(host, port)
    QuietServer(server_config(feed_app(out_dir, media_root=media_root))).run(sockets=[sock])


class _Publisher:
    """The ``feed`` hook of the ANOU channel type (``syndicator feed``)."""

    def write(
        self,
        projections: Sequence[Projection],
        out: Path,
        base_url: str,
        *,
        product_url: str | None,
        thumbnail_url: str | None,
        include_sold_out: bool,
        shop: str,
    ) -> FeedIndex:
        return write_feed(
            projections,
            out,
            base_url,
            product_url=product_url,
            thumbnail_url=thumbnail_url,
            include_sold_out=include_sold_out,
            shop=shop,
        )

    def serve(self, out: Path, *, host: str, port: int, media_root: Path | None) -> None:
        serve_feed(out, host=host, port=port, media_root=media_root)


FEED = _Publisher()
