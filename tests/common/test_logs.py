"""The daemon's logs: one shape per line, bound context, failures once, secrets never shown.

The leak test runs real sync passes against the three sandbox marketplaces (the world of
tests/connectors/kit.py), logging everything at DEBUG (httpx, urllib3 and the Amazon
library's request headers included), once with good credentials and once per marketplace
with a wrong one; then looks for every credential value, and every token the sandbox
issued, in the log lines, the store, the journal command's output and the errors raised.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import traceback
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sandbox import Sandbox
from syndicator.cli import app
from syndicator.common.logs import (
    FailureLog,
    Redactor,
    add_secrets,
    bound,
    configure_logging,
    current_redactor,
    get_logger,
)
from syndicator.errors import ChannelError
from syndicator.store import schema
from syndicator.sync.reconcile import sync_once
from tests.connectors.kit import World
from tests.connectors.test_amazon import AmazonHarness
from tests.connectors.test_anou import HARNESS as ANOU
from tests.connectors.test_etsy import HARNESS as ETSY

AMAZON = AmazonHarness()
HARNESSES = {"amazon": AMAZON, "etsy": ETSY, "anou": ANOU}


pytestmark = pytest.mark.usefixtures("logging_restored")  # tests/conftest.py


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --------------------------------------------------------------------------- redactor
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer eyJhbGciOi.J9xyz-123", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic ***"),
        ("sent Bearer 51000001.AbCdEf_123 to etsy", "sent Bearer *** to etsy"),
        ("X-Api-Key: sandboxatlasrugs:atlassecret", "X-Api-Key: ***"),
        ("refresh Atzr|IwEBIA-long.token_value=", "refresh ***"),
        ("form refresh_token=Atzr%7CIwEBIA%2Bx&client_id=a", "form refresh_token=***&client_id=a"),
        ("secret amzn1.oa2-cs.v1.0f3a9b2c7d", "secret ***"),
        ("GET /x?access_token=abc.def&page=2", "GET /x?access_token=***&page=2"),
        (
            "client_secret=s3cr3t&grant_type=refresh_token",
            "client_secret=***&grant_type=refresh_token",
        ),
        (
            '{"access_token": "Atza|x", "expires_in": 3600}',
            '{"access_token": "***", "expires_in": 3600}',
        ),
        ('{"refresh_token":"51000001.xyz"}', '{"refresh_token":"***"}'),
        ('{"client_secret": "a\\"b"}', '{"client_secret": "***"}'),
        ('{"api_key": "anou-key", "x-api-key": "k2"}', '{"api_key": "***", "x-api-key": "***"}'),
        ('{"password": "hunter22"}', '{"password": "***"}'),
        ('{"nextToken": "page-2", "token": "t0k3n"}', '{"nextToken": "page-2", "token": "***"}'),
        (
            "{'x-amz-access-token': 'Atza|abc', 'host': 'h'}",
            "{'x-amz-access-token': '***', 'host': 'h'}",
        ),
        ("{'Authorization': 'Bearer 1234567890'}", "{'Authorization': '***'}"),
        # prose and ordinary values are left alone
        ("a Bearer token was refused", "a Bearer token was refused"),
        ("the refresh_token is unknown", "the refresh_token is unknown"),
        ("RUG-1 listed at 49.99 USD", "RUG-1 listed at 49.99 USD"),
        ("زربية بني ورين", "زربية بني ورين"),
    ],
)
def test_credential_shaped_text_is_masked_without_being_told(text: str, kept: str) -> None:
    assert Redactor().redact(text) == kept


def test_known_values_are_masked_in_every_form_and_short_ones_ignored() -> None:
    redactor = Redactor(["Atzr|seller-refresh+1", "abc", "  padded-secret \n"])
    assert len(redactor) == 2  # "abc" is too short to mask everywhere
    text = "a Atzr|seller-refresh+1 b Atzr%7Cseller-refresh%2B1 c padded-secret abc"
    assert redactor.redact(text) == "a *** b *** c *** abc"
    redactor.add("rotated-token-2")  # a token rotated at run time
    assert redactor.redact("now rotated-token-2") == "now ***"


def test_structures_are_walked_and_secret_keys_masked_whole() -> None:
    redactor = Redactor(["knownvalue1"])
    value = {"api_key": "x", "nested": [{"token": "t", "note": "has knownvalue1"}], "n": 3}
    assert redactor.scrub(value) == {
        "api_key": "***",
        "nested": [{"token": "***", "note": "has ***"}],
        "n": 3,
    }


# --------------------------------------------------------------------------- rendering
def test_json_lines_have_one_shape_for_structlog_and_stdlib_loggers() -> None:
    out = io.StringIO()
    configure_logging(stream=out)  # not a terminal: JSON
    get_logger("syndicator.daemon").info("listing_pushed", sku="RUG-1", attempt=2)
    logging.getLogger("syndicator.sync").warning("%s/%s stopped: %s", "atlas", "etsy", "401")
    logging.getLogger("httpx").info("HTTP Request: GET http://x 200")  # quiet at INFO
    logging.getLogger("syndicator.sync").debug("not at INFO")
    first, second = lines(out)
    assert list(first)[:4] == ["timestamp", "level", "logger", "event"]
    assert first["timestamp"].endswith("Z") and "T" in first["timestamp"]
    assert (first["level"], first["logger"], first["event"]) == (
        "info",
        "syndicator.daemon",
        "listing_pushed",
    )
    assert (first["sku"], first["attempt"]) == ("RUG-1", 2)
    assert list(second)[:4] == ["timestamp", "level", "logger", "event"]
    assert (second["level"], second["event"]) == ("warning", "atlas/etsy stopped: 401")


def test_console_lines_are_readable_text_and_json_can_be_forced() -> None:
    out = io.StringIO()
    configure_logging(json=False, stream=out)
    get_logger("syndicator.daemon").info("listing_pushed", sku="RUG-1")
    text = out.getvalue()
    assert "listing_pushed" in text and "sku=RUG-1" in text and "[syndicator.daemon]" in text
    assert "\x1b[" not in text  # no colour codes when the stream is not a terminal
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_auto_format_is_console_in_colour_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    configure_logging(stream=out)
    get_logger().warning("quota_low", remaining=3)
    assert "\x1b[" in out.getvalue() and "quota_low" in out.getvalue()


def test_configuring_again_replaces_the_handler_and_the_level() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first, level="DEBUG")
    configure_logging(stream=second, level="warning")
    get_logger().info("hidden")
    get_logger().warning("shown")
    assert first.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["shown"]
    assert logging.getLogger("httpx").level == logging.WARNING
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(level="loud")


def test_arabic_text_stays_utf8_in_json_lines() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    title = "زربية بني ورين من الصوف الطبيعي"
    get_logger().info("listing_pushed", title=title)
    assert title in out.getvalue() and "\\u" not in out.getvalue()
    assert lines(out)[0]["title"] == title


def test_bound_context_is_on_every_line_and_restored_after() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    log = get_logger("syndicator.sync")
    with bound(cooperative="atlas-rugs", run_id="run-1"):
        with bound(channel="etsy", sku="RUG-1"):
            log.info("listing_pushed")
            logging.getLogger("syndicator.sync").info("stdlib too")
        log.info("pass_done")
    log.info("outside")
    inner, stdlib, after, outside = lines(out)
    context = {"cooperative": "atlas-rugs", "channel": "etsy", "sku": "RUG-1", "run_id": "run-1"}
    assert {k: inner[k] for k in context} == context
    assert list(inner)[4:8] == ["cooperative", "channel", "sku", "run_id"]
    assert {k: stdlib[k] for k in context} == context
    assert "channel" not in after and after["run_id"] == "run-1"
    assert "cooperative" not in outside


def test_bound_context_belongs_to_its_thread() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    barrier = threading.Barrier(2)

    def work(channel: str) -> None:
        with bound(channel=channel):
            barrier.wait()  # both bound at once
            get_logger().info("pulled", expected=channel)

    threads = [threading.Thread(target=work, args=(c,)) for c in ("etsy", "anou")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = lines(out)
    assert len(got) == 2 and all(line["channel"] == line["expected"] for line in got)


def test_exceptions_are_rendered_and_then_redacted() -> None:
    out = io.StringIO()
    configure_logging(stream=out, redact=["the-known-secret"])
    try:
        raise RuntimeError("refused the-known-secret with {'access_token': 'Atza|zz'}")
    except RuntimeError:
        logging.getLogger("syndicator.sync").exception("pass_failed")
        get_logger().exception("pass_failed_again", api_key="k-123456")
    stdlib, ours = lines(out)
    for line in (stdlib, ours):
        assert "RuntimeError: refused *** with {'access_token': '***'}" in line["exception"]
        assert "Traceback" in line["exception"]
    assert ours["api_key"] == "***"


def test_rotated_tokens_are_added_to_the_installed_redactor() -> None:
    add_secrets("before-configure-1")  # nothing installed: nothing happens
    out = io.StringIO()
    redactor = configure_logging(stream=out)
    assert current_redactor() is redactor
    add_secrets("51000001.rotated")
    get_logger().info("token_saved", note="got 51000001.rotated")
    assert lines(out)[0]["note"] == "got ***"


# --------------------------------------------------------------------------- failures
def test_a_failure_is_logged_once_and_its_recovery_once() -> None:
    out = io.StringIO()
    configure_logging(stream=out, level="DEBUG")
    failures = FailureLog()
    key = ("atlas-rugs", "etsy", "orders")
    assert not failures.recovered(key)  # never failed: nothing to say
    assert failures.failed(key, "401 invalid_token", channel="etsy")
    assert not failures.failed(key, "401 invalid_token", channel="etsy")
    assert failures.failed(key, "503 unavailable")  # another message: said again
    assert failures.is_failing(key) and failures.failing() == {key: "503 unavailable"}
    assert failures.recovered(key)
    assert not failures.recovered(key)
    got = [(line["level"], line["event"]) for line in lines(out)]
    assert got == [
        ("error", "failing"),
        ("debug", "still_failing"),
        ("error", "failing"),
        ("info", "recovered"),
    ]
    first, *_, recovered = lines(out)
    assert (first["key"], first["error"], first["channel"]) == (
        "atlas-rugs/etsy/orders",
        "401 invalid_token",
        "etsy",
    )
    assert recovered["failures"] == 3


def test_repeats_are_silent_at_info() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    failures = FailureLog()
    for _ in range(5):
        failures.failed("etsy", "timeout")
    failures.recovered("etsy")
    assert [line["event"] for line in lines(out)] == ["failing", "recovered"]


# --------------------------------------------------------------------------- no leaks
def secret_file(market: str, name: str) -> str:
    """The secrets file of a credential (the first channel's carry no prefix)."""
    return name if market == "amazon" else f"{market}-{name}"


def issued_tokens(sandbox: Sandbox) -> set[str]:
    """Every token the sandbox marketplaces handed out (access and rotated refresh)."""
    return {
        *sandbox.amazon.state.tokens,
        *sandbox.etsy.auth.access,
        *sandbox.etsy.auth.refresh,
    }


def store_cells(world: World) -> list[str]:
    """Every value in the store, but the table whose job is to keep rotated tokens."""
    cells: list[str] = []
    with world.store.read() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name == "channel_tokens":
                continue
            for row in conn.execute(select(table)):
                cells.extend(json.dumps(v, default=str, ensure_ascii=False) for v in row)
    return cells


def stored_tokens(world: World) -> set[str]:
    tokens = schema.channel_tokens
    with world.store.read() as conn:
        rows = conn.execute(select(tokens.c.name, tokens.c.value)).all()
    return {v for n, v in rows if "token" in n}


def test_no_credential_value_appears_in_logs_store_journal_or_errors(world: World) -> None:
    out = io.StringIO()
    secrets: set[str] = set()
    errors: list[BaseException] = []

    def one_pass() -> None:
        # As a daemon starting on this config would: secrets read off it, everything logged.
        secrets.update(world.config.secret_values())
        configure_logging(stream=out, level="DEBUG", redact=world.config.secret_values())
        sync_once(world.config, world.store, timeout=5.0, readback=True, reviews=True)

    one_pass()  # good credentials: everything listed, tokens issued and rotated
    assert len(world.control("etsy", "GET", "state")["listings"]) > 0
    good = set(secrets)
    assert len(good) == 7  # 3 Amazon, 3 Etsy, 1 ANOU
    for market, harness in HARNESSES.items():
        wrong = harness.wrong_secrets()
        world.write_secrets({secret_file(market, k): v for k, v in wrong.items()})
        one_pass()  # the channel refuses its credentials: an auth alert and a stopped pass
        connector = open_connector(world, market)
        with pytest.raises(ChannelError) as refused:
            connector.check()
        connector.close()
        errors.append(refused.value)
        world.write_secrets(
            {secret_file(market, k): harness.secrets()[k] for k in wrong}  # put back
        )
    with world.store.read() as conn:  # each raised, then resolved by the next good pass
        alerts = conn.execute(select(schema.alerts.c.channel, schema.alerts.c.kind)).all()
    assert {channel for channel, kind in alerts if kind == "auth"} == set(HARNESSES)

    runner = CliRunner()
    config = str(world.config_path)
    exported = runner.invoke(app, ["journal", "--config", config, "--json", "--limit", "1000"])
    shown = runner.invoke(app, ["journal", "--config", config, "--limit", "1000"])
    assert exported.exit_code == 0 and shown.exit_code == 0, exported.output
    assert '"outcome": "stopped"' in exported.stdout

    tokens = issued_tokens(world.sandbox) | stored_tokens(world)
    assert tokens, "the sandbox issued no token: nothing was tested"
    looked_for = {s for s in secrets | tokens if len(s) >= 6}
    logged = out.getvalue()
    assert logged.count("\n") > 100  # DEBUG: every request of three marketplaces
    assert "Request Headers" in logged  # the Amazon library's headers, access token masked
    places = {
        "log lines": logged,
        "store (journal, alerts, listings ...)": "\n".join(store_cells(world)),
        "syndicator journal --json": exported.stdout,
        "syndicator journal": shown.stdout,
        "errors": "\n".join(
            s for e in errors for s in (str(e), repr(e), "".join(traceback.format_exception(e)))
        ),
    }
    leaks = {
        (where, secret[:4] + "…")
        for where, text in places.items()
        for secret in looked_for
        if secret in text
    }
    assert not leaks


def open_connector(world: World, market: str) -> Any:
    from syndicator.sync.opener import open_connector as open_

    return open_(world.config, world.store, "atlas-rugs", market, timeout=5.0)
