"""Sandbox fixtures: emulators served in-process on an ephemeral loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
