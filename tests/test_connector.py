"""The connector surface (syndicator/connector.py): every name it promises a connector is
there, is the very object of the room it lives in, and nothing else is."""

from __future__ import annotations

import importlib

import pytest

import syndicator.connector as surface


def test_every_promised_name_is_the_object_of_its_home() -> None:
    homes = surface._HOMES
    assert sorted(homes) == sorted(surface.__all__), "__all__ and the table of homes differ"
    for name, home in homes.items():
        assert getattr(surface, name) is getattr(importlib.import_module(home), name), name


def test_a_name_it_does_not_promise_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Store"):
        surface.Store  # type: ignore[attr-defined]  # noqa: B018 - the lookup is the test
