"""The ``syndicator`` command as members and operators run it: output and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from tests.conftest import REPO, WriteFile

runner = CliRunner()
GOOD = "sku,title_fr,category,price,stock\nR-1,Tapis,rugs,450,1\n"
BAD = "sku,title_fr,category,price,stock\nR-1,Tapis,rugs,450,1\nR-2,Tapis,rugs,450,-1\n"


def test_validate_exit_codes_0_clean_1_problems_2_unreadable(write: WriteFile) -> None:
    good, bad = write("good.csv", GOOD), write("bad.csv", BAD)
    garbage = write("garbage.csv", b"\x00\x01\x02binary")
    result = runner.invoke(app, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 products, 1 SKUs — no problems" in result.output
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: R-2: stock -1 is below zero" in result.output
    assert "1 SKU(s) left out until fixed: R-2" in result.output
    result = runner.invoke(app, ["validate", str(bad), str(garbage)])
    assert result.exit_code == 2
    assert "binary data" in result.output


def test_validate_json_lists_every_problem(write: WriteFile) -> None:
    bad = write("bad.csv", BAD)
    result = runner.invoke(app, ["validate", "--json", str(bad)])
    assert result.exit_code == 1
    (report,) = json.loads(result.stdout)
    assert report["held"] == ["R-2"]
    assert report["problems"] == [
        {
            "file": str(bad),
            "line": 3,
            "sku": "R-2",
            "severity": "error",
            "message": "stock -1 is below zero; write how many pieces you "
            "have, for example 1 (0 if none is left)",
        }
    ]


def test_validate_uses_the_cooperatives_channels_from_the_config() -> None:
    zellige = REPO / "config" / "catalogs" / "zellige-fes.csv"
    result = runner.invoke(
        app, ["validate", "--config", str(REPO / "config" / "demo.yaml"), str(zellige)]
    )
    assert result.exit_code == 0, result.output


def test_plan_on_the_demo_config_plans_all_three_channels(tmp_path: Path) -> None:
    config = copy_demo(tmp_path)
    result = runner.invoke(app, ["plan", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    ops = json.loads(result.stdout)
    by_coop: dict[str, set[str]] = {}
    for op in ops:
        by_coop.setdefault(op["cooperative"], set()).add(op["channel"])
        assert op["action"] in {"create", "hold"}
        if op["action"] == "create":
            assert op["quantity"] > 0
            assert op["price"]["currency"] in {"USD", "EUR", "MAD"}
    assert by_coop == {
        "atlas-rugs": {"amazon", "etsy", "anou"},
        "zellige-fes": {"amazon", "etsy", "anou"},
    }
    arabic = [op for op in ops if op["language"] == "ar"]
    assert all(op["channel"] == "anou" for op in arabic)
    human = runner.invoke(app, ["plan", "--config", str(config)])
    assert human.exit_code == 0
    assert "atlas-rugs — Coopérative Tissage Atlas" in human.output
    assert "create" in human.output


def test_plan_explain_shows_each_price_step(tmp_path: Path) -> None:
    config = copy_demo(tmp_path)
    result = runner.invoke(
        app,
        [
            "plan",
            "--config",
            str(config),
            "--cooperative",
            "atlas-rugs",
            "--channel",
            "amazon",
            "--explain",
            "ATL-BNO-001",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in (
        "catalog price",
        "plus margin 5%",
        "at 0.1082 USD/MAD",
        "grossed up for fees of 15%",
        "rounded up (ends_99)",
        "net after fees",
        "stock: 1 counted at",
        "-> listed 1",
        "language: en",
    ):
        assert expected in out, expected
    missing = runner.invoke(app, ["plan", "--config", str(config), "--explain", "NOPE"])
    assert missing.exit_code == 1


def test_plan_with_a_broken_config_says_where_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("cooperatives:\n  - id: Bad Id\n    catalog: x.csv\n")
    result = runner.invoke(app, ["plan", "--config", str(config)])
    assert result.exit_code == 2
    assert "broken.yaml:2: cooperatives[0].id: String should match pattern" in result.output


def test_plan_reports_an_unknown_cooperative(tmp_path: Path) -> None:
    config = copy_demo(tmp_path)
    result = runner.invoke(app, ["plan", "--config", str(config), "--cooperative", "atlas"])
    assert result.exit_code == 2
    assert 'did you mean "atlas-rugs"?' in result.output


def copy_demo(tmp_path: Path) -> Path:
    """The demo config and catalogs in a fresh folder, with a store of their own."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target, ignore=shutil.ignore_patterns("var"))
    return target / "demo.yaml"


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    """What a user types after ``pip install``: the console script, in a real process."""
    exe = Path(sys.executable).with_name("syndicator")
    if not exe.exists():  # pragma: no cover - installed without console scripts
        pytest.fail(f"the syndicator console script is not installed next to {sys.executable}")
    config = copy_demo(tmp_path)
    env = {**os.environ, "SYNDICATOR_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    done = subprocess.run(
        [str(exe), "plan", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "zellige-fes" in done.stdout and "ZF-TBL-001" in done.stdout
    assert (tmp_path / "demo.db").exists()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("syndicator ")
