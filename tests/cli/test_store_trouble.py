"""Every command on a store in trouble (damaged, read-only, its folder impossible) and the
daemon on a sandbox that refuses to start: one message naming the file and what to do, a
non-zero exit, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sandbox.demo import SandboxError
from syndicator.cli import app
from syndicator.config import Config
from tests.conftest import REPO

runner = CliRunner()

COMMANDS = [
    ["check"],
    ["status"],
    ["journal"],
    ["sync", "--once"],
    ["plan"],
    ["run"],
]


def demo(tmp_path: Path, **sandbox: object) -> Path:
    """The demo config in a fresh folder (its store beside it, in var/)."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target, ignore=shutil.ignore_patterns("var"))
    path = target / "demo.yaml"
    if sandbox:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["sandbox"] = {**data["sandbox"], **sandbox}
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def refusing_sandbox(config: Config) -> object:
    """A sandbox starter that refuses the config (the daemon's ``sandbox.starter`` hook)."""
    raise SandboxError("atlas-rugs/etsy: the sandbox has no etsy marketplace; disable it")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_damaged_store_stops_every_command_with_what_to_do(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "state.db"
    store.write_bytes(b"not a database at all " * 400)
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", f"sqlite:///{store}")
    result = runner.invoke(app, [*command, "--config", str(demo(tmp_path))])
    assert result.exit_code == 3, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert f"the store {store} is not a SQLite database or is damaged" in result.output
    assert "restore it from a backup" in result.output


@pytest.mark.parametrize("command", [["status"], ["sync", "--once"]], ids=lambda c: c[0])
def test_a_store_folder_that_cannot_be_made_stops_with_what_to_do(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").write_text("a file, not a folder", encoding="utf-8")
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", f"sqlite:///{tmp_path}/data/var/s.db")
    result = runner.invoke(app, [*command, "--config", str(demo(tmp_path))])
    assert result.exit_code == 3, result.output
    assert f"the store's folder {tmp_path}/data/var does not exist" in result.output


def test_the_daemon_on_a_sandbox_that_refuses_its_config_says_why(tmp_path: Path) -> None:
    """``run`` used to catch only DaemonStartError: a sandbox's refusal was a traceback."""
    config = demo(tmp_path, starter="tests.cli.test_store_trouble:refusing_sandbox")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "the sandbox has no etsy marketplace; disable it" in result.output


def _without_root_powers() -> list[str]:
    """A prefix that makes the command unable to write what its user cannot: root writes
    anything, unless its DAC capabilities are dropped (util-linux setpriv)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv: a read-only file cannot be made so")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "folder"])
def test_a_read_only_store_says_who_must_be_able_to_write_what(
    tmp_path: Path, folder_too: bool
) -> None:
    """The installed console script, in a real process: the file (or its folder) read-only."""
    config = demo(tmp_path)
    var = tmp_path / "data"
    var.mkdir()
    store = var / "state.db"
    env = {**os.environ, "SYNDICATOR_DATABASE_URL": f"sqlite:///{store}"}
    exe = str(Path(sys.executable).with_name("syndicator"))
    made = subprocess.run([exe, "plan", "--config", str(config)], env=env, capture_output=True)
    assert made.returncode == 0, made.stderr
    for p in var.iterdir():
        p.unlink() if p.name != "state.db" else p.chmod(0o400)
    if folder_too:
        var.chmod(0o500)
    try:
        for command in (["status"], ["sync", "--once"]):
            done = subprocess.run(
                [*_without_root_powers(), exe, *command, "--config", str(config)],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if command == ["status"] and not folder_too:
                assert done.returncode == 0, done.stderr  # reading a read-only store is fine
                continue
            assert done.returncode == 3, done.stderr
            assert "Traceback" not in done.stderr
            assert f"the store {store}" in done.stderr
            assert f"write access to the file and to its folder {var}" in done.stderr
    finally:
        var.chmod(0o700)
