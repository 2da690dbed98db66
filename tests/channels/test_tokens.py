"""Access tokens written once: a refresh token that works once (rotated under the store's
lock, saved with the access token, another worker's token adopted instead of spending it
again), one that stays (a refusal remembered), a 401 refreshed once, every token masked."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from syndicator.channels.calls import Caller, RetryPolicy
from syndicator.channels.tokens import AccessTokens, Grant, digest
from syndicator.common.logs import Redactor
from syndicator.errors import AuthError, ChannelError, Transient

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class FreeQuota:
    def acquire(self, operation: str, weight: int = 1) -> float:
        return 0.0

    def penalize(self, operation: str, retry_after: float | None) -> None:
        pass


class MemoryTokens:
    """The token store of every worker of one channel: each ``save`` is one transaction."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.saves: list[dict[str, str]] = []
        self.lock = threading.RLock()
        self.locked = False

    def load(self, name: str) -> str | None:
        return self.values.get(name)

    def save(self, values: Mapping[str, str]) -> None:
        self.saves.append(dict(values))
        self.values.update(values)

    @contextmanager
    def exclusive(self) -> Iterator[MemoryTokens]:
        with self.lock:
            self.locked = True
            try:
                yield self
            finally:
                self.locked = False


class Channel:
    """A token endpoint: each refresh token works once (``rotate``) or for ever."""

    def __init__(self, clock: Clock, *, rotate: bool, refused: bool = False) -> None:
        self.clock, self.rotate, self.refused = clock, rotate, refused
        self.spent: list[str] = []

    def grant(self, refresh: str) -> Grant:
        if self.refused or (self.rotate and refresh in self.spent):
            raise AuthError("invalid_grant", code="invalid_grant", status=400)
        self.spent.append(refresh)
        n = len(self.spent)
        rotated = f"refresh-{n}-rotated" if self.rotate else None
        return Grant(f"access-{n}-token", self.clock() + HOUR, rotated)


class Tokens(AccessTokens):
    """The strategy on :class:`Channel`: with ``store``, a rotating refresh token kept
    there; without, the configured one."""

    def __init__(
        self,
        channel: Channel,
        store: MemoryTokens | None = None,
        *,
        margin: float = 300.0,
        redactor: Redactor | None = None,
    ) -> None:
        caller = Caller(FreeQuota(), lambda exc, op: None, RetryPolicy(attempts=3), sleep=noop)
        super().__init__(
            caller,
            "oauthToken",
            refresh_token=None if store is not None else "refresh-configured",
            store=store,
            margin=margin,
            redactor=redactor,
            clock=channel.clock,
        )
        self.channel = channel
        self.adoptions: list[str] = []
        self.locked_at_grant: list[bool] = []

    def grant(self, refresh_token: str) -> Grant:
        if isinstance(self.store, MemoryTokens):
            self.locked_at_grant.append(self.store.locked)
        return self.channel.grant(refresh_token)

    def adopted(self, access: str, expires: datetime) -> None:
        self.adoptions.append(access)


def noop(seconds: float) -> None:
    pass


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_rotated_refresh_token_is_saved_with_its_access_token_at_once(clock: Clock) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    tokens = Tokens(channel, store, margin=300)
    assert tokens.token() == "access-1-token"
    assert channel.spent == ["refresh-configured"] and tokens.locked_at_grant == [True]
    (saved,) = store.saves  # one transaction: the chain never half-written
    assert saved == {
        "refresh_token": "refresh-1-rotated",
        "access_token": "access-1-token",
        "access_expires": (START + HOUR).isoformat(),
        "access_chain": digest("refresh-1-rotated"),
    }
    assert tokens.adoptions == ["access-1-token"]
    # Used until the margin before it expires, then the rotated token is spent.
    clock.now = START + HOUR - timedelta(seconds=301)
    assert tokens.token() == "access-1-token" and len(channel.spent) == 1
    clock.now = START + HOUR - timedelta(seconds=299)
    assert tokens.token() == "access-2-token"
    assert channel.spent == ["refresh-configured", "refresh-1-rotated"]
    assert store.values["refresh_token"] == "refresh-2-rotated"


def test_another_workers_fresh_token_is_adopted_instead_of_spending_the_refresh_token(
    clock: Clock,
) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    first, second = Tokens(channel, store), Tokens(channel, store)
    assert first.token() == "access-1-token"
    assert second.token() == "access-1-token"  # from the store, not from the channel
    assert channel.spent == ["refresh-configured"] and second.adoptions == ["access-1-token"]
    # Both hold an old token; the first refreshes, then the second's refresh finds, under
    # the lock, the token the first stored meanwhile and takes it.
    first.refresh(stale="access-1-token")
    assert second.refresh(stale="access-1-token") == "access-2-token"
    assert channel.spent == ["refresh-configured", "refresh-1-rotated"]  # never twice


def test_a_chain_the_operator_replaced_is_not_adopted(clock: Clock) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    Tokens(channel, store).token()
    store.values["refresh_token"] = "refresh-new-from-the-operator"  # the config wins
    assert Tokens(channel, store).token() == "access-2-token"
    assert channel.spent[-1] == "refresh-new-from-the-operator"


def test_a_401_gets_one_new_token_and_one_more_try(clock: Clock) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    tokens = Tokens(channel, store)
    answers: list[Exception | str] = [AuthError("expired", status=401), "shop"]
    sent: list[str | None] = []

    def call() -> str:
        sent.append(tokens.access)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert tokens.authorized(call) == "shop"
    assert sent == ["access-1-token", "access-2-token"] and len(channel.spent) == 2
    # Refused twice: one refresh only, then the refusal as it is.
    answers[:] = [AuthError("no", status=401), AuthError("still no", status=401)]
    with pytest.raises(AuthError, match="still no"):
        tokens.authorized(call)
    assert len(channel.spent) == 3
    # A 403 is not about the token: no refresh.
    answers[:] = [AuthError("not your shop", status=403)]
    with pytest.raises(AuthError, match="not your shop"):
        tokens.authorized(call)
    assert len(channel.spent) == 3


def test_a_refused_refresh_token_is_not_asked_for_again(clock: Clock) -> None:
    channel = Channel(clock, rotate=False, refused=True)
    tokens = Tokens(channel)
    for _ in range(3):
        with pytest.raises(AuthError) as refused:
            tokens.token()
        assert refused.value.code == "invalid_grant" and refused.value.operation == "oauthToken"
    assert channel.spent == [] and tokens.granted == 0
    # A refresh token that stays: the same one each time, tokens in memory only.
    channel.refused = False
    good = Tokens(channel)
    assert good.token() == "access-1-token"
    clock.now += HOUR
    assert good.token() == "access-2-token"
    assert channel.spent == ["refresh-configured", "refresh-configured"]


def test_a_transient_failure_of_the_grant_is_retried_by_the_caller(clock: Clock) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    failures: list[ChannelError] = [Transient("503 at the token endpoint", status=503)]

    class Flaky(Tokens):
        def grant(self, refresh_token: str) -> Grant:
            if failures:
                raise failures.pop()
            return super().grant(refresh_token)

    tokens = Flaky(channel, store)
    assert tokens.token() == "access-1-token"
    assert tokens.caller.retries == 1 and len(store.saves) == 1


def test_the_redactor_masks_every_token_even_a_rotated_one(clock: Clock) -> None:
    channel = Channel(clock, rotate=True)
    store = MemoryTokens({"refresh_token": "refresh-configured"})
    redactor = Redactor(["key1"], min_length=4)  # the connectors mask from 4 characters
    tokens = Tokens(channel, store, redactor=redactor)
    tokens.token()
    said = "refused refresh-1-rotated (was refresh-configured) with access-1-token, key key1"
    assert redactor.redact(said) == "refused *** (was ***) with ***, key ***"
    assert Redactor(["key1"]).redact("key key1") == "key key1"  # the log's own: from 6
