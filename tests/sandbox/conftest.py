"""Sandbox fixtures: emulators served in-process on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sp_api.auth import access_token_client

from sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    """All three emulators on one port, shared by the tests of a module."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The sandbox, fresh for this test, recording every exchange."""
    return sandbox_server.reset(record=True)


@pytest.fixture(autouse=True)
def no_library_tokens_left() -> Iterator[None]:
    """python-amazon-sp-api keeps access tokens process-wide, by refresh token: a test leaves
    none behind, since they belong to its sandbox's state (another would be refused them)."""
    yield
    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()
