"""The operator's commands that talk to channels: ``syndicator check`` and ``feed``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox import Sandbox
from syndicator.cli import app
from tests.conftest import REPO
from tests.connectors.kit import World
from tests.connectors.test_anou import HARNESS

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(quota_factor=HARNESS.sandbox_quota_factor) as running:
        yield running


@pytest.fixture
def world(sandbox_server: Sandbox, tmp_path: Path) -> Iterator[World]:
    sandbox_server.reset()
    w = World(tmp_path, sandbox_server, HARNESS.channel(sandbox_server), HARNESS.secrets())
    yield w
    w.close()


def test_check_says_each_channel_is_reachable(world: World) -> None:
    result = runner.invoke(app, ["check", "--config", str(world.config_path)])
    assert result.exit_code == 0, result.output
    assert "atlas-rugs/anou: ok" in result.output
    assert HARNESS.secrets()["api_key"] not in result.output


def test_check_names_the_failing_channel_in_its_own_words_and_no_secret(world: World) -> None:
    world.write_secrets(HARNESS.wrong_secrets())
    result = runner.invoke(app, ["check", "--config", str(world.config_path)])
    assert result.exit_code == 1, result.output
    assert "atlas-rugs/anou: FAILED" in result.output
    assert "401" in result.output
    assert HARNESS.wrong_secrets()["api_key"] not in result.output


def test_feed_publishes_the_demo_catalog_as_pages(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "feed",
            "--config",
            str(REPO / "config" / "demo.yaml"),
            "--cooperative",
            "atlas-rugs",
            "--out",
            str(tmp_path),
            "--base-url",
            "https://atlas.example.org/media",
        ],
    )
    assert result.exit_code == 0, result.output
    index = json.loads((tmp_path / "product_data" / "index.json").read_text(encoding="utf-8"))
    assert index["products"] > 0 and index["pages"] >= 1
    page = json.loads((tmp_path / "product_data" / "page-1.json").read_text(encoding="utf-8"))
    first = page["products"][0]
    assert first["name"] and isinstance(first["price"], str)
    assert first["photos"][0]["original"].startswith("https://atlas.example.org/media/")
