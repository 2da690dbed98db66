"""The Amazon emulator: its API families composed on one state, with Amazon's control API."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.amazon.api import AmazonApi, Part
from sandbox.amazon.catalog import Catalog
from sandbox.amazon.control import AmazonControl
from sandbox.amazon.documents import Documents
from sandbox.amazon.feeds import Feeds
from sandbox.amazon.listings import ListingsItems
from sandbox.amazon.lwa import Lwa
from sandbox.amazon.orders import Orders
from sandbox.amazon.reports import Reports
from sandbox.base import ApiError, Control

__all__ = ["AmazonSandbox"]


class AmazonSandbox(AmazonApi):
    """The Amazon SP-API emulator (see the package's docstring): LWA, Listings Items, Feeds,
    Orders, Reports and the documents behind them, each a :class:`Part` on this state."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        catalog = Catalog(self)
        documents = Documents(self)
        self.lwa = Lwa(self)
        self.parts: tuple[Part, ...] = (
            self.lwa,
            ListingsItems(self, catalog),
            Feeds(self, documents, catalog),
            Orders(self),
            Reports(self, documents),
            documents,
        )

    def new_control(self) -> Control:
        return AmazonControl(self)

    def routes(self) -> list[BaseRoute]:
        routes = [route for part in self.parts for route in part.routes()]
        return [*routes, Route("/{path:path}", self._unknown)]

    async def _unknown(self, request: Request) -> Response:
        return self.error(ApiError(404, "NotFound", "The requested resource was not found."))

    def revoke(self, refresh_token: str) -> None:
        """The seller withdraws the application's authorisation: LWA refuses the token."""
        self.lwa.revoke(refresh_token)
