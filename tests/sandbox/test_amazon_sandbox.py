"""The Amazon emulator driven by python-amazon-sp-api, as a connector drives the real SP-API."""

from __future__ import annotations

import io
import json
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sp_api.api import Feeds, ListingsItems, Orders, Reports
from sp_api.auth import AccessTokenClient, access_token_client
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import (
    Client,
    Marketplaces,
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
    SellingApiServerException,
    SellingApiTemporarilyUnavailableException,
)

from sandbox import Sandbox, spec_amazon
from sandbox.amazon import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLERS, AmazonSandbox

ATLAS, FES = "A2SANDBOXATLAS", "A2SANDBOXFES"
US, FR = "ATVPDKIKX0DER", "A13V1IB3VIYZZH"
TITLE = "زربية بني ورين — Tapis Beni Ouarain en laine naturelle"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

C = TypeVar("C", bound=Client)
# One TLS context for every client: httpx builds a new one per client otherwise (50 ms each).
TLS = ssl.create_default_context()


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def lwa_client_class(base_url: str) -> type[AccessTokenClient]:
    """LWA at the sandbox: the library reads LWA's scheme and host from class attributes."""
    scheme, _, host = base_url.partition("://")
    return type("SandboxLwa", (AccessTokenClient,), {"scheme": f"{scheme}://", "host": host})


def connect(
    api: type[C],
    base_url: str,
    *,
    seller: str = ATLAS,
    client_secret: str = DEMO_CLIENT_SECRET,
    refresh_token: str | None = None,
    **kwargs: Any,
) -> C:
    """A library client talking to the sandbox: credentials, LWA class, then the endpoint."""
    marketplace = Marketplaces.FR if seller == FES else Marketplaces.US
    client = api(
        marketplace=marketplace,
        credentials={
            "refresh_token": refresh_token or DEMO_SELLERS[seller][0],
            "lwa_app_id": DEMO_CLIENT_ID,
            "lwa_client_secret": client_secret,
        },
        auth_token_client_class=lwa_client_class(base_url),
        verify=TLS,
        **kwargs,
    )
    client.endpoint = base_url  # after construction: the constructor sets Amazon's
    return client


def rug(
    *,
    title: str = TITLE,
    price: float = 489.99,
    quantity: int = 1,
    currency: str = "USD",
    marketplace: str = US,
    without: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A RUG listing body with everything Amazon requires (minus ``without``)."""
    attributes = {
        "item_name": [{"value": title, "language_tag": "fr_FR", "marketplace_id": marketplace}],
        "brand": [{"value": "Coopérative Tissage Atlas"}],
        "product_description": [{"value": "Tissé et noué à la main — نسج يدوي"}],
        "material": [{"value": "wool"}],
        "condition_type": [{"value": "new_new"}],
        "purchasable_offer": [
            {
                "marketplace_id": marketplace,
                "currency": currency,
                "audience": "ALL",
                "our_price": [{"schedule": [{"value_with_tax": price}]}],
            }
        ],
        "fulfillment_availability": [
            {
                "fulfillment_channel_code": "DEFAULT",
                "quantity": quantity,
                "lead_time_to_ship_max_days": 3,
            }
        ],
    }
    for name in without:
        del attributes[name]
    return {"productType": "RUG", "requirements": "LISTING", "attributes": attributes}


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox(marketplaces=("amazon",)) as running:
        yield running


@pytest.fixture
def sandbox(server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh sandbox; the library's process-wide token cache emptied (its tokens belong
    to the previous test's sandbox state)."""
    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()
    server.reset(record=True)
    monkeypatch.setattr(server.amazon.buckets, "clock", time.monotonic)
    return server


@pytest.fixture
def amazon(sandbox: Sandbox) -> AmazonSandbox:
    return sandbox.amazon


@pytest.fixture
def clock(amazon: AmazonSandbox, monkeypatch: pytest.MonkeyPatch) -> Clock:
    now = Clock(START)
    monkeypatch.setattr(amazon, "now", now)
    return now


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url("amazon"), timeout=10) as client:
        yield client


@pytest.fixture
def listings(sandbox: Sandbox, clock: Clock) -> ListingsItems:
    return connect(ListingsItems, sandbox.url("amazon"), version="2021-08-01")


def poll(get: Any, job_id: str, key: str = "processingStatus") -> list[str]:
    """Poll a feed or report three times (the sandbox moves one step per poll)."""
    return [get(job_id).payload[key] for _ in range(3)]


def test_a_whole_life(
    sandbox: Sandbox, listings: ListingsItems, control: httpx.Client, clock: Clock
) -> None:
    base = sandbox.url("amazon")
    put = listings.put_listings_item(ATLAS, "ATL-BNO-001", marketplaceIds=[US], body=rug())
    assert put.payload["status"] == "ACCEPTED" and put.payload["issues"] == []
    item = listings.get_listings_item(
        ATLAS, "ATL-BNO-001", marketplaceIds=[US], includedData=["summaries", "offers"]
    ).payload
    assert item["summaries"][0]["itemName"] == TITLE
    assert item["summaries"][0]["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert item["offers"][0]["price"] == {"currencyCode": "USD", "amount": "489.99"}

    # Reprice (replace the offer) and restock (merge: only the quantity changes).
    offer = rug(price=519.0)["attributes"]["purchasable_offer"]
    patched = listings.patch_listings_item(
        ATLAS,
        "ATL-BNO-001",
        marketplaceIds=[US],
        body={
            "productType": "RUG",
            "patches": [
                {"op": "replace", "path": "/attributes/purchasable_offer", "value": offer},
                {
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
                },
            ],
        },
    )
    assert patched.payload["status"] == "ACCEPTED"
    item = listings.get_listings_item(
        ATLAS,
        "ATL-BNO-001",
        marketplaceIds=[US],
        includedData=["offers", "fulfillmentAvailability", "attributes"],
    ).payload
    assert item["offers"][0]["price"]["amount"] == "519.00"
    assert item["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}]
    stock = item["attributes"]["fulfillment_availability"][0]
    assert stock["lead_time_to_ship_max_days"] == 3  # merge kept what it was not sent

    # Buyers order: the marketplace lowers its own stock.
    first = control.post("/_sandbox/orders", json={"sku": "ATL-BNO-001", "quantity": 2}).json()
    clock.advance(minutes=5)
    second = control.post("/_sandbox/orders", json={"sku": "ATL-BNO-001"}).json()
    too_many = control.post("/_sandbox/orders", json={"sku": "ATL-BNO-001"})
    assert too_many.status_code == 409
    assert control.get("/_sandbox/state").json()["listings"][0]["quantity"] == 0

    # Orders 2026-01-01: items come with the order; one per page, so it really pages.
    orders = connect(Orders, base, version="2026-01-01")
    since = (START - timedelta(days=1)).isoformat()
    page = orders.search_orders(
        createdAfter=since, maxResultsPerPage=1, includedData=["FULFILLMENT", "PROCEEDS"]
    )
    assert [o["orderId"] for o in page.payload["orders"]] == [first["order_id"]]
    assert page.next_token
    rest = orders.search_orders(paginationToken=page.next_token)
    assert [o["orderId"] for o in rest.payload["orders"]] == [second["order_id"]]
    assert rest.next_token is None
    found = page.payload["orders"][0]
    assert found["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert found["orderItems"][0]["quantityOrdered"] == 2
    assert found["orderItems"][0]["product"]["sellerSku"] == "ATL-BNO-001"
    assert found["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] == "519.00"
    assert found["proceeds"]["grandTotal"] == {"amount": "1038.00", "currencyCode": "USD"}
    one = orders.get_order(second["order_id"]).payload["order"]
    assert one["orderItems"][0]["product"]["title"] == TITLE

    # Orders v0, deprecated but still served: getOrders pages with NextToken, then items.
    legacy = connect(Orders, base)
    v0 = legacy.get_orders(CreatedAfter=since, MaxResultsPerPage=1)
    assert [o["AmazonOrderId"] for o in v0.payload["Orders"]] == [first["order_id"]]
    assert v0.payload["Orders"][0]["OrderStatus"] == "Unshipped"
    v0_rest = legacy.get_orders(NextToken=v0.next_token)
    assert [o["AmazonOrderId"] for o in v0_rest.payload["Orders"]] == [second["order_id"]]
    lines = legacy.get_order_items(first["order_id"]).payload["OrderItems"]
    assert [(i["SellerSKU"], i["QuantityOrdered"]) for i in lines] == [("ATL-BNO-001", 2)]
    assert lines[0]["ItemPrice"] == {"CurrencyCode": "USD", "Amount": "1038.00"}

    # The first order is cancelled: stock back, a new last-update time.
    clock.advance(minutes=10)
    control.post(f"/_sandbox/orders/{first['order_id']}/cancel")
    assert control.get("/_sandbox/state").json()["listings"][0]["quantity"] == 2
    changed = orders.search_orders(
        lastUpdatedAfter=(START + timedelta(minutes=10)).isoformat(), includedData=["FULFILLMENT"]
    ).payload["orders"]
    assert [o["orderId"] for o in changed] == [first["order_id"]]
    assert changed[0]["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert changed[0]["lastUpdatedTime"] == "2026-11-02T09:15:00Z"
    assert changed[0]["createdTime"] == "2026-11-02T09:00:00Z"
    assert (
        legacy.get_orders(LastUpdatedAfter=clock.at.isoformat()).payload["Orders"][0]["OrderStatus"]
        == "Canceled"
    )

    # Seller feedback: one 5-star, one 2-star; the report holds only 1 to 3 stars.
    good = {"order_id": first["order_id"], "rating": 5, "text": "Magnifique"}
    assert control.post("/_sandbox/reviews", json=good).status_code == 201
    bad = control.post(
        "/_sandbox/reviews",
        json={"order_id": second["order_id"], "rating": 2, "text": "وصل متأخرا\tet abîmé"},
    )
    assert bad.status_code == 201
    again = control.post("/_sandbox/reviews", json={"order_id": second["order_id"], "rating": 1})
    assert again.status_code == 409  # one feedback per order
    assert len(control.get("/_sandbox/state").json()["reviews"]) == 2
    reports = connect(Reports, base)
    report_id = reports.create_report(
        reportType="GET_SELLER_FEEDBACK_DATA", marketplaceIds=[US]
    ).payload["reportId"]
    assert poll(reports.get_report, report_id) == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    document_id = reports.get_report(report_id).payload["reportDocumentId"]
    document = reports.get_report_document(document_id, download=True).payload["document"]
    rows = [line.split("\t") for line in document.splitlines()]
    assert rows[0] == ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"]
    assert [(r[1], r[2], r[4]) for r in rows[1:]] == [
        ("2", "وصل متأخرا et abîmé", second["order_id"])
    ]
    assert rows[1][5].endswith("@marketplace.amazon.com")  # a relay, not the buyer's address

    # The listing is deleted: gone for the API too.
    deleted = listings.delete_listings_item(ATLAS, "ATL-BNO-001", marketplaceIds=[US])
    assert deleted.payload["status"] == "ACCEPTED"
    with pytest.raises(SellingApiNotFoundException) as missing:
        listings.get_listings_item(ATLAS, "ATL-BNO-001", marketplaceIds=[US])
    assert missing.value.amzn_code == "NOT_FOUND"


def feed_document(seller: str = ATLAS) -> dict[str, Any]:
    """A JSON listings feed: two new rugs, one of them missing its brand, a restock, a
    deletion."""
    return {
        "header": {"sellerId": seller, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": 1,
                "sku": "ATL-NEW-1",
                "operationType": "UPDATE",
                "productType": "RUG",
                "requirements": "LISTING",
                "attributes": rug(title="زربية عين لوح — Tapis Aïn Leuh")["attributes"],
            },
            {
                "messageId": 2,
                "sku": "ATL-NEW-2",
                "operationType": "UPDATE",
                "productType": "RUG",
                "requirements": "LISTING",
                "attributes": rug(without=("brand",))["attributes"],
            },
            {
                "messageId": 3,
                "sku": "ATL-OLD-1",
                "operationType": "PATCH",
                "productType": "RUG",
                "patches": [
                    {
                        "op": "merge",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
                    }
                ],
            },
            {"messageId": 4, "sku": "ATL-OLD-2", "operationType": "DELETE"},
        ],
    }


def test_a_json_listings_feed_applies_the_good_messages(
    sandbox: Sandbox, listings: ListingsItems
) -> None:
    for sku in ("ATL-OLD-1", "ATL-OLD-2"):
        listings.put_listings_item(ATLAS, sku, marketplaceIds=[US], body=rug())
    feeds = connect(Feeds, sandbox.url("amazon"))
    document = json.dumps(feed_document(), ensure_ascii=False).encode("utf-8")
    _, created = feeds.submit_feed(
        "JSON_LISTINGS_FEED",
        io.BytesIO(document),  # bytes: a str would be sent as ISO-8859-1
        content_type="application/json; charset=UTF-8",
        marketplaceIds=[US],
    )
    feed_id = created.payload["feedId"]
    assert poll(feeds.get_feed, feed_id) == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    result_id = feeds.get_feed(feed_id).payload["resultFeedDocumentId"]
    report = json.loads(feeds.get_feed_result_document(result_id))
    assert spec_amazon.report_problems(report) == []
    assert report["summary"] == {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 4,
        "messagesAccepted": 3,
        "messagesInvalid": 1,
    }
    assert [
        (i["messageId"], i["sku"], i["severity"], i["attributeName"]) for i in report["issues"]
    ] == [(2, "ATL-NEW-2", "ERROR", "brand")]
    state = {listing["sku"]: listing for listing in sandbox.amazon.state_json()["listings"]}
    assert sorted(state) == ["ATL-NEW-1", "ATL-OLD-1"]
    assert state["ATL-NEW-1"]["title"] == "زربية عين لوح — Tapis Aïn Leuh"
    assert state["ATL-OLD-1"]["quantity"] == 7


def test_a_feed_sent_as_str_is_latin_1_and_amazon_refuses_it(sandbox: Sandbox) -> None:
    """The library encodes a str body as ISO-8859-1: accents arrive as bytes that are not
    UTF-8 (the feed is FATAL, and the report says why), Arabic cannot even be sent."""
    feeds = connect(Feeds, sandbox.url("amazon"))
    feed = feed_document()
    feed["messages"] = feed["messages"][1:2]
    attributes = feed["messages"][0]["attributes"]
    attributes["item_name"][0]["value"] = "Tapis tissé"
    attributes["product_description"][0]["value"] = "Tissé à la main"
    _, created = feeds.submit_feed(
        "JSON_LISTINGS_FEED",
        io.StringIO(json.dumps(feed, ensure_ascii=False)),
        content_type="application/json; charset=UTF-8",
        marketplaceIds=[US],
    )
    feed_id = created.payload["feedId"]
    assert poll(feeds.get_feed, feed_id)[-1] == "FATAL"
    report = json.loads(
        feeds.get_feed_result_document(feeds.get_feed(feed_id).resultFeedDocumentId)
    )
    assert spec_amazon.report_problems(report) == []
    assert "not UTF-8" in report["issues"][0]["message"]
    with pytest.raises(UnicodeEncodeError):
        feeds.submit_feed("JSON_LISTINGS_FEED", io.StringIO(TITLE), content_type="application/json")


@pytest.mark.parametrize(
    ("body", "codes", "names"),
    [
        (rug(without=("brand", "material")), ["90220", "90220"], ["brand", "material"]),
        ({**rug(), "productType": "SOFA"}, ["4000003"], []),
        (rug(currency="EUR"), ["4000001"], ["purchasable_offer"]),
        (rug(price=12.345), ["4000001"], ["purchasable_offer"]),
        (rug(title="x" * 201), ["4000001"], ["item_name"]),
        (rug(quantity=-1), ["4000001"], ["fulfillment_availability"]),
    ],
    ids=["missing", "unknown-type", "currency", "cents", "long-title", "negative-stock"],
)
def test_what_amazon_refuses_is_invalid_and_nothing_is_stored(
    sandbox: Sandbox,
    listings: ListingsItems,
    body: dict[str, Any],
    codes: list[str],
    names: list[str],
) -> None:
    answer = listings.put_listings_item(ATLAS, "ATL-BAD", marketplaceIds=[US], body=body).payload
    assert answer["status"] == "INVALID"
    assert [i["code"] for i in answer["issues"]] == codes
    assert [n for i in answer["issues"] for n in i["attributeNames"]] == names
    assert {i["severity"] for i in answer["issues"]} == {"ERROR"}
    assert sandbox.amazon.state_json()["listings"] == []
    with pytest.raises(SellingApiNotFoundException):
        listings.get_listings_item(ATLAS, "ATL-BAD", marketplaceIds=[US])


def test_a_patch_that_breaks_the_listing_changes_nothing(listings: ListingsItems) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug(quantity=4))
    patch = {"productType": "RUG", "patches": [{"op": "delete", "path": "/attributes/brand"}]}
    answer = listings.patch_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=patch)
    assert answer.payload["status"] == "INVALID"
    assert answer.payload["issues"][0]["attributeNames"] == ["brand"]
    unknown = listings.patch_listings_item(ATLAS, "ATL-NONE", marketplaceIds=[US], body=patch)
    assert unknown.payload["status"] == "INVALID"
    item = listings.get_listings_item(
        ATLAS, "ATL-1", marketplaceIds=[US], includedData=["attributes"]
    )
    assert item.payload["attributes"]["brand"]


def test_validation_preview_stores_nothing(sandbox: Sandbox, listings: ListingsItems) -> None:
    answer = listings.put_listings_item(
        ATLAS, "ATL-1", marketplaceIds=[US], mode="VALIDATION_PREVIEW", body=rug()
    )
    assert answer.payload["status"] == "VALID"
    assert sandbox.amazon.state_json()["listings"] == []


def test_the_marketplace_ids_must_be_in_the_query(listings: ListingsItems) -> None:
    """put_listings_item puts its default marketplaceIds into the body, not the query."""
    with pytest.raises(SellingApiBadRequestException) as refused:
        listings.put_listings_item(ATLAS, "ATL-1", body=rug())
    assert "marketplaceIds is required" in refused.value.error[0]["details"]


def test_tokens_a_seller_may_not_use_are_refused(
    sandbox: Sandbox, listings: ListingsItems, control: httpx.Client, clock: Clock
) -> None:
    base = sandbox.url("amazon")
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())
    # Another seller's token on this seller's listing.
    fes = connect(ListingsItems, base, seller=FES, version="2021-08-01")
    with pytest.raises(SellingApiForbiddenException):
        fes.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    # No token, a made-up token: 403 in SP-API's shape.
    path = f"/listings/2021-08-01/items/{ATLAS}/ATL-1"
    for headers in ({}, {"x-amz-access-token": "Atza|made-up"}):
        answer = control.get(path, params={"marketplaceIds": US}, headers=headers)
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["code"] == "Unauthorized"
    # An hour later the access token has expired (the library still holds it in its cache).
    listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    clock.advance(hours=1)
    with pytest.raises(SellingApiForbiddenException) as expired:
        listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    assert "expired" in expired.value.error[0]["details"]
    access_token_client.cache.clear()  # what a connector must do on a 403: a new token
    assert listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US]).payload["sku"] == "ATL-1"


def test_lwa_refuses_bad_credentials_in_its_own_shape(
    sandbox: Sandbox, amazon: AmazonSandbox, control: httpx.Client
) -> None:
    base = sandbox.url("amazon")
    with pytest.raises(AuthorizationError) as bad_secret:
        connect(Orders, base, client_secret="wrong").get_orders(CreatedAfter="2026-01-01")
    assert (bad_secret.value.status_code, bad_secret.value.error_code) == (401, "invalid_client")
    with pytest.raises(AuthorizationError) as unknown:
        connect(Orders, base, refresh_token="Atzr|nobody").get_orders(CreatedAfter="2026-01-01")
    assert (unknown.value.status_code, unknown.value.error_code) == (400, "invalid_grant")
    amazon.revoke(DEMO_SELLERS[FES][0])
    with pytest.raises(AuthorizationError) as revoked:
        connect(Orders, base, seller=FES).get_orders(CreatedAfter="2026-01-01")
    assert revoked.value.error_code == "invalid_grant"
    raw = control.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert raw.status_code == 401 and raw.json()["error"] == "invalid_client"
    assert "errors" not in raw.json()


def test_the_library_caches_tokens_by_refresh_token_only(sandbox: Sandbox) -> None:
    """A trap: once a token is cached, a wrong (or rotated) client secret goes unnoticed
    until the cache entry expires (3,200 s)."""
    base = sandbox.url("amazon")
    connect(Orders, base).get_orders(CreatedAfter="2026-01-01T00:00:00Z")
    wrong = connect(Orders, base, client_secret="wrong")
    assert wrong.get_orders(CreatedAfter="2026-01-01T00:00:00Z").payload["Orders"] == []


def test_added_accounts_get_tokens(sandbox: Sandbox, control: httpx.Client) -> None:
    account = {
        "client_id": "amzn1.application-oa2-client.other",
        "client_secret": "other-secret",
        "refresh_token": "Atzr|other-seller",
        "seller_id": "A3OTHERSELLER",
        "marketplace_id": "A1PA6795UKMFR9",
    }
    added = control.post("/_sandbox/accounts", json=account)
    assert added.status_code == 201
    assert added.json()["marketplace_ids"] == ["A1PA6795UKMFR9"]
    form = {k: account[k] for k in ("refresh_token", "client_id", "client_secret")}
    token = control.post("/auth/o2/token", data={"grant_type": "refresh_token", **form})
    assert token.status_code == 200 and token.json()["expires_in"] == 3600
    answer = control.get(
        "/orders/2026-01-01/orders",
        params={"createdAfter": "2026-01-01T00:00:00Z"},
        headers={"x-amz-access-token": token.json()["access_token"]},
    )
    assert answer.status_code == 200 and answer.json()["orders"] == []
    bad = control.post("/_sandbox/accounts", json={**account, "marketplace_id": "XX"})
    assert bad.status_code == 400


def test_over_quota_is_a_429_the_library_raises(
    sandbox: Sandbox, listings: ListingsItems, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(sandbox.amazon.buckets, "clock", lambda: now[0])
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())
    for _ in range(10):  # getListingsItem: a burst of 10 per seller
        listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    # What a client sees: the errors body, and the headers (Retry-After) on the exception.
    assert throttled.value.amzn_code == "QuotaExceeded"
    assert throttled.value.headers["retry-after"] == "1"
    now[0] += 0.2  # 5 per second: one token back
    assert listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US]).payload["sku"] == "ATL-1"
    # Quotas are per seller: the other seller still has its burst.
    fes = connect(ListingsItems, sandbox.url("amazon"), seller=FES, version="2021-08-01")
    with pytest.raises(SellingApiNotFoundException):
        fes.get_listings_item(FES, "ATL-1", marketplaceIds=[FR])


def set_faults(control: httpx.Client, **plan: Any) -> None:
    answer = control.put("/_sandbox/faults", json={"seed": 7, **plan})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("plan", "raised", "retry_after"),
    [
        ({"throttle": 1.0, "retry_after": 3}, SellingApiRequestThrottledException, "3"),
        ({"error_500": 1.0}, SellingApiServerException, None),
        ({"error_503": 1.0}, SellingApiTemporarilyUnavailableException, "1"),
    ],
    ids=["throttle", "500", "503"],
)
def test_faults_answer_in_amazons_shape(
    listings: ListingsItems,
    control: httpx.Client,
    plan: dict[str, Any],
    raised: type[Exception],
    retry_after: str | None,
) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())
    set_faults(control, operations=["getListingsItem"], **plan)
    with pytest.raises(raised) as failed:
        listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
    error: Any = failed.value
    assert error.headers.get("retry-after") == retry_after
    assert error.error[0]["message"]


def test_a_dropped_connection_is_a_transport_error(
    listings: ListingsItems, control: httpx.Client
) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())
    set_faults(control, drop=1.0, operations=["getListingsItem"])
    with pytest.raises(httpx.TransportError):
        listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])


def test_a_slow_answer_still_answers(listings: ListingsItems, control: httpx.Client) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())
    set_faults(control, slow=1.0, slow_seconds=0.3, operations=["getListingsItem"])
    started = time.monotonic()
    assert listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US]).payload["sku"] == "ATL-1"
    assert time.monotonic() - started >= 0.3


def test_a_lost_write_is_accepted_but_not_applied(
    listings: ListingsItems, control: httpx.Client
) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug(quantity=4))
    set_faults(control, lost_write=1.0, operations=["patchListingsItem"])
    restock = {
        "productType": "RUG",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 9}],
            }
        ],
    }
    answer = listings.patch_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=restock)
    assert answer.payload["status"] == "ACCEPTED"
    item = listings.get_listings_item(
        ATLAS, "ATL-1", marketplaceIds=[US], includedData=["fulfillmentAvailability"]
    )
    assert item.payload["fulfillmentAvailability"][0]["quantity"] == 4  # a drift check finds it


def test_faults_are_reproducible_from_a_seed(
    sandbox: Sandbox, listings: ListingsItems, control: httpx.Client
) -> None:
    sandbox.amazon.buckets.factor = 1000  # quotas are not what this test is about
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug())

    def run() -> list[str]:
        set_faults(control, error_500=0.3, error_503=0.3, operations=["getListingsItem"])
        outcomes = []
        for _ in range(10):
            try:
                listings.get_listings_item(ATLAS, "ATL-1", marketplaceIds=[US])
                outcomes.append("ok")
            except (SellingApiServerException, SellingApiTemporarilyUnavailableException) as e:
                outcomes.append(type(e).__name__)
        return outcomes

    first = run()
    assert run() == first
    assert len(set(first)) == 3  # successes and both failures: the seed decides which


def test_document_urls_act_like_presigned_s3_urls(
    sandbox: Sandbox, control: httpx.Client, clock: Clock
) -> None:
    """No token, but the declared Content-Type is part of the signature and the URL expires
    after 5 minutes; S3 answers in XML (the library's upload error path expects JSON)."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_SELLERS[ATLAS][0],
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    auth = {"x-amz-access-token": control.post("/auth/o2/token", data=form).json()["access_token"]}
    created = control.post(
        "/feeds/2021-06-30/documents",
        json={"contentType": "application/json; charset=UTF-8"},
        headers=auth,
    )
    assert created.status_code == 201 and created.headers["x-amzn-requestid"]
    url = created.json()["url"]
    assert url.startswith(sandbox.url("amazon") + "/_documents/")
    wrong_type = httpx.put(url, content=b"{}", headers={"Content-Type": "text/tsv"})
    assert wrong_type.status_code == 403 and b"SignatureDoesNotMatch" in wrong_type.content
    right = httpx.put(
        url, content=b"{}", headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert right.status_code == 200
    assert httpx.get(url).content == b"{}"
    clock.advance(minutes=6)
    expired = httpx.get(url)
    assert expired.status_code == 403 and b"Request has expired" in expired.content


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"createdAfter": "2026-11-01T00:00:00Z", "lastUpdatedAfter": "2026-11-01T00:00:00Z"},
        {"createdAfter": "2026-11-01T00:00:00Z", "createdBefore": "2026-11-02T08:59:00Z"},
        {"createdAfter": "2026-11-01", "maxResultsPerPage": "10"},
        {"createdAfter": "2026-11-01T00:00:00Z", "maxResultsPerPage": "101"},
        {"createdAfter": "2026-11-01T00:00:00Z", "marketplaceIds": FR},
        {"createdAfter": "2026-11-01T00:00:00Z", "includedData": "EVERYTHING"},
        {"paginationToken": "made-up"},
    ],
    ids=[
        "no-start",
        "both-starts",
        "before-too-recent",
        "date-only",
        "page-size",
        "not-the-sellers-store",
        "unknown-data-set",
        "made-up-token",
    ],
)
def test_order_searches_refuse_what_amazon_refuses(
    sandbox: Sandbox, clock: Clock, params: dict[str, str]
) -> None:
    orders = connect(Orders, sandbox.url("amazon"), version="2026-01-01")
    with pytest.raises(SellingApiBadRequestException) as refused:
        orders.search_orders(**params)
    assert refused.value.amzn_code == "InvalidInput"


def test_sellers_see_only_their_own_orders(
    sandbox: Sandbox, listings: ListingsItems, control: httpx.Client
) -> None:
    listings.put_listings_item(ATLAS, "ATL-1", marketplaceIds=[US], body=rug(quantity=3))
    order = control.post("/_sandbox/orders", json={"sku": "ATL-1"}).json()
    fes = connect(Orders, sandbox.url("amazon"), seller=FES, version="2026-01-01")
    assert fes.search_orders(createdAfter="2026-11-01T00:00:00Z").payload["orders"] == []
    with pytest.raises(SellingApiNotFoundException):
        fes.get_order(order["order_id"])
    atlas = connect(Orders, sandbox.url("amazon"), version="2026-01-01")
    assert atlas.get_order(order["order_id"]).payload["order"]["orderId"] == order["order_id"]


def test_the_control_api_keeps_amazons_rules(
    sandbox: Sandbox, listings: ListingsItems, control: httpx.Client
) -> None:
    listings.put_listings_item(ATLAS, "SAME-SKU", marketplaceIds=[US], body=rug(quantity=2))
    fes = connect(ListingsItems, sandbox.url("amazon"), seller=FES, version="2021-08-01")
    french = rug(currency="EUR", marketplace=FR, price=450)
    assert (
        fes.put_listings_item(FES, "SAME-SKU", marketplaceIds=[FR], body=french)("status")
        == "ACCEPTED"
    )
    # Two sellers list the SKU: the order must say whose.
    assert control.post("/_sandbox/orders", json={"sku": "SAME-SKU"}).status_code == 409
    order = control.post("/_sandbox/orders", json={"sku": "SAME-SKU", "seller_id": FES}).json()
    assert (order["currency"], order["total"]) == ("EUR", "450.00")
    assert control.post("/_sandbox/orders", json={"sku": "NONE"}).status_code == 404
    # Feedback by SKU goes on the latest order without feedback; one per order.
    review = {"sku": "SAME-SKU", "seller_id": FES, "rating": 3, "text": "Correct"}
    assert control.post("/_sandbox/reviews", json=review).json()["order_id"] == order["order_id"]
    assert control.post("/_sandbox/reviews", json=review).status_code == 409
    assert control.post("/_sandbox/reviews", json={**review, "rating": 6}).status_code == 400
    assert control.post("/_sandbox/reviews", json={"sku": "NONE", "rating": 1}).status_code == 404
    # A cancelled order gives its stock back once, however often it is cancelled.
    for _ in range(2):
        control.post(f"/_sandbox/orders/{order['order_id']}/cancel")
    state = control.get("/_sandbox/state").json()
    quantities = {(item["seller_id"], item["sku"]): item["quantity"] for item in state["listings"]}
    assert quantities == {(ATLAS, "SAME-SKU"): 2, (FES, "SAME-SKU"): 1}
    assert [o["status"] for o in state["orders"]] == ["Canceled"]
    assert control.post("/_sandbox/orders/000-0000000-0000000/cancel").status_code == 404
