"""Commands that only read the store start without loading what they do not use: the review
report and export load no connector and no marketplace, HTTP or server library (the config
is still validated in full), and the report loads matplotlib only to draw a chart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.domain.reviews import Review, ReviewSource
from syndicator.reviews.records import record_reviews
from syndicator.store import Store
from tests.conftest import REPO

# What only a pass, the daemon or another command needs.
CONNECTORS = (
    "connectors.amazon.connector",
    "connectors.etsy.connector",
    "connectors.anou.connector",
)
LIBRARIES = (
    "sp_api",
    "etsy_python",
    "requests",
    "httpx",
    "uvicorn",
    "starlette",
    "apscheduler",
    "watchfiles",
    "prometheus_client",
    "py3langid",
)

# Runs one command in this interpreter, then names every module it loaded.
RUN = """
import json, sys
from typer.testing import CliRunner
from syndicator.cli import app
result = CliRunner().invoke(app, json.loads(sys.argv[1]))
assert result.exit_code == 0, result.output
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture
def config(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The demo config (three marketplaces in two cooperatives) and a store with a review."""
    shutil.copytree(REPO / "config", tmp_path / "config", ignore=shutil.ignore_patterns("var"))
    url = f"sqlite:///{tmp_path}/state.db"
    store = Store(url)
    at = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    with store.write() as conn:
        page = [Review("R-1", ReviewSource.PRODUCT_REVIEW, 5, "Très belle pièce.", "fr", at)]
        record_reviews(conn, "atlas-rugs", "etsy", page, {}, at)
    store.close()
    return tmp_path / "config" / "demo.yaml", {**os.environ, "SYNDICATOR_DATABASE_URL": url}


def loaded(args: list[str], env: dict[str, str]) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.splitlines()[-1]))


def of(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules if m in names or m.split(".")[0] in names}


def test_the_review_commands_load_no_connector_library(
    config: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, env = config
    report = loaded(["reviews", "report", "--config", str(path), "--json"], env)
    export = ["reviews", "export", "--config", str(path), "--format", "csv"]
    exported = loaded([*export, "--out", str(tmp_path / "reviews.csv")], env)
    for modules in (report, exported):
        assert of(modules, CONNECTORS + LIBRARIES) == set()
        assert "syndicator.config" in modules and "connectors.etsy" in modules  # validated
    assert of(report | exported, ("matplotlib",)) == set()


def test_the_report_loads_matplotlib_only_for_a_chart(
    config: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    path, env = config
    chart = tmp_path / "satisfaction.png"
    modules = loaded(["reviews", "report", "--config", str(path), "--chart", str(chart)], env)
    assert "matplotlib" in modules and chart.read_bytes().startswith(b"\x89PNG")
    assert of(modules, CONNECTORS + LIBRARIES) == set()
