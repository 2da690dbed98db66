"""The Listings Items API 2021-08-01: put, patch, get and delete one listing, with
``VALIDATION_PREVIEW``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.amazon.api import AmazonApi, Part
from sandbox.amazon.catalog import Catalog, asin, item_json
from sandbox.base import ApiError

__all__ = ["ListingsItems"]

ITEMS = "/listings/2021-08-01/items/{seller_id}/{sku}"


class ListingsItems(Part):
    """One listing at a time, on the seller's path; the rules are the :class:`Catalog`'s."""

    def __init__(self, api: AmazonApi, catalog: Catalog) -> None:
        super().__init__(api)
        self.catalog = catalog

    def routes(self) -> list[BaseRoute]:
        route = self.api.route
        return [
            route("PUT", ITEMS, "putListingsItem", self.put, write=True),
            route("PATCH", ITEMS, "patchListingsItem", self.patch, write=True),
            route("GET", ITEMS, "getListingsItem", self.get),
            route("DELETE", ITEMS, "deleteListingsItem", self.delete, write=True),
        ]

    def _submission(
        self, sku: str, status: str, issues: list[dict[str, Any]], request: Request
    ) -> Response:
        included = ",".join(request.query_params.getlist("includedData")) or "issues"
        body: dict[str, Any] = {
            "sku": sku,
            "status": status,
            "submissionId": self.api.new_id("sub"),
        }
        if "issues" in included.split(","):
            body["issues"] = issues
        if "identifiers" in included.split(",") and request.query_params.get("mode"):
            seller = request.path_params["seller_id"]
            marketplace = request.query_params.getlist("marketplaceIds")[0].split(",")[0]
            body["identifiers"] = (
                [{"marketplaceId": marketplace, "asin": asin(seller, sku)}]
                if status == "VALID"
                else []
            )
        return self.api.answer(body)

    def _marketplaces(self, request: Request) -> list[str]:
        seller = request.path_params["seller_id"]
        return self.api.marketplaces(seller, request.query_params.getlist("marketplaceIds"))

    async def _write(self, request: Request, operation_id: str) -> tuple[Any, str, str, bool]:
        """A put or a patch as sent: its body (checked as Amazon checks it), seller, SKU, and
        whether it only asks for a validation preview."""
        self.api.check_query(request, operation_id)
        body = await self.api.body(request, operation_id)
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        return body, seller, sku, request.query_params.get("mode") == "VALIDATION_PREVIEW"

    async def put(self, request: Request) -> Response:
        body, seller, sku, preview = await self._write(request, "putListingsItem")
        with self.api.lock:
            (marketplace,) = self._marketplaces(request)
            status, issues = self.catalog.put(
                seller,
                sku,
                marketplace,
                body["productType"],
                body.get("requirements", "LISTING"),
                body["attributes"],
                preview=preview,
            )
        return self._submission(sku, status, issues, request)

    async def patch(self, request: Request) -> Response:
        body, seller, sku, preview = await self._write(request, "patchListingsItem")
        with self.api.lock:
            marketplaces = self._marketplaces(request)
            status, issues = self.catalog.patch(
                seller, sku, marketplaces[0], body["productType"], body["patches"], preview=preview
            )
        return self._submission(sku, status, issues, request)

    async def delete(self, request: Request) -> Response:
        self.api.check_query(request, "deleteListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        with self.api.lock:
            (marketplace,) = self._marketplaces(request)
            status, issues = self.catalog.delete(seller, sku, marketplace)
        return self._submission(sku, status, issues, request)

    async def get(self, request: Request) -> Response:
        self.api.check_query(request, "getListingsItem")
        seller, sku = request.path_params["seller_id"], request.path_params["sku"]
        included = [
            v for raw in request.query_params.getlist("includedData") for v in raw.split(",")
        ] or ["summaries"]
        with self.api.lock:
            marketplaces = self._marketplaces(request)
            listing = self.state.listings.get((seller, sku))
            if listing is None or listing.marketplace_id not in marketplaces:
                where = ",".join(marketplaces)
                raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {where}")
            return self.api.answer(item_json(listing, included))
