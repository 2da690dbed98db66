"""The Etsy emulator through a whole life, driven by etsy-python as the Etsy connector drives it.

etsy-python 1.2.3 is pointed at the sandbox through its process-wide environment (patched and
restored per test); the control API (buyer orders, reviews, faults) goes through httpx. The
emulator's wall clock and its quota clock are set by hand: no test sleeps, but the slow fault.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
from etsy_python.v3.common import Env
from etsy_python.v3.enums.Listing import State, WhenMade, WhoMade
from etsy_python.v3.exceptions import RequestException
from etsy_python.v3.models.Listing import (
    CreateDraftListingRequest,
    UpdateListingInventoryRequest,
    UpdateListingRequest,
    UploadListingImageRequest,
)
from etsy_python.v3.models.Product import Product
from etsy_python.v3.models.Request import Request as EtsyRequest
from etsy_python.v3.resources import (
    EtsyClient,
    ListingImageResource,
    ListingInventoryResource,
    ListingResource,
    ReceiptResource,
    ReviewResource,
    ShopResource,
)
from etsy_python.v3.resources.enums.Request import Method

from sandbox import Sandbox
from sandbox.etsy import ACCESS_TOKEN_SECONDS, DEMO_ACCOUNTS, DemoAccount

ATLAS, FES = DEMO_ACCOUNTS
SHOP = ATLAS.shop_id
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z on the emulator's wall clock
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
TITLE = "Tapis berbère Beni Ouarain – زربية بني وراين"
SIZE = 513  # Etsy's first custom variation property
BY_SIZE: dict[str, Any] = {
    "price_on_property": [SIZE],
    "quantity_on_property": [SIZE],
    "sku_on_property": [SIZE],
}


class Clock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("etsy",)) as running:
        yield running


@pytest.fixture
def wall(server: Sandbox) -> Iterator[Clock]:
    """A fresh Etsy at T0; its quota clock ticks 0.2 s per call (two tokens back: never
    throttled unless a test freezes it)."""
    emulator = server.etsy
    server.reset(record=True)
    clock = emulator.wall = Clock(T0)
    ticks = itertools.count()
    emulator.buckets.clock = lambda: next(ticks) * 0.2
    yield clock
    emulator.wall, emulator.buckets.clock = time.time, time.monotonic


@pytest.fixture
def sandbox(server: Sandbox, wall: Clock, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """etsy-python's process-wide URLs point at the sandbox for this test."""
    base = server.url("etsy")
    monkeypatch.setattr(Env.environment, "request_url", f"{base}/v3/application")
    monkeypatch.setattr(Env.environment, "token_url", f"{base}/v3/public/oauth/token")
    return server


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("etsy"), timeout=10) as client:
        yield client


Saved = list[tuple[str, str, datetime]]


def connect(account: DemoAccount, saved: Saved, refresh_token: str | None = None) -> EtsyClient:
    """The Etsy connector's client: the stored refresh token with an access token that has
    expired (the first call refreshes), the full x-api-key, and a callback keeping every
    rotated token (the connector persists it there)."""
    client = EtsyClient(
        keystring=account.keystring,
        access_token=f"{account.user_id}.",
        refresh_token=refresh_token or account.refresh_token,
        expiry=datetime.fromtimestamp(0, UTC),
        sync_refresh=lambda access, refresh, expiry: saved.append((access, refresh, expiry)),
    )
    client.session.headers["x-api-key"] = f"{account.keystring}:{account.shared_secret}"
    return client


@pytest.fixture
def etsy(sandbox: Sandbox) -> EtsyClient:
    return connect(ATLAS, [])


def size(sku: str, label: str, price: float, quantity: int) -> Product:
    return Product(
        sku=sku,
        property_values=[
            {"property_id": SIZE, "property_name": "Taille", "value_ids": [], "values": [label]}
        ],
        offerings=[
            {"price": price, "quantity": quantity, "is_enabled": True, "readiness_state_id": None}
        ],
    )


def editable(
    inventory: dict[str, Any], changes: dict[str, dict[str, Any]] | None = None
) -> UpdateListingInventoryRequest:
    """What a connector must do with getListingInventory's answer before sending it back:
    drop the ids and is_deleted, turn Money into a number, and keep every product."""
    products = []
    for product in inventory["products"]:
        offer = product["offerings"][0]
        offering = {
            "price": offer["price"]["amount"] / offer["price"]["divisor"],
            "quantity": offer["quantity"],
            "is_enabled": offer["is_enabled"],
            "readiness_state_id": offer["readiness_state_id"],
            **(changes or {}).get(product["sku"], {}),
        }
        values = [
            {k: v[k] for k in ("property_id", "property_name", "value_ids", "values")}
            for v in product["property_values"]
        ]
        products.append(Product(sku=product["sku"], property_values=values, offerings=[offering]))
    return UpdateListingInventoryRequest(
        products,
        price_on_property=inventory["price_on_property"],
        quantity_on_property=inventory["quantity_on_property"],
        sku_on_property=inventory["sku_on_property"],
    )


class Raw(EtsyRequest):
    """A payload sent as it is, where etsy-python's models would reshape it."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        super().__init__()

    def get_dict(self) -> dict[str, Any]:
        return self.body


def draft(etsy: EtsyClient, shop_id: int = SHOP, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "quantity": 3,
        "title": TITLE,
        "description": "Tissé à la main par la coopérative. منسوج يدويا.",
        "price": 120.0,
        "who_made": WhoMade.COLLECTIVE,
        "when_made": WhenMade.MADE_TO_ORDER,
        "taxonomy_id": 1036,
        "shipping_profile_id": ATLAS.shipping_profile_id,
        "tags": ["tapis", "berbère", "زربية"],
        **overrides,
    }
    answer = ListingResource(etsy).create_draft_listing(
        shop_id, CreateDraftListingRequest(**fields)
    )
    assert answer.code == 201
    listing: dict[str, Any] = answer.message
    return listing


def offers(inventory: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """SKU -> (price in cents, quantity)."""
    return {
        p["sku"]: (p["offerings"][0]["price"]["amount"], p["offerings"][0]["quantity"])
        for p in inventory["products"]
    }


def by_sku(inventory: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["sku"]: p for p in inventory["products"]}


def test_a_whole_life(sandbox: Sandbox, wall: Clock, control: httpx.Client) -> None:
    saved: Saved = []
    etsy = connect(ATLAS, saved)
    # The first call refreshes: the refresh token rotates, the callback gets the new one.
    shop = ShopResource(etsy).get_shop(SHOP)
    assert shop.message["currency_code"] == "USD"
    [(access, refresh, expiry)] = saved
    assert access.startswith(f"{ATLAS.user_id}.") and refresh != ATLAS.refresh_token
    assert etsy.refresh_token == refresh and expiry > datetime.now(UTC)
    stale = control.post(
        "/v3/public/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": ATLAS.keystring,
            "refresh_token": ATLAS.refresh_token,
        },
    )
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    # A draft with an Arabic and French title; Etsy answers Money for the price.
    listing = draft(etsy)
    listing_id = listing["listing_id"]
    assert (listing["state"], listing["title"], listing["quantity"]) == ("draft", TITLE, 3)
    assert listing["price"] == {"amount": 12000, "divisor": 100, "currency_code": "USD"}
    listings = ListingResource(etsy)
    with pytest.raises(RequestException) as no_image:
        listings.update_listing(SHOP, listing_id, UpdateListingRequest(state=State.ACTIVE))
    assert no_image.value.code == 400 and "image" in str(no_image.value.error)
    image = ListingImageResource(etsy).upload_listing_image(
        SHOP, listing_id, UploadListingImageRequest(JPEG, alt_text="Tapis vu de haut")
    )
    assert image.code == 201 and image.message["rank"] == 1

    # Two sizes, each with its SKU, price and stock.
    inventory = ListingInventoryResource(etsy)
    inventory.update_listing_inventory(
        listing_id,
        UpdateListingInventoryRequest(
            [size("ATL-1-S", "Petit", 120.0, 2), size("ATL-1-L", "Grand", 180.0, 1)], **BY_SIZE
        ),
    )
    got: dict[str, Any] = inventory.get_listing_inventory(listing_id).message
    small, large = by_sku(got)["ATL-1-S"], by_sku(got)["ATL-1-L"]
    assert small["product_id"] and small["offerings"][0]["offering_id"]
    assert large["offerings"][0]["price"] == {
        "amount": 18000,
        "divisor": 100,
        "currency_code": "USD",
    }
    assert [v["values"] for v in small["property_values"]] == [["Petit"]]

    active = listings.update_listing(SHOP, listing_id, UpdateListingRequest(state=State.ACTIVE))
    assert active.message["state"] == "active"
    assert active.message["quantity"] == 3
    assert active.message["price"]["amount"] == 12000

    # What the GET answers cannot go back as it is: Money is no price, and ids are refused.
    put = f"/listings/{listing_id}/inventory"
    with pytest.raises(RequestException) as echoed:
        inventory.session.make_request(put, method=Method.PUT, payload=Raw(got))
    assert echoed.value.code == 400 and "price must be a number" in str(echoed.value.error)
    priced = copy.deepcopy(got)
    for product in priced["products"]:
        product["offerings"][0]["price"] = product["offerings"][0]["price"]["amount"] / 100
    with pytest.raises(RequestException) as with_ids:
        inventory.session.make_request(put, method=Method.PUT, payload=Raw(priced))
    assert with_ids.value.code == 400 and "product_id" in str(with_ids.value.error)

    # Reprice one size and restock the other, sending the whole inventory.
    inventory.update_listing_inventory(
        listing_id, editable(got, {"ATL-1-L": {"price": 190.0}, "ATL-1-S": {"quantity": 5}})
    )
    again: dict[str, Any] = inventory.get_listing_inventory(listing_id).message
    assert offers(again) == {"ATL-1-S": (12000, 5), "ATL-1-L": (19000, 1)}
    assert by_sku(again)["ATL-1-L"]["product_id"] != large["product_id"]  # ids do not last

    # The trap: an update that leaves a product out deletes it.
    only_small = {**again, "products": [by_sku(again)["ATL-1-S"]]}
    inventory.update_listing_inventory(listing_id, editable(only_small))
    wiped: dict[str, Any] = inventory.get_listing_inventory(listing_id).message
    assert list(by_sku(wiped)) == ["ATL-1-S"]
    inventory.update_listing_inventory(listing_id, editable(again))
    assert set(by_sku(inventory.get_listing_inventory(listing_id).message)) == {
        "ATL-1-S",
        "ATL-1-L",
    }

    # Buyers order: Etsy lowers the offerings' stock itself.
    wall.now += 60
    since = int(wall.now)
    first = control.post("/_sandbox/orders", json={"sku": "ATL-1-L", "quantity": 1}).json()
    wall.now += 60
    second = control.post("/_sandbox/orders", json={"sku": "ATL-1-S", "quantity": 2}).json()
    stock = by_sku(inventory.get_listing_inventory(listing_id).message)
    assert {sku: p["offerings"][0]["quantity"] for sku, p in stock.items()} == {
        "ATL-1-S": 3,
        "ATL-1-L": 0,
    }
    assert control.post("/_sandbox/orders", json={"sku": "ATL-1-L"}).status_code == 409

    # The connector pulls what changed since its cursor, a page at a time.
    receipts = ReceiptResource(etsy)
    pages = [
        receipts.get_shop_receipts(SHOP, min_last_modified=since, limit=1, offset=offset).message
        for offset in (0, 1, 2)
    ]
    assert [p["count"] for p in pages] == [2, 2, 2]
    pulled = [r for p in pages for r in p["results"]]
    assert [r["receipt_id"] for r in pulled] == [second["receipt_id"], first["receipt_id"]]
    line = pulled[1]["transactions"][0]
    assert (line["sku"], line["quantity"], line["listing_id"]) == ("ATL-1-L", 1, listing_id)
    assert line["price"] == {"amount": 19000, "divisor": 100, "currency_code": "USD"}
    assert line["transaction_id"] and pulled[1]["status"] == "paid" and pulled[1]["is_paid"]

    # A cancellation: the receipt is modified again, the piece comes back.
    wall.now += 60
    cursor = int(wall.now)
    control.post(f"/_sandbox/orders/{first['receipt_id']}/cancel")
    changed = receipts.get_shop_receipts(SHOP, min_last_modified=cursor).message
    assert [(r["receipt_id"], r["status"]) for r in changed["results"]] == [
        (first["receipt_id"], "canceled")
    ]
    stock = by_sku(inventory.get_listing_inventory(listing_id).message)
    assert stock["ATL-1-L"]["offerings"][0]["quantity"] == 1

    # A review, pulled since a time.
    wall.now += 60
    review = control.post(
        "/_sandbox/reviews",
        json={"sku": "ATL-1-S", "rating": 5, "review": "رائع، جودة عالية", "language": "ar"},
    )
    assert review.status_code == 201
    reviews = ReviewResource(etsy).get_reviews_by_shop(SHOP, min_created=int(wall.now)).message
    [pulled_review] = reviews["results"]
    assert (pulled_review["rating"], pulled_review["review"], pulled_review["language"]) == (
        5,
        "رائع، جودة عالية",
        "ar",
    )
    assert pulled_review["listing_id"] == listing_id
    assert pulled_review["transaction_id"] == second["transactions"][0]["transaction_id"]
    assert (
        ReviewResource(etsy)
        .get_reviews_by_shop(SHOP, min_created=int(wall.now) + 1)
        .message["results"]
        == []
    )

    # Deactivated: the listing stays, inactive.
    off = listings.update_listing(SHOP, listing_id, UpdateListingRequest(state=State.INACTIVE))
    assert off.message["state"] == "inactive"
    state = control.get("/_sandbox/state").json()
    assert {(x["sku"], x["quantity"], x["status"]) for x in state["listings"]} == {
        ("ATL-1-S", 3, "inactive"),
        ("ATL-1-L", 1, "inactive"),
    }
    assert len(saved) == 1  # one refresh for the whole session


# ---------------------------------------------------------------- auth
def api() -> str:
    return str(Env.environment.request_url)


@pytest.fixture
def ready(etsy: EtsyClient) -> EtsyClient:
    """A client that has refreshed once: its bearer token is good for an hour."""
    etsy.update_token()
    return etsy


@pytest.mark.parametrize(
    ("x_api_key", "message"),
    [
        (ATLAS.keystring, "shared secret is missing"),  # what etsy-python sends by itself
        (f"{ATLAS.keystring}:wrong", "Invalid shared secret"),
        (f"unknown:{ATLAS.shared_secret}", "Invalid API key"),
    ],
)
def test_x_api_key_must_be_keystring_and_shared_secret(
    ready: EtsyClient, x_api_key: str, message: str
) -> None:
    ready.session.headers["x-api-key"] = x_api_key
    with pytest.raises(RequestException) as refused:
        ShopResource(ready).get_shop(SHOP)
    assert refused.value.code == 403 and message in str(refused.value.error)


def test_bearer_tokens_are_checked_and_expire(ready: EtsyClient, wall: Clock) -> None:
    assert ShopResource(ready).get_shop(SHOP).code == 200
    good = ready.session.headers["Authorization"]
    ready.session.headers["Authorization"] = f"Bearer {ATLAS.user_id}.forged"
    with pytest.raises(RequestException) as forged:
        ReceiptResource(ready).get_shop_receipts(SHOP)
    assert forged.value.code == 401
    ready.session.headers["Authorization"] = good
    # An hour later on Etsy's clock, while the client still trusts its own expiry.
    wall.now += ACCESS_TOKEN_SECONDS
    with pytest.raises(RequestException) as expired:
        ReceiptResource(ready).get_shop_receipts(SHOP)
    assert expired.value.code == 401 and "expired" in str(expired.value.error)
    ready.expiry = datetime.fromtimestamp(0, UTC)  # what a connector does on a 401: refresh
    assert ReceiptResource(ready).get_shop_receipts(SHOP).code == 200


def test_public_operations_need_no_bearer(ready: EtsyClient) -> None:
    del ready.session.headers["Authorization"]
    assert ShopResource(ready).get_shop(SHOP).message["shop_id"] == SHOP
    with pytest.raises(RequestException) as refused:
        ReceiptResource(ready).get_shop_receipts(SHOP)
    assert refused.value.code == 401


def test_a_refresh_token_works_once(sandbox: Sandbox) -> None:
    """Two workers refreshing the same token: the second is refused. Keep the rotated one."""
    saved: Saved = []
    first, second = connect(ATLAS, saved), connect(ATLAS, [])
    first.update_token()
    with pytest.raises(RequestException) as reused:
        second.update_token()
    assert reused.value.code == 400 and reused.value.error == "invalid_grant"
    [(_, rotated, _)] = saved
    assert ShopResource(connect(ATLAS, [], refresh_token=rotated)).get_shop(SHOP).code == 200


def test_another_users_shop_is_forbidden(ready: EtsyClient, sandbox: Sandbox) -> None:
    fes = connect(FES, [])
    theirs = draft(fes, FES.shop_id, shipping_profile_id=FES.shipping_profile_id)
    assert theirs["price"]["currency_code"] == "EUR"
    with pytest.raises(RequestException) as create:
        draft(ready, FES.shop_id, shipping_profile_id=FES.shipping_profile_id)
    assert create.value.code == 403
    with pytest.raises(RequestException) as inventory:
        ListingInventoryResource(ready).get_listing_inventory(theirs["listing_id"])
    assert inventory.value.code == 403


def test_added_accounts_refresh_and_own_their_shop(sandbox: Sandbox, control: httpx.Client) -> None:
    account = DemoAccount("coopkeystring", "coopsecret", 77, 88, "CoopShop", "EUR", 99, "77.r1")
    added = control.post("/_sandbox/accounts", json=asdict(account))
    assert added.status_code == 201 and added.json()["shipping_profile_id"] == 99
    client = connect(account, [])
    assert ShopResource(client).get_shop(88).message["currency_code"] == "EUR"
    other_secret = {**asdict(account), "shared_secret": "other", "refresh_token": "77.r2"}
    assert control.post("/_sandbox/accounts", json=other_secret).status_code == 409


# ---------------------------------------------------------------- what Etsy refuses
LISTING: dict[str, Any] = {
    "quantity": 1,
    "title": "Coussin en cuir brodé",
    "description": "Cuir tanné à Fès.",
    "price": 25.5,
    "who_made": "i_did",
    "when_made": "2020_2026",
    "taxonomy_id": 1057,
    "shipping_profile_id": ATLAS.shipping_profile_id,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"who_made": "me"}, "who_made must be one of i_did, someone_else, collective"),
        ({"when_made": "2025"}, "when_made must be one of"),
        ({"taxonomy_id": None}, "taxonomy_id cannot be null"),
        ({"title": "x" * 141}, "at most 140"),
        ({"title": "Tapis 🧶"}, "title cannot contain '🧶'"),
        ({"title": "50% laine, 50% coton"}, "% only once"),
        ({"tags": [f"tag{i}" for i in range(14)]}, "at most 13"),
        ({"tags": ["tapis berbère fait main"]}, "over 20 characters"),
        ({"price": "25.50"}, "price must be a number"),
        ({"price": 0.1}, "between 0.20 and 50000.00"),
        ({"price": 10.999}, "more than 2 decimals"),
        ({"quantity": 1000}, "quantity must be between 1 and 999"),
        ({"quantity": 0}, "quantity must be between 1 and 999"),
        ({"shipping_profile_id": None}, "shipping_profile_id is required"),
        ({"shipping_profile_id": FES.shipping_profile_id}, "not a shipping profile of shop"),
    ],
)
def test_what_etsy_refuses_in_a_new_listing(
    ready: EtsyClient, change: dict[str, Any], message: str
) -> None:
    answer = ready.session.post(f"{api()}/shops/{SHOP}/listings", json={**LISTING, **change})
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_a_required_field_missing(ready: EtsyClient) -> None:
    body = {k: v for k, v in LISTING.items() if k != "taxonomy_id"}
    answer = ready.session.post(f"{api()}/shops/{SHOP}/listings", json=body)
    assert (answer.status_code, answer.json()) == (400, {"error": "taxonomy_id is required"})


def test_the_form_encoding_of_the_model_is_taken_too(ready: EtsyClient) -> None:
    form = {**LISTING, "price": "25.50", "tags": "coussin,cuir", "type": "download"}
    del form["shipping_profile_id"]  # a download needs no shipping profile
    answer = ready.session.post(f"{api()}/shops/{SHOP}/listings", data=form)
    assert answer.status_code == 201, answer.text
    listing = answer.json()
    assert listing["tags"] == ["coussin", "cuir"] and listing["listing_type"] == "download"
    assert listing["price"] == {"amount": 2550, "divisor": 100, "currency_code": "USD"}


def test_a_body_in_a_media_type_the_operation_does_not_take(ready: EtsyClient) -> None:
    listing_id = draft(ready)["listing_id"]
    image = ready.session.post(
        f"{api()}/shops/{SHOP}/listings/{listing_id}/images", json={"rank": 1}
    )
    assert (image.status_code, image.json()["error"]) == (
        400,
        "uploadListingImage takes multipart/form-data, not application/json.",
    )
    inventory = ready.session.put(f"{api()}/listings/{listing_id}/inventory", data={"a": "b"})
    assert inventory.status_code == 400 and "takes application/json" in inventory.json()["error"]


def offering(price: float = 100.0, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "price": price,
        "quantity": quantity,
        "is_enabled": True,
        "readiness_state_id": None,
        **extra,
    }


def product(sku: str, *values: tuple[int, str], **offer: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "property_values": [
            {"property_id": pid, "property_name": f"P{pid}", "value_ids": [], "values": [text]}
            for pid, text in values
        ],
        "offerings": [offering(**offer)],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "products": [
                    product("S", (SIZE, "S"), quantity=600),
                    product("L", (SIZE, "L"), quantity=400),
                ],
                **BY_SIZE,
            },
            "total quantity would be 1000; at most 999",
        ),
        ({"products": [product("S", quantity=1000)]}, "quantity must be 0 to 999"),
        (
            {"products": [product("S", (SIZE, "S"), (514, "Bleu"), (200, "Laine"))], **BY_SIZE},
            "at most 2 properties",
        ),
        (
            {"products": [product("S", (SIZE, "S"), price=10), product("L", (SIZE, "L"))]},
            "Products differ in price but price_on_property is empty",
        ),
        (
            {"products": [product("S", (SIZE, "S")), product("L", (SIZE, "L"))]},
            "Products differ in sku but sku_on_property is empty",
        ),
        ({"products": [{**product("S"), "product_id": 1}]}, "product_id is not accepted"),
        ({"products": [{**product("S"), "is_deleted": False}]}, "is_deleted is not accepted"),
        (
            {"products": [{**product("S"), "offerings": [offering(offering_id=1)]}]},
            "offering_id is not accepted",
        ),
        (
            {"products": [{**product("S"), "offerings": [{"price": 1, "quantity": 1}]}]},
            "products[0].offerings[0].is_enabled is required",
        ),
        (
            {"products": [product("S", (SIZE, "Grand (XL)"))]},
            "parentheses",
        ),
        (
            {"products": [product("S", (SIZE, "S")), product("S", (SIZE, "S"))], **BY_SIZE},
            "same property values",
        ),
        ({"products": [product("S", quantity=1, is_enabled=False)]}, "must be enabled"),
        ({"products": []}, "products cannot be empty"),
        ({}, "products is required"),
    ],
)
def test_what_etsy_refuses_in_an_inventory(
    ready: EtsyClient, body: dict[str, Any], message: str
) -> None:
    listing_id = draft(ready)["listing_id"]
    answer = ready.session.put(f"{api()}/listings/{listing_id}/inventory", json=body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]
    inventory = ListingInventoryResource(ready).get_listing_inventory(listing_id).message
    assert offers(inventory) == {"": (12000, 3)}  # nothing changed


def test_a_third_property_when_asked_for(ready: EtsyClient) -> None:
    listing_id = draft(ready)["listing_id"]
    body = {"products": [product("S", (SIZE, "S"), (514, "Bleu"), (200, "Laine"))]}
    answer = ready.session.put(
        f"{api()}/listings/{listing_id}/inventory?max_variations_supported=3", json=body
    )
    assert answer.status_code == 200, answer.text


def test_a_sold_out_listing_and_back(ready: EtsyClient, control: httpx.Client) -> None:
    listing_id = draft(ready, quantity=1)["listing_id"]
    ListingInventoryResource(ready).update_listing_inventory(
        listing_id, UpdateListingInventoryRequest([size("ONE", "Unique", 50.0, 1)])
    )
    ListingImageResource(ready).upload_listing_image(
        SHOP, listing_id, UploadListingImageRequest(JPEG)
    )
    listings = ListingResource(ready)
    listings.update_listing(SHOP, listing_id, UpdateListingRequest(state=State.ACTIVE))
    order = control.post("/_sandbox/orders", json={"sku": "ONE"}).json()
    assert listings.get_listing(listing_id).message["state"] == "sold_out"
    with pytest.raises(RequestException) as refused:
        listings.update_listing(SHOP, listing_id, UpdateListingRequest(state=State.ACTIVE))
    assert refused.value.code == 400 and "quantity above 0" in str(refused.value.error)
    control.post(f"/_sandbox/orders/{order['receipt_id']}/cancel")
    assert listings.get_listing(listing_id).message["state"] == "active"


# ---------------------------------------------------------------- quotas and faults
def test_rate_limit_headers_and_a_429_over_quota(ready: EtsyClient, sandbox: Sandbox) -> None:
    now = [1000.0]
    sandbox.etsy.buckets.clock = lambda: now[0]  # time stands still: no token comes back
    shops = ShopResource(ready)
    seen = [shops.get_shop(SHOP).rate_limits for _ in range(10)]
    assert [r.remaining_this_second for r in seen] == [str(n) for n in range(9, -1, -1)]
    assert {(r.limit_per_second, r.limit_per_day) for r in seen} == {("10", "10000")}
    assert int(seen[0].remaining_today) - int(seen[-1].remaining_today) == 9
    with pytest.raises(RequestException) as throttled:
        shops.get_shop(SHOP)
    assert throttled.value.code == 429
    assert throttled.value.rate_limits.remaining_this_second == "0"
    raw = ready.session.get(f"{api()}/shops/{SHOP}")
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "1"
    assert "quota" in raw.json()["error"]
    now[0] += 0.1  # one token back after a tenth of a second
    assert shops.get_shop(SHOP).code == 200


def put_faults(control: httpx.Client, **plan: Any) -> None:
    answer = control.put("/_sandbox/faults", json={"operations": ["getShop"], **plan})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("plan", "status", "retry_after"),
    [
        ({"throttle": 1.0, "retry_after": 3}, 429, "3"),
        ({"error_500": 1.0}, 500, None),
        ({"error_503": 1.0}, 503, "1"),
    ],
)
def test_faults_answer_in_etsys_shape(
    ready: EtsyClient,
    control: httpx.Client,
    plan: dict[str, Any],
    status: int,
    retry_after: str | None,
) -> None:
    put_faults(control, **plan)
    raw = ready.session.get(f"{api()}/shops/{SHOP}")
    assert raw.status_code == status and set(raw.json()) == {"error"}
    assert raw.headers.get("Retry-After") == retry_after
    with pytest.raises(RequestException) as seen:  # what the connector gets from etsy-python
        ShopResource(ready).get_shop(SHOP)
    assert seen.value.code == status and seen.value.error == raw.json()["error"]


def test_a_dropped_connection(ready: EtsyClient, control: httpx.Client) -> None:
    put_faults(control, drop=1.0)
    with pytest.raises(requests.exceptions.RequestException):  # not etsy-python's exception
        ShopResource(ready).get_shop(SHOP)


def test_a_slow_answer(ready: EtsyClient, control: httpx.Client) -> None:
    put_faults(control, slow=1.0, slow_seconds=0.2)
    started = time.monotonic()
    assert ShopResource(ready).get_shop(SHOP).code == 200
    assert time.monotonic() - started >= 0.2


def test_a_lost_write_is_answered_but_not_kept(ready: EtsyClient, control: httpx.Client) -> None:
    listing_id = draft(ready)["listing_id"]
    put_faults(control, lost_write=1.0, operations=["updateListing"])
    answer = ListingResource(ready).update_listing(
        SHOP, listing_id, UpdateListingRequest(title="Tapis renommé")
    )
    assert answer.code == 200 and answer.message["title"] == "Tapis renommé"
    assert ListingResource(ready).get_listing(listing_id).message["title"] == TITLE


def test_faults_are_reproducible_from_a_seed(ready: EtsyClient, control: httpx.Client) -> None:
    def codes() -> list[int]:
        put_faults(control, error_500=0.3, error_503=0.3, seed=7)
        return [ready.session.get(f"{api()}/shops/{SHOP}").status_code for _ in range(20)]

    first = codes()
    assert first == codes()
    assert {200, 500, 503} <= set(first)
    injected = control.get("/_sandbox/calls").json()["faults"]
    assert injected == {"error_500": first.count(500), "error_503": first.count(503)}
