"""Channel prices: exact Decimal arithmetic, fees grossed up, rounding up, a floor.

The guarantee a cooperative relies on: the listed price is never below the channel's floor,
and after the channel's fees it still receives its catalog price plus its margin.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.domain.money import CURRENCY_EXPONENTS, minor_unit
from syndicator.domain.pricing import ExchangeRate, PriceRule, Rounding, quote, quote_fixed
from syndicator.errors import InvalidValue

D = Decimal
USD = ExchangeRate("USD", D("0.1082"), date(2026, 11, 2), "demo.yaml")
EUR = ExchangeRate("EUR", D("0.0934"), date(2026, 11, 2), "demo.yaml")


def test_amazon_rug_worked_out_by_hand() -> None:
    # 4500 MAD + 5% = 4725 MAD; x 0.1082 = 511.245 USD wanted;
    # (511.245 + 0.30) / 0.85 = 601.8176... ; up to .99 -> 601.99;
    # net: 601.99 x 0.85 - 0.30 = 511.3915 >= 511.245.
    rule = PriceRule("USD", D(15), D("0.30"), D(5), "ends_99", D(25))
    q = quote(D(4500), rule, USD)
    assert q.price.amount == D("601.99") and q.price.currency == "USD"
    assert q.wanted == D("511.245")
    assert q.net == D("511.3915")
    assert [s.label for s in q.steps] == [
        "catalog price",
        "plus margin 5%",
        "at 0.1082 USD/MAD (demo.yaml, 2026-11-02)",
        "grossed up for fees of 15% + 0.30 USD",
        "rounded up (ends_99)",
    ]


def test_a_channel_in_dirhams_without_rounding_loss() -> None:
    # 450 / 0.90 = 500 exactly: net is exactly the catalog price.
    q = quote(D(450), PriceRule("MAD", D(10), rounding="whole"), ExchangeRate.identity())
    assert q.price.amount == D(500)
    assert q.net == D(450)


def test_the_floor_wins_over_a_low_price_and_is_rounded_up() -> None:
    rule = PriceRule("EUR", D("9.5"), D("0.45"), D(8), "ends_90", D(10))
    assert quote(D(100), rule, EUR).price.amount == D("11.90")  # (10.0872+0.45)/0.905=11.64
    q = quote(D(50), rule, EUR)  # 6.07 before the floor
    assert q.price.amount == D("10.90")
    assert "raised to the channel's floor" in [s.label for s in q.steps]


@pytest.mark.parametrize(
    ("name", "currency", "value", "expected"),
    [
        ("cent", "USD", "10.001", "10.01"),
        ("whole", "USD", "10.01", "11"),
        ("ends_99", "USD", "10.00", "10.99"),
        ("ends_99", "USD", "10.995", "11.99"),
        ("ends_99", "USD", "0.20", "0.99"),
        ("ends_95", "EUR", "41.96", "42.95"),
        ("ends_90", "EUR", "41.90", "41.90"),
        ("ends_9", "EUR", "41.20", "49"),
        ("ends_9", "EUR", "39", "39"),
        ("step_0.50", "EUR", "41.20", "41.50"),
        ("step_5", "MAD", "451", "455"),
        ("whole", "JPY", "1200.2", "1201"),
        ("cent", "TND", "1.2341", "1.235"),
    ],
)
def test_rounding_rules_round_up(name: str, currency: str, value: str, expected: str) -> None:
    assert Rounding.parse(name, currency).up(D(value)) == D(expected)


@pytest.mark.parametrize(
    ("name", "currency", "message"),
    [
        ("ends_99", "JPY", "needs a currency with cents"),
        ("step_0.005", "USD", "positive multiple of 0.01"),
        ("nearest", "USD", 'rounding "nearest" is not known'),
    ],
)
def test_rounding_rules_that_do_not_fit(name: str, currency: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Rounding.parse(name, currency)


def test_a_fixed_channel_price_is_used_as_it_is_but_not_below_the_floor() -> None:
    rule = PriceRule("USD", D(15), floor=D(25))
    q = quote_fixed(D("489.00"), D(4500), rule, USD)
    assert (q.price.amount, q.fixed) == (D("489.00"), D("489.00"))
    assert [s.label for s in q.steps] == ["price set in the catalog for this channel"]
    assert q.net == D("415.6500")
    assert quote_fixed(D(10), D(100), rule, USD).price.amount == D("25.00")


def test_fees_of_100_percent_or_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="below 100"):
        PriceRule("USD", D(100))
    with pytest.raises(ValueError, match="cannot be negative"):
        PriceRule("USD", floor=D(-1))


ROUNDINGS = ["cent", "whole", "ends_99", "ends_95", "ends_90", "ends_9", "step_0.50", "step_5"]


@st.composite
def priced(draw: st.DrawFn) -> tuple[Decimal, PriceRule, ExchangeRate, str]:
    currency = draw(st.sampled_from(["USD", "EUR", "GBP", "MAD", "JPY", "TND"]))
    places = CURRENCY_EXPONENTS[currency]
    usable = [r for r in ROUNDINGS if not (r.startswith("ends_") and len(r) == 7 and places < 2)]
    if places == 0:
        usable = [r for r in usable if r != "step_0.50"]
    rounding = draw(st.sampled_from(usable))
    base = D(draw(st.integers(1, 100_000_000))) / 100  # 0.01 .. 1,000,000.00 MAD
    rule = PriceRule(
        currency,
        fee_percent=D(draw(st.integers(0, 9_500))) / 100,  # 0 .. 95 %
        fee_fixed=D(draw(st.integers(0, 2_000))) / 100,
        margin_percent=D(draw(st.integers(0, 10_000))) / 100,
        rounding=rounding,
        floor=D(draw(st.integers(0, 50_000))) / 100,
    )
    rate = D(1) if currency == "MAD" else D(draw(st.integers(1, 3_000_000))) / 10_000
    return base, rule, ExchangeRate(currency, rate, date(2026, 11, 2), "test"), rounding


@settings(max_examples=600, deadline=None)
@given(priced())
def test_price_never_below_floor_and_net_never_below_the_cooperatives_price(
    case: tuple[Decimal, PriceRule, ExchangeRate, str],
) -> None:
    base, rule, rate, rounding = case
    q = quote(base, rule, rate)
    price = q.price.amount
    # Never below the floor.
    assert price >= rule.floor
    # After the channel's fees, at least the MAD price plus margin, converted exactly.
    wanted = base * (1 + rule.margin_percent / 100) * rate.rate
    net = price - price * rule.fee_percent / 100 - rule.fee_fixed
    assert net >= wanted >= base * rate.rate
    assert q.net == net
    # A real amount of that currency, on the rounding grid ...
    assert price == price.quantize(minor_unit(rule.currency))
    r = Rounding.parse(rounding, rule.currency)
    assert (price - r.offset) % r.step == 0
    # ... and the smallest such amount: one step lower would break a guarantee.
    lower = price - r.step
    if lower >= 0:
        lower_net = lower - lower * rule.fee_percent / 100 - rule.fee_fixed
        assert lower < rule.floor or lower_net < wanted


# The most the catalog accepts (syndicator/catalog/rules.py MAX_PRICE), at the steepest
# rule a config holds: the largest margin (1000 %), a fee just under 100 %, a large fixed fee
# and floor, and a rate far above any real one (1 MAD buys about 140 KRW).
STEEP = {"margin_percent": D(1000), "fee_percent": D("99.99"), "fee_fixed": D(1_000_000)}


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("currency", ["USD", "MAD", "JPY", "TND", "KRW"])
def test_the_largest_catalog_price_at_the_steepest_rule_is_quoted(
    rounding: str, currency: str
) -> None:
    from syndicator.catalog.rules import MAX_PRICE

    places = CURRENCY_EXPONENTS[currency]
    if (rounding.startswith("ends_") and len(rounding) == 7 and places < 2) or (
        rounding == "step_0.50" and places == 0
    ):
        return
    rule = PriceRule(currency, rounding=rounding, floor=D(1_000_000), **STEEP)
    rate = ExchangeRate(currency, D(1_000_000), date(2026, 11, 2), "test")
    q = quote(MAX_PRICE, rule, rate)
    assert q.net >= q.wanted == MAX_PRICE * 11 * 1_000_000
    assert q.price.amount == q.price.amount.quantize(minor_unit(currency))
    assert quote_fixed(MAX_PRICE, MAX_PRICE, rule, rate).price.amount >= MAX_PRICE


def test_a_price_of_more_digits_than_the_default_context_is_never_rounded_down() -> None:
    # wanted = 100 x 0.1082000...0001 = 10.82000...0001 USD (33 digits): the default
    # 28-digit context rounded it to 10.82, one step below what the cooperative wants.
    rate = ExchangeRate("USD", D("0.1082000000000000000000000000001"), None, "test")
    q = quote(D(100), PriceRule("USD"), rate)
    assert q.net >= q.wanted
    assert q.price.amount == D("10.83")
