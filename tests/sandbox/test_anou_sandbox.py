"""The ANOU-style emulator through a whole life, with httpx as a connector would use it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import Sandbox

KEY = {"X-Api-Key": "anou-sandbox-atlas-rugs"}
RUG = {
    "title": "Tapis Beni Ouarain en laine naturelle",
    "language": "fr",
    "description": "Tissé à la main",
    "category": "rugs",
    "price": {"amount": "5000.00", "currency": "MAD"},
    "quantity": 1,
    "images": ["https://cdn.example.org/rug.jpg"],
    "attributes": {"artisan": "Fatima Aït Lahcen"},
}


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("anou",)) as running:
        yield running


@pytest.fixture
def anou(server: Sandbox) -> Iterator[httpx.Client]:
    server.reset(record=True)
    with httpx.Client(base_url=server.url("anou"), timeout=10) as client:
        yield client


def test_a_whole_life(anou: httpx.Client) -> None:
    api = "/api/v1"
    created = anou.put(f"{api}/products/ATL-1", json=RUG, headers=KEY)
    assert created.status_code == 201
    assert created.json()["quantity"] == 1
    again = anou.put(f"{api}/products/ATL-1", json=RUG, headers=KEY)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    repriced = anou.patch(
        f"{api}/products/ATL-1/offer",
        headers=KEY,
        json={"price": {"amount": "5100.00", "currency": "MAD"}, "quantity": 2},
    )
    assert repriced.json()["price"] == {"amount": "5100.00", "currency": "MAD"}
    # A buyer orders one: the marketplace lowers its own stock.
    order = anou.post("/_sandbox/orders", json={"sku": "ATL-1", "quantity": 1}).json()
    assert anou.get(f"{api}/products/ATL-1", headers=KEY).json()["quantity"] == 1
    page = anou.get(f"{api}/orders", headers=KEY).json()
    assert [o["id"] for o in page["orders"]] == [order["id"]]
    assert page["orders"][0]["lines"][0] == {
        "line_id": f"{order['id']}-1",
        "sku": "ATL-1",
        "quantity": 1,
        "unit_price": "5100.00",
    }
    cursor = page["next_cursor"]
    assert anou.get(f"{api}/orders", params={"since": cursor}, headers=KEY).json()["orders"] == []
    # Cancelled: the stock comes back and the order comes again after the cursor.
    anou.post(f"/_sandbox/orders/{order['id']}/cancel")
    again_page = anou.get(f"{api}/orders", params={"since": cursor}, headers=KEY).json()
    assert [o["status"] for o in again_page["orders"]] == ["cancelled"]
    assert anou.get(f"{api}/products/ATL-1", headers=KEY).json()["quantity"] == 2
    anou.post(
        "/_sandbox/reviews", json={"sku": "ATL-1", "rating": 5, "text": "رائع", "language": "ar"}
    )
    reviews = anou.get(f"{api}/reviews", headers=KEY).json()["reviews"]
    assert [(r["rating"], r["text"]) for r in reviews] == [(5, "رائع")]
    feed = anou.get("/product_data", params={"page": 1}).json()
    assert [p["name"] for p in feed["products"]] == [RUG["title"]]
    assert anou.post(f"{api}/products/ATL-1/deactivate", headers=KEY).json()["active"] is False
    assert anou.get("/product_data").json()["products"] == []
    state = anou.get("/_sandbox/state").json()
    assert state["listings"][0]["status"] == "inactive"


def test_shops_do_not_see_each_other(anou: httpx.Client) -> None:
    anou.put("/api/v1/products/ATL-1", json=RUG, headers=KEY)
    other = {"X-Api-Key": "anou-sandbox-zellige-fes"}
    assert anou.get("/api/v1/products/ATL-1", headers=other).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
def test_unknown_keys_are_refused(anou: httpx.Client, headers: dict[str, str]) -> None:
    answer = anou.put("/api/v1/products/ATL-1", json=RUG, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": {"amount": 12.5, "currency": "MAD"}}, "decimal string"),
        ({"price": {"amount": "0", "currency": "MAD"}}, "above 0"),
        ({"price": {"amount": "10.00", "currency": "JPY"}}, "currency"),
        ({"quantity": -1}, "quantity"),
        ({"images": []}, "images"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_what_the_marketplace_refuses(
    anou: httpx.Client, change: dict[str, object], message: str
) -> None:
    answer = anou.put("/api/v1/products/ATL-1", json={**RUG, **change}, headers=KEY)
    assert answer.status_code == 422
    assert message in answer.json()["error"]["message"]


def test_over_quota_is_a_429_with_retry_after(anou: httpx.Client, server: Sandbox) -> None:
    now = [1000.0]
    server.anou.buckets.clock = lambda: now[0]  # time stands still: no token comes back
    codes = [anou.get("/api/v1/orders", headers=KEY).status_code for _ in range(45)]
    assert codes == [200] * 40 + [429] * 5  # a burst of 40, then refused
    throttled = anou.get("/api/v1/orders", headers=KEY)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
    assert throttled.json()["error"]["code"] == "QuotaExceeded"
    now[0] += 0.06  # one token back after 1/20 s
    assert anou.get("/api/v1/orders", headers=KEY).status_code == 200
    calls = anou.get("/_sandbox/calls").json()["operations"]["listOrders"]
    assert calls == {"calls": 47, "throttled": 6}


def _codes(anou: httpx.Client, n: int) -> list[int]:
    return [anou.get("/api/v1/orders", headers=KEY).status_code for _ in range(n)]


def test_fault_patterns_are_reproducible_from_their_seed(anou: httpx.Client) -> None:
    anou.put("/_sandbox/quota", json={"factor": 1000})  # only injected faults refuse calls
    plan = {"throttle": 0.2, "error_500": 0.1, "error_503": 0.1, "seed": 7}
    assert anou.put("/_sandbox/faults", json=plan).status_code == 200
    first = _codes(anou, 30)
    anou.put("/_sandbox/faults", json=plan)
    assert _codes(anou, 30) == first
    assert {429, 500, 503} <= set(first) and 200 in first
    anou.put("/_sandbox/faults", json={**plan, "seed": 8})
    assert _codes(anou, 30) != first


def test_a_lost_write_is_answered_but_not_applied(anou: httpx.Client) -> None:
    anou.put("/api/v1/products/ATL-1", json=RUG, headers=KEY)
    anou.put("/_sandbox/faults", json={"lost_write": 1.0, "operations": ["updateOffer"]})
    answer = anou.patch("/api/v1/products/ATL-1/offer", json={"quantity": 7}, headers=KEY)
    assert answer.status_code == 200 and answer.json()["quantity"] == 7
    assert anou.get("/api/v1/products/ATL-1", headers=KEY).json()["quantity"] == 1


def test_a_dropped_connection_and_a_slow_answer(anou: httpx.Client) -> None:
    anou.put("/_sandbox/faults", json={"drop": 1.0, "operations": ["listOrders"]})
    with pytest.raises(httpx.TransportError):
        anou.get("/api/v1/orders", headers=KEY)
    anou.put("/_sandbox/faults", json={"slow": 1.0, "slow_seconds": 0.3})
    with pytest.raises(httpx.ReadTimeout):
        anou.get("/api/v1/orders", headers=KEY, timeout=0.1)


def test_a_bad_fault_plan_is_refused(anou: httpx.Client) -> None:
    assert anou.put("/_sandbox/faults", json={"throttle": 0.8, "error_500": 0.5}).status_code == 400
    assert anou.put("/_sandbox/faults", json={"explode": 1}).status_code == 400


def test_a_sku_is_one_path_segment_however_it_is_written(anou: httpx.Client) -> None:
    """A SKU with ``/`` arrives percent-encoded (``RUG%2F01``): the emulator splits the path
    as sent, then decodes each segment, as real APIs do; the decoded path would cut the SKU
    in two and answer 404."""
    api = "/api/v1/products"
    for sku, sent in (("RUG/01 bleu", "RUG%2F01%20bleu"), ("50%/x?#", "50%25%2Fx%3F%23")):
        created = anou.put(f"{api}/{sent}", json=RUG, headers=KEY)
        assert created.status_code == 201, created.text
        assert created.json()["sku"] == sku
        assert anou.get(f"{api}/{sent}", headers=KEY).json()["sku"] == sku
    assert anou.get(f"{api}/RUG/01%20bleu", headers=KEY).status_code == 404
    listed = {row["sku"] for row in anou.get("/_sandbox/state").json()["listings"]}
    assert listed == {"RUG/01 bleu", "50%/x?#"}
