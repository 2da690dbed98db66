"""Every operation the Etsy emulator serves, held to Etsy's model (specs/etsy/openapi-v3.json).

A varied session (successes and refusals, JSON, form and multipart bodies) is recorded, then
each exchange is checked with jsonschema: the answer always, undeclared fields included, and
the request whenever the emulator accepted it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import Sandbox
from sandbox.base import Exchange
from sandbox.etsy import DEMO_ACCOUNTS, OPERATIONS
from sandbox.spec_etsy import exchange_problems

ATLAS, FES = DEMO_ACCOUNTS
SHOP = ATLAS.shop_id
API = "/v3/application"
TOKEN = "/v3/public/oauth/token"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
LISTING: dict[str, Any] = {
    "quantity": 2,
    "title": "Pouf en cuir – بوف جلد",
    "description": "Cuir tanné à Fès.",
    "price": 85.0,
    "who_made": "collective",
    "when_made": "made_to_order",
    "taxonomy_id": 1061,
    "shipping_profile_id": ATLAS.shipping_profile_id,
    "tags": ["pouf", "cuir"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("etsy",)) as running:
        yield running


@pytest.fixture
def sandbox(server: Sandbox) -> Iterator[Sandbox]:
    server.reset(record=True)
    ticks = iter(range(1_000_000))
    server.etsy.buckets.clock = lambda: next(ticks) * 0.2  # never throttled unless frozen
    yield server
    server.etsy.buckets.clock = time.monotonic


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("etsy"), timeout=10) as client:
        yield client


def refresh(http: httpx.Client, token: str, *, as_json: bool = False) -> httpx.Response:
    grant = {"grant_type": "refresh_token", "client_id": ATLAS.keystring, "refresh_token": token}
    return http.post(TOKEN, json=grant) if as_json else http.post(TOKEN, data=grant)


def observed(operation: str, response: httpx.Response) -> Exchange:
    """An answer the emulator base does not record (auth, quota and fault refusals come
    before the handler), as an exchange to check all the same."""
    request = response.request
    return Exchange(
        operation,
        request.method,
        request.url.path,
        {k: request.url.params.get_list(k) for k in request.url.params},
        request.headers.get("content-type", ""),
        request.content,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )


def test_every_exchange_conforms_to_the_model(sandbox: Sandbox, http: httpx.Client) -> None:
    first = refresh(http, ATLAS.refresh_token)
    assert first.status_code == 200
    rotated = refresh(http, first.json()["refresh_token"], as_json=True).json()
    assert refresh(http, ATLAS.refresh_token).status_code == 400  # used
    unknown = {"grant_type": "refresh_token", "client_id": "nobody", "refresh_token": "1.x"}
    assert http.post(TOKEN, data=unknown).status_code == 401
    code = {"grant_type": "authorization_code", "client_id": ATLAS.keystring, "code": "c"}
    assert http.post(TOKEN, data=code).status_code == 400

    key = {"x-api-key": f"{ATLAS.keystring}:{ATLAS.shared_secret}"}
    http.headers.update({**key, "Authorization": f"Bearer {rotated['access_token']}"})
    expect: list[tuple[httpx.Response, int]] = [
        (http.get(f"{API}/shops/{SHOP}"), 200),
        (http.get(f"{API}/shops/99999999"), 404),
        (http.get(f"{API}/shops/{SHOP}/shipping-profiles"), 200),
        (http.get(f"{API}/shops/{FES.shop_id}/shipping-profiles"), 403),
        (http.post(f"{API}/shops/{SHOP}/listings", json={**LISTING, "who_made": "me"}), 400),
        (http.post(f"{API}/shops/{FES.shop_id}/listings", json=LISTING), 403),
    ]
    created = http.post(f"{API}/shops/{SHOP}/listings", json=LISTING)
    form = {**LISTING, "tags": "pouf,cuir", "price": "85.00"}
    other = http.post(f"{API}/shops/{SHOP}/listings", data=form)
    expect += [(created, 201), (other, 201)]
    listing_id, other_id = created.json()["listing_id"], other.json()["listing_id"]
    images = f"{API}/shops/{SHOP}/listings/{listing_id}/images"
    products = [
        {
            "sku": f"POUF-{label}",
            "property_values": [
                {"property_id": 513, "property_name": "Couleur", "value_ids": [], "values": [label]}
            ],
            "offerings": [
                {"price": 85, "quantity": 2, "is_enabled": True, "readiness_state_id": None}
            ],
        }
        for label in ("Miel", "Noir")
    ]
    inventory = f"{API}/listings/{listing_id}/inventory"
    expect += [
        (
            http.post(
                images, files={"image": ("pouf.jpg", JPEG, "image/jpeg")}, data={"rank": "1"}
            ),
            201,
        ),
        (http.post(images, files={"image": ("pouf.txt", b"text", "text/plain")}), 400),
        (http.post(f"{API}/shops/{SHOP}/listings/1/images", files={"image": ("a", JPEG)}), 404),
        (http.get(f"{API}/listings/{listing_id}/images"), 200),
        (http.put(inventory, json={"products": products, "sku_on_property": [513]}), 200),
        (http.put(inventory, json={"products": products}), 400),
        (http.get(inventory, params={"show_deleted": "true", "includes": "Listing"}), 200),
        (http.get(f"{API}/listings/1/inventory"), 404),
        (
            http.patch(
                f"{API}/shops/{SHOP}/listings/{listing_id}",
                json={"state": "active", "tags": ["pouf", "cuir", "fès"]},
            ),
            200,
        ),
        (http.patch(f"{API}/shops/{SHOP}/listings/{other_id}", data={"state": "active"}), 400),
        (http.get(f"{API}/listings/{listing_id}", params={"includes": "Images"}), 200),
        (http.get(f"{API}/listings/1"), 404),
        (
            http.get(
                f"{API}/shops/{SHOP}/listings",
                params={"state": "active", "includes": "Images,Inventory", "sort_on": "price"},
            ),
            200,
        ),
        (http.get(f"{API}/shops/{SHOP}/listings", params={"limit": 101}), 400),
    ]
    order = http.post("/_sandbox/orders", json={"sku": "POUF-Noir"}).json()
    http.post(f"/_sandbox/orders/{order['receipt_id']}/cancel")
    http.post("/_sandbox/orders", json={"sku": "POUF-Miel", "quantity": 2})
    http.post("/_sandbox/reviews", json={"sku": "POUF-Miel", "rating": 4, "review": "Très beau"})
    receipts = f"{API}/shops/{SHOP}/receipts"
    expect += [
        (http.get(receipts, params={"min_last_modified": 946684800, "limit": 1}), 200),
        (http.get(receipts, params={"was_canceled": "true", "sort_order": "asc"}), 200),
        (http.get(receipts, params={"limit": 101}), 400),
        (http.get(receipts, headers={"Authorization": "Bearer 51000001.nope"}), 401),
        (http.get(f"{API}/shops/{SHOP}/reviews", params={"min_created": 946684800}), 200),
        (http.get(f"{API}/shops/99999999/reviews"), 404),
        (http.delete(f"{API}/listings/{other_id}"), 204),
        (http.delete(f"{API}/listings/{other_id}"), 404),
    ]
    seen = [(r.request.method, r.request.url.path, r.status_code, r.text[:90]) for r, _ in expect]
    assert [status for *_, status, _ in seen] == [status for _, status in expect], seen

    # Refusals the base answers before any handler runs: checked from the client side.
    unrecorded = [
        observed("getShop", http.get(f"{API}/shops/{SHOP}", headers={"x-api-key": "k"})),
    ]
    for plan in ({"throttle": 1.0}, {"error_500": 1.0}, {"error_503": 1.0}):
        http.put("/_sandbox/faults", json={**plan, "operations": ["getListing"]})
        unrecorded.append(observed("getListing", http.get(f"{API}/listings/{listing_id}")))
    assert [e.status for e in unrecorded] == [403, 429, 500, 503]

    exchanges = sandbox.etsy.exchanges
    problems = [p for e in [*exchanges, *unrecorded] for p in exchange_problems(e)]
    assert problems == []
    assert set(OPERATIONS) - {e.operation for e in exchanges} == set()
    assert {200, 201, 204, 400, 401, 403, 404} <= {e.status for e in exchanges}


# ---------------------------------------------------------------- the check itself
@pytest.fixture
def recorded(sandbox: Sandbox, http: httpx.Client) -> dict[str, Exchange]:
    """One good exchange per operation of a short session, by operation."""
    token = refresh(http, ATLAS.refresh_token).json()["access_token"]
    http.headers.update(
        {
            "x-api-key": f"{ATLAS.keystring}:{ATLAS.shared_secret}",
            "Authorization": f"Bearer {token}",
        }
    )
    http.get(f"{API}/shops/{SHOP}")
    listing_id = http.post(f"{API}/shops/{SHOP}/listings", data=LISTING | {"tags": "a"}).json()[
        "listing_id"
    ]
    http.post(f"{API}/shops/{SHOP}/listings/{listing_id}/images", files={"image": ("a.jpg", JPEG)})
    http.delete(f"{API}/listings/{listing_id}")
    http.get(f"{API}/listings/{listing_id}")
    return {e.operation: e for e in sandbox.etsy.exchanges}


def with_json(exchange: Exchange, body: Any, status: int | None = None) -> Exchange:
    return dataclasses.replace(
        exchange,
        response_body=json.dumps(body).encode(),
        status=status if status is not None else exchange.status,
    )


def test_the_check_finds_what_departs_from_the_model(recorded: dict[str, Exchange]) -> None:
    shop = recorded["getShop"]
    assert exchange_problems(shop) == []
    added = with_json(shop, {**shop.response_json(), "owner_email": "x@example.org"})
    assert "'owner_email' was unexpected" in " ".join(exchange_problems(added))
    wrong_type = with_json(shop, {**shop.response_json(), "shop_id": "41000001"})
    assert "is not of type 'integer'" in " ".join(exchange_problems(wrong_type))
    no_error = with_json(recorded["getListing"], {"message": "gone"})
    assert "'error' is a required property" in " ".join(exchange_problems(no_error))
    undocumented = dataclasses.replace(shop, status=202)
    assert "documents no 202 answer" in " ".join(exchange_problems(undocumented))
    assert exchange_problems(dataclasses.replace(shop, operation="notAnOperation"))


def test_the_check_finds_an_accepted_request_the_model_forbids(
    recorded: dict[str, Exchange],
) -> None:
    created = recorded["createDraftListing"]
    assert exchange_problems(created) == []
    as_json = {**LISTING, "who_made": "me"}
    forbidden = dataclasses.replace(
        created, request_type="application/json", request_body=json.dumps(as_json).encode()
    )
    assert "'me' is not one of" in " ".join(exchange_problems(forbidden))
    form = created.request_body.replace(b"quantity=2", b"quantity=two")
    assert "'two' is not of type 'integer'" in " ".join(
        exchange_problems(dataclasses.replace(created, request_body=form))
    )
    upload = recorded["uploadListingImage"]
    assert exchange_problems(upload) == []
    boundary = upload.request_type.split("boundary=")[1].encode()
    with_rank = upload.request_body.replace(
        b"--" + boundary + b"--",
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="rank"\r\n\r\nfirst\r\n'
        b"--" + boundary + b"--",
    )
    assert "'first' is not of type 'integer'" in " ".join(
        exchange_problems(dataclasses.replace(upload, request_body=with_rank))
    )
    deleted = recorded["deleteListing"]
    assert exchange_problems(deleted) == []
    assert "without content has a body" in " ".join(
        exchange_problems(dataclasses.replace(deleted, response_body=b"{}"))
    )
