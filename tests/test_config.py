"""The daemon config: checked at start, errors with file, line and key, secrets by reference."""

from __future__ import annotations

import os
import textwrap
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from syndicator.common.problems import ConfigError, Unreadable
from syndicator.config import SECRET_MAX_BYTES, SecretRef, load_config
from syndicator.plugins import ChannelType
from tests.conftest import REPO

MINIMAL = """
store:
  url: sqlite:///state/test.db
exchange_rates:
  - date: 2026-10-01
    USD: 0.1079
  - date: 2026-11-02
    USD: 0.1082
    EUR: 0.0934
cooperatives:
  - id: atlas-rugs
    catalog: catalog.csv
    channels:
      - id: etsy
        type: etsy
        currency: USD
        languages: [en, fr]
        pricing: {fee_percent: 9.5, fee_fixed: 0.45, rounding: ends_99, floor: 20}
        categories: {rugs: "1036"}
        settings: {shop_id: 41000001}
        credentials:
          keystring: {env: ETSY_KEYSTRING}
          shared_secret: {env: ETSY_SHARED_SECRET}
          refresh_token: {file: secrets/etsy-refresh}
"""


@pytest.fixture(autouse=True)
def _in_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the config's folder, as an operator would: messages name files from there."""
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str = MINIMAL, name: str = "syndicator.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, types: dict[str, ChannelType]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text), types)
    return [str(p) for p in err.value.problems]


def test_the_demo_config_loads(channel_types: dict[str, ChannelType]) -> None:
    config = load_config(REPO / "config" / "demo.yaml", channel_types)
    assert [c.id for c in config.cooperatives] == ["atlas-rugs", "zellige-fes"]
    assert {ch.type for c in config.cooperatives for ch in c.channels} == {"amazon", "etsy", "anou"}
    assert config.catalog_path(config.cooperatives[1]).name == "zellige-fes.csv"


def test_a_minimal_config(tmp_path: Path, channel_types: dict[str, ChannelType]) -> None:
    config = load_config(write_config(tmp_path), channel_types)
    channel = config.cooperatives[0].channels[0]
    assert channel.pricing.fee_percent == Decimal("9.5")
    assert channel.schedule.orders == 300  # default: every 5 minutes
    rule = channel.price_rule()
    assert (rule.currency, rule.fee_fixed, rule.rounding) == ("USD", Decimal("0.45"), "ends_99")


def test_relative_sqlite_paths_are_taken_from_the_config_folder(
    tmp_path: Path, channel_types: dict[str, ChannelType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    monkeypatch.delenv("SYNDICATOR_DATABASE_URL", raising=False)
    config = load_config(write_config(tmp_path), channel_types)
    assert config.database_url == f"sqlite:///{tmp_path}/state/test.db"
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", "postgresql://syn@db/syndicator")
    assert config.database_url == "postgresql://syn@db/syndicator"


def test_rates_by_date_and_a_rates_file_that_overrides(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    config = load_config(write_config(tmp_path), channel_types)
    assert config.rates.rate("USD", date(2026, 10, 15)).rate == Decimal("0.1079")
    assert config.rates.rate("USD", date(2026, 11, 25)).rate == Decimal("0.1082")
    assert config.rates.rate("MAD", date(2026, 11, 25)).rate == 1
    with pytest.raises(LookupError, match="no exchange rate MAD->USD dated on or before"):
        config.rates.rate("USD", date(2026, 9, 1))
    (tmp_path / "rates.yaml").write_text(
        "- date: 2026-11-02\n  USD: 0.1100\n- date: 2026-11-20\n  USD: '0,1090'\n"
    )
    config = load_config(
        write_config(
            tmp_path,
            MINIMAL.replace("cooperatives:", "exchange_rates_file: rates.yaml\ncooperatives:"),
        ),
        channel_types,
    )
    rate = config.rates.rate("USD", date(2026, 11, 25))
    assert (rate.rate, rate.day, rate.source) == (
        Decimal("0.1090"),
        date(2026, 11, 20),
        "rates.yaml",
    )
    assert config.rates.rate("USD", date(2026, 11, 10)).rate == Decimal("0.1100")  # replaced row


def test_errors_name_file_line_and_key(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    text = MINIMAL.replace("fee_percent: 9.5", "fee_percent: 150").replace(
        "languages: [en, fr]", "languages: [english]"
    )
    found = problems_of(tmp_path, text, channel_types)
    assert (
        "syndicator.yaml:17: cooperatives[0].channels[0].pricing.fee_percent: Input should be "
        "less than 100" in found
    )
    assert (
        "syndicator.yaml:16: cooperatives[0].channels[0].languages: english: not language "
        "codes; use codes like en, fr, ar" in found
    )


def test_unknown_keys_and_types_suggest_the_right_one(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    text = MINIMAL.replace("        pricing:", "        pricng:").replace(
        "type: etsy", "type: etsi"
    )
    found = problems_of(tmp_path, text, channel_types)
    assert any(
        p.startswith(
            "syndicator.yaml:17: cooperatives[0].channels[0].pricng: is not a known"
            ' key; did you mean "pricing"?'
        )
        for p in found
    ), found


def test_an_unknown_channel_type(tmp_path: Path, channel_types: dict[str, ChannelType]) -> None:
    found = problems_of(tmp_path, MINIMAL.replace("type: etsy", "type: etsi"), channel_types)
    assert found == [
        'syndicator.yaml:14: cooperatives[0].channels[0].type: "etsi" is not a channel '
        'type; did you mean "etsy"? (known: amazon, anou, etsy)'
    ]


def test_connector_settings_and_credentials_are_checked(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    text = MINIMAL.replace("shop_id: 41000001", "shop: 41000001").replace(
        "          shared_secret: {env: ETSY_SHARED_SECRET}\n", ""
    )
    found = problems_of(tmp_path, text, channel_types)
    assert any("channels[0].settings.shop_id: Field required" in p for p in found), found
    assert any("channels[0].settings.shop: Extra inputs are not permitted" in p for p in found)
    assert any(
        p.startswith(
            "syndicator.yaml:20: cooperatives[0].channels[0].credentials: Etsy needs "
            "credentials.shared_secret"
        )
        for p in found
    ), found


def test_a_secret_written_in_the_config_is_refused_and_never_echoed(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    secret = "Atzr|IwEBIKs3cr3tT0k3n-do-not-print"
    text = MINIMAL.replace(
        "refresh_token: {file: secrets/etsy-refresh}", f"refresh_token: '{secret}'"
    )
    found = problems_of(tmp_path, text, channel_types)
    assert found == [
        "syndicator.yaml:23: cooperatives[0].channels[0].credentials.refresh_token: "
        "must be a reference, {env: VARIABLE} or {file: path}, not the secret itself"
    ]
    assert not any(secret in p for p in found)


def test_secret_references_resolve_only_when_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETSY_KEYSTRING", "k3y")
    assert SecretRef(env="ETSY_KEYSTRING").resolve(tmp_path).get_secret_value() == "k3y"
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "etsy").write_text("t0ken\n")
    secret = SecretRef(file=Path("secrets/etsy")).resolve(tmp_path)
    assert secret.get_secret_value() == "t0ken"
    assert "t0ken" not in repr(secret) and "t0ken" not in str(secret)
    monkeypatch.delenv("ETSY_KEYSTRING")
    with pytest.raises(ValueError, match="ETSY_KEYSTRING is not set"):
        SecretRef(env="ETSY_KEYSTRING").resolve(tmp_path)


def test_a_channel_currency_without_a_rate(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    found = problems_of(tmp_path, MINIMAL.replace("currency: USD", "currency: GBP"), channel_types)
    assert found == [
        "syndicator.yaml:15: cooperatives[0].channels[0].currency: no exchange rate "
        "MAD->GBP; add GBP to exchange_rates"
    ]


def test_a_rounding_rule_that_does_not_fit_the_currency(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    found = problems_of(
        tmp_path, MINIMAL.replace("rounding: ends_99", "rounding: closest"), channel_types
    )
    assert len(found) == 1 and 'rounding "closest" is not known' in found[0]


def test_duplicate_ids_and_keys(tmp_path: Path, channel_types: dict[str, ChannelType]) -> None:
    text = MINIMAL + MINIMAL[MINIMAL.index("  - id: atlas-rugs") :]
    found = problems_of(tmp_path, text, channel_types)
    assert any("cooperative ids must be unique: atlas-rugs" in p for p in found)
    text = MINIMAL.replace(
        "        currency: USD\n", "        currency: USD\n        currency: EUR\n"
    )
    found = problems_of(tmp_path, text, channel_types)
    assert 'syndicator.yaml:16: "currency" is written twice (lines 15 and 16); keep one' in found


def test_durations(tmp_path: Path, channel_types: dict[str, ChannelType]) -> None:
    text = MINIMAL.replace(
        "        settings:",
        "        schedule: {orders: 90s, reviews: 1d, readback: 1h30m}\n        settings:",
    )
    schedule = load_config(write_config(tmp_path, text), channel_types).cooperatives[0].channels[0]
    assert (schedule.schedule.orders, schedule.schedule.reviews, schedule.schedule.readback) == (
        90,
        86400,
        5400,
    )
    found = problems_of(tmp_path, text.replace("90s", "soon"), channel_types)
    assert any("write a duration such as 90s, 5m, 2h or 1d" in p for p in found)


def test_a_config_that_is_not_yaml_or_missing(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    with pytest.raises(Unreadable, match="does not exist"):
        load_config(tmp_path / "none.yaml", channel_types)
    with pytest.raises(Unreadable, match="cannot be read here"):
        load_config(write_config(tmp_path, "cooperatives: [\n"), channel_types)
    with pytest.raises(ConfigError, match="cooperatives: Field required"):
        load_config(write_config(tmp_path, "store: {}\n"), channel_types)


# --------------------------------------------------------------------------- secrets files
def _refusal(path: Path) -> str:
    with pytest.raises(ValueError) as err:
        SecretRef(file=path).resolve(path.parent)
    return str(err.value)


def test_a_secrets_file_is_read_as_one_value(tmp_path: Path) -> None:
    for written, value in [
        (b"\xef\xbb\xbfk3y-from-notepad\r\n", "k3y-from-notepad"),  # Notepad: BOM and CRLF
        (b"k3y-plain\n", "k3y-plain"),
        (b"k3y-no-newline", "k3y-no-newline"),
        (b"  k3y-spaced \n", "k3y-spaced"),
    ]:
        (tmp_path / "key").write_bytes(written)
        assert SecretRef(file=Path("key")).resolve(tmp_path).get_secret_value() == value


@pytest.mark.parametrize(
    ("content", "why"),
    [
        # /etc/shadow, or a key file with a second line: refused, neither line repeated
        (b"root:$6$S3CRET-SHADOW-HASH:19000:0:99999:7:::\ndaemon:*:19000\n", "more than one line"),
        (b"FIRST-S3CRET-LINE\nMULTILINE-S3CRET-PART2\n", "more than one line"),
        (b"TRAILING-BLANK-S3CRET\n\n", "more than one line"),
        (b"CTRL-S3CRET\x00X", "control or invisible character"),
        (b"QUOTE-S3CRET\xe2\x80\x99X", "not plain ASCII"),
        (b"LATIN1-S3CRET\xe9", "not UTF-8"),
    ],
)
def test_a_secrets_file_that_is_not_one_value_is_refused_without_its_content(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    message = _refusal(path)
    assert f"the secrets file {path}" in message and why in message
    for part in content.split(b"\n"):
        if len(part) >= 4:
            assert part.decode("utf-8", "replace")[:8] not in message


def test_a_secrets_file_that_is_not_a_regular_file_or_too_big_is_refused_at_once(
    tmp_path: Path,
) -> None:
    assert "a device, pipe or socket" in _refusal(Path("/dev/zero"))  # not read at all
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "a device, pipe or socket" in _refusal(fifo)  # no writer: would block for ever
    (tmp_path / "folder").mkdir()
    assert "a folder" in _refusal(tmp_path / "folder")
    huge = tmp_path / "huge"
    with huge.open("wb") as f:  # 8 GiB, sparse: read whole, it would fill the memory
        f.truncate(8 * 1024**3)
    started = time.monotonic()
    assert "larger than 64 KiB" in _refusal(huge)
    assert time.monotonic() - started < 2
    limit = tmp_path / "limit"
    limit.write_bytes(b"k" * SECRET_MAX_BYTES)  # at the bound: a (silly) value, read
    assert len(SecretRef(file=limit).resolve(tmp_path).get_secret_value()) == SECRET_MAX_BYTES


def test_an_environment_variable_is_one_value_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWO_LINES", "ENV-S3CRET-ONE\nENV-S3CRET-TWO")
    with pytest.raises(ValueError) as err:
        SecretRef(env="TWO_LINES").resolve(tmp_path)
    assert "environment variable TWO_LINES holds more than one line" in str(err.value)
    assert "S3CRET" not in str(err.value)


# --------------------------------------------------------------------------- URLs
WEBHOOK = """
daemon:
  alerts:
    webhook: {file: hook-url}
"""


REFUSED_WEBHOOKS = [
    ("file:///etc/passwd", "must be an https:// URL"),
    ("gopher://127.0.0.1:70/_T0KEN-XYZ", "must be an https:// URL"),
    ("ftp://hooks.example/T0KEN-XYZ", "must be an https:// URL"),
    ("http://hooks.example.com/T0KEN-XYZ", "clear text"),
    ("http://10.0.0.5/T0KEN-XYZ", "clear text"),
    ("https:///T0KEN-XYZ", "must be an https:// URL"),
]
ACCEPTED_WEBHOOKS = [
    "https://hooks.slack.example/services/T0KEN",
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://localhost/hook",
]


def test_a_webhook_must_be_https_or_loopback_http_checked_when_the_config_is_read(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    for url, why in REFUSED_WEBHOOKS:
        (tmp_path / "hook-url").write_text(url + "\n", encoding="utf-8")
        found = problems_of(tmp_path, WEBHOOK + MINIMAL, channel_types)
        assert len(found) == 1, found
        assert found[0].startswith(
            "syndicator.yaml:3: daemon.alerts.webhook: the webhook URL (file hook-url) "
        )
        assert why in found[0] and "T0KEN" not in found[0] and "passwd" not in found[0]
    for url in ACCEPTED_WEBHOOKS:
        (tmp_path / "hook-url").write_text(url, encoding="utf-8")
        config = load_config(write_config(tmp_path, WEBHOOK + MINIMAL), channel_types)
        assert config.daemon.alerts.webhook is not None


def test_a_user_or_password_in_a_settings_url_is_refused_at_its_line(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    text = (
        MINIMAL
        + """
      - id: anou
        type: anou
        currency: MAD
        languages: [fr]
        settings:
          base_url: https://coop:PA55-in-URL@anou.example/api
        credentials:
          api_key: {env: ANOU_KEY}
"""
    )
    found = problems_of(tmp_path, text, channel_types)
    assert found == [
        "syndicator.yaml:30: cooperatives[0].channels[1].settings.base_url: a user name or "
        "password inside a URL would be written in log lines and in the store; take it out "
        "of the URL and give it under the channel's credentials: ({env: VARIABLE} or "
        "{file: path})"
    ]


def test_the_secret_values_include_the_store_password_and_key(
    tmp_path: Path, channel_types: dict[str, ChannelType]
) -> None:
    (tmp_path / "store-key").write_text("a-store-key-of-32-random-chars!!\n", encoding="utf-8")
    text = MINIMAL.replace(
        "  url: sqlite:///state/test.db",
        "  url: postgresql://syndicator:DB-PA55WORD@db.example/syndicator\n"
        "  key: {file: store-key}",
    )
    config = load_config(write_config(tmp_path, text), channel_types)
    values = config.secret_values()
    assert "DB-PA55WORD" in values and "a-store-key-of-32-random-chars!!" in values
