"""Build the connector of one (cooperative, channel) from the config and the store.

Resolves the channel's credentials (never logged), puts the quota buckets and the rotated
tokens in the store, and hands the connector class of the channel's type a
:class:`~syndicator.connector.ConnectorContext`. Nothing here is specific to a marketplace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syndicator.config import Config
from syndicator.connector import Connector, ConnectorContext, SetupError, load_connector
from syndicator.store import Store
from syndicator.store.quota import LONG_WINDOW, QuotaRule, StoreQuota
from syndicator.store.tokens import StoreTokens

__all__ = ["open_connector", "scaled_rules"]


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


def open_connector(
    config: Config,
    store: Store,
    cooperative: str,
    channel: str,
    *,
    timeout: float = 30.0,
    max_quota_wait: float = 300.0,
) -> Connector:
    """The connector for ``cooperative``/``channel``; :class:`SetupError` when its
    credentials cannot be read (the message names the reference, never a value)."""
    coop = config.cooperative(cooperative)
    ch = coop.channel(channel)
    ctype = config.channel_types[ch.type]
    settings = ctype.settings_model.model_validate(ch.settings)
    credentials: dict[str, str] = {}
    for name, ref in ch.credentials.items():
        try:
            credentials[name] = ref.resolve(config.base).get_secret_value()
        except ValueError as exc:
            raise SetupError(f"{cooperative}/{channel}: credential {name}: {exc}") from None
    missing = [n for n in ctype.credentials if n not in credentials]
    if missing:
        raise SetupError(
            f"{cooperative}/{channel}: no {', '.join(missing)} under credentials: in the config"
        )
    cls = load_connector(ctype)
    factor = float(getattr(settings, "quota_factor", 1.0))
    quota = StoreQuota(
        store,
        cls.quota_account(settings, credentials),
        scaled_rules(cls.quota_rules(settings), factor),
        max_wait=max_quota_wait,
    )
    context = ConnectorContext(
        cooperative=cooperative,
        channel=ch,
        settings=settings,
        credentials=credentials,
        quota=quota,
        tokens=StoreTokens(store, cooperative, channel, credentials),
        image_root=config.catalog_path(coop).parent,
        timeout=timeout,
    )
    return cls(context)
