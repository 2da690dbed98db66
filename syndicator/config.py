"""The daemon config: cooperatives, their catalogs and channels, exchange rates, the store.

Read from YAML with line numbers (see :mod:`syndicator.common.yamlsafe`) and validated
with pydantic; every error is reported as ``FILE:LINE: key.path: what is wrong``.
Credentials are never written in the config: only a reference to an environment variable
or a secrets file, which is read when a connector needs it and kept as a
:class:`~pydantic.SecretStr`.
See docs/config.md.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Mapping
from contextlib import suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url

from syndicator.common.problems import ConfigError, Problem, Unreadable, did_you_mean, display_path
from syndicator.common.yamlsafe import LDict, LList, line_of, load_yaml
from syndicator.domain.languages import is_language
from syndicator.domain.money import is_currency
from syndicator.domain.pricing import ExchangeRate, PriceRule, Rounding
from syndicator.errors import InvalidValue
from syndicator.plugins import ChannelType

__all__ = [
    "ChannelConfig",
    "Config",
    "CooperativeConfig",
    "RateTable",
    "SecretRef",
    "load_config",
]

_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
_DURATION = re.compile(r"(\d+)\s*(s|m|h|d)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DATABASE_URL_ENV = "SYNDICATOR_DATABASE_URL"


def _unique_ids(ids: list[str], message: str) -> None:
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"{message}: {', '.join(dup)}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _seconds(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError("write a duration such as 90s, 5m, 2h or 1d")
    return sum(int(n) * _UNITS[u] for n, u in parts)


Seconds = Annotated[int, Field(gt=0)]


class SecretRef(_Model):
    """Where a secret is: ``{env: NAME}`` or ``{file: path}``; never the secret itself."""

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _reference_only(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            # Never echo the value: it may be the secret itself.
            raise ValueError(
                "must be a reference, {env: VARIABLE} or {file: path}, not the secret itself"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env: or file:")
        return self

    def describe(self) -> str:
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self, base: Path) -> SecretStr:
        """Read the secret now, as one value (:func:`read_secret_file`, :func:`one_value`);
        raise ValueError naming the reference and the problem, never the value."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ValueError(f"the environment variable {self.env} is not set")
            return SecretStr(one_value(value, f"the environment variable {self.env}"))
        assert self.file is not None
        path = self.file if self.file.is_absolute() else base / self.file
        return SecretStr(read_secret_file(path))


# A secrets file holds one key or token: anything bigger is the wrong file (or /dev/zero).
SECRET_MAX_BYTES = 64 * 1024
_ODD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def read_secret_file(path: Path) -> str:
    """The one value in the secrets file ``path``. Only a regular file of at most
    :data:`SECRET_MAX_BYTES` is read, and never more than that plus one byte (a FIFO, a
    device or ``/proc`` file would block or never end); then :func:`one_value`. Every
    message names the file and the problem, and never repeats what the file holds."""
    where = f"the secrets file {path}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ValueError(f"{where} cannot be read: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
            raise ValueError(
                f"{where} is {kind}, not a file; point file: at a file that holds the secret"
            )
        data = b""
        while len(data) <= SECRET_MAX_BYTES:
            chunk = os.read(fd, SECRET_MAX_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise ValueError(f"{where} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > SECRET_MAX_BYTES:
        raise ValueError(
            f"{where} is larger than {SECRET_MAX_BYTES // 1024} KiB: a secrets file holds one "
            "key or token; is file: pointing at the right file?"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where} is not UTF-8 text; save it as plain UTF-8 text") from None
    return one_value(text.removeprefix("\ufeff"), where)


def one_value(text: str, where: str) -> str:
    """``text`` as one secret value: one trailing newline (``\\n`` or ``\\r\\n``) and the
    spaces around it dropped; several lines, a control character or a character that is
    not ASCII refused (a secret goes into HTTP headers, where any of these breaks the
    request or makes the HTTP library quote it in its error). An empty value is left to
    the connector, which says which credential is missing. ``where`` names the source in
    the ValueError; the value is never in it."""
    value = text.removesuffix("\n").removesuffix("\r").strip(" \t")
    if "\n" in value or "\r" in value:
        raise ValueError(
            f"{where} holds more than one line; a secret is one value alone on one line "
            "(a newline at its end is fine)"
        )
    if _ODD.search(value):
        raise ValueError(
            f"{where} holds a control or invisible character; type the secret again in a "
            "plain-text editor"
        )
    if not value.isascii():
        raise ValueError(
            f"{where} holds a character that is not plain ASCII (a typographic quote, a "
            "non-breaking space?); keys and tokens are plain ASCII: copy it again"
        )
    return value


class PricingConfig(_Model):
    fee_percent: Decimal = Field(default=Decimal(0), ge=0, lt=100)
    fee_fixed: Decimal = Field(default=Decimal(0), ge=0)
    margin_percent: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    rounding: str = "cent"
    floor: Decimal = Field(default=Decimal(0), ge=0)


class StockConfig(_Model):
    buffer: int = Field(default=0, ge=0)
    max_quantity: int | None = Field(default=None, ge=1)


class ScheduleConfig(_Model):
    orders: Seconds = 300
    reviews: Seconds = 86400
    readback: Seconds = 86400

    @field_validator("orders", "reviews", "readback", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return _seconds(value)


class RetryConfig(_Model):
    """How a channel's failed calls are tried again (docs/config.md, "retry"): throttled,
    5xx, dropped and timed-out calls, with exponential backoff and full jitter."""

    attempts: int = Field(default=5, ge=1, le=20)  # tries in all, the first included
    base: float = Field(default=0.5, gt=0, le=60)  # seconds; retry n waits up to base * 2**n
    cap: float = Field(default=30.0, gt=0, le=600)  # no single backoff longer than this
    total: float = Field(default=300.0, gt=0, le=3600)  # seconds since the first try, at most


class ChannelConfig(_Model):
    id: str = Field(pattern=_ID)
    type: str
    enabled: bool = True
    currency: str
    languages: list[str] = Field(min_length=1)
    pricing: PricingConfig = PricingConfig()
    stock: StockConfig = StockConfig()
    categories: dict[str, str] = {}
    schedule: ScheduleConfig = ScheduleConfig()
    settings: dict[str, Any] = {}
    credentials: dict[str, SecretRef] = {}
    retry: RetryConfig = RetryConfig()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not is_currency(code):
            raise ValueError(f'"{value}" is not a currency code we know, such as USD or EUR')
        return code

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not is_language(v)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: not language codes; use codes like en, fr, ar")
        return value

    @model_validator(mode="after")
    def _rounding_fits(self) -> ChannelConfig:
        try:
            Rounding.parse(self.pricing.rounding, self.currency)
        except InvalidValue as exc:
            raise ValueError(f"pricing.rounding: {exc}") from None
        return self

    def price_rule(self) -> PriceRule:
        p = self.pricing
        return PriceRule(
            self.currency, p.fee_percent, p.fee_fixed, p.margin_percent, p.rounding, p.floor
        )


class CooperativeConfig(_Model):
    id: str = Field(pattern=_ID)
    name: str | None = None
    catalog: Path
    channels: list[ChannelConfig] = []

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[ChannelConfig]) -> list[ChannelConfig]:
        _unique_ids([c.id for c in value], "channel ids must be unique in a cooperative")
        return value

    def channel(self, channel_id: str) -> ChannelConfig:
        for c in self.channels:
            if c.id == channel_id:
                return c
        raise KeyError(channel_id)


class RateRow(_Model):
    """One dated row: how many units of each currency one dirham buys that day."""

    model_config = ConfigDict(extra="allow", frozen=True)
    date: date

    @model_validator(mode="after")
    def _rates(self) -> RateRow:
        for code, value in (self.model_extra or {}).items():
            if not is_currency(code):
                raise ValueError(f'"{code}" is not a currency code')
            try:
                rate = Decimal(str(value).replace(",", "."))
            except ArithmeticError:
                raise ValueError(f"{code}: the rate must be a number") from None
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{code}: the rate must be more than 0")
        return self

    def rates(self) -> dict[str, Decimal]:
        return {k: Decimal(str(v).replace(",", ".")) for k, v in (self.model_extra or {}).items()}


class LimitsConfig(_Model):
    max_catalog_mb: int = Field(default=64, ge=1, le=1024)


class StoreConfig(_Model):
    url: str = "sqlite:///syndicator.db"
    # Encrypts the tokens a channel rotates (Etsy's) in the store; a reference like a
    # credential. None: kept in plain text, with a warning (docs/security.md).
    key: SecretRef | None = None


class SyncConfig(_Model):
    """How a sync pass behaves (docs/config.md, "sync")."""

    # A pass that would take more than this share of a channel's listings off sale stops
    # for that channel and asks for --confirm-delist: a truncated file must not empty a shop.
    max_delist_share: float = Field(default=0.2, gt=0, le=1)
    # What to do when a channel shows something else than it last confirmed (an edit made
    # on the channel, a write answered but never applied): send the catalog's version back
    # (the catalog wins), or leave a price or a lower stock as the shop shows it and report
    # it. Either way a listing the shop lacks is made again and a quantity above what was
    # confirmed is corrected at once: stock that does not exist is never left on sale.
    drift: Literal["report", "correct"] = "correct"
    # How many listings answered but not yet read back are read back at the end of each
    # pass, per channel (in the order they were stored; the rest in the next passes): a write a
    # shop answered but never applied is found within the pass, not at the daily read-back.
    verify_writes: int = Field(default=200, ge=0, le=100_000)
    # A product removed from the catalog is taken off sale (and can come back); "delete"
    # deletes its listing where the channel can (ANOU-style channels only take it off sale).
    removed: Literal["deactivate", "delete"] = "deactivate"
    batch_size: int = Field(default=50, ge=1, le=1000)  # changes sent to a channel at once


class HttpConfig(_Model):
    """The daemon's own HTTP endpoint: /healthz, /readyz, /metrics (docs/deploy.md)."""

    enabled: bool = True
    host: str = "127.0.0.1"  # loopback: put a proxy in front to expose it
    port: int = Field(default=9464, ge=0, le=65535)  # 0: any free port (tests)


class AlertsConfig(_Model):
    """Where the daemon sends alerts besides the status (docs/config.md, "daemon")."""

    # A URL that receives each alert as a JSON POST. A reference like a credential, since
    # webhook URLs often carry their own token (Slack, Teams, ...).
    webhook: SecretRef | None = None
    # A change waiting longer than this (pending, unsure or failing) raises a backlog alert.
    backlog_after: Seconds = 3600

    @field_validator("backlog_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return _seconds(value)


class DaemonConfig(_Model):
    """How ``syndicator run`` behaves (docs/config.md, "daemon")."""

    # A catalog save starts a push pass once the file has been quiet this long (seconds):
    # an editor or a spreadsheet writes a file in several steps.
    debounce: float = Field(default=1.0, ge=0.05, le=60)
    # A pass still running this long after SIGTERM is abandoned (its writes are safe to
    # send again: each change is marked before it is sent).
    stop_timeout: float = Field(default=8.0, gt=0, le=60)
    http: HttpConfig = HttpConfig()
    alerts: AlertsConfig = AlertsConfig()


class BuyersConfig(_Model):
    """Simulated buyers of the in-process sandbox (demo only)."""

    enabled: bool = True
    every: Seconds = 20  # one buyer action, on average, this often
    review_share: float = Field(default=0.5, ge=0, le=1)  # of actions that leave a review
    seed: int | None = None

    @field_validator("every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return _seconds(value)


class SandboxConfig(_Model):
    """``sandbox: {enabled: true}``: the daemon starts the sandbox marketplaces in its own
    process and talks to them instead of the real ones, with the sandbox's own credentials
    (the channels' endpoints and credentials in this file are not used). For the demo and
    for trying a config out; never for a real shop."""

    enabled: bool = False
    quota_factor: float = Field(default=50.0, gt=0, le=10000)
    buyers: BuyersConfig = BuyersConfig()
    # Which installed sandbox plugin serves it (None: the only one installed), and, to
    # start it otherwise, a "module:function" of your own (docs/sandbox.md).
    plugin: str | None = None
    starter: str | None = None


class _ConfigModel(_Model):
    store: StoreConfig = StoreConfig()
    limits: LimitsConfig = LimitsConfig()
    sync: SyncConfig = SyncConfig()
    daemon: DaemonConfig = DaemonConfig()
    sandbox: SandboxConfig = SandboxConfig()
    exchange_rates: list[RateRow] = []
    exchange_rates_file: Path | None = None
    cooperatives: list[CooperativeConfig] = Field(min_length=1)

    @field_validator("cooperatives")
    @classmethod
    def _unique(cls, value: list[CooperativeConfig]) -> list[CooperativeConfig]:
        _unique_ids([c.id for c in value], "cooperative ids must be unique")
        return value


class RateTable:
    """MAD exchange rates by date; a day's rate is the latest row dated on or before it."""

    def __init__(self, rows: list[tuple[date, dict[str, Decimal], str]]) -> None:
        self._rows = sorted(rows, key=lambda r: r[0])

    def currencies(self) -> set[str]:
        return {c for _, rates, _ in self._rows for c in rates}

    def rate(self, currency: str, day: date) -> ExchangeRate:
        if currency == "MAD":
            return ExchangeRate.identity()
        for row_day, rates, source in reversed(self._rows):
            if row_day <= day and currency in rates:
                return ExchangeRate(currency, rates[currency], row_day, source)
        raise LookupError(f"no exchange rate MAD->{currency} dated on or before {day}")


class Config:
    """A validated config, with paths resolved against the config file's folder."""

    def __init__(
        self,
        path: Path,
        model: _ConfigModel,
        rates: RateTable,
        channel_types: Mapping[str, ChannelType],
    ) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.model = model
        self.rates = rates
        self.channel_types = channel_types
        # (cooperative, channel) -> credential values that replace the references: only
        # set by :meth:`redirected` (the in-process sandbox), never read from a file.
        self.credential_values: Mapping[tuple[str, str], Mapping[str, SecretStr]] = {}

    def redirected(
        self,
        settings: Mapping[tuple[str, str], Mapping[str, Any]],
        credentials: Mapping[tuple[str, str], Mapping[str, str]],
    ) -> Config:
        """A copy whose channels (cooperative, channel) take these settings (merged over
        their own) and these credential values instead of their references: how the
        daemon points a config at the in-process sandbox."""
        coops = []
        for coop in self.model.cooperatives:
            channels = [
                ch.model_copy(update={"settings": {**ch.settings, **settings[(coop.id, ch.id)]}})
                if (coop.id, ch.id) in settings
                else ch
                for ch in coop.channels
            ]
            coops.append(coop.model_copy(update={"channels": channels}))
        copy = Config(
            self.path,
            self.model.model_copy(update={"cooperatives": coops}),
            self.rates,
            self.channel_types,
        )
        copy.credential_values = {
            key: {name: SecretStr(v) for name, v in values.items()}
            for key, values in credentials.items()
        }
        return copy

    def secret_values(self) -> list[str]:
        """Every secret the config refers to, for the log's redactor: each channel's
        credentials (env variables and files), the in-process sandbox's credential values,
        the alerts webhook URL (and its token-bearing parts), the store URL's password and
        ``store.key``. A reference that cannot be
        read is skipped without a word: whatever went wrong, its message might hold the
        value. (The tokens channels rotated are in the store:
        :func:`syndicator.store.tokens.stored_secrets`.)"""
        found: list[str] = []
        for coop in self.cooperatives:
            for ch in coop.channels:
                for ref in ch.credentials.values():
                    found.extend(_read_quietly(ref, self.base))
        for values in self.credential_values.values():
            found.extend(secret.get_secret_value() for secret in values.values())
        webhook = self.daemon.alerts.webhook
        if webhook is not None:
            for url in _read_quietly(webhook, self.base):
                found += [url, *_url_secrets(url)]
        with suppress(Exception):  # a store URL's password ($SYNDICATOR_DATABASE_URL too)
            found.append(make_url(self.database_url).password or "")
        if self.model.store.key is not None:
            found.extend(_read_quietly(self.model.store.key, self.base))
        unique = dict.fromkeys(v.strip() for v in found if v and v.strip())
        return list(unique)

    def token_key(self) -> str | None:
        """``store.key`` read now (None: not given); ValueError naming it, never its value."""
        ref = self.model.store.key
        return None if ref is None else ref.resolve(self.base).get_secret_value()

    @property
    def cooperatives(self) -> list[CooperativeConfig]:
        return self.model.cooperatives

    def cooperative(self, coop_id: str) -> CooperativeConfig:
        for c in self.model.cooperatives:
            if c.id == coop_id:
                return c
        raise KeyError(coop_id)

    def catalog_path(self, coop: CooperativeConfig) -> Path:
        return coop.catalog if coop.catalog.is_absolute() else self.base / coop.catalog

    def catalog_display(self, coop: CooperativeConfig) -> str:
        return display_path(self.catalog_path(coop))

    @property
    def sync(self) -> SyncConfig:
        return self.model.sync

    @property
    def daemon(self) -> DaemonConfig:
        return self.model.daemon

    @property
    def sandbox(self) -> SandboxConfig:
        return self.model.sandbox

    @property
    def max_catalog_bytes(self) -> int:
        return self.model.limits.max_catalog_mb * 1024 * 1024

    @property
    def database_url(self) -> str:
        """The store URL: $SYNDICATOR_DATABASE_URL, else the config's, with a relative SQLite
        path taken from the config file's folder."""
        raw = os.environ.get(DATABASE_URL_ENV) or self.model.store.url
        url = make_url(raw)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            db = Path(url.database)
            if not db.is_absolute():
                url = url.set(database=str(self.base / db))
        return url.render_as_string(hide_password=False)


def _read_quietly(ref: SecretRef, base: Path) -> list[str]:
    """The value of ``ref``, or nothing when it cannot be read (never the reason: a
    message could quote the value)."""
    try:
        return [ref.resolve(base).get_secret_value()]
    except Exception:
        return []


def _url_secrets(url: str) -> list[str]:
    """The parts of a URL that carry a token: the password, a long path and query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    out = [parts.password] if parts.password else []
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(tail) >= 16:
        out.append(tail)
    return out


def webhook_problem(url: str) -> str | None:
    """Why ``url`` cannot be the alerts webhook, None when it can: https, or http to a
    loopback address only (an alert names shops, SKUs and what a channel said: never in
    clear text over a network), never ``file:``, ``gopher:`` and the like. The reason
    never repeats the URL: it often carries a token."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return "is not a URL; write https://host/path"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        return "must be an https:// URL (http:// only to a loopback address such as 127.0.0.1)"
    if scheme == "http" and not _is_loopback(host):
        return (
            "is http://, which would send alerts in clear text over the network: use "
            "https:// (http:// only to a loopback address such as 127.0.0.1)"
        )
    return None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


URL_CREDENTIALS = (
    "a user name or password inside a URL would be written in log lines and in the store; "
    "take it out of the URL and give it under the channel's credentials: ({env: VARIABLE} "
    "or {file: path})"
)


def urls_with_credentials(value: Any, loc: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """Where in ``value`` (settings, walked through mappings and lists) a URL carries a
    user name or a password (``https://user:pass@host/``)."""
    if isinstance(value, Mapping):
        return [w for k, v in value.items() for w in urls_with_credentials(v, (*loc, str(k)))]
    if isinstance(value, list):
        return [w for i, v in enumerate(value) for w in urls_with_credentials(v, (*loc, i))]
    if isinstance(value, str) and "@" in value and "://" in value:
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            return []
        if parts.username is not None or parts.password is not None:
            return [loc]
    return []


def _webhook_problem(ref: SecretRef, base: Path) -> str | None:
    """:func:`webhook_problem` of the configured webhook, when it can be read here (a
    config is also read where its secrets are not, for ``plan``: the daemon says so when
    it sends)."""
    try:
        url = ref.resolve(base).get_secret_value()
    except ValueError:
        return None
    why = webhook_problem(url)
    return None if why is None else f"the webhook URL ({ref.describe()}) {why}"


def _where(data: Any, loc: tuple[str | int, ...]) -> tuple[int | None, str]:
    path = ".".join(
        f"[{p}]" if isinstance(p, int) else p
        for p in loc
        if isinstance(p, int) or not re.search(r"[\[\(]", p)
    ).replace(".[", "[")
    return line_of(data, loc), path


def _read_rates_file(path: Path, file: str) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise Unreadable(
            Problem(file, None, f"the rates file cannot be read: {exc.strerror}")
        ) from None
    data = load_yaml(text, file)
    if isinstance(data, LDict) and "exchange_rates" in data:
        data = data["exchange_rates"]
    if not isinstance(data, LList):
        raise Unreadable(
            Problem(
                file,
                getattr(data, "line", 1),
                "a rates file is a list of rows: - date: 2026-11-02, USD: ...",
            )
        )
    return data


def load_config(path: Path, channel_types: Mapping[str, ChannelType]) -> Config:
    """Read and check the config; raise :class:`ConfigError` with every problem found,
    or :class:`Unreadable` when the file itself cannot be read."""
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Unreadable(Problem(file, None, "the config file does not exist")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(Problem(file, None, f"the config file cannot be read: {exc}")) from None
    data = load_yaml(text, file)
    if not isinstance(data, LDict):
        raise Unreadable(
            Problem(file, 1, "the config must be a mapping with cooperatives: (see docs/config.md)")
        )
    problems: list[Problem] = []

    def walk_duplicates(node: Any) -> None:
        if isinstance(node, LDict):
            for key, first, second in node.duplicates:
                problems.append(
                    Problem(
                        file,
                        second,
                        f'"{key}" is written twice (lines {first} and {second}); keep one',
                    )
                )
            for value in node.values():
                walk_duplicates(value)
        elif isinstance(node, LList):
            for value in node:
                walk_duplicates(value)

    walk_duplicates(data)
    try:
        model = _ConfigModel.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            line, where = _where(data, tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                allowed = _allowed_keys(err["loc"])
                key = str(err["loc"][-1])
                msg = f"is not a known key{did_you_mean(key, allowed)}"
            problems.append(Problem(file, line, f"{where}: {msg}"))
        raise ConfigError(problems) from None

    base = path.parent
    rate_rows = [(r.date, r.rates(), file) for r in model.exchange_rates]
    if model.exchange_rates_file is not None:
        rpath = model.exchange_rates_file
        rpath = rpath if rpath.is_absolute() else base / rpath
        rfile = display_path(rpath)
        raw_rows = _read_rates_file(rpath, rfile)
        from_file: dict[date, dict[str, Decimal]] = {}
        for index, raw in enumerate(raw_rows):
            try:
                row = RateRow.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors(include_url=False, include_input=False):
                    line, where = _where(raw_rows, (index, *err["loc"]))
                    problems.append(Problem(rfile, line, f"{where}: {err['msg']}"))
                continue
            from_file[row.date] = row.rates()
        rate_rows = [r for r in rate_rows if r[0] not in from_file]
        rate_rows += [(day, rates, rfile) for day, rates in from_file.items()]
    rates = RateTable(rate_rows)

    known_rates = rates.currencies()
    for ci, coop in enumerate(model.cooperatives):
        for hi, channel in enumerate(coop.channels):
            loc: tuple[str | int, ...] = ("cooperatives", ci, "channels", hi)
            for at in urls_with_credentials(channel.settings, (*loc, "settings")):
                line, where = _where(data, at)
                problems.append(Problem(file, line, f"{where}: {URL_CREDENTIALS}"))
            ctype = channel_types.get(channel.type)
            if ctype is None:
                line, where = _where(data, (*loc, "type"))
                problems.append(
                    Problem(
                        file,
                        line,
                        f'{where}: "{channel.type}" is not a channel type'
                        f"{did_you_mean(channel.type, channel_types)} (known: "
                        f"{', '.join(sorted(channel_types))})",
                    )
                )
                continue
            try:
                ctype.settings_model.model_validate(channel.settings)
            except ValidationError as exc:
                for err in exc.errors(include_url=False, include_input=False):
                    line, where = _where(data, (*loc, "settings", *err["loc"]))
                    problems.append(Problem(file, line, f"{where}: {err['msg']}"))
            for name in ctype.credentials:
                if name not in channel.credentials:
                    line, where = _where(data, (*loc, "credentials"))
                    problems.append(
                        Problem(
                            file,
                            line,
                            f"{where}: {ctype.title} needs credentials.{name} ({{env: VARIABLE}} "
                            "or {file: path})",
                        )
                    )
            for name in channel.credentials:
                if name not in ctype.credentials:
                    line, where = _where(data, (*loc, "credentials", name))
                    problems.append(
                        Problem(
                            file,
                            line,
                            f"{where}: {ctype.title} does not use a credential named {name}"
                            f"{did_you_mean(name, ctype.credentials)}",
                        )
                    )
            if channel.currency != "MAD" and channel.currency not in known_rates:
                line, where = _where(data, (*loc, "currency"))
                problems.append(
                    Problem(
                        file,
                        line,
                        f"{where}: no exchange rate MAD->{channel.currency}; add "
                        f"{channel.currency} to exchange_rates",
                    )
                )
    webhook = model.daemon.alerts.webhook
    why = None if webhook is None else _webhook_problem(webhook, path.resolve().parent)
    if why is not None:
        line, where = _where(data, ("daemon", "alerts", "webhook"))
        problems.append(Problem(file, line, f"{where}: {why}"))
    if problems:
        raise ConfigError(problems)
    return Config(path, model, rates, channel_types)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown key was found, for "did you mean"."""
    model: type[BaseModel] = _ConfigModel
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(str(step))
        if field is None:
            return []
        inner = field.annotation
        args = getattr(inner, "__args__", ())
        candidates = [a for a in (inner, *args) if isinstance(a, type)]
        nxt = next((c for c in candidates if issubclass(c, BaseModel)), None)
        if nxt is None:
            return []
        model = nxt
    return list(model.model_fields)
