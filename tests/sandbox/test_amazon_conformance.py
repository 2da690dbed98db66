"""The Amazon emulator held to the official models: every exchange of a varied session, the
feed it was sent and the processing report it wrote, validated against the SP-API models."""

from __future__ import annotations

import io
import json
import re
import ssl
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sp_api.api import Feeds, ListingsItems, Orders, Reports
from sp_api.auth import AccessTokenClient, access_token_client
from sp_api.base import Marketplaces, SellingApiBadRequestException, SellingApiNotFoundException
from starlette.routing import Route

from sandbox import Sandbox, spec_amazon
from sandbox.amazon import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLERS
from sandbox.base import Exchange

SELLER, US = "A2SANDBOXATLAS", "ATVPDKIKX0DER"
TLS = ssl.create_default_context()  # one for all clients: building one costs 50 ms
ITEMS = f"/listings/2021-08-01/items/{SELLER}"
LISTING = {
    "productType": "HOME",
    "requirements": "LISTING",
    "attributes": {
        "item_name": [{"value": "Coussin en cuir de Fès — وسادة جلدية", "marketplace_id": US}],
        "brand": [{"value": "Zellige et Poterie"}],
        "product_description": [{"value": "Cuir tanné à Chouara"}],
        "material": [{"value": "leather"}],
        "condition_type": [{"value": "new_new"}],
        "purchasable_offer": [
            {
                "marketplace_id": US,
                "currency": "USD",
                "our_price": [{"schedule": [{"value_with_tax": 79.5}]}],
            }
        ],
        "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}],
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("amazon",)) as running:
        yield running


@pytest.fixture
def sandbox(server: Sandbox) -> Sandbox:
    access_token_client.cache.clear()
    server.reset(record=True)
    server.amazon.buckets.factor = 100  # many calls in a row: quotas are tested elsewhere
    return server


def connect(api: Any, base: str, **kwargs: Any) -> Any:
    scheme, _, host = base.partition("://")
    lwa = type("SandboxLwa", (AccessTokenClient,), {"scheme": f"{scheme}://", "host": host})
    client = api(
        marketplace=Marketplaces.US,
        credentials={
            "refresh_token": DEMO_SELLERS[SELLER][0],
            "lwa_app_id": DEMO_CLIENT_ID,
            "lwa_client_secret": DEMO_CLIENT_SECRET,
        },
        auth_token_client_class=lwa,
        verify=TLS,
        **kwargs,
    )
    client.endpoint = base
    return client


def token(http: httpx.Client, **form: str) -> httpx.Response:
    return http.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_SELLERS[SELLER][0],
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            **form,
        },
    )


def served(sandbox: Sandbox) -> set[str]:
    """The operations the emulator serves, read from its routes and matched to the models."""
    found = set()
    for route in sandbox.amazon.routes():
        assert isinstance(route, Route)
        if route.path.startswith("/_documents") or route.path == "/{path:path}":
            continue
        if route.path == "/auth/o2/token":
            found.add("lwaToken")
            continue
        concrete = re.sub(r"\{[^}]+\}", "X", route.path)
        for method in (route.methods or set()) - {"HEAD"}:
            ops = [o for o in spec_amazon.operations() if o.method == method]
            (op,) = [o for o in ops if o.pattern.search(concrete)]
            found.add(str(op))
    return found


def exercised(exchange: Exchange) -> str:
    if exchange.operation == "lwaToken":
        return "lwaToken"
    return str(spec_amazon.operation(exchange.operation, exchange.method, exchange.path))


def a_varied_session(sandbox: Sandbox, http: httpx.Client) -> dict[str, Any]:
    """Every operation the emulator serves, with successes and the errors a connector
    meets; returns the feed it sent and the processing reports it read."""
    base = sandbox.url("amazon")
    assert token(http).status_code == 200
    assert token(http, client_secret="wrong").status_code == 401
    assert token(http, refresh_token="Atzr|unknown").status_code == 400
    auth = {"x-amz-access-token": token(http).json()["access_token"]}

    # Listings Items: accepted, invalid, preview, refused.
    listings = connect(ListingsItems, base, version="2021-08-01")
    put = listings.put_listings_item(SELLER, "FES-1", marketplaceIds=[US], body=LISTING)
    assert put.payload["status"] == "ACCEPTED"
    invalid = {**LISTING, "attributes": {"item_name": LISTING["attributes"]["item_name"]}}
    assert (
        listings.put_listings_item(SELLER, "FES-2", marketplaceIds=[US], body=invalid)("status")
        == "INVALID"
    )
    preview = listings.put_listings_item(
        SELLER,
        "FES-3",
        marketplaceIds=[US],
        mode="VALIDATION_PREVIEW",
        includedData=["identifiers", "issues"],
        body=LISTING,
    )
    assert preview.payload["identifiers"][0]["asin"]
    with pytest.raises(SellingApiBadRequestException):
        listings.put_listings_item(SELLER, "FES-4", body=LISTING)  # no marketplaceIds
    params = {"marketplaceIds": US}
    wrong_type = http.put(
        f"{ITEMS}/FES-5",
        params=params,
        content=b"{}",
        headers={**auth, "content-type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    too_big = http.put(f"{ITEMS}/FES-5", params=params, json={"x": "y" * 1_100_000}, headers=auth)
    assert too_big.status_code == 413
    patch = {
        "productType": "HOME",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 6}],
            }
        ],
    }
    assert (
        listings.patch_listings_item(SELLER, "FES-1", marketplaceIds=[US], body=patch)("status")
        == "ACCEPTED"
    )
    with pytest.raises(SellingApiBadRequestException):
        listings.patch_listings_item(
            SELLER, "FES-1", marketplaceIds=[US], body={"productType": "HOME"}
        )
    every = ["summaries", "attributes", "issues", "offers", "fulfillmentAvailability",
             "procurement", "relationships", "productTypes"]  # fmt: skip
    item = listings.get_listings_item(SELLER, "FES-1", marketplaceIds=[US], includedData=every)
    assert item.payload["fulfillmentAvailability"][0]["quantity"] == 6
    with pytest.raises(SellingApiNotFoundException):
        listings.get_listings_item(SELLER, "FES-404", marketplaceIds=[US])
    unknown_set = {**params, "includedData": "everything"}
    assert http.get(f"{ITEMS}/FES-1", params=unknown_set, headers=auth).status_code == 400
    assert listings.put_listings_item(SELLER, "FES-9", marketplaceIds=[US], body=LISTING)
    assert (
        listings.delete_listings_item(SELLER, "FES-9", marketplaceIds=[US])("status") == "ACCEPTED"
    )
    two = {"marketplaceIds": f"{US},A2EUQ1WTGCTBG2"}
    assert http.delete(f"{ITEMS}/FES-9", params=two, headers=auth).status_code == 400

    # Feeds: one feed with a bad message, one that is not JSON, refused calls.
    feeds = connect(Feeds, base)
    document = {
        "header": {
            "sellerId": SELLER,
            "version": "2.0",
            "report": {"includedData": ["summaries", "offers"], "apiVersion": "2021-08-01"},
        },
        "messages": [
            {
                "messageId": 1,
                "sku": "FES-10",
                "operationType": "UPDATE",
                "productType": "HOME",
                "requirements": "LISTING",
                "attributes": LISTING["attributes"],
            },
            {
                "messageId": 2,
                "sku": "FES-11",
                "operationType": "PARTIAL_UPDATE",
                "productType": "HOME",
                "attributes": {"brand": [{"value": "x"}]},
            },
            {
                "messageId": 3,
                "sku": "FES-1",
                "operationType": "PARTIAL_UPDATE",
                "productType": "HOME",
                "attributes": {
                    "fulfillment_availability": [
                        {"fulfillment_channel_code": "DEFAULT", "quantity": 9}
                    ]
                },
            },
        ],
    }
    reports: dict[str, Any] = {"feed": document}
    for name, content in (
        ("report", json.dumps(document, ensure_ascii=False).encode("utf-8")),
        ("fatal", b"{not json"),
    ):
        _, created = feeds.submit_feed(
            "JSON_LISTINGS_FEED",
            io.BytesIO(content),
            content_type="application/json; charset=UTF-8",
            marketplaceIds=[US],
        )
        feed_id = created.payload["feedId"]
        statuses = [feeds.get_feed(feed_id).payload["processingStatus"] for _ in range(3)]
        assert statuses[:2] == ["IN_QUEUE", "IN_PROGRESS"]
        result = feeds.get_feed(feed_id).payload["resultFeedDocumentId"]
        reports[name] = json.loads(feeds.get_feed_result_document(result))
    assert reports["report"]["summary"]["messagesInvalid"] == 1
    assert statuses[-1] == "FATAL"
    with pytest.raises(SellingApiBadRequestException):
        feeds.create_feed("POST_PRODUCT_DATA", "amzn1.tortuga.4.na.none", marketplaceIds=[US])
    no_type = http.post("/feeds/2021-06-30/documents", json={}, headers=auth)
    assert no_type.status_code == 400
    with pytest.raises(SellingApiNotFoundException):
        feeds.get_feed("404")
    with pytest.raises(SellingApiNotFoundException):
        feeds.get_feed_result_document("amzn1.tortuga.4.na.none")

    # Orders: three buyer orders, one cancelled; both API versions, pages and refusals.
    order_ids = [
        http.post("/_sandbox/orders", json={"sku": "FES-1"}).json()["order_id"] for _ in range(3)
    ]
    http.post(f"/_sandbox/orders/{order_ids[0]}/cancel")
    orders = connect(Orders, base, version="2026-01-01")
    every_set = ["BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION",
                 "FULFILLMENT", "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS"]  # fmt: skip
    page = orders.search_orders(
        createdAfter="2020-01-01T00:00:00Z", maxResultsPerPage=2, includedData=every_set
    )
    rest = orders.search_orders(paginationToken=page.next_token)
    assert len(page.payload["orders"]) + len(rest.payload["orders"]) == 3
    updated = orders.search_orders(lastUpdatedAfter="2020-01-01T00:00:00Z")
    assert len(updated.payload["orders"]) == 3
    with pytest.raises(SellingApiBadRequestException):
        orders.search_orders()  # neither createdAfter nor lastUpdatedAfter
    with pytest.raises(SellingApiBadRequestException):
        orders.search_orders(createdAfter="2020-01-01T00:00:00Z", includedData=["EVERYTHING"])
    with pytest.raises(SellingApiBadRequestException):
        orders.search_orders(paginationToken="made-up")
    cancelled = orders.get_order(order_ids[0], includedData=every_set).payload["order"]
    assert cancelled["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    with pytest.raises(SellingApiNotFoundException):
        orders.get_order("000-0000000-0000000")
    legacy = connect(Orders, base)
    v0 = legacy.get_orders(CreatedAfter="2020-01-01T00:00:00Z", MaxResultsPerPage=2)
    legacy.get_orders(NextToken=v0.next_token)
    legacy.get_orders(LastUpdatedAfter="2020-01-01T00:00:00Z", OrderStatuses=["Canceled"])
    with pytest.raises(SellingApiBadRequestException):
        legacy.get_orders(
            CreatedAfter="2020-01-01T00:00:00Z", LastUpdatedAfter="2020-01-01T00:00:00Z"
        )
    assert legacy.get_order(order_ids[1]).payload["OrderStatus"] == "Unshipped"
    assert legacy.get_order_items(order_ids[1]).payload["OrderItems"]
    with pytest.raises(SellingApiNotFoundException):
        legacy.get_order("000-0000000-0000000")
    with pytest.raises(SellingApiNotFoundException):
        legacy.get_order_items("000-0000000-0000000")

    # Reports: feedback in one, nothing in the other (CANCELLED), refusals.
    http.post("/_sandbox/reviews", json={"order_id": order_ids[1], "rating": 1, "text": "Cassé"})
    http.post("/_sandbox/reviews", json={"order_id": order_ids[2], "rating": 4})
    api = connect(Reports, base)
    with_data = api.create_report(reportType="GET_SELLER_FEEDBACK_DATA", marketplaceIds=[US])
    empty = api.create_report(
        reportType="GET_SELLER_FEEDBACK_DATA",
        marketplaceIds=[US],
        dataStartTime="2020-01-01T00:00:00Z",
        dataEndTime="2020-02-01T00:00:00Z",
    )
    for created, last in ((with_data, "DONE"), (empty, "CANCELLED")):
        statuses = [api.get_report(created("reportId"))("processingStatus") for _ in range(3)]
        assert statuses == ["IN_QUEUE", "IN_PROGRESS", last]
    document_id = api.get_report(with_data("reportId"))("reportDocumentId")
    text = api.get_report_document(document_id, download=True).payload["document"]
    assert [line.split("\t")[1] for line in text.splitlines()[1:]] == ["1"]
    with pytest.raises(SellingApiBadRequestException):
        api.create_report(reportType="GET_FLAT_FILE_OPEN_LISTINGS_DATA", marketplaceIds=[US])
    with pytest.raises(SellingApiNotFoundException):
        api.get_report("404")
    with pytest.raises(SellingApiNotFoundException):
        api.get_report_document("amzn1.spdoc.1.4.na.none")
    return reports


def test_every_exchange_conforms_to_the_official_models(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url("amazon"), timeout=10) as http:
        a_varied_session(sandbox, http)
    exchanges = sandbox.amazon.exchanges
    problems = {
        f"#{n} {e.operation} {e.method} {e.path} -> {e.status}": found
        for n, e in enumerate(exchanges)
        if (found := spec_amazon.validate_exchange(e))
    }
    assert problems == {}
    never = served(sandbox) - {exercised(e) for e in exchanges if e.status < 300}
    assert never == set(), f"served but never exercised with success: {never}"
    refused = {exercised(e) for e in exchanges if e.status >= 400}
    assert served(sandbox) - refused == set(), "each operation is also exercised with an error"
    assert {e.status for e in exchanges} >= {200, 201, 202, 400, 401, 404, 413, 415}


def test_the_validation_is_not_vacuous(sandbox: Sandbox) -> None:
    """A wrong answer, a wrong accepted request and an unknown status are all caught."""
    with httpx.Client(base_url=sandbox.url("amazon"), timeout=10) as http:
        auth = {"x-amz-access-token": token(http).json()["access_token"]}
        http.put(f"{ITEMS}/FES-1", params={"marketplaceIds": US}, json=LISTING, headers=auth)
    (put,) = [e for e in sandbox.amazon.exchanges if e.operation == "putListingsItem"]
    assert spec_amazon.validate_exchange(put) == []
    answer = put.response_json()
    del answer["submissionId"]
    broken = replace(put, response_body=json.dumps(answer).encode())
    assert spec_amazon.validate_exchange(broken) == [
        "response: (root): 'submissionId' is a required property"
    ]
    extra = replace(put, response_body=json.dumps({**answer, "submissionId": "1", "x": 1}).encode())
    assert "'x' was unexpected" in spec_amazon.validate_exchange(extra)[0]
    no_attributes = replace(put, request_body=b'{"productType": "HOME"}')
    assert "'attributes' is a required property" in spec_amazon.validate_exchange(no_attributes)[0]
    unknown = replace(put, status=404)
    assert spec_amazon.validate_exchange(unknown) == [
        "response: listingsItems.putListingsItem has no 404 answer in its model"
    ]


def test_the_feed_and_its_processing_report_follow_their_schemas(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url("amazon"), timeout=10) as http:
        documents = a_varied_session(sandbox, http)
    assert spec_amazon.feed_problems(documents["feed"]) == []
    for name in ("report", "fatal"):
        assert spec_amazon.report_problems(documents[name]) == [], name
    report = documents["report"]
    # One bad message: a PARTIAL_UPDATE of a SKU that was never put.
    assert [(i["messageId"], i["sku"], i["code"]) for i in report["issues"]] == [
        (2, "FES-11", "8541")
    ]
    assert [i["sku"] for i in report["items"]] == ["FES-10", "FES-1"]
    assert report["summary"]["itemSummary"]["items"] == 2
    # The validators know a bad document when they see one.
    assert spec_amazon.feed_problems({**documents["feed"], "header": {"version": "1.0"}})
    assert spec_amazon.report_problems({"header": report["header"], "issues": []})


def test_the_official_examples_pass_the_validators() -> None:
    examples = spec_amazon.SPECS
    feed = json.loads((examples / "listings-feed-schema-v2.example.json").read_text("utf-8"))
    assert spec_amazon.feed_problems(feed) == []
    report_file = examples / "listings-feed-processing-report-schema-v2.example.json"
    assert spec_amazon.report_problems(json.loads(report_file.read_text("utf-8"))) == []


@pytest.mark.parametrize(
    ("fault", "status"), [("throttle", 429), ("error_500", 500), ("error_503", 503)]
)
def test_refusals_before_the_handler_follow_the_models(
    sandbox: Sandbox, fault: str, status: int
) -> None:
    """Quota, fault and auth answers are not recorded as exchanges: check them here."""
    path = "/orders/2026-01-01/orders/000-0000000-0000000"
    with httpx.Client(base_url=sandbox.url("amazon"), timeout=10) as http:
        denied = http.get(path)
        auth = {"x-amz-access-token": token(http).json()["access_token"]}
        http.put("/_sandbox/faults", json={fault: 1.0, "seed": 1})
        answer = http.get(path, headers=auth)
        lwa = token(http)
    op = spec_amazon.operation("getOrder", "GET", path)
    assert spec_amazon.response_problems(op, 403, denied.json()) == []
    assert answer.status_code == status
    assert spec_amazon.response_problems(op, status, answer.json()) == []
    assert lwa.status_code == status and set(lwa.json()) == {"error", "error_description"}
