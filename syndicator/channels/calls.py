"""One call to a channel, the way every connector makes it: take a token from the quota,
call, sort a failure into the error tree, and retry what may pass.

Retries (tenacity): :class:`~syndicator.connector.Throttled` waits at least what the channel
said (``Retry-After``) and empties our bucket too; :class:`~syndicator.connector.Transient`
backs off exponentially with full jitter; both are bounded in attempts and in total time,
and the last failure is raised as it is. Anything else is raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from syndicator.channels.interface import Quota, RetryPolicy
from syndicator.errors import ChannelError, Throttled, Transient, out_of_files

__all__ = ["Caller", "RetryPolicy"]

T = TypeVar("T")
log = logging.getLogger("syndicator.connectors")

Classifier = Callable[[BaseException, str], ChannelError | None]


# A call that failed for lack of file descriptors here: retried like a dropped connection,
# never taken for the channel refusing the credentials (an auth alert).
NO_FILES = "this machine ran out of file descriptors (Too many open files): not the channel's doing"


class Caller:
    """Makes calls for one connector.

    ``classify`` turns what the client library raised into a :class:`ChannelError` (None:
    not a channel failure, raise it as it is: a bug).
    """

    def __init__(
        self,
        quota: Quota,
        classify: Classifier,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.quota = quota
        self.classify = classify
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.retries = 0  # over the caller's life, for metrics and tests

    def backoff(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after ``attempt`` failed with ``exc``: what the channel said
        (``Retry-After``; for a :class:`Transient`, at least the backoff too), else an
        exponential backoff with full jitter."""
        backoff = self.rng.uniform(0, min(self.policy.cap, self.policy.base * 2**attempt))
        told = getattr(exc, "retry_after", None)
        if told is not None:
            return max(float(told), backoff if isinstance(exc, Transient) else 0.0)
        return backoff

    def pause(self, exc: ChannelError, attempt: int) -> None:
        """Wait before trying again by hand (a write not repeated blindly: looked up
        first) as the Caller waits between its own retries; ``exc`` itself is raised when
        it may not pass or asks for a longer wait than the policy allows."""
        if not self._retryable(exc):
            raise exc
        self.sleep(self.backoff(exc, attempt))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.backoff(exc, state.attempt_number)

    def _retryable(self, exc: BaseException) -> bool:
        if not isinstance(exc, ChannelError) or not exc.retryable:
            return False
        told = getattr(exc, "retry_after", None)
        return told is None or told <= self.policy.max_retry_after

    def __call__(
        self, operation: str, fn: Callable[[], T], *, retry: bool = True, weight: int = 1
    ) -> T:
        """``fn()`` as ``operation``, within the quota, retried when ``retry`` and the
        failure may pass. Set ``retry=False`` for a write that must not be repeated blindly
        (a create: look up first, then decide)."""

        def attempt() -> T:
            self.quota.acquire(operation, weight)
            try:
                return fn()
            except Exception as exc:
                if out_of_files(exc):  # this machine ran out of files: not the channel's say
                    err: ChannelError = Transient(NO_FILES, operation=operation)
                    err.__cause__ = exc
                elif isinstance(exc, ChannelError):
                    exc.operation = exc.operation or operation
                    err = exc
                else:  # the library's own exception
                    mapped = self.classify(exc, operation)
                    if mapped is None:
                        raise
                    mapped.operation = mapped.operation or operation
                    err = mapped
                    err.__cause__ = exc
            if isinstance(err, Throttled):
                self.quota.penalize(operation, err.retry_after)
            raise err

        if not retry:
            return attempt()
        started = time.monotonic()

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= self.policy.attempts:
                return True
            return time.monotonic() - started + self._wait(state) > self.policy.total

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info("retrying %s after %s (attempt %d)", operation, exc, state.attempt_number)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(self._retryable),
            wait=self._wait,
            stop=stop,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)
