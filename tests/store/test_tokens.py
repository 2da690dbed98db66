"""Rotated credentials in the store (syndicator/store/tokens.py): kept encrypted with the
operator's ``store.key``, opened only with it; without a key, in plain text with a warning.
"""

from __future__ import annotations

import io

import pytest
import yaml
from sqlalchemy import select

from syndicator.common.logs import configure_logging
from syndicator.config import load_config
from syndicator.errors import SetupError
from syndicator.plugins import load_channel_types
from syndicator.store import Store, schema
from syndicator.store.tokens import StoreTokens, TokenCipher, stored_secrets
from syndicator.sync.reconcile import sync_once
from tests.connectors.kit import World

KEY = "k" * 8 + "-store-key-of-the-office-7c1e"
REFRESH = "etsy-refresh-T0KEN-1234567890"
CONFIGURED = {"refresh_token": "configured-refresh-T0KEN-abc"}


pytestmark = pytest.mark.usefixtures("logging_restored")  # tests/conftest.py


def raw_values(store: Store) -> dict[str, str]:
    tokens = schema.channel_tokens
    with store.read() as conn:
        return {str(n): str(v) for n, v in conn.execute(select(tokens.c.name, tokens.c.value))}


def tokens(store: Store, key: str | None) -> StoreTokens:
    return StoreTokens(store, "atlas-rugs", "etsy", CONFIGURED, cipher=TokenCipher.of(key))


def test_tokens_are_kept_encrypted_and_opened_with_the_same_key(store: Store) -> None:
    tokens(store, KEY).save({"refresh_token": REFRESH, "access_expires": "2026-11-02T10:00:00"})
    raw = raw_values(store)
    assert raw["refresh_token"].startswith("fernet:") and REFRESH not in raw["refresh_token"]
    assert raw["access_expires"] == "2026-11-02T10:00:00"  # not a secret: as it is
    assert tokens(store, KEY).load("refresh_token") == REFRESH  # a restart, the same key
    assert stored_secrets(store, TokenCipher(KEY)) == [REFRESH]
    assert REFRESH not in stored_secrets(store)  # without the key: the sealed text only


def test_a_wrong_or_missing_key_is_a_clear_error_never_a_crash(store: Store) -> None:
    tokens(store, KEY).save({"refresh_token": REFRESH})
    with pytest.raises(SetupError) as wrong:
        tokens(store, "another-key-entirely-0123456789").load("refresh_token")
    assert "atlas-rugs/etsy: the stored refresh_token cannot be decrypted with store.key" in (
        str(wrong.value)
    )
    with pytest.raises(SetupError) as missing:
        tokens(store, None).load("refresh_token")
    assert "encrypted, and the config gives no store.key" in str(missing.value)
    for err in (wrong.value, missing.value):
        assert REFRESH not in str(err) and KEY not in str(err)
    # A key lost for good: re-authorising the app and configuring the new token works.
    fresh = StoreTokens(store, "atlas-rugs", "etsy", {"refresh_token": "brand-new-T0KEN-xyz"})
    assert fresh.load("refresh_token") == "brand-new-T0KEN-xyz"


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 16 characters"):
        TokenCipher("short")


def test_without_a_key_tokens_are_plain_text_with_one_warning(store: Store) -> None:
    out = io.StringIO()
    configure_logging(stream=out, json=True, level="INFO")
    plain = tokens(store, None)
    plain.save({"refresh_token": REFRESH})
    with plain.exclusive() as locked:
        locked.save({"refresh_token": REFRESH + "-2"})
    assert raw_values(store)["refresh_token"] == REFRESH + "-2"
    assert out.getvalue().count("tokens_not_encrypted") == 1
    assert REFRESH not in out.getvalue()


def test_a_pass_keeps_etsy_tokens_encrypted_with_store_key(world: World) -> None:
    (world.root / "store-key").write_text(KEY + "\n", encoding="utf-8")
    data = yaml.safe_load(world.config_path.read_text(encoding="utf-8"))
    data["store"]["key"] = {"file": "store-key"}
    world.config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_config(world.config_path, load_channel_types())

    sync_once(config, world.store, timeout=5.0, channel="etsy")
    issued = {*world.sandbox.etsy.auth.access, *world.sandbox.etsy.auth.refresh}
    raw = raw_values(world.store)
    assert issued and raw["refresh_token"].startswith("fernet:")
    assert not [v for v in raw.values() if any(t in v for t in issued)]

    again = sync_once(config, world.store, timeout=5.0, channel="etsy")  # opened again
    assert all(run.stopped is None for run in again.channels), again.channels

    (world.root / "store-key").write_text("a-key-someone-changed-9876543210\n", encoding="utf-8")
    changed = load_config(world.config_path, load_channel_types())
    report = sync_once(changed, world.store, timeout=5.0, channel="etsy")
    (etsy,) = [r for r in report.channels if r.channel == "etsy"]
    assert etsy.stopped is not None and "cannot be decrypted with store.key" in etsy.stopped
