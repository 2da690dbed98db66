"""The sandbox's exceptions are in Syndicator's one tree, under the group that says what the
caller does with them: each is input to fix, and says what to send or write instead."""

from __future__ import annotations

import pytest

from sandbox.base import ApiError
from sandbox.demo import SandboxError
from sandbox.spec_etsy import SpecError, operation
from syndicator.errors import FixInput, SyndicatorError


@pytest.mark.parametrize("error", [ApiError, SpecError, SandboxError])
def test_each_is_input_to_fix(error: type[Exception]) -> None:
    assert issubclass(error, FixInput) and issubclass(error, SyndicatorError)


def test_a_refusal_keeps_the_marketplaces_words() -> None:
    err = ApiError(409, "Conflict", "every order of RUG-1 already has feedback")
    assert (err.status, err.code, str(err)) == (409, "Conflict", err.message)


def test_a_request_the_model_refuses_is_still_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an operation of Etsy's model"):
        operation("noSuchOperation")
