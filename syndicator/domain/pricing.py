"""Channel prices from the catalog's MAD price: exact, explained step by step.

The cooperative sets what it wants to *receive* for a piece, in dirhams. For each channel:

1. add the channel's margin (``margin_percent``) to the MAD price: the amount wanted;
2. convert it with the dated exchange rate MAD -> channel currency;
3. gross up, so that after the channel's percentage fee and fixed fee per sale the
   cooperative still receives the amount wanted: ``(wanted + fixed) / (1 - percent/100)``;
4. never go below the channel's ``floor``;
5. round **up** by the channel's rule (``cent``, ``whole``, ``ends_99``, ``ends_95``,
   ``ends_90``, ``ends_9``, ``step_<amount>``), so rounding never eats into the amount wanted.

Every division and rounding is done in a context of 50 digits that rounds toward +infinity,
so the guarantee "net after fees >= amount wanted, price >= floor" holds exactly, not just
nearly (tests/domain/test_pricing.py proves it with hypothesis), and the largest price the
catalog accepts (``MAX_PRICE`` in syndicator/catalog/rules.py) at any margin, fee and rate a
config can hold short of absurd never overflows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Context, Decimal, localcontext

from syndicator.domain.money import CURRENCY_EXPONENTS, Money, minor_unit
from syndicator.errors import InvalidValue

__all__ = [
    "ExchangeRate",
    "PriceQuote",
    "PriceRule",
    "PriceStep",
    "Rounding",
    "quote",
    "quote_fixed",
]

_HUNDRED = Decimal(100)
_CEILING = Context(prec=50, rounding=ROUND_CEILING)
_EXACT = Context(prec=60)


@dataclass(frozen=True, slots=True)
class Rounding:
    """Round up to the smallest ``k * step + offset`` (k = 0, 1, 2 ...) not below a value."""

    name: str
    step: Decimal
    offset: Decimal

    @classmethod
    def parse(cls, name: str, currency: str) -> Rounding:
        unit = minor_unit(currency)
        places = CURRENCY_EXPONENTS[currency]
        if name in ("cent", "none"):
            return cls(name, unit, Decimal(0))
        if name == "whole":
            return cls(name, Decimal(1), Decimal(0))
        m = re.fullmatch(r"ends_(\d{1,2})", name)
        if m:
            digits = m.group(1)
            if len(digits) == 1:  # 9, 19, 29 ...: whole amounts ending in that digit
                return cls(name, Decimal(10), Decimal(digits))
            if places < 2:
                raise InvalidValue(f"{name} needs a currency with cents; {currency} has none")
            return cls(name, Decimal(1), Decimal(digits) / _HUNDRED)
        m = re.fullmatch(r"step_(\d+(?:\.\d+)?)", name)
        if m:
            step = Decimal(m.group(1))
            if step <= 0 or step % unit != 0:
                raise InvalidValue(
                    f"{name}: the step must be a positive multiple of {unit} {currency}"
                )
            return cls(name, step, Decimal(0))
        raise InvalidValue(
            f'rounding "{name}" is not known; use cent, whole, ends_99, ends_95, ends_90, '
            "ends_9 or step_<amount> such as step_0.50"
        )

    def up(self, value: Decimal) -> Decimal:
        """The smallest allowed amount that is >= value."""
        k = ((value - self.offset) / self.step).to_integral_value(rounding=ROUND_CEILING)
        return max(k, Decimal(0)) * self.step + self.offset


@functools.cache
def _rounding(name: str, currency: str) -> Rounding:
    """Rounding rules are few: read each (name, currency) once."""
    return Rounding.parse(name, currency)


@dataclass(frozen=True, slots=True)
class PriceRule:
    currency: str
    fee_percent: Decimal = Decimal(0)
    fee_fixed: Decimal = Decimal(0)
    margin_percent: Decimal = Decimal(0)
    rounding: str = "cent"
    floor: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.fee_percent < _HUNDRED:
            raise ValueError("fee_percent must be at least 0 and below 100")
        if self.fee_fixed < 0 or self.margin_percent < 0 or self.floor < 0:
            raise ValueError("fee_fixed, margin_percent and floor cannot be negative")
        Rounding.parse(self.rounding, self.currency)  # fail early on a bad rule


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """How many units of ``currency`` one dirham buys, as of ``day``, and where it came from."""

    currency: str
    rate: Decimal
    day: date | None
    source: str

    @classmethod
    def identity(cls) -> ExchangeRate:
        return cls("MAD", Decimal(1), None, "same currency")


@dataclass(frozen=True, slots=True)
class PriceStep:
    label: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The price for a channel, with the amount wanted and the net after fees.

    The steps that led to it are worked out again only when asked for (``--explain``): a
    plan quotes every SKU of every channel and needs only the results.
    """

    price: Money
    wanted: Decimal  # what the cooperative wants to receive, in the channel's currency
    net: Decimal  # what it receives at this price after the channel's fees
    rate: ExchangeRate
    base: Decimal  # the catalog price, MAD
    rule: PriceRule
    fixed: Decimal | None = None  # a price set in the catalog for this channel

    @property
    def steps(self) -> tuple[PriceStep, ...]:
        steps: list[PriceStep] = []
        if self.fixed is None:
            _work(self.base, self.rule, self.rate, steps)
        else:
            _work_fixed(self.fixed, self.base, self.rule, self.rate, steps)
        return tuple(steps)


def _net(price: Decimal, rule: PriceRule) -> Decimal:
    with localcontext(_EXACT):
        return price - price * rule.fee_percent / _HUNDRED - rule.fee_fixed


def _wanted(base_mad: Decimal, rule: PriceRule, rate: ExchangeRate) -> tuple[Decimal, Decimal]:
    """What the cooperative wants, in MAD with its margin, and in the channel's currency."""
    with localcontext(_EXACT):
        wanted_mad = base_mad * (1 + rule.margin_percent / _HUNDRED)
        return wanted_mad, wanted_mad * rate.rate


def _work(
    base_mad: Decimal, rule: PriceRule, rate: ExchangeRate, steps: list[PriceStep] | None
) -> tuple[Decimal, Decimal]:
    """The price and the amount wanted; each step is noted in ``steps`` when given."""
    cur = rule.currency
    wanted_mad, wanted = _wanted(base_mad, rule, rate)
    if steps is not None:
        steps.append(PriceStep("catalog price", base_mad, "MAD"))
        if rule.margin_percent:
            steps.append(PriceStep(f"plus margin {rule.margin_percent}%", wanted_mad, "MAD"))
        if cur != "MAD":
            when = f", {rate.day.isoformat()}" if rate.day else ""
            label = f"at {rate.rate} {cur}/MAD ({rate.source}{when})"
            steps.append(PriceStep(label, wanted, cur))
    with localcontext(_CEILING):
        gross = (wanted + rule.fee_fixed) / (1 - rule.fee_percent / _HUNDRED)
    if steps is not None and (rule.fee_percent or rule.fee_fixed):
        label = f"grossed up for fees of {rule.fee_percent}% + {rule.fee_fixed} {cur}"
        steps.append(PriceStep(label, gross, cur))
    if gross < rule.floor:
        gross = rule.floor
        if steps is not None:
            steps.append(PriceStep("raised to the channel's floor", gross, cur))
    rounding = _rounding(rule.rounding, cur)
    with localcontext(_CEILING):  # not the default 28 digits: they could round a price down
        price = rounding.up(gross).quantize(minor_unit(cur))
    if steps is not None:
        steps.append(PriceStep(f"rounded up ({rounding.name})", price, cur))
    return price, wanted


def _work_fixed(
    fixed: Decimal,
    base_mad: Decimal,
    rule: PriceRule,
    rate: ExchangeRate,
    steps: list[PriceStep] | None,
) -> tuple[Decimal, Decimal]:
    cur = rule.currency
    if steps is not None:
        steps.append(PriceStep("price set in the catalog for this channel", fixed, cur))
    price = fixed
    if price < rule.floor:
        price = rule.floor
        if steps is not None:
            steps.append(PriceStep("raised to the channel's floor", price, cur))
    with localcontext(_CEILING):
        price = price.quantize(minor_unit(cur))
    return price, _wanted(base_mad, rule, rate)[1]


def quote(base_mad: Decimal, rule: PriceRule, rate: ExchangeRate) -> PriceQuote:
    """Work out the channel price for a catalog price in MAD."""
    price, wanted = _work(base_mad, rule, rate, None)
    return PriceQuote(Money(price, rule.currency), wanted, _net(price, rule), rate, base_mad, rule)


def quote_fixed(
    fixed: Decimal, base_mad: Decimal, rule: PriceRule, rate: ExchangeRate
) -> PriceQuote:
    """A price the catalog sets for one channel: used as it is, but never below the floor."""
    price, wanted = _work_fixed(fixed, base_mad, rule, rate, None)
    money = Money(price, rule.currency)
    return PriceQuote(money, wanted, _net(price, rule), rate, base_mad, rule, fixed)
