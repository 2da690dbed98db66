"""Build the connector of one (cooperative, channel) from the config and the store.

Resolves the channel's credentials (never logged), puts the quota buckets and the rotated
tokens in the store, and hands the connector class of the channel's type a
:class:`~syndicator.connector.ConnectorContext`. Nothing here is specific to a marketplace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from syndicator.channels.interface import (
    Connector,
    ConnectorContext,
    RetryPolicy,
    load_connector,
)
from syndicator.config import ChannelConfig, Config
from syndicator.domain.quotas import LONG_WINDOW, QuotaRule
from syndicator.errors import SetupError
from syndicator.plugins import ChannelType
from syndicator.store import Store
from syndicator.store.quota import StoreQuota
from syndicator.store.tokens import StoreTokens, TokenCipher

__all__ = ["channel_quota", "channel_quota_rules", "open_connector", "scaled_rules"]

OnThrottled = Callable[[str, str], None]  # (cooperative, channel): the channel answered 429


def scaled_rules(
    rules: Mapping[str, Sequence[QuotaRule]], factor: float
) -> dict[str, list[QuotaRule]]:
    """``rules`` as a sandbox started with ``--quota-factor`` applies them: every rate
    multiplied by ``factor``, bursts as they are, and a daily-style limit (a bucket that
    takes more than an hour to fill) multiplied too."""
    out: dict[str, list[QuotaRule]] = {}
    for op, rs in rules.items():
        out[op] = [
            QuotaRule(
                r.bucket,
                r.rate * factor,
                max(1, round(r.burst * factor)) if r.burst / r.rate > LONG_WINDOW else r.burst,
            )
            for r in rs
        ]
    return out


def _declared_rules(cls: type[Connector], settings: Any) -> dict[str, list[QuotaRule]]:
    """The rules ``cls`` declares for ``settings``, scaled by its ``quota_factor``."""
    return scaled_rules(cls.quota_rules(settings), float(getattr(settings, "quota_factor", 1.0)))


class _Resolved(NamedTuple):
    """What building a channel's connector or quota starts from."""

    cooperative: str
    channel: ChannelConfig
    settings: Any  # the channel type's settings model, validated
    credentials: dict[str, str]
    cls: type[Connector]

    def quota(self, store: Store, max_wait: float, on_throttled: OnThrottled | None) -> StoreQuota:
        coop, channel = self.cooperative, self.channel.id
        return StoreQuota(
            store,
            self.cls.quota_account(self.settings, self.credentials),
            _declared_rules(self.cls, self.settings),
            max_wait=max_wait,
            on_throttled=None if on_throttled is None else lambda _: on_throttled(coop, channel),
        )


def _channel(
    config: Config, cooperative: str, channel: str
) -> tuple[ChannelConfig, ChannelType, Any]:
    """The channel, its type and its settings, validated by the type's model
    (ValidationError; KeyError for a channel or type the config does not have)."""
    ch = config.cooperative(cooperative).channel(channel)
    ctype = config.channel_types[ch.type]
    return ch, ctype, ctype.settings_model.model_validate(ch.settings)


def _resolve(config: Config, cooperative: str, channel: str) -> _Resolved:
    """:class:`SetupError` when the channel's credentials cannot be read (the message names
    the reference, never a value)."""
    ch, ctype, settings = _channel(config, cooperative, channel)
    credentials: dict[str, str] = {}
    given = config.credential_values.get((cooperative, channel))
    if given is not None:
        credentials = {name: value.get_secret_value() for name, value in given.items()}
    for name, ref in ch.credentials.items() if given is None else ():
        try:
            credentials[name] = ref.resolve(config.base).get_secret_value()
        except ValueError as exc:
            raise SetupError(f"{cooperative}/{channel}: credential {name}: {exc}") from None
    missing = [n for n in ctype.credentials if n not in credentials]
    if missing:
        raise SetupError(
            f"{cooperative}/{channel}: no {', '.join(missing)} under credentials: in the config"
        )
    return _Resolved(cooperative, ch, settings, credentials, load_connector(ctype))


def channel_quota(
    config: Config,
    store: Store,
    cooperative: str,
    channel: str,
    *,
    max_wait: float = 300.0,
    on_throttled: OnThrottled | None = None,
) -> StoreQuota:
    """The quota buckets the channel's connector draws from (its account and rules), without
    building the connector: for metrics. :class:`SetupError` as :func:`open_connector`."""
    return _resolve(config, cooperative, channel).quota(store, max_wait, on_throttled)


def channel_quota_rules(
    config: Config, cooperative: str, channel: str
) -> dict[str, list[QuotaRule]]:
    """The rules of :func:`channel_quota` (operation -> the buckets it draws from), without
    reading the credentials: for ``syndicator status``, which takes the account from the
    store. ValidationError, KeyError, or the connector's SetupError or ImportError."""
    _, ctype, settings = _channel(config, cooperative, channel)
    return _declared_rules(load_connector(ctype), settings)


def open_connector(
    config: Config,
    store: Store,
    cooperative: str,
    channel: str,
    *,
    timeout: float = 30.0,
    max_quota_wait: float = 300.0,
    on_throttled: OnThrottled | None = None,
) -> Connector:
    """The connector for ``cooperative``/``channel``; :class:`SetupError` when its
    credentials cannot be read (the message names the reference, never a value).
    ``on_throttled`` is told of each 429 the channel answers."""
    resolved = _resolve(config, cooperative, channel)
    credentials = resolved.credentials
    try:
        cipher = TokenCipher.of(config.token_key())
    except ValueError as exc:
        raise SetupError(f"{cooperative}/{channel}: store.key: {exc}") from None
    context = ConnectorContext(
        cooperative=cooperative,
        channel=resolved.channel,
        settings=resolved.settings,
        credentials=credentials,
        quota=resolved.quota(store, max_quota_wait, on_throttled),
        tokens=StoreTokens(store, cooperative, channel, credentials, cipher=cipher),
        image_root=config.catalog_path(config.cooperative(cooperative)).parent,
        timeout=timeout,
        retry=RetryPolicy(**resolved.channel.retry.model_dump()),
    )
    return resolved.cls(context)
