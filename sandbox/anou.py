"""An ANOU-style cooperative marketplace: the JSON API of docs/anou-api.md, emulated.

Cooperative marketplaces publish no standard write API, so this one is ours: API-key auth,
products upserted by SKU, price and stock updates, deactivation, image upload, orders and
reviews since a cursor, and the open product feed (``/product_data?page=N``) such platforms
expose. Each API key belongs to one shop; shops never see each other's products.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.base import ApiError, Control, Emulator, json_body

__all__ = ["DEMO_KEYS", "AnouSandbox"]

# API key -> shop. The demo config's cooperatives have theirs; tests add more.
DEMO_KEYS = {
    "anou-sandbox-atlas-rugs": "atlas-rugs",
    "anou-sandbox-zellige-fes": "zellige-fes",
}
CURRENCIES = ("MAD", "USD", "EUR")
MAX_TITLE = 200
MAX_QUANTITY = 9999
PAGE_SIZE = 50


@dataclass
class _State:
    keys: dict[str, str] = field(default_factory=lambda: dict(DEMO_KEYS))
    products: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # shop/sku
    images: dict[str, bytes] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    next_id: int = 1000


def _money(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise ApiError(422, "invalid", f"{where} must be {{amount, currency}}")
    try:
        amount = Decimal(str(value["amount"]))
    except InvalidOperation:
        raise ApiError(422, "invalid", f"{where}.amount is not a number") from None
    if not isinstance(value["amount"], str):
        raise ApiError(422, "invalid", f'{where}.amount must be a decimal string, like "12.50"')
    if amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ApiError(422, "invalid", f"{where}.amount must be above 0 with at most 2 decimals")
    if value["currency"] not in CURRENCIES:
        raise ApiError(422, "invalid", f"{where}.currency must be one of {', '.join(CURRENCIES)}")
    return {"amount": str(amount), "currency": value["currency"]}


def _quantity(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_QUANTITY:
        raise ApiError(422, "invalid", f"quantity must be a whole number from 0 to {MAX_QUANTITY}")
    return value


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """An order or review as the API shows it: without the shop and the change sequence."""
    return {k: v for k, v in record.items() if k not in ("shop", "seq")}


class AnouSandbox(Emulator):
    """The ANOU-style marketplace (see the module's docstring)."""

    name = "anou"
    state: _State

    def reset_state(self) -> None:
        self.state = _State()

    def _now(self) -> str:
        return datetime.fromtimestamp(self.wall(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # ---------------------------------------------------------------- auth and errors
    def account(self, request: Request, operation: str) -> str:
        if operation == "productFeed":
            return request.client.host if request.client else "public"
        key = request.headers.get("x-api-key", "")
        if key not in self.state.keys:
            raise ApiError(401, "unauthorized", "Missing or unknown API key (X-Api-Key).")
        return key

    def error(self, err: ApiError) -> Response:
        return JSONResponse(
            {"error": {"code": err.code, "message": err.message}},
            status_code=err.status,
            headers=err.headers,
        )

    def _shop(self, request: Request) -> dict[str, dict[str, Any]]:
        shop = self.state.keys[request.headers["x-api-key"]]
        return self.state.products.setdefault(shop, {})

    def _bump(self) -> int:
        self.state.seq += 1
        return self.state.seq

    # ---------------------------------------------------------------- the API
    def routes(self) -> list[BaseRoute]:
        route = self.route
        product = "/api/v1/products/{sku}"
        return [
            route("PUT", product, "upsertProduct", self._upsert, write=True),
            route("GET", product, "getProduct", self._get),
            route("PATCH", f"{product}/offer", "updateOffer", self._offer, write=True),
            route(
                "POST", f"{product}/deactivate", "deactivateProduct", self._deactivate, write=True
            ),
            route("POST", "/api/v1/images", "uploadImage", self._upload, write=True),
            Route("/api/v1/images/{digest}", self._image, methods=["GET"]),
            route("GET", "/api/v1/orders", "listOrders", self._orders),
            route("GET", "/api/v1/reviews", "listReviews", self._reviews),
            route("GET", "/product_data", "productFeed", self._feed),
        ]

    async def _upsert(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(422, "invalid", "The body must be a JSON object.")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise ApiError(422, "invalid", f"title is required, at most {MAX_TITLE} characters")
        images = body.get("images")
        if (
            not isinstance(images, list)
            or not images
            or not all(isinstance(i, str) and i.startswith(("https://", "http://")) for i in images)
        ):
            raise ApiError(422, "invalid", "images must hold at least one http(s) URL")
        price = _money(body.get("price"), "price")
        quantity = _quantity(body.get("quantity"))
        with self.lock:
            shop = self._shop(request)
            existing = shop.get(sku)
            now = self._now()
            product = {
                "id": existing["id"] if existing else self._new_id(),
                "sku": sku,
                "title": title.strip(),
                "language": body.get("language"),
                "description": body.get("description") or "",
                "category": body.get("category"),
                "price": price,
                "quantity": quantity,
                "images": images,
                "materials": list(body.get("materials") or []),
                "tags": list(body.get("tags") or []),
                "attributes": dict(body.get("attributes") or {}),
                "parent_sku": body.get("parent_sku"),
                "options": dict(body.get("options") or {}),
                "active": bool(body.get("active", True)),
                "created_at": existing["created_at"] if existing else now,
                "updated_at": now,
            }
            shop[sku] = product
        return JSONResponse(product, status_code=200 if existing else 201)

    def _new_id(self) -> int:
        self.state.next_id += 1
        return self.state.next_id

    def _find(self, request: Request) -> dict[str, Any]:
        sku = request.path_params["sku"]
        product = self._shop(request).get(sku)
        if product is None:
            raise ApiError(404, "not_found", f"No product with SKU {sku} in this shop.")
        return product

    async def _get(self, request: Request) -> Response:
        with self.lock:
            return JSONResponse(self._find(request))

    async def _offer(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not body or set(body) - {"price", "quantity"}:
            raise ApiError(422, "invalid", "Send price and/or quantity, nothing else.")
        price = _money(body["price"], "price") if "price" in body else None
        quantity = _quantity(body["quantity"]) if "quantity" in body else None
        with self.lock:
            product = self._find(request)
            if price is not None:
                product["price"] = price
            if quantity is not None:
                product["quantity"] = quantity
            product["updated_at"] = self._now()
            return JSONResponse(product)

    async def _deactivate(self, request: Request) -> Response:
        with self.lock:
            product = self._find(request)
            product["active"] = False
            product["updated_at"] = self._now()
            return JSONResponse(product)

    async def _upload(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("image/"):
            raise ApiError(415, "unsupported_media_type", "Send the image bytes as image/*.")
        data = await request.body()
        if not data or len(data) > 10 * 1024 * 1024:
            raise ApiError(422, "invalid", "An image is between 1 byte and 10 MiB.")
        digest = hashlib.sha256(data).hexdigest()[:32]
        with self.lock:
            self.state.images[digest] = data
        return JSONResponse({"url": f"{self.base_url}/api/v1/images/{digest}"}, status_code=201)

    async def _image(self, request: Request) -> Response:
        data = self.state.images.get(request.path_params["digest"])
        if data is None:
            return JSONResponse(
                {"error": {"code": "not_found", "message": "No such image."}}, status_code=404
            )
        return Response(data, media_type="image/jpeg")

    def _since(self, request: Request) -> tuple[int, int]:
        try:
            since = int(request.query_params.get("since") or 0)
            limit = int(request.query_params.get("limit") or 50)
        except ValueError:
            raise ApiError(400, "invalid", "since and limit are whole numbers") from None
        if not 1 <= limit <= 100:
            raise ApiError(400, "invalid", "limit is between 1 and 100")
        return since, limit

    def _changes(self, request: Request, items: dict[str, dict[str, Any]], key: str) -> Response:
        since, limit = self._since(request)
        shop = self.state.keys[request.headers["x-api-key"]]
        with self.lock:
            mine = sorted(
                (i for i in items.values() if i["shop"] == shop and i["seq"] > since),
                key=lambda i: i["seq"],
            )[:limit]
            out = [_public(i) for i in mine]
            cursor = mine[-1]["seq"] if mine else since
        return JSONResponse({key: out, "next_cursor": str(cursor)})

    async def _orders(self, request: Request) -> Response:
        return self._changes(request, self.state.orders, "orders")

    async def _reviews(self, request: Request) -> Response:
        return self._changes(request, self.state.reviews, "reviews")

    async def _feed(self, request: Request) -> Response:
        try:
            page = int(request.query_params.get("page") or 1)
        except ValueError:
            raise ApiError(400, "invalid", "page is a whole number") from None
        with self.lock:
            active = [
                p for shop in self.state.products.values() for p in shop.values() if p["active"]
            ]
        pages = max(1, -(-len(active) // PAGE_SIZE))
        chunk = active[(page - 1) * PAGE_SIZE : page * PAGE_SIZE] if page >= 1 else []
        products = [
            {
                "id": p["id"],
                "name": p["title"],
                "description": p["description"],
                "url": f"{self.base_url}/products/{p['id']}",
                "category": p["category"],
                "keywords": p["tags"],
                "price": p["price"]["amount"],
                "currency": p["price"]["currency"],
                "shipping_price": "0.00",
                "colors": [
                    v for k, v in p["options"].items() if k in ("colour", "color", "couleur")
                ],
                "photos": [
                    {"rank": i + 1, "original": u, "thumbnail": u}
                    for i, u in enumerate(p["images"])
                ],
                "artisans": [p["attributes"]["artisan"]] if p["attributes"].get("artisan") else [],
                "materials": p["materials"],
                "tools": [],
                "dimensions": p["attributes"].get("dimensions_cm"),
                "weight": p["attributes"].get("weight_kg"),
            }
            for p in chunk
        ]
        return JSONResponse({"page": page, "pages": pages, "products": products})

    def new_control(self) -> Control:
        return AnouControl(self)


class AnouControl(Control):
    """What the ANOU-style marketplace does for the control API."""

    def __init__(self, anou: AnouSandbox) -> None:
        self.anou = anou

    @property
    def state(self) -> _State:
        return self.anou.state

    def state_json(self) -> dict[str, Any]:
        listings = [
            {
                "shop": shop,
                "sku": p["sku"],
                "title": p["title"],
                "price": p["price"]["amount"],
                "currency": p["price"]["currency"],
                "quantity": p["quantity"],
                "status": "active" if p["active"] else "inactive",
            }
            for shop, products in self.state.products.items()
            for p in products.values()
        ]
        return {
            "listings": listings,
            "orders": list(self.state.orders.values()),
            "reviews": list(self.state.reviews.values()),
        }

    def add_account(self, data: dict[str, Any]) -> dict[str, Any]:
        key, shop = data.get("api_key"), data.get("shop")
        if not isinstance(key, str) or not key or not isinstance(shop, str) or not shop:
            raise ApiError(400, "invalid", "send api_key and shop")
        self.state.keys[key] = shop
        return {"shop": shop}

    def _product_for(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        sku = str(data.get("sku"))
        shops = [
            s
            for s, products in self.state.products.items()
            if sku in products and (data.get("shop") in (None, s))
        ]
        if len(shops) != 1:
            raise ApiError(
                409 if shops else 404,
                "no_product",
                f"{len(shops)} shops list SKU {sku}; name the shop"
                if shops
                else f"no shop lists SKU {sku}",
            )
        return shops[0], self.state.products[shops[0]][sku]

    def buyer_order(self, data: dict[str, Any]) -> dict[str, Any]:
        shop, product = self._product_for(data)
        quantity = int(data.get("quantity", 1))
        if not product["active"] or quantity < 1 or quantity > product["quantity"]:
            raise ApiError(
                409, "not_available", f"{product['sku']} has {product['quantity']} available"
            )
        product["quantity"] -= quantity
        order_id = f"ANOU-{self.anou._new_id()}"
        now = self.anou._now()
        amount = Decimal(product["price"]["amount"]) * quantity
        order = {
            "id": order_id,
            "shop": shop,
            "seq": self.anou._bump(),
            "status": "paid",
            "created_at": now,
            "updated_at": now,
            "currency": product["price"]["currency"],
            "total": str(amount),
            "lines": [
                {
                    "line_id": f"{order_id}-1",
                    "sku": product["sku"],
                    "quantity": quantity,
                    "unit_price": product["price"]["amount"],
                }
            ],
            "buyer_ref": hashlib.sha256(f"buyer-{order_id}".encode()).hexdigest()[:16],
        }
        self.state.orders[order_id] = order
        return _public(order)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        order = self.state.orders.get(order_id)
        if order is None:
            raise ApiError(404, "not_found", f"no order {order_id}")
        if order["status"] != "cancelled":
            for line in order["lines"]:
                product = self.state.products[order["shop"]].get(line["sku"])
                if product is not None:
                    product["quantity"] += line["quantity"]
            order["status"] = "cancelled"
            order["updated_at"] = self.anou._now()
            order["seq"] = self.anou._bump()
        return _public(order)

    def add_review(self, data: dict[str, Any]) -> dict[str, Any]:
        shop, product = self._product_for(data)
        rating = data.get("rating")
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ApiError(422, "invalid", "rating is a whole number from 1 to 5")
        review_id = f"R-{self.anou._new_id()}"
        now = self.anou._now()
        review = {
            "id": review_id,
            "shop": shop,
            "seq": self.anou._bump(),
            "sku": product["sku"],
            "rating": rating,
            "text": data.get("text", ""),
            "language": data.get("language"),
            "order_id": data.get("order_id"),
            "created_at": now,
            "updated_at": now,
        }
        self.state.reviews[review_id] = review
        return _public(review)
