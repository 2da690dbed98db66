"""How every connector calls a channel: quota first, failures sorted, retries bounded."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.channels.calls import Caller, RetryPolicy
from syndicator.channels.http import error_for_status, parse_retry_after
from syndicator.channels.interface import or_missing, reclassify
from syndicator.domain.quotas import QuotaRule
from syndicator.errors import (
    AuthError,
    ChannelError,
    ItemRejected,
    SetupError,
    Throttled,
    Transient,
)
from syndicator.store import Store
from syndicator.store.quota import StoreQuota
from tests.conftest import FakeClock


@pytest.fixture
def caller(tmp_path: Path, clock: FakeClock) -> Caller:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    quota = StoreQuota(
        store, "test:acct", {"*": [QuotaRule("*", 1000, 1000)]}, clock=clock, sleep=clock.sleep
    )

    def classify(exc: BaseException, operation: str) -> ChannelError | None:
        if isinstance(exc, ConnectionResetError):
            return Transient("connection reset by the channel")
        return None

    return Caller(quota, classify, RetryPolicy(attempts=4), sleep=clock.sleep, rng=random.Random(1))


def failing(*errors: BaseException, result: str = "done") -> Callable[[], str]:
    queue = list(errors)

    def fn() -> str:
        if queue:
            raise queue.pop(0)
        return result

    fn.calls = lambda: len(errors) - len(queue)  # type: ignore[attr-defined]
    return fn


def test_throttled_waits_what_the_channel_said(caller: Caller, clock: FakeClock) -> None:
    fn = failing(Throttled("slow down", retry_after=2.5))
    assert caller("getShop", fn) == "done"
    assert 2.5 in clock.slept  # the Retry-After itself, not a guess
    assert caller.retries == 1


def test_transient_failures_are_retried_a_bounded_number_of_times(caller: Caller) -> None:
    fn = failing(*(Transient(f"503 number {i}", status=503) for i in range(6)))
    with pytest.raises(Transient, match="503 number 3"):
        caller("getShop", fn)
    assert fn.calls() == 4  # type: ignore[attr-defined]


def test_a_library_exception_is_classified_then_retried(caller: Caller) -> None:
    fn = failing(ConnectionResetError("peer reset"))
    assert caller("getShop", fn) == "done"


@pytest.mark.parametrize(
    "error",
    [
        AuthError("invalid_grant", status=400),
        SetupError("no such shop"),
        ItemRejected("title too long", status=422),
    ],
)
def test_what_cannot_pass_is_not_retried(caller: Caller, error: ChannelError) -> None:
    fn = failing(error)
    with pytest.raises(type(error)):
        caller("createDraftListing", fn)
    assert fn.calls() == 1  # type: ignore[attr-defined]
    assert error.operation == "createDraftListing"


def test_a_bug_is_not_taken_for_a_channel_failure(caller: Caller) -> None:
    fn = failing(KeyError("listing_id"))
    with pytest.raises(KeyError):
        caller("getShop", fn)
    assert fn.calls() == 1  # type: ignore[attr-defined]


def test_a_write_without_retry_is_tried_once(caller: Caller) -> None:
    fn = failing(Transient("timed out"))
    with pytest.raises(Transient):
        caller("createDraftListing", fn, retry=False)
    assert fn.calls() == 1  # type: ignore[attr-defined]


def test_a_retry_after_longer_than_the_policy_allows_is_not_waited(caller: Caller) -> None:
    fn = failing(Throttled("daily quota spent", retry_after=3600))
    with pytest.raises(Throttled):
        caller("getShop", fn)
    assert fn.calls() == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, AuthError),
        (429, Throttled),
        (500, Transient),
        (503, Transient),
        (408, Transient),
        (400, ItemRejected),
        (422, ItemRejected),
    ],
)
def test_statuses_map_to_what_the_runner_does(status: int, kind: type[ChannelError]) -> None:
    err = error_for_status(
        status, "the channel's words", operation="putListingsItem", headers={"retry-after": "7"}
    )
    assert type(err) is kind
    assert "the channel's words" in str(err) and "putListingsItem" in str(err)
    if isinstance(err, Throttled | Transient) and status != 500:
        assert err.retry_after == 7


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480) == 5
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_write_retried_by_hand_waits_as_the_caller_would(
    caller: Caller, clock: FakeClock
) -> None:
    caller.pause(Transient("timed out"), 1)
    assert 0 <= clock.slept[-1] <= 1.0  # full jitter up to base * 2**1
    caller.pause(Transient("busy", retry_after=3), 2)
    assert clock.slept[-1] >= 3  # at least what the channel said
    for refused in (Throttled("daily quota spent", retry_after=3600), ItemRejected("bad")):
        with pytest.raises(type(refused)):
            caller.pause(refused, 1)  # too long to wait, or not a failure that may pass
    assert caller.retries == 0  # the Caller's own retries only


def test_a_404_means_not_there_and_a_failure_can_be_told_as_another_kind() -> None:
    gone = ItemRejected("no such listing", code="NOT_FOUND", status=404, operation="getListing")

    def raising(exc: Exception) -> Callable[[], str]:
        def call() -> str:
            raise exc

        return call

    assert or_missing(raising(gone)) is gone
    assert or_missing(lambda: "found") == "found"
    with pytest.raises(ItemRejected):
        or_missing(raising(ItemRejected("too long", status=422)))
    told = reclassify(gone, SetupError, "the shop id is wrong")
    assert isinstance(told, SetupError) and told.stops_channel
    assert (told.message, told.code, told.status, told.operation) == (
        "the shop id is wrong",
        "NOT_FOUND",
        404,
        "getListing",
    )
