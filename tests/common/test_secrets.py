"""Secrets that stay secret (issue 14, part 3): a secrets file read as one value, and every
message that leaves the process (errors printed, the store, the journal, status, logs, the
webhook) masked by the one redactor, library errors quoting a header included.

Runs against the sandbox marketplaces (the world of tests/connectors/kit.py, credentials in
files as an operator keeps them), through the command line where a person would.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.common.logs import Redactor, configure_logging
from syndicator.config import AlertsConfig, Config, DaemonConfig, SecretRef
from syndicator.service.alerts import Notifier
from syndicator.store import schema
from syndicator.store.alerts import raise_alert
from syndicator.store.journal import JournalEntry, write_journal
from syndicator.store.listings import record_failure
from syndicator.store.passes import record_run
from syndicator.sync.opener import open_connector
from syndicator.sync.reconcile import ChannelRun
from tests.connectors.kit import World
from tests.connectors.test_anou import API_KEY

runner = CliRunner()
KEY_FILE = "anou-api_key"  # the ANOU channel's key, in the world's secrets/ folder
PART2 = "MULTILINE-S3CRET-PART2"


pytestmark = pytest.mark.usefixtures("logging_restored")  # tests/conftest.py


def key_file(world: World) -> Path:
    return world.root / "secrets" / KEY_FILE


def store_text(world: World) -> str:
    """Every value in the store but the table whose job is to keep rotated tokens."""
    cells: list[str] = []
    with world.store.read() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name != "channel_tokens":
                for row in conn.execute(select(table)):
                    cells.extend(json.dumps(v, default=str, ensure_ascii=False) for v in row)
    return "\n".join(cells)


def cli(world: World, *args: str) -> str:
    result = runner.invoke(app, [*args, "--config", str(world.config_path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


# --------------------------------------------------------------------------- secrets files
def test_a_key_saved_by_notepad_with_a_bom_works(world: World) -> None:
    key_file(world).write_bytes(b"\xef\xbb\xbf" + API_KEY.encode() + b"\r\n")
    result = runner.invoke(app, ["check", "--config", str(world.config_path), "--channel", "anou"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.output
    assert "atlas-rugs/anou: ok" in result.output


def test_a_two_line_key_is_refused_and_shown_nowhere(world: World) -> None:
    key_file(world).write_text(f"{API_KEY}\n{PART2}\n", encoding="utf-8")
    log = io.StringIO()
    configure_logging(stream=log, level="DEBUG", redact=world.config.secret_values())

    checked = runner.invoke(app, ["check", "--config", str(world.config_path)])
    assert checked.exit_code == 1
    said = f"credential api_key: the secrets file {key_file(world)} holds more than one line"
    assert f"atlas-rugs/anou: FAILED: atlas-rugs/anou: {said}" in checked.output.replace("\n", "")
    synced = cli(world, "sync", "--once", "--json")
    shown = {
        "check": checked.output,
        "sync": synced,
        "journal": cli(world, "journal", "--json", "--limit", "1000"),
        "status": cli(world, "status"),
        "store": store_text(world),
        "log": log.getvalue(),
    }
    assert "more than one line" in shown["journal"]  # the pass says why the channel stopped
    assert not [where for where, text in shown.items() if PART2 in text or API_KEY in text]


# --------------------------------------------------------------------------- the redactor
def test_the_redactor_masks_a_secret_as_libraries_quote_it() -> None:
    secret = "clé-S3CRET-ü"
    redactor = Redactor([secret, "LINE-ONE-S3CRET\nLINE-TWO-S3CRET"])
    quoted = [
        f"Illegal header value {secret.encode()!r}",  # h11, http.client: bytes repr
        f"ValueError({secret!r})",
        "Invalid header value b'Bearer LINE-ONE-S3CRET\\nLINE-TWO-S3CRET'",
        "unknown key LINE-TWO-S3CRET",  # one line of it alone
    ]
    for text in quoted:
        masked = redactor.redact(text)
        assert "S3CRET" not in masked, masked


def test_a_user_and_password_in_any_url_are_masked() -> None:
    line = 'HTTP Request: GET https://coop:PA55-in-URL@anou.example/api/products "200 OK"'
    assert Redactor().redact(line) == (
        'HTTP Request: GET https://***@anou.example/api/products "200 OK"'
    )


def test_a_library_error_quoting_the_anou_key_is_masked(world: World) -> None:
    connector = open_connector(world.config, world.store, "atlas-rugs", "anou", timeout=5.0)
    try:
        refused = httpx.LocalProtocolError(f"Illegal header value b'Bearer {API_KEY}  '")
        err = connector.client.classify(refused, "getProduct")  # type: ignore[attr-defined]
    finally:
        connector.close()
    assert err is not None and "Illegal header value" in str(err)
    assert API_KEY not in str(err)


def test_a_message_quoting_a_credential_is_masked_wherever_it_is_stored(world: World) -> None:
    """Whatever module writes a message to the store, the store's redactor masks it: here
    each of the four that keep messages, as a channel's library error would read."""
    open_connector(world.config, world.store, "atlas-rugs", "anou", timeout=5.0).close()
    said = f"Illegal header value b'Bearer {API_KEY}'; client_secret=abcdef123456"
    now = datetime.now(UTC)
    with world.store.write() as conn:
        record_failure(conn, "atlas-rugs", "anou", "RUG-1", None, said, None, now)
        write_journal(
            conn,
            [
                JournalEntry(
                    now,
                    "run-1",
                    "atlas-rugs",
                    "anou",
                    "RUG-1",
                    "create",
                    1,
                    "failed",
                    said,
                    {"error": said},
                )
            ],
        )
        raise_alert(
            conn,
            cooperative="atlas-rugs",
            channel="anou",
            kind="auth",
            key="anou",
            message=said,
            now=now,
            details={"said": said},
        )
        record_run(
            conn,
            ChannelRun("atlas-rugs", "anou", stopped=said),
            run_id="run-1",
            kind="sync",
            started_at=now,
            finished_at=now,
        )
    stored = store_text(world)
    assert stored.count("Illegal header value") >= 6
    assert API_KEY not in stored and "abcdef123456" not in stored
    for command in (("journal", "--json"), ("status",)):
        assert API_KEY not in cli(world, *command)


# --------------------------------------------------------------------------- the webhook
def test_a_webhook_that_is_not_https_is_refused_before_sending(world: World) -> None:
    token = "T0KEN-of-the-webhook-1a2b3c"
    (world.root / "hook-url").write_text(f"http://hooks.example.com/{token}\n")
    alerts = AlertsConfig(webhook=SecretRef(file=Path("hook-url")))
    model = world.config.model.model_copy(update={"daemon": DaemonConfig(alerts=alerts)})
    config = Config(world.config.path, model, world.config.rates, world.config.channel_types)
    with world.store.write() as conn:
        raise_alert(
            conn,
            cooperative="atlas-rugs",
            kind="oversell",
            key="k",
            message="m",
            now=datetime.now(UTC),
        )
    log = io.StringIO()
    configure_logging(stream=log, json=True, level="DEBUG")
    notifier = Notifier(config, world.store)
    try:
        assert notifier.send_new() == 0
    finally:
        notifier.close()
    assert "clear text" in log.getvalue() and token not in log.getvalue()
