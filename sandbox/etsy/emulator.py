"""The Etsy emulator: its API families composed on one state, with Etsy's control API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.routing import BaseRoute

from sandbox.base import Control
from sandbox.etsy.api import EtsyApi, Part
from sandbox.etsy.control import EtsyControl
from sandbox.etsy.images import Images
from sandbox.etsy.inventory import Inventory
from sandbox.etsy.listings import Listings
from sandbox.etsy.oauth import OAuth
from sandbox.etsy.receipts import Receipts
from sandbox.etsy.reviews import Reviews
from sandbox.etsy.shops import Shops
from sandbox.etsy.state import DEMO_ACCOUNTS, Auth, State
from sandbox.spec_etsy import TOKEN_PATH, operation

__all__ = ["FAMILIES", "OPERATIONS", "EtsySandbox"]

# The families of Etsy's model the sandbox serves, and so the operations, in this order.
FAMILIES: tuple[type[Part], ...] = (Shops, Listings, Inventory, Images, Receipts, Reviews)
OPERATIONS: tuple[str, ...] = (  # the token endpoint is not in the model
    "oauthToken",
    *(served.operation for family in FAMILIES for served in family.served),
)


class EtsySandbox(EtsyApi):
    """The Etsy Open API v3 of the demo shops (and any added through the control API)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.oauth = OAuth(self)
        self.parts = tuple(family(self) for family in FAMILIES)

    def new_control(self) -> Control:
        return EtsyControl(self)

    def reset_state(self) -> None:
        self.state = State()
        self.auth = Auth()
        for demo in DEMO_ACCOUNTS:
            self.control.add_account(asdict(demo))

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [self.route("POST", TOKEN_PATH, "oauthToken", self.oauth.token)]
        for part in self.parts:
            for op_id, (handler, write) in part.handlers().items():
                op = operation(op_id)
                endpoint = self.endpoint(op, handler)
                routes.append(self.route(op.method, op.path, op_id, endpoint, write=write))
        return routes
